import ArgumentParser
import Foundation
import PhantomKernel
import PhantomSpace
import PhantomStore
import PhantomWasm

/// Options shared by `run` and `resume`.
struct PersistentRunOptions: ParsableArguments {
    @Option(help: "Time between snapshots (e.g. 10ms, 1s, 1m; 1ms to 24h).", transform: Duration.parser(in: snapshotPeriodRange))
    var snapshotEvery = Duration.seconds(1)
    @Flag(help: "Output commit: hold the program's stdout and stderr until the snapshot containing it is durable, so that output is never repeated after a kill (it then appears once per snapshot period; a kill in the instant between a commit and the release of its output loses that batch).")
    var holdOutput = false
    @Flag(help: "Report every committed snapshot on stderr.")
    var verbose = false
    @Option(help: "Largest the object space may grow to (1M to 64T).", transform: ByteSize.parser(in: spaceLimitRange))
    var spaceLimit = ByteSize(bytes: 64 << 30)
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a WebAssembly (WASI preview 1) program persistently.",
        discussion: """
            The program runs inside an image with periodic snapshots. If it is killed — kill -9, a \
            power cut — running the same command again continues it from the last snapshot, in the \
            middle of whatever it was doing; `phantom resume --image IMAGE` does the same. A program \
            that already ran to completion is not run again (its exit code is reported) unless --fresh \
            is given: the image is the instance. Arguments after the module go \
            to the program; its exit code becomes phantom's. A trap prints its message and exits with 134.

            """ + ExitStatus.summary)

    @Option(help: "The image (default: ./NAME.img for PROGRAM NAME.wasm).")
    var image: String?
    @Option(name: .customLong("dir"), help: ArgumentHelp("Preopen a host directory, optionally under another guest path (repeatable).", valueName: "HOST[::GUEST]"))
    var directories: [String] = []
    @Option(name: .customLong("env"), help: ArgumentHelp("Set an environment variable for the program (repeatable).", valueName: "NAME=VALUE"))
    var environment: [String] = []
    @Flag(help: "Start the program over, discarding the run the image holds (unfinished or finished); also replaces an empty or all-zero file left by an interrupted image creation (never a file that might hold data).")
    var fresh = false
    @Option(help: "Most linear memory the program may have (memory.grow beyond returns -1; 64K to 4G, WebAssembly's 32-bit limit).",
            transform: ByteSize.parser(in: 65536...(4 << 30)))
    var maxMemory = ByteSize(bytes: 4 << 30)
    @OptionGroup var options: PersistentRunOptions
    @Argument(help: "The WebAssembly module.") var program: String
    @Argument(parsing: .captureForPassthrough, help: "Arguments for the program.") var arguments: [String] = []

    func validate() throws {
        for variable in environment where !variable.contains("=") || variable.hasPrefix("=") {
            throw ValidationError("--env takes NAME=VALUE, not \"\(variable)\"")
        }
        for directory in directories {
            let host = directory.components(separatedBy: "::")[0]
            guard !host.isEmpty else {
                throw ValidationError("--dir needs a host directory, as in --dir . or --dir /srv/data::/data (got \"\(directory)\")")
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: host, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--dir \(directory): \(host) is not a directory")
            }
        }
    }

    func run() throws {
        lineBufferStandardOutput()
        let bytes = try readModule(program)
        // Refuse a file that is not a valid module before any image is
        // created or touched for it.
        do {
            _ = try PhantomWasm.validate(module: bytes)
        } catch {
            printError("phantom: \(program): \(error)")
            throw ExitCode(ExitStatus.failure)
        }
        let name = URL(fileURLWithPath: program).lastPathComponent
        let path = image ?? (URL(fileURLWithPath: program).deletingPathExtension().lastPathComponent + ".img")
        let checksum = CRC32C.checksum(bytes)

        var space = try ProgramSession.openImage(path, options: options, fresh: fresh)
        var startOver = fresh
        let stored: ComponentSummary?
        do {
            stored = try Kernel.storedComponents(in: space)?.first
        } catch {
            printError("phantom: \(path): cannot resume: \(error)")
            throw ExitCode(1)
        }
        if let stored {
            let ended = stored.state != .running
            if stored.moduleChecksum != checksum && !ended && !fresh {
                throw ValidationError("\(path) holds an unfinished run of \(stored.name), not of \(name); pass --fresh to discard it, or --image for another image")
            }
            if ended && stored.moduleChecksum == checksum && !fresh {
                // The image is the instance: a finished program is not run a second
                // time by accident (say, by a supervisor restarting this command
                // after a crash just past the end), which would repeat its effects.
                switch stored.state {
                case .trapped:
                    printError("phantom: \(stored.name) in \(path) already ended with a trap; --fresh runs it again")
                    throw ExitCode(134)
                case let .exited(code):
                    printError("phantom: \(stored.name) in \(path) already ran to completion (exit \(code)); --fresh runs it again")
                    throw ExitCode(Int32(truncatingIfNeeded: code))
                case let .failed(reason):
                    printError("phantom: \(stored.name) in \(path) could not start: \(reason); --fresh tries again")
                    throw ExitCode(1)
                case .running:
                    break
                }
            }
            if ended && !fresh {
                printError("phantom: the program in \(path) (\(stored.name)) had ended; starting \(name)")
                startOver = true
            }
        } else if space.root(0) != 0 || space.root(WasmRoots.registry) != 0 || space.root(ProgramSession.legacyProgramSlot) != 0 {
            if !fresh { throw ValidationError("\(path) holds other data (not a program run by this version of phantom); pass --fresh to replace it, or --image for another image") }
        } else {
            startOver = true
        }
        if startOver {
            space = try ProgramSession.recreateImage(replacing: space, options: options)
        }
        let preopens = directories.map { directory -> (host: String, guest: String) in
            let parts = directory.components(separatedBy: "::")
            let host = URL(fileURLWithPath: parts[0]).standardizedFileURL.path
            return (host, parts.count > 1 ? parts[1] : parts[0])
        }
        let session = ProgramSession(space: space, options: options)
        let program = URL(fileURLWithPath: self.program).standardizedFileURL
        let config = ProgramSession.systemConfig(name: name, binary: program.lastPathComponent, arguments: arguments,
                                                 environment: environment, ram: maxMemory.bytes)
        let kernel = try session.boot(config: config, romDirectory: program.deletingLastPathComponent().path,
                                      preopens: startOver ? preopens : [], path: path, resuming: !startOver)
        try session.run(kernel, name: name, path: path)
    }
}

