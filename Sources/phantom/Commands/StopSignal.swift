import Foundation
import Synchronization

/// Turns SIGINT, SIGTERM and SIGHUP into a flag the main loop checks, so a
/// stop request ends in a final snapshot instead of a lost period of work.
/// SIGHUP (the terminal went away, or a supervisor's reload) is a stop like
/// SIGTERM: a persistent system has nothing to reload, and continuing
/// without a terminal would only fail its next write.
///
/// `@unchecked Sendable`: `sources` only keeps the dispatch sources alive; it
/// is written by `install()` before any signal can be delivered and never
/// read. The state other threads read is the atomic `received`.
final class StopSignal: @unchecked Sendable {
    /// The first stop signal received, 0 while none has been.
    private let received = Atomic<Int32>(0)
    private var sources: [DispatchSourceSignal] = []

    static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    var requested: Bool { received.load(ordering: .relaxed) != 0 }
    /// Which signal asked for the stop, if one did.
    var signal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    func install() {
        for signalNumber in Self.handled {
            Foundation.signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                _ = self?.received.compareExchange(expected: 0, desired: signalNumber, ordering: .relaxed)
            }
            source.resume()
            sources.append(source)
        }
    }

    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(signal)"
        }
    }
}

/// Phantom's exit statuses, one place for all of them (`phantom run --help`
/// lists them). Beyond these, `run` exits with the program's own exit code.
enum ExitStatus {
    /// Bad input: an argument, a module, an image (ArgumentParser's own usage errors exit 64).
    static let failure: Int32 = 1
    /// A snapshot could not be committed (disk full, I/O error); the last committed one stands.
    static let snapshotFailed: Int32 = 2
    /// The demonstration workload found its invariant broken after a restore.
    static let invariantBroken: Int32 = 3
    /// Another process holds the image.
    static let imageBusy: Int32 = 75
    /// The program trapped (wasmtime's convention: 128 + SIGABRT).
    static let trapped: Int32 = 134
    /// Standard output was closed by its reader (128 + SIGPIPE, as a shell reports it).
    static let outputClosed: Int32 = 141
    /// Stopped by a signal, after a final snapshot: 128 + the signal
    /// (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
    static func stopped(by signal: Int32) -> Int32 { 128 + signal }

    /// The text for `--help`.
    static let summary = """
        Exit status: the program's own exit code when it exits (or 0 when _start returns); \
        134 when it traps; 130, 143 or 129 when stopped by SIGINT, SIGTERM or SIGHUP (after a \
        final snapshot: run the same command, or `phantom resume`, to continue); 2 when a \
        snapshot could not be committed (the last committed generation stands); 1 for bad \
        input (a module, an image, a file) and 64 for a bad argument; 75 when another process \
        holds the image.
        """
}
