import ArgumentParser
import Foundation
import PhantomKernel
import PhantomStore

// The commands that talk to a running system (`phantom boot`) through its
// control socket beside the image (RunningSystem, docs/CONTROL.md).

private let needsRunningSystem = "\n" + """
    Talks to the system that `phantom boot --image IMAGE` runs, through its control socket \
    IMAGE.sock (the running system holds the image itself locked). Fails with exit status 1 \
    when no system runs on the image.
    """

struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the running system's components: state, RAM, sessions.",
        discussion: """
            One line per component of the init config: its name; its state (running, or exited \
            with its exit value); its RAM quota and what it uses of it; the sessions it opened, by \
            service. --xml prints Genode's state report as the system publishes it, --json the same \
            as JSON (each element an object of its attributes, child elements in arrays by type).

            """ + needsRunningSystem)

    @OptionGroup var location: ImageLocation
    @Flag(help: "Print the state report as JSON.") var json = false
    @Flag(help: "Print Genode's state report (XML) as it is.") var xml = false

    func validate() throws {
        if json && xml { throw ValidationError("--json and --xml exclude each other") }
    }

    func run() throws {
        let client = try RunningSystem.connect(location.path)
        let state = try RunningSystem.call(client, .state).state ?? ""
        if xml {
            print(state)
            return
        }
        let report: StateReport
        do {
            report = try StateReport(xml: state)
        } catch {
            throw CommandFailure("\(error)")
        }
        print(json ? try report.json() : report.table())
    }
}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the running system's log; -f follows it.",
        discussion: """
            The lines components wrote to their LOG sessions and what init said, as the system \
            printed them (`[init -> NAME] text`), from the last ones it keeps in memory. With -f, \
            new lines follow as they come until the system stops or you press Ctrl-C.

            """ + needsRunningSystem)

    @OptionGroup var location: ImageLocation
    @Flag(name: .shortAndLong, help: "Follow: keep printing new lines as they come.") var follow = false
    @Option(name: [.customShort("n"), .long], help: "Only the last N lines (default: all the system keeps; with -f, 10).")
    var lines: Int?

    func validate() throws {
        if let lines, lines < 0 { throw ValidationError("--lines must be 0 or more") }
    }

    func run() throws {
        lineBufferStandardOutput()
        let client = try RunningSystem.connect(location.path)
        let last = lines ?? (follow ? 10 : nil)
        let first = try RunningSystem.call(client, .log(last: last, follow: follow))
        printLines(first)
        guard follow else { return }
        while true {
            let reply: ControlReply?
            do {
                reply = try client.receive(timeout: 1)
            } catch ControlClientError.timedOut {
                if standardOutputFailed() { throw ExitCode(ExitStatus.outputClosed) }
                continue
            } catch {
                throw CommandFailure("\(error)")
            }
            guard let reply else {
                printError("phantom: the system on \(location.path) stopped")
                return
            }
            guard reply.ok else { throw CommandFailure(reply.error ?? "the system refused to go on") }
            printLines(reply)
            if standardOutputFailed() { throw ExitCode(ExitStatus.outputClosed) }
        }
    }

    private func printLines(_ reply: ControlReply) {
        if let dropped = reply.dropped {
            printError("phantom: \(dropped) log line(s) were dropped before they could be read")
        }
        for line in reply.lines ?? [] { print(line.text) }
    }
}

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take a snapshot of the running system now; prints the committed generation.",
        discussion: """
            Returns once the generation is durable on disk: a kill, crash or power cut after this \
            brings the system back at least this far. The periodic snapshots go on as before.

            """ + needsRunningSystem)

    @OptionGroup var location: ImageLocation

    func run() throws {
        let client = try RunningSystem.connect(location.path)
        let reply = try RunningSystem.call(client, .snapshot, timeout: nil)
        guard let generation = reply.generation else { throw CommandFailure("the system did not say which generation it committed") }
        print("generation \(generation) committed")
    }
}

