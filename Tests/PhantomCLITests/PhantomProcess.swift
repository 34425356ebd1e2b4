import Foundation

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
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs to completion.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Output {
        try launch(arguments, in: directory, killAfter: nil)
    }

    /// Starts, waits `seconds`, then sends SIGKILL; returns what it printed.
    static func runAndKill(_ arguments: [String], after seconds: Double) throws -> Output {
        try launch(arguments, in: nil, killAfter: seconds)
    }

    private static func launch(_ arguments: [String], in directory: URL?, killAfter seconds: Double?) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        if let seconds {
            usleep(UInt32(seconds * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
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