/// The module's bytes, or an error that says why they cannot be had.
func readModule(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CommandFailure("\(path): no such file (the WebAssembly module to run)")
    }
    guard !isDirectory.boolValue else { throw CommandFailure("\(path) is a directory, not a WebAssembly module") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandFailure("\(path): cannot read the module (permission denied?)")
    }
    return Array(data)
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue the program stored in an image from its last snapshot.",
        discussion: ExitStatus.summary)
    @Option(help: "The image.") var image: String
    @OptionGroup var options: PersistentRunOptions

    func run() throws {
        lineBufferStandardOutput()
        let space = try ProgramSession.openImage(image, options: options)
        let stored: ComponentSummary?
        do {
            stored = try Kernel.storedComponents(in: space)?.first
        } catch {
            printError("phantom: \(image): cannot resume: \(error)")
            throw ExitCode(1)
        }
        guard let stored else {
            throw ValidationError("\(image) holds no program; start one with `phantom run --image \(image) PROGRAM.wasm`")
        }
        guard stored.state == .running else {
            let how: String
            switch stored.state {
            case let .exited(code): how = "exit \(code)"
            case .trapped: how = "a trap"
            case let .failed(reason): how = "failed to start: \(reason)"
            case .running: how = ""
            }
            throw ValidationError("the program \(stored.name) in \(image) has ended (\(how)); `phantom run` starts it over")
        }
        let session = ProgramSession(space: space, options: options)
        let kernel = try session.boot(config: "", romDirectory: ".", preopens: [], path: image, resuming: true)
        try session.run(kernel, name: stored.name, path: image)
    }
}

/// Runs a WASI command under periodic snapshots, with clean stop on SIGINT/SIGTERM.
struct ProgramSession {
    let space: ObjectSpace
    let options: PersistentRunOptions
    let output: OutputCommit?
    let io: WASIHostIO

    init(space: ObjectSpace, options: PersistentRunOptions) {
        self.space = space
        self.options = options
        if options.holdOutput {
            let held = OutputCommit(writer: WASIHostIO.standard.write)
            output = held
            var io = WASIHostIO.standard
            io.write = { descriptor, bytes in
                held.append(descriptor: descriptor, bytes: bytes) ? .wrote(bytes.count) : .wouldBlock
            }
            self.io = io
        } else {
            output = nil
            io = .standard
        }
    }

