import Foundation
import PhantomStore
import Testing

/// The real process, SIGKILLed at random moments: every restart resumes from
/// the last committed snapshot with the workload's invariant intact.
@Suite(.serialized) struct KillTests {
    @Test func survivesRepeatedSIGKILL() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("kill.img").path
        let kills = Int(ProcessInfo.processInfo.environment["PHANTOM_KILL_ROUNDS"] ?? "") ?? 24
        let seed = UInt64(ProcessInfo.processInfo.environment["PHANTOM_KILL_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)
        print("KillTests: \(kills) rounds, seed \(seed) (set PHANTOM_KILL_SEED to replay)")
        var generator = SplitMix64(seed: seed)

        var lastCommitted: UInt64 = 0
        var resumes = 0
        for round in 0..<kills {
            // Killed a random while after the run's first committed snapshot
            // (a readiness signal, not a fixed delay from the start).
            let delay = Double(generator.next() % 400) / 1000
            let output = try PhantomProcess.runAndKillAfterCommit(
                ["demo", "--image", image, "--snapshot-every", "20ms", "--rate", "0"], extraDelay: delay)
            let context = "round \(round) (seed \(seed), killed \(delay) s after its first commit)"
            #expect(output.status == SIGKILL || output.status == 9, "\(context): \(output.stderr)")
            #expect(!output.stderr.contains("INVARIANT BROKEN"), "\(context): \(output.stderr)")
            if let resumed = output.lines.first(where: { $0.hasPrefix("demo: resumed at iteration") }) {
                resumes += 1
                #expect(resumed.contains("invariant holds"), "\(context): \(resumed)")
                let iteration = number(after: "at iteration ", in: resumed) ?? 0
                #expect(iteration >= lastCommitted,
                        "\(context): resumed at \(iteration), but \(lastCommitted) had been reported committed")
            } else if round > 0 && lastCommitted > 0 {
                Issue.record("\(context): did not resume: \(output.stdout) \(output.stderr)")
            }
            for line in output.lines where line.hasPrefix("snapshot: generation") {
                let iteration = number(after: "at iteration ", in: line) ?? 0
                #expect(iteration >= lastCommitted, "\(context): committed iterations go forward")
                lastCommitted = iteration
            }
        }
        #expect(resumes == kills - 1, "every round after the first resumes a committed state")
        #expect(lastCommitted > 0)

        // A clean run afterwards resumes, then the image verifies clean.
        let final = try PhantomProcess.run(["demo", "--image", image, "--iterations", "100", "--quiet"])
        #expect(final.status == 0, "\(final.stderr)")
        #expect(final.stdout.contains("invariant holds"))
        let verify = try PhantomProcess.run(["image", "verify", image])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("ok: no damage"))
    }

    /// SIGKILL while large copy-on-write captures are copied and written: 48 MiB
    /// of ballast rewritten as fast as the demo runs and a snapshot due every
    /// 10 ms keep a capture in flight nearly all the time, its pages copied by
    /// the writer and by the workload racing it. Every restart resumes one
    /// committed generation exactly as it was at its cut: the counters, the
    /// list, and every ballast page's stamp are what the restored iteration
    /// says they must be (a page copied after it changed would be newer).
    @Test func survivesSIGKILLDuringCopyOnWriteCaptures() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("cow-kill.img").path
        let seed = UInt64(ProcessInfo.processInfo.environment["PHANTOM_KILL_SEED"] ?? "") ?? UInt64.random(in: 1...UInt64.max)
        print("KillTests (copy-on-write): seed \(seed) (set PHANTOM_KILL_SEED to replay)")
        var generator = SplitMix64(seed: seed)
        let rounds = 8
        var lastCommitted: UInt64 = 0
        var resumes = 0
        for round in 0..<rounds {
            let delay = Double(generator.next() % 150) / 1000
            let output = try PhantomProcess.runAndKillAfterCommit(
                ["demo", "--image", image, "--snapshot-every", "10ms", "--rate", "0", "--ballast", "48"], extraDelay: delay)
            let context = "round \(round) (seed \(seed), killed \(delay) s after its first commit)"
            #expect(output.status == SIGKILL || output.status == 9, "\(context): \(output.stderr)")
            #expect(!output.stderr.contains("INVARIANT BROKEN"), "\(context): \(output.stderr)")
            if let resumed = output.lines.first(where: { $0.hasPrefix("demo: resumed at iteration") }) {
                resumes += 1
                #expect(resumed.contains("invariant holds"), "\(context): \(resumed)")
                #expect((number(after: "at iteration ", in: resumed) ?? 0) >= lastCommitted, "\(context): \(resumed)")
            } else if round > 0 {
                Issue.record("\(context): did not resume: \(output.stdout) \(output.stderr)")
            }
            for line in output.lines where line.hasPrefix("snapshot: generation") {
                lastCommitted = max(lastCommitted, number(after: "at iteration ", in: line) ?? 0)
            }
        }
        #expect(resumes == rounds - 1)
        #expect(lastCommitted > 0)
        let verify = try PhantomProcess.run(["image", "verify", image])
        #expect(verify.status == 0 && verify.stdout.contains("ok: no damage"), "\(verify.stdout)")
    }

    @Test func cleanStopTakesAFinalSnapshot() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("clean.img").path
        let first = try PhantomProcess.run(["demo", "--image", image, "--iterations", "5000", "--rate", "0", "--quiet"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("created image"))
        #expect(first.stdout.contains("stopped cleanly at iteration 5000"))
        let second = try PhantomProcess.run(["demo", "--image", image, "--iterations", "1000", "--rate", "0", "--quiet"])
        #expect(second.stdout.contains("resumed at iteration 5000; invariant holds"))
        #expect(second.stdout.contains("stopped cleanly at iteration 6000"))
    }
}