struct GenerationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generations",
        abstract: "List the image's retained generations, newest first.",
        discussion: """
            From the running system when one runs on the image; otherwise read from the image \
            itself, as `phantom image generations` does (under a shared lock: refused while \
            another writer, such as `phantom run`, holds it).
            """)

    @OptionGroup var location: ImageLocation

    func run() throws {
        if let client = try RunningSystem.connectIfRunning(location.path) {
            printGenerations(try RunningSystem.call(client, .generations).generations ?? [])
        } else {
            let store = try openImage(location.path)
            printGenerations(GenerationSummary.all(of: store.info))
        }
    }
}

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Return the system to an older retained generation.",
        discussion: """
            With a system running on the image, it stops at once — without a final snapshot, so \
            everything since the chosen generation is dropped — makes that generation current and \
            exits; this command waits for that. Boot the image again to continue from the chosen \
            generation. With no system running, the image is rolled back directly, as \
            `phantom image rollback` does.

            A rollback commits a new generation identical to the chosen one; nothing is \
            overwritten, so newer generations stay retained (until retention drops them) and a \
            rollback can itself be rolled back. See `phantom generations` for the numbers.
            """)

    @OptionGroup var location: ImageLocation
    @Argument(help: "The generation to return to (see `phantom generations`).") var generation: UInt64
    @Option(help: "How long to wait for the running system to exit (e.g. 30s, 5m; default: 60s).",
            transform: Duration.parser(in: Duration.milliseconds(100)...Duration.ceiling))
    var timeout = Duration.seconds(60)

    func run() throws {
        let image = location.path
        guard let client = try RunningSystem.connectIfRunning(image) else {
            let store = try ImageAccess.openForWriting(image, create: false).store
            let record = try store.rollback(to: generation)
            print("rolled back to generation \(generation): it is now generation \(record.generation)")
            return
        }
        do {
            try client.send(.rollback(to: generation))
        } catch {
            throw CommandFailure("\(error)")
        }
        let reply = try RunningSystem.awaitStop(client, image: image, timeout: timeout)
        if let message = reply?.message { printError("phantom: \(message)") }
        let now = reply?.generation.map { ": it is now generation \($0)" } ?? ""
        print("rolled back to generation \(generation)\(now); the system stopped (boot it again to continue: phantom boot --image \(image))")
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Change the running system's init config.",
        subcommands: [Apply.self])

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a new init config to the running system.",
            discussion: """
                The system reconfigures as Genode's init does: new <start> nodes start, removed \
                ones stop, a changed binary or version restarts its component, a changed inline \
                config reaches its component without a restart. The new config is stored in the \
                image with the next snapshot; later boots run it. A config with an error (named by \
                line and column) changes nothing: the system keeps the config it runs. Warnings \
                are printed on stderr.

                """ + needsRunningSystem)

        @OptionGroup var location: ImageLocation
        @Argument(help: "The new config (XML or HID).") var file: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("\(file): cannot read the config")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("\(file): the config is not UTF-8 text")
            }
            let client = try RunningSystem.connect(location.path)
            let reply: ControlReply
            do {
                reply = try client.call(.applyConfig(text), timeout: nil)
            } catch ControlClientError.refused(let message) {
                throw CommandFailure("\(file): \(message)")
            } catch {
                throw CommandFailure("\(error)")
            }
            for warning in reply.warnings ?? [] { printError("phantom: warning: \(warning)") }
            print("applied \(file) to the system on \(location.path)")
        }
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop the running system cleanly, after a final snapshot.",
        discussion: """
            As SIGTERM would: the system takes a final snapshot and exits; this command waits \
            until it has (its socket is gone and the image is free) and prints the final \
            generation. `phantom boot --image IMAGE` continues from there.

            """ + needsRunningSystem)

    @OptionGroup var location: ImageLocation
    @Option(help: "How long to wait for the system to exit (e.g. 30s, 5m; default: 60s).",
            transform: Duration.parser(in: Duration.milliseconds(100)...Duration.ceiling))
    var timeout = Duration.seconds(60)

    func run() throws {
        let image = location.path
        let client = try RunningSystem.connect(image)
        do {
            try client.send(.stop)
        } catch {
            throw CommandFailure("\(error)")
        }
        let reply = try RunningSystem.awaitStop(client, image: image, timeout: timeout)
        if let message = reply?.message { printError("phantom: \(message)") }
        if let generation = reply?.generation {
            print("stopped the system on \(image); generation \(generation) committed")
        } else {
            print("stopped the system on \(image)")
        }
    }
}
