import Foundation
import PhantomStore
import Testing

/// Programs SIGKILLed at random moments resume from their last snapshot. With
/// output commit (`--hold-output`) the output concatenated over all the
/// killed runs is that of one uninterrupted run: in order and never repeated
/// — the strongest check of "continues where it was". (A kill in the
/// microseconds between a commit and the release of its output loses that
/// batch; see OutputCommit. The counter test allows such a gap only where a
/// run was killed.)
@Suite(.serialized) struct WasmKillTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["PHANTOM_KILL_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)

    /// Runs `arguments` repeatedly, killing each run a random while after its
    /// first committed generation, until a run finishes by itself or
    /// `maxKills` kills were made (then lets it finish).
    ///
    /// Each kill waits for a readiness signal — the run's first "generation N
    /// committed" line (`--verbose` is added) — never for a fixed time, so a
    /// busy machine delays the kill instead of making it land before the
    /// program has even started. The extra delay is a fraction of
    /// `uninterrupted`, how long one whole run takes, so that the test kills
    /// about as often however fast the interpreter is.
    private func killRepeatedly(_ arguments: [String], maxKills: Int, uninterrupted: Double,
                                fractions: ClosedRange<Double> = 0.03...0.08,
                                generator: inout SplitMix64) throws -> (output: String, kills: Int, status: Int32, runs: [String]) {
        let arguments = arguments.contains("--verbose") ? arguments : [arguments[0], "--verbose"] + arguments.dropFirst()
        var output = ""
        var runs: [String] = []
        var kills = 0
        while true {
            if kills >= maxKills {
                let last = try PhantomProcess.run(arguments)
                return (output + last.stdout, kills, last.status, runs + [last.stdout])
            }
            let fraction = fractions.lowerBound + Double(generator.next() % 1000) / 1000 * (fractions.upperBound - fractions.lowerBound)
            let run = try PhantomProcess.runAndKillAfterCommit(arguments, extraDelay: uninterrupted * fraction)
            output += run.stdout
            runs.append(run.stdout)
            if run.status != SIGKILL { return (output, kills, run.status, runs) }
            kills += 1
        }
    }

    private func timed(_ arguments: [String]) throws -> (PhantomProcess.Output, Double) {
        let start = Date()
        let output = try PhantomProcess.run(arguments)
        return (output, Date().timeIntervalSince(start))
    }

    @Test func counterOutputIsExactlyOneRunAcrossKills() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("counter.img").path
        print("WasmKillTests: seed \(Self.seed) (set PHANTOM_KILL_SEED to replay)")
        var generator = SplitMix64(seed: Self.seed)
        let arguments = ["run", "--image", image, "--hold-output", "--snapshot-every", "30ms",
                         fixture("c/counter.wasm"), "2000000", "12500"]
        let (reference, duration) = try timed(["run", "--image", image + ".reference"] + arguments.suffix(3))
        #expect(reference.status == 0)
        let result = try killRepeatedly(arguments, maxKills: 22, uninterrupted: duration, fractions: 0.005...0.025, generator: &generator)
        // How far a run gets before its kill depends on the machine's load; half
        // the planned kills still prove resumption many times over.
        #expect(result.kills >= 11, "killed \(result.kills) times")
        #expect(result.status == 0)
        // Within a run the counts are consecutive; across runs they only go
        // forward; a gap is allowed only where a run was killed.
        var previous = 0
        var lost = 0
        for (index, run) in result.runs.enumerated() {
            let counts = run.split(separator: "\n").compactMap { line -> Int? in
                line.hasPrefix("count ") ? Int(line.dropFirst(6)) : nil
            }
            for (position, count) in counts.enumerated() {
                if position == 0 && index > 0 {
                    #expect(count > previous, "run \(index) repeats output: \(count) after \(previous)")
                    lost += max(0, (count - previous) / 12500 - 1)
                } else {
                    #expect(count == previous + 12500, "run \(index): \(count) follows \(previous)")
                }
                previous = count
            }
        }
        #expect(previous == 2_000_000 && result.output.hasSuffix("done 2000000\n"))
        #expect(lost <= 3 * result.kills, "lost \(lost) lines in \(result.kills) kills")
        print("WasmKillTests: counter killed \(result.kills) times, \(lost) committed lines lost in commit-to-release windows")
        let verify = try PhantomProcess.run(["image", "verify", image])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test(arguments: ["c/recursion.wasm", "swift/recursion.wasm"])
    func deepRecursionCompletesCorrectlyAcrossKills(program: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SplitMix64(seed: Self.seed ^ UInt64(program.count))
        let programArguments = [fixture(program), "10000", "200", "6"]
        let (reference, duration) = try timed(["run", "--image", directory.appendingPathComponent("reference.img").path] + programArguments)
        #expect(reference.status == 0 && reference.stdout.hasSuffix("all ok\n"), "\(reference.stdout)")
        let image = directory.appendingPathComponent("recursion.img").path
        let result = try killRepeatedly(["run", "--image", image, "--hold-output", "--snapshot-every", "10ms"] + programArguments,
                                        maxKills: 12, uninterrupted: duration, fractions: 0.01...0.04, generator: &generator)
        #expect(result.kills >= 6, "killed mid-computation \(result.kills) times")
        #expect(result.status == 0)
        #expect(result.output == reference.stdout)
    }

    /// A program killed while sleeping in `poll_oneoff` sleeps again after the
    /// restart until its original deadline: the program itself checks that
    /// every sleep lasted at least its length and that the monotonic clock
    /// never went backwards across the restarts ("ok", else SHORT_SLEEP or
    /// CLOCK_BACKWARDS).
    @Test func aSleepInterruptedByAKillResumes() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["run", "--image", directory.appendingPathComponent("sleeper.img").path, "--hold-output",
                         "--snapshot-every", "20ms", fixture("c/sleeper.wasm"), "4", "400"]
        var output = ""
        for _ in 0..<2 {
            // Killed once a tick is out (it is committed: --hold-output), so
            // most likely in the next sleep; never after a fixed delay.
            let killed = try PhantomProcess.runUntil(arguments, ready: { stdout, _ in stdout.contains("tick ") })
            #expect(killed.status == SIGKILL, "\(killed.stderr)")
            output += killed.stdout
        }
        let last = try PhantomProcess.run(arguments)
        output += last.stdout
        #expect(last.status == 0, "\(last.stderr)")
        #expect(last.stderr.contains("resuming sleeper.wasm"))
        let ticks = output.split(separator: "\n").filter { $0.hasPrefix("tick ") }.map { $0.split(separator: " ")[1] }
        #expect(ticks == ["1", "2", "3", "4"], "\(output)")
        #expect(output.hasSuffix("ok\n"), "\(output)")
    }

    @Test func appendedFileStaysConsistentAcrossKills() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        var generator = SplitMix64(seed: Self.seed ^ 0xA99E)
        let image = directory.appendingPathComponent("appender.img").path
        let arguments = ["run", "--image", image, "--snapshot-every", "20ms", "--dir", "\(data.path)::/data",
                         fixture("c/appender.wasm"), "/data/log.txt", "400", "20000"]
        let result = try killRepeatedly(arguments, maxKills: 6, uninterrupted: 2, generator: &generator)
        #expect(result.status == 0)
        let log = try String(contentsOf: data.appendingPathComponent("log.txt"), encoding: .utf8)
        let numbers = log.split(separator: "\n").map { line in Int(line.split(separator: " ")[1]) ?? -1 }
        #expect(numbers == Array(1...numbers.count), "lines 1…N with no gap or duplicate")
        #expect(numbers.count >= 400)
    }
}
