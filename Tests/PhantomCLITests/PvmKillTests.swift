import Foundation
import PhantomStore
import Testing

/// The Phantom VM's persistence through the real process: a bytecode program
/// with a counter thread, a deep recursion in progress and a ring of objects
/// being replaced (garbage cycles for the collector) is SIGKILLed again and
/// again, each kill after a readiness signal (a committed generation), and
/// every run continues from the last snapshot with its invariants intact.
/// The program is our own assembly (Programs/pvm/persistence), assembled by
/// `phantom pvm asm` first.
@Suite(.serialized) struct PvmKillTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["PHANTOM_KILL_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)

    static var programDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Programs/pvm/persistence")
    }

    /// Assembles every `.pas` of the program into `directory`.
    static func assemble(into directory: URL) throws {
        let sources = try FileManager.default.contentsOfDirectory(atPath: programDirectory.path).filter { $0.hasSuffix(".pas") }
        #expect(sources.count == 5, "the persistence program is missing from \(programDirectory.path)")
        for source in sources {
            let output = try PhantomProcess.run(["pvm", "asm", programDirectory.appendingPathComponent(source).path,
                                                 "-o", directory.appendingPathComponent(source.replacingOccurrences(of: ".pas", with: ".pc")).path])
            #expect(output.status == 0, "\(source): \(output.stderr)")
        }
    }

    /// Numbers after `prefix` on the lines that start with it.
    static func numbers(_ prefix: String, in text: String) -> [Int] {
        text.split(separator: "\n").compactMap { $0.hasPrefix(prefix) ? Int($0.dropFirst(prefix.count)) : nil }
    }

    @Test func survivesTwentyKillsWithItsInvariants() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let classes = directory.appendingPathComponent("classes")
        try FileManager.default.createDirectory(at: classes, withIntermediateDirectories: true)
        try Self.assemble(into: classes)
        print("PvmKillTests: seed \(Self.seed) (set PHANTOM_KILL_SEED to replay)")
        var generator = SplitMix64(seed: Self.seed)
        let image = directory.appendingPathComponent("pvm.img").path
        let arguments = ["pvm", "run", classes.path, "--image", image, "--verbose", "--snapshot-every", "20ms", "--collect-after", "256K"]

        // One uninterrupted run: its output is the reference, its duration scales the kill delays.
        let start = Date()
        let reference = try PhantomProcess.run(["pvm", "run", classes.path, "--image", image + ".reference", "--collect-after", "256K"])
        let duration = Date().timeIntervalSince(start)
        #expect(reference.status == 0, "\(reference.stderr)")
        for done in ["counter done", "recursion done", "rings done"] { #expect(reference.stdout.contains(done)) }

        var runs: [PhantomProcess.Output] = []
        var kills = 0
        while kills < 22 {
            let fraction = 0.01 + Double(generator.next() % 1000) / 1000 * 0.04
            let run = try PhantomProcess.runAndKillAfterCommit(arguments, extraDelay: duration * fraction)
            runs.append(run)
            if run.status != SIGKILL { break }
            kills += 1
        }
        if runs.last?.status == SIGKILL { runs.append(try PhantomProcess.run(arguments)) }
        let final = try #require(runs.last)
        #expect(final.status == 0, "\(final.stderr)")
        #expect(kills >= 20, "killed only \(kills) times")

        // Boot ran once: only the first run booted, every other one resumed.
        #expect(runs.filter { $0.stderr.contains("phantom: booting") }.count == 1)
        #expect(runs.dropFirst().allSatisfy { $0.stderr.contains("phantom: resuming") })
        let everything = runs.map(\.stdout).joined()
        #expect(!everything.contains("broken"), "an invariant broke")
        #expect(!everything.contains("Unhandled exception"))
        #expect(everything.split(separator: "\n").filter { $0 == "boot" }.count >= 1)
        for done in ["counter done", "recursion done", "rings done"] { #expect(everything.contains(done)) }

        // Within a run the counter goes up by 20000 a line; a resumed run
        // starts no later than one step after where the killed one got.
        var last = -20000
        for (index, run) in runs.enumerated() {
            let counts = Self.numbers("count ", in: run.stdout)
            for (position, count) in counts.enumerated() {
                if position == 0 {
                    #expect(count <= last + 20000, "run \(index) skipped ahead: \(count) after \(last)")
                } else {
                    #expect(count == counts[position - 1] + 20000, "run \(index): \(count) after \(counts[position - 1])")
                }
            }
            if let final = counts.last { last = final }
            let rounds = Self.numbers("recursion ok ", in: run.stdout)
            for (position, round) in rounds.enumerated() where position > 0 {
                #expect(round == rounds[position - 1] + 1, "run \(index): recursion round \(round) after \(rounds[position - 1])")
            }
        }
        #expect(last == 180000)
        // The collector: cycles cut short by a kill start over, so whether one
        // finished inside the killed runs depends on where the kills fell;
        // but a collection due when the image is next opened runs whole. The
        // garbage rings are freed then, and what is reachable (classes, the
        // environment) is all that is left.
        let collectedWhileKilled = runs.filter { $0.stderr.contains("phantom: collected ") }.count
        print("PvmKillTests: \(collectedWhileKilled) of \(runs.count) runs finished a collection cycle")
        // --collect-after 0: a whole collection on resume, whatever counting left due.
        let check = try PhantomProcess.run(["pvm", "run", classes.path, "--image", image, "--verbose", "--collect-after", "0"])
        #expect(check.status == 0, "\(check.stderr)")
        let line = try #require(check.stderr.split(separator: "\n").first { $0.hasPrefix("phantom: collected ") }, "\(check.stderr)")
        let freed = Int(line.dropFirst("phantom: collected ".count).prefix { $0.isNumber }) ?? 0
        let reachable = Int(line.split(separator: ",").first { $0.contains("reachable") }?.split(separator: " ").first ?? "") ?? -1
        #expect(freed > 0, "\(line)")
        #expect((1..<2000).contains(reachable), "\(line)")
    }

    @Test func withHoldOutputNothingIsPrintedTwice() throws {
        // Output commit: a line reaches stdout only once the snapshot that
        // printed it is durable, so a resumed run never repeats one (a kill
        // between a commit and the release of its output may lose a batch).
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.assemble(into: directory)
        var generator = SplitMix64(seed: Self.seed ^ 0x5EED)
        let image = directory.appendingPathComponent("held.img").path
        let arguments = ["pvm", "run", directory.path, "--image", image, "--verbose", "--snapshot-every", "20ms", "--hold-output"]
        let start = Date()
        let reference = try PhantomProcess.run(["pvm", "run", directory.path, "--image", image + ".reference"])
        let duration = Date().timeIntervalSince(start)
        #expect(reference.status == 0, "\(reference.stderr)")
        var runs: [PhantomProcess.Output] = []
        while runs.count < 6 {
            let run = try PhantomProcess.runAndKillAfterCommit(arguments, extraDelay: duration * (0.05 + Double(generator.next() % 100) / 1000))
            runs.append(run)
            if run.status != SIGKILL { break }
        }
        if runs.last?.status == SIGKILL { runs.append(try PhantomProcess.run(arguments)) }
        #expect(runs.last?.status == 0, "\(runs.last?.stderr ?? "")")
        #expect(runs.filter { $0.status == SIGKILL }.count >= 3, "killed only \(runs.filter { $0.status == SIGKILL }.count) times")
        let everything = runs.map(\.stdout).joined()
        let counts = Self.numbers("count ", in: everything)
        let rounds = Self.numbers("recursion ok ", in: everything)
        #expect(zip(counts, counts.dropFirst()).allSatisfy { $0 < $1 }, "a count printed twice: \(counts)")
        #expect(zip(rounds, rounds.dropFirst()).allSatisfy { $0 < $1 }, "a recursion round printed twice: \(rounds)")
        #expect(everything.split(separator: "\n").filter { $0 == "boot" }.count <= 1)
        #expect(everything.contains("counter done"))
    }

    @Test func aCleanStopAndTheSameCommandContinue() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.assemble(into: directory)
        let image = directory.appendingPathComponent("stop.img").path
        let arguments = ["pvm", "run", directory.path, "--image", image, "--verbose"]
        let stopped = try PhantomProcess.runUntil(arguments, ready: { stdout, _ in stdout.contains("count 40000") }, signal: SIGTERM)
        #expect(stopped.status == 143, "\(stopped.stderr)")
        let resumed = try PhantomProcess.run(arguments)
        #expect(resumed.status == 0)
        #expect(resumed.stderr.contains("phantom: resuming"))
        #expect(!resumed.stdout.contains("boot\n"))
        #expect(!resumed.stdout.contains("count 0\n"))
        #expect(resumed.stdout.contains("counter done"))
    }
}
