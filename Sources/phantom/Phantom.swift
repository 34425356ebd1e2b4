import ArgumentParser
import CPhantomSupport
import Foundation

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
            """,
        subcommands: [Boot.self, Run.self, Resume.self, ImageCommand.self, Bench.self],
        defaultSubcommand: Boot.self)
}

/// Options shared by every command that opens an image.
struct ImageLocation: ParsableArguments {
    @Option(name: .long, help: "The image file or block device (default: $PHANTOM_IMAGE or ./phantom.img).")
    var image: String?

    var path: String {
        image ?? ProcessInfo.processInfo.environment["PHANTOM_IMAGE"] ?? "phantom.img"
    }
}

/// Writes to standard error and flushes, for messages that must survive a kill.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Makes stdout line-buffered even into a pipe, so that a line printed before
/// a SIGKILL is not lost in a buffer (tests and log collectors rely on it).
func lineBufferStandardOutput() {
    phantom_line_buffer_stdout()
}
