import ArgumentParser
import Foundation
import PhantomSpace
import PhantomStore

extension Bench {
    /// Stop-and-copy against copy-on-write capture, side by side in one run:
    /// the pause at growing dirty sets, what the copy costs after the world
    /// resumed, and what a mutator pays that rewrites every captured page at
    /// once (the worst case for copy-on-write: it copies what the writer has
    /// not reached yet).
    struct Capture: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Snapshot pause of stop-and-copy vs. copy-on-write capture, by dirty size.",
            discussion: """
                For each size: a space of that size plus 64 MiB, every page of it dirty at each \
                snapshot (one 8-byte store per page). Both modes run in turn in fresh spaces, one \
                size at a time, so that at most one mode's buffers are resident: at 4 GiB the \
                process needs about 8.5 GiB of memory.
                """)
        @OptionGroup var place: Place
        @Option(help: "Dirty sizes in MiB, comma-separated.") var sizes = "4,64,1024,4096"
        @Option(help: "Snapshots per mode at sizes up to 64 MiB.") var runs = 40
        @Option(help: "Snapshots per mode at larger sizes.") var largeRuns = 5

        func validate() throws {
            try checkRange("--runs", runs, 1...100_000)
            try checkRange("--large-runs", largeRuns, 1...1_000)
            for size in try parsedSizes() { try checkRange("--sizes", size, 1...65_536) }
        }

        func parsedSizes() throws -> [Int] {
            try sizes.split(separator: ",").map {
                guard let value = Int($0.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--sizes takes MiB values separated by commas, not \(sizes)")
                }
                return value
            }
        }

        func run() throws {
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            print("| dirty | capture | pages | pause p50 | pause p99 | writer's copy after resume, p50 | pages the mutator copied, p50 | commit p50 | rewrite of every page right after the cut, p50 |")
            print("|---|---|---|---|---|---|---|---|---|")
            for megabytes in try parsedSizes() {
                for mode in [CaptureMode.stopAndCopy, .copyOnWrite] {
                    try measure(directory: directory, megabytes: megabytes, mode: mode,
                                runs: megabytes <= 64 ? runs : largeRuns)
                }
            }
        }

        func measure(directory: URL, megabytes: Int, mode: CaptureMode, runs: Int) throws {
            let name = "capture-\(megabytes).img"
            let (path, space) = try freshSpace(in: directory, name: name, limitBytes: UInt64(megabytes + 64) << 20, retention: 2)
            defer { try? FileManager.default.removeItem(atPath: path) }
            space.captureMode = mode
            let pages = megabytes * 256
            func dirtyEveryPage(_ value: UInt64) {
                for page in 1...pages { space.store(value, at: UInt64(page) * 4096 + 1024) }
            }
            // Warm-up: first touch of the space and of the capture's memory.
            dirtyEveryPage(0)
            try space.snapshot()
            var pauses: [UInt64] = [], copies: [UInt64] = [], commits: [UInt64] = [], rewrites: [UInt64] = []
            var mutatorCopies: [UInt64] = []
            for run in 1...runs {
                dirtyEveryPage(UInt64(run))
                let done = DispatchSemaphore(value: 0)
                let outcome = ResultBox()
                space.snapshotInBackground { result in
                    outcome.set(result)
                    done.signal()
                }
                // The world runs again: rewrite every captured page at once.
                let start = nowNanoseconds()
                dirtyEveryPage(UInt64(run) << 32)
                rewrites.append(nowNanoseconds() - start)
                done.wait()
                let result = try outcome.get()
                pauses.append(result.pauseNanoseconds)
                copies.append(result.copyNanoseconds)
                commits.append(result.commitNanoseconds)
                mutatorCopies.append(UInt64(result.pagesCopiedByMutators))
            }
            print("| \(megabytes) MiB | \(mode.label) | \(pages) | \(micro(percentile(pauses, 50))) | \(micro(percentile(pauses, 99))) "
                  + "| \(precise(percentile(copies, 50))) | \(percentile(mutatorCopies, 50)) | \(precise(percentile(commits, 50))) "
                  + "| \(precise(percentile(rewrites, 50))) |")
        }
    }
}

/// Milliseconds with three significant digits (a copy of 4 MiB takes a fraction of one).
private func precise(_ nanoseconds: UInt64) -> String {
    let milliseconds = Double(nanoseconds) / 1e6
    return milliseconds < 10 ? String(format: "%.2f ms", milliseconds) : String(format: "%.0f ms", milliseconds)
}

/// A snapshot's result handed from the writer thread to the benchmark.
private final class ResultBox: @unchecked Sendable {
    // @unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: Result<SnapshotResult, Error>?
    func set(_ result: Result<SnapshotResult, Error>) { lock.lock(); value = result; lock.unlock() }
    func get() throws -> SnapshotResult {
        lock.lock(); defer { lock.unlock() }
        return try value!.get()
    }
}
