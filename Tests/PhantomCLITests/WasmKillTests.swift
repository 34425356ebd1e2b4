import Foundation
import PhantomStore
import Testing

/// Programs SIGKILLed at random moments resume from their last snapshot. With
/// output commit (`--hold-output`) the output concatenated over all the
/// killed runs is exactly that of one uninterrupted run: nothing repeated,
/// nothing lost — the strongest check of "continues where it was".
@Suite(.serialized) struct WasmKillTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["PHANTOM_KILL_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)

    /// Runs `arguments` repeatedly, killing each run after a random delay, until
    /// a run finishes by itself or `maxKills` kills were made (then lets it finish).
    private func killRepeatedly(_ arguments: [String], maxKills: Int, delay: ClosedRange<Double>,
                                generator: inout SplitMix64) throws -> (output: String, kills: Int, status: Int32) {
        var output = ""
        var kills = 0
        while true {
            if kills >= maxKills {
                let last = try PhantomProcess.run(arguments)
                return (output + last.stdout, kills, last.status)
            }
            let span = delay.upperBound - delay.lowerBound
            let wait = delay.lowerBound + Double(generator.next() % 1000) / 1000 * span
            let run = try PhantomProcess.runAndKill(arguments, after: wait)
            output += run.stdout
            if run.status != SIGKILL { return (output, kills, run.status) }
            kills += 1
        }
    }

    @Test func counterOutputIsExactlyOneRunAcrossKills() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("counter.img").path
        print("WasmKillTests: seed \(Self.seed) (set PHANTOM_KILL_SEED to replay)")
        var generator = SplitMix64(seed: Self.seed)
        let arguments = ["run", "--image", image, "--hold-output", "--snapshot-every", "30ms",
                         fixture("c/counter.wasm"), "8000000", "50000"]
        let result = try killRepeatedly(arguments, maxKills: 22, delay: 0.15...0.6, generator: &generator)
        #expect(result.kills >= 20, "killed \(result.kills) times")
        #expect(result.status == 0)
        let expected = (1...160).map { "count \($0 * 50000)" } + ["done 8000000"]
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines == expected, "first difference at line \(Array(zip(lines, expected)).firstIndex { $0.0 != $0.1 } ?? min(lines.count, expected.count)) of \(lines.count)")
        let verify = try PhantomProcess.run(["image", "verify", image])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test(arguments: ["c/recursion.wasm", "swift/recursion.wasm"])
    func deepRecursionCompletesCorrectlyAcrossKills(program: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SplitMix64(seed: Self.seed ^ UInt64(program.count))
        let programArguments = [fixture(program), "10000", "200", "6"]  // sized so a run outlasts 3+ kills at the register interpreter's speed
        let reference = try PhantomProcess.run(["run", "--image", directory.appendingPathComponent("reference.img").path] + programArguments)
        #expect(reference.status == 0 && reference.stdout.hasSuffix("all ok\n"), "\(reference.stdout)")
        let image = directory.appendingPathComponent("recursion.img").path
        let result = try killRepeatedly(["run", "--image", image, "--hold-output", "--snapshot-every", "25ms"] + programArguments,
                                        maxKills: 12, delay: 0.1...0.35, generator: &generator)
        #expect(result.kills >= 3, "killed mid-computation \(result.kills) times")
        #expect(result.status == 0)
        #expect(result.output == reference.stdout)
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
        let result = try killRepeatedly(arguments, maxKills: 6, delay: 0.2...0.5, generator: &generator)
        #expect(result.status == 0)
        let log = try String(contentsOf: data.appendingPathComponent("log.txt"), encoding: .utf8)
        let numbers = log.split(separator: "\n").map { line in Int(line.split(separator: " ")[1]) ?? -1 }
        #expect(numbers == Array(1...numbers.count), "lines 1…N with no gap or duplicate")
        #expect(numbers.count >= 400)
    }
}
