import Foundation
import Testing

/// Runs the real `phantom` executable, built next to the test bundle.
struct PhantomProcess {
    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["PHANTOM_BINARY"] { return URL(fileURLWithPath: path) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundle, bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("phantom")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return bundle.appendingPathComponent("phantom")
    }

    struct Output {
        var status: Int32
        /// Whether it died by a signal (then `status` is the signal).
        var killedBySignal = false
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs to completion.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Output {
        try Running(arguments, in: directory).finish()
    }

    /// Starts, waits until what it printed satisfies `ready` (a readiness
    /// signal such as a committed generation, never a fixed delay), waits
    /// `extraDelay` more seconds (to vary where a kill lands), then sends
    /// `signal` and collects the rest. If the process ends before it is
    /// ready, returns what it printed (the caller's assertions say whether
    /// that is a failure). `safetyLimit` only keeps a broken build from
    /// hanging the suite: nothing is expected to take that long.
    static func runUntil(_ arguments: [String], in directory: URL? = nil,
                         ready: @escaping @Sendable (_ stdout: String, _ stderr: String) -> Bool,
                         extraDelay: Double = 0, signal: Int32 = SIGKILL,
                         safetyLimit: Double = 300) throws -> Output {
        let running = try Running(arguments, in: directory)
        if running.waitUntil(ready, safetyLimit: safetyLimit) {
            if extraDelay > 0 { usleep(UInt32(extraDelay * 1_000_000)) }
            running.send(signal)
        } else if running.isRunning {
            running.send(SIGKILL)
            let output = running.finish()
            Issue.record("not ready after \(safetyLimit) s: \(arguments)\n\(output.stdout)\n\(output.stderr)")
            return output
        }
        return running.finish()
    }

    /// Starts, waits `seconds`, then sends SIGKILL. Only for tests whose
    /// assertions hold wherever the kill lands (a kill during image
    /// creation): never to wait for the process to reach some point.
    static func runAndKill(_ arguments: [String], after seconds: Double) throws -> Output {
        let running = try Running(arguments, in: nil)
        usleep(UInt32(seconds * 1_000_000))
        running.send(SIGKILL)
        return running.finish()
    }

    /// Waits for the first committed generation (`--verbose` for `run`,
    /// the default for `boot`), then kills after `extraDelay` seconds.
    static func runAndKillAfterCommit(_ arguments: [String], extraDelay: Double = 0) throws -> Output {
        try runUntil(arguments, ready: { stdout, stderr in
            stdout.contains("snapshot: generation") || stderr.contains(" committed (")
        }, extraDelay: extraDelay)
    }

    /// A started `phantom` whose output is collected as it comes.
    final class Running: @unchecked Sendable {
        // @unchecked: `stdout`/`stderr`/`ended` are only touched under `condition`.
        let process = Process()
        private let condition = NSCondition()
        private var stdoutData = Data()
        private var stderrData = Data()
        private var openStreams = 2

        /// The pipe its stdout goes to; nobody reads it when `readStdout` is false.
        let stdoutPipe = Pipe()

        /// `readStdout: false` leaves stdout to the caller (a reader that
        /// stops, or never reads); `stderr` may name a file to send it to.
        /// `standardInput` is its stdin (default: /dev/null).
        init(_ arguments: [String], in directory: URL?, readStdout: Bool = true, stderr: FileHandle? = nil,
             standardInput: Pipe? = nil) throws {
            process.executableURL = PhantomProcess.executable
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = directory }
            let err = Pipe()
            process.standardOutput = stdoutPipe
            process.standardError = stderr ?? err
            process.standardInput = standardInput ?? FileHandle.nullDevice
            try process.run()
            if readStdout { collect(stdoutPipe.fileHandleForReading, isStdout: true) } else { openStreams -= 1 }
            if stderr == nil { collect(err.fileHandleForReading, isStdout: false) } else { openStreams -= 1 }
        }

        private func collect(_ handle: FileHandle, isStdout: Bool) {
            let thread = Thread { [self] in
                while true {
                    let chunk = handle.availableData
                    condition.lock()
                    if chunk.isEmpty {
                        openStreams -= 1
                    } else if isStdout {
                        stdoutData.append(chunk)
                    } else {
                        stderrData.append(chunk)
                    }
                    condition.broadcast()
                    condition.unlock()
                    if chunk.isEmpty { return }
                }
            }
            thread.start()
        }

        var isRunning: Bool { process.isRunning }
        var pid: Int32 { process.processIdentifier }

        /// What it printed so far.
        var output: (stdout: String, stderr: String) {
            condition.lock(); defer { condition.unlock() }
            return (String(decoding: stdoutData, as: UTF8.self), String(decoding: stderrData, as: UTF8.self))
        }

        /// Waits until `text` appears on stdout or stderr; false if the process
        /// closed its output first, or after `limit` seconds (a guard against a
        /// hung test, not a timing assumption).
        func waitFor(_ text: String, limit: Double = 300) -> Bool {
            waitUntil({ $0.contains(text) || $1.contains(text) }, safetyLimit: limit)
        }

        /// Sends `signal` and waits for the exit and the end of the output.
        @discardableResult
        func stop(_ signal: Int32 = SIGTERM) -> Int32 {
            send(signal)
            return finish().status
        }

        func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

        /// Whether `ready` held before both streams closed (or `safetyLimit` passed).
        func waitUntil(_ ready: (String, String) -> Bool, safetyLimit: Double) -> Bool {
            let deadline = Date(timeIntervalSinceNow: safetyLimit)
            condition.lock()
            defer { condition.unlock() }
            while true {
                if ready(String(decoding: stdoutData, as: UTF8.self), String(decoding: stderrData, as: UTF8.self)) { return true }
                if openStreams == 0 || Date() >= deadline { return false }
                _ = condition.wait(until: min(deadline, Date(timeIntervalSinceNow: 1)))
            }
        }

        /// Waits for the process to end and both streams to close.
        func finish() -> Output {
            condition.lock()
            while openStreams > 0 { condition.wait() }
            condition.unlock()
            process.waitUntilExit()
            return Output(status: process.terminationStatus,
                          killedBySignal: process.terminationReason == .uncaughtSignal,
                          stdout: String(decoding: stdoutData, as: UTF8.self),
                          stderr: String(decoding: stderrData, as: UTF8.self))
        }
    }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The number after `marker` in `line` ("… at iteration 123 …").
func number(after marker: String, in line: String) -> UInt64? {
    guard let range = line.range(of: marker) else { return nil }
    return UInt64(line[range.upperBound...].prefix { $0.isNumber })
}
