import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the store and the object space side by side with a reference (see docs/BENCHMARKS.md).")
}