    /// Opens (creating if missing) the image under its exclusive lock, held
    /// for the life of the space; see `ImageAccess`.
    static func openImage(_ path: String, options: PersistentRunOptions, fresh: Bool = false) throws -> ObjectSpace {
        let store = try ImageAccess.openForWriting(path, fresh: fresh).store
        let space = try ObjectSpace(store: store, options: .init(limitBytes: options.spaceLimit.bytes))
        for warning in space.warnings where !store.warnings.contains(warning) { printError("phantom: warning: \(warning)") }
        if !fresh {
            do {
                if let name = try Kernel.adoptLegacyProgram(in: space) {
                    printError("phantom: \(path): \(name), stored by an earlier phantom run, now runs as a system with one child")
                }
            } catch {
                printError("phantom: \(path): cannot adopt the program an earlier phantom run stored: \(error)")
                throw ExitCode(1)
            }
        }
        return space
    }

    /// A new, empty image in place of the one `space` holds, made beside it
    /// and renamed over it while its lock is held (`ImageAccess.recreate`).
    static func recreateImage(replacing space: ObjectSpace, options: PersistentRunOptions) throws -> ObjectSpace {
        let store = try ImageAccess.recreate(space.store)
        if store === space.store { return space }
        return try ObjectSpace(store: store, options: .init(limitBytes: options.spaceLimit.bytes))
    }

    /// The image slot where earlier versions kept their one program (retired:
    /// it is adopted as a system with one child when the image is opened).
    static let legacyProgramSlot = 9

    /// A system with one child (`Kernel.singleProgramConfig`).
    static func systemConfig(name: String, binary: String, arguments: [String], environment: [String], ram: UInt64) -> String {
        Kernel.singleProgramConfig(name: name, binary: binary, arguments: arguments, environment: environment, ram: ram)
    }

    /// Boots the one-child system: fresh from `config`, or restored from the image.
    func boot(config: String, romDirectory: String, preopens: [(host: String, guest: String)], path: String, resuming: Bool) throws -> Kernel {
        let kernel: Kernel
        do {
            kernel = try Kernel.boot(space: space, configText: config, configSource: "run", options: .init(
                romDirectory: romDirectory, fileSystemRoot: URL(fileURLWithPath: path).deletingPathExtension().path + ".files",
                stdio: .host(io), hostPreopens: preopens), log: KernelLog(writer: nil))
        } catch {
            printError("phantom: \(path): cannot \(resuming ? "resume" : "start"): \(error)")
            throw ExitCode(1)
        }
        if resuming {
            printError("phantom: resuming \(kernel.componentSummaries.first?.name ?? "the program") from generation \(space.restoredGeneration.generation) of \(path)")
        }
        return kernel
    }

    func run(_ kernel: Kernel, name: String, path: String) throws {
        let stop = StopSignal()
        stop.install()
        let verbose = options.verbose
        let output = self.output
        kernel.writeTablesAtCut()
        let daemon = SnapshotDaemon<[(Int32, [UInt8])]>(
            space: space, periodNanoseconds: options.snapshotEvery.nanoseconds,
            whileStopped: {
                kernel.writeTablesAtCut()
                return output?.cut() ?? []
            },
            report: { result, batch in
                switch result {
                case let .success(snapshot):
                    output?.release(batch)
                    if verbose {
                        printError("phantom: generation \(snapshot.generation.generation) committed (\(snapshot.pages) pages, pause \(snapshot.pauseNanoseconds / 1000) µs)")
                    }
                case let .failure(error):
                    output?.requeue(batch)
                    printError("phantom: \(error)")
                }
            })
        kernel.run()
        if case let .failed(reason)? = kernel.componentSummaries.first?.state {
            printError("phantom: \(name): \(reason)")
            throw ExitCode(ExitStatus.failure)
        }
        daemon.start()
        kernel.waitUntilAllEnded { stop.requested || daemon.failure != nil }
        daemon.stop()
        kernel.stop()
        if case let .failure(error) = daemon.snapshotNow() {
            printError("phantom: the final snapshot failed: \(error)")
        }
        if let abandoned = output?.finish(), abandoned > 0 {
            printError("phantom: \(abandoned) bytes of committed output were not delivered: the reader took nothing for half a second")
        }
        if let failure = daemon.failure {
            printError("phantom: stopping because of a failed snapshot: \(failure)")
            throw ExitCode(ExitStatus.snapshotFailed)
        }
        switch kernel.componentSummaries.first?.state {
        case let .exited(code)?:
            throw ExitCode(Int32(truncatingIfNeeded: code))
        case let .trapped(message)?:
            printError("phantom: \(name) trapped: \(message)")
            throw ExitCode(ExitStatus.trapped)
        case let .failed(reason)?:
            printError("phantom: \(name): \(reason)")
            throw ExitCode(ExitStatus.failure)
        case .running?, nil:
            let signal = stop.signal ?? SIGINT
            printError("phantom: stopped by \(StopSignal.name(of: signal)); `phantom resume --image \(path)` continues \(name)")
            throw ExitCode(ExitStatus.stopped(by: signal))
        }
    }
}
