import Foundation
import Testing

/// Inputs and conditions that once killed `phantom` by a signal (SIGILL from
/// an overflowing conversion or a failed write to stderr, SIGPIPE from a
/// closed stdout) or held it up (a pipe nobody reads): each is now an error
/// with a message and a documented exit status, and a stop still ends in a
/// final snapshot (issue 8).
@Suite struct RobustnessTests {
    @Test(arguments: [
        (["--snapshot-every", "1e30s"], "at most 60s is allowed"),
        (["demo", "--snapshot-every", "1e30s"], "at most 86400s is allowed"),
        (["--snapshot-every", "1"], "give a unit"),
        (["--snapshot-every=-5s"], "cannot be negative"),
        (["--snapshot-every", "nan"], "expected a number with a unit"),
        (["--duration", "99999999999999999999s"], "at most"),
        (["--space-limit", "1K"], "at least 1 MiB is needed"),
        (["--space-limit", "99999999999T"], "at most 64 TiB is allowed"),
        (["run", "--max-memory", "18446744073709551615", "x.wasm"], "at most 4 GiB is allowed"),
        (["run", "--max-memory", "1K", "x.wasm"], "at least 64 KiB is needed"),
        (["image", "create", "x.img", "--max-size", "99999999999T"], "at most 1 PiB is allowed"),
        (["bench", "pause", "--runs", "0"], "--runs must be between 1"),
        (["bench", "frequency", "--seconds", "1e300"], "--seconds must be more than 0"),
        (["bench", "kernel", "sessions", "--iterations", "0"], "--iterations must be between 10"),
        (["bench", "kernel", "pause", "--components", "1,x"], "--components must be counts"),
        (["bench", "kernel", "idle", "--seconds", "0"], "--seconds must be between 1"),
        (["bench", "kernel", "pipe-echo", "--size=0"], "--size must be between 1"),
    ])
    func numericOptionsAreRangeChecked(arguments: [String], message: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try PhantomProcess.run(arguments, in: directory)
        #expect(!output.killedBySignal, "\(arguments) died by signal \(output.status)")
        #expect(output.status == 64, "a usage error: \(arguments): \(output.status) \(output.stderr)")
        #expect(output.stderr.contains(message), "\(arguments): \(output.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "nothing was created")
    }

    @Test func aFullStandardErrorIsNotADeathBySignal() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        for (arguments, status) in [(["run", "nothing.wasm"], Int32(1)), (["--snapshot-every", "1"], 64),
                                    (["demo", "--image", "d.img", "--iterations", "10", "--quiet"], 0),
                                    (["--image", "s.img", "--duration", "300ms"], 0)] {
            let output = try PhantomProcess.Running(arguments, in: directory, stderr: full).finish()
            #expect(!output.killedBySignal && output.status == status, "\(arguments): \(output.status)")
        }
    }

    /// `phantom | head -1`: the reader goes away; phantom takes a final
    /// snapshot and exits 141 instead of dying by SIGPIPE, and the next run
    /// resumes from that snapshot.
    @Test func aClosedStandardOutputEndsWithAFinalSnapshot() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("closed.img").path
        let running = try PhantomProcess.Running(["demo", "--image", image, "--snapshot-every", "10ms", "--rate", "0"], in: directory, readStdout: false)
        let reader = running.stdoutPipe.fileHandleForReading
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("snapshot: generation") {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        try reader.close()
        let output = running.finish()
        #expect(!output.killedBySignal, "died by signal \(output.status)")
        #expect(output.status == 141, "\(output.stderr)")
        #expect(output.stderr.contains("standard output was closed (or failed); stopped cleanly at iteration"), "\(output.stderr)")
        let final = number(after: "stopped cleanly at iteration ", in: output.stderr) ?? 0
        let next = try PhantomProcess.run(["demo", "--image", image, "--iterations", "1", "--quiet"])
        #expect(next.stdout.contains("resumed at iteration \(final); invariant holds"), "\(next.stdout) after \(output.stderr)")
    }

    /// A program writing into a pipe nobody reads: snapshots go on (the
    /// writing thread waits outside the safepoint protocol) and SIGINT stops
    /// it with a final snapshot. With and without output commit.
    @Test(arguments: [false, true])
    func aFullPipeHoldsUpNeitherSnapshotsNorAStop(holdOutput: Bool) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("pipe.img").path
        let running = try PhantomProcess.Running(
            ["run", "--image", image, "--snapshot-every", "10ms", "--verbose"] + (holdOutput ? ["--hold-output"] : [])
                + [fixture("c/counter.wasm"), "0", "1"],
            in: directory, readStdout: false)
        // The program prints a line per increment: 64 KiB of pipe fill within
        // milliseconds, long before 40 snapshots could be taken.
        let ready = running.waitUntil({ _, stderr in stderr.contains("generation 40 committed") }, safetyLimit: 300)
        #expect(ready, "snapshots continued while stdout was full")
        running.send(SIGINT)
        let output = running.finish()
        #expect(output.status == 130, "\(output.stderr)")
        #expect(output.stderr.contains("stopped by SIGINT"), "\(output.stderr)")
        _ = try? running.stdoutPipe.fileHandleForReading.close()
    }

    @Test func helpDocumentsEveryExitStatus() throws {
        for (command, statuses) in [(["run", "--help"], ["134", "130", "143", "129", "64", "75", "2"]),
                                    (["resume", "--help"], ["134", "130", "143", "129", "64", "75", "2"]),
                                    (["demo", "--help"], ["130", "143", "129", "141", "64", "75", "2", "3"])] {
            let help = try PhantomProcess.run(command)
            let text = help.stdout.replacingOccurrences(of: "\n", with: " ")
            for status in statuses {
                #expect(text.contains(status), "\(command) documents exit status \(status)")
            }
        }
    }
}
