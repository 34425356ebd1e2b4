import ArgumentParser
import CPhantomSupport
import Foundation
import PhantomStore

@main
struct Phantom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phantom",
        abstract: "An orthogonally persistent operating environment: programs survive restarts, kill -9 and power cuts.",
        discussion: """
            `phantom run PROGRAM.wasm` runs a WebAssembly program persistently: kill it, run the same \
            command again, and it continues where the last snapshot left it.

            With no subcommand, phantom boots the default image (./phantom.img, or $PHANTOM_IMAGE), \
            creating it if needed, and runs the demonstration workload with periodic snapshots. \
            Kill it any way you like and run it again: it continues from the last snapshot.

            While a system runs, `phantom ps`, `log`, `snapshot`, `generations`, `rollback`, \
            `config apply` and `stop` (each with --image) talk to it through its control socket \
            beside the image (IMAGE.sock).
            """,
        subcommands: [
            Boot.self, Ps.self, Log.self, SnapshotCommand.self, GenerationsCommand.self, RollbackCommand.self,
            ConfigCommand.self, Stop.self, Demo.self, Run.self, Resume.self, ImageCommand.self, Bench.self,
            TestInitCommand.self, Pvm.self,
        ],
        defaultSubcommand: Boot.self)

    static func main() {
        // A closed stdout or stderr is an error to report (EPIPE), never a
        // death by signal that would skip the final snapshot.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as StoreError {
            // Another process holds the image: EX_TEMPFAIL, so a supervisor can
            // tell "try later" from "this image is bad".
            if case .imageInUse = error {
                printError("Error: \(error)")
                exit(withError: ExitCode(ExitStatus.imageBusy))
            }
            exit(withError: error)
        } catch {
            exit(withError: error)
        }
    }
}

/// Options shared by every command that opens an image.
struct ImageLocation: ParsableArguments {
    @Option(name: .long, help: "The image file or block device (default: $PHANTOM_IMAGE or ./phantom.img).")
    var image: String?

    var path: String {
        image ?? ProcessInfo.processInfo.environment["PHANTOM_IMAGE"] ?? "phantom.img"
    }
}

/// A command that failed on its input (a file, an image) rather than on its
/// arguments: reported as "Error: message" without the usage text, which
/// would be the root command's and only confuse.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes to standard error at once, for messages that must survive a kill.
/// A failed write (stderr on a full disk, or closed) is ignored: the message
/// is lost, but nothing else is — Foundation's `FileHandle.write` would stop
/// the process with SIGILL instead.
func printError(_ message: String) {
    let bytes = Array((message + "\n").utf8)
    var done = 0
    while done < bytes.count {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress! + done, bytes.count - done) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        done += written
    }
}

/// Whether writing to standard output has failed (its reader went away:
/// EPIPE, as SIGPIPE is ignored; or the disk is full).
func standardOutputFailed() -> Bool {
    phantom_stdout_failed() != 0
}

/// Makes stdout line-buffered even into a pipe, so that a line printed before
/// a SIGKILL is not lost in a buffer (tests and log collectors rely on it).
func lineBufferStandardOutput() {
    phantom_line_buffer_stdout()
}
