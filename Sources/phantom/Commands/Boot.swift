import ArgumentParser
import Foundation
import PhantomKernel
import PhantomSpace
import PhantomStore

/// Boots a persistent system: Genode's init on the object space, a tree of
/// components from an init config, all snapshotted together.
struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a persistent system of components from a Genode init config (the default command).",
        discussion: """
            On first boot the image is created and the config's components are started. Every \
            later boot of the same image — after a clean stop, kill -9 or a power cut — brings back \
            the same tree from the last snapshot, each component continuing where it was; the \
            stored config wins over --config (use `phantom config apply` to change a running system).

            Without --config, the default system in the repository's system/ directory boots: a \
            simulated tank sensor, control logic that raises alarms, a historian that appends to a \
            file, and a status report. Binaries (`binary` names) are ROM modules from --roms; the \
            File_system service serves --files.

            Log lines read as in Genode: `[init -> NAME] text`; init's own as `[init] text`.

            """ + ExitStatus.summary)

    @OptionGroup var location: ImageLocation
    @Option(help: "The init config (XML or HID; default: the repository's system/default.config).")
    var config: String?
    @Option(help: "Directory of ROM modules: component binaries and ROM files (default: rom/ beside the config).")
    var roms: String?
    @Option(help: "Host directory the File_system service serves (default: IMAGE.files beside the image).")
    var files: String?
    @Option(help: "Time between snapshots (10ms to 60s; default: the config's <phantom snapshot_period>, else 1s).",
            transform: Duration.parser(in: Duration(nanoseconds: 10_000_000)...Duration.seconds(60)))
    var snapshotEvery: Duration?
    @Option(help: "Stop cleanly after this long (e.g. 10s, 5m).", transform: Duration.parser(in: Duration(nanoseconds: 0)...Duration.ceiling))
    var duration: Duration?
    @Option(help: "Largest the object space may grow to (1M to 64T).", transform: ByteSize.parser(in: spaceLimitRange))
    var spaceLimit = ByteSize(bytes: 64 << 30)
    @Flag(help: "Report every committed snapshot on stderr.")
    var verbose = false
    @Option(help: ArgumentHelp("Stop once the root init's child NAME has ended, and exit with its exit value (1 if it trapped or could not start).", valueName: "NAME"))
    var untilExit: String?

    /// The repository's `system/` directory, found from this source file's
    /// place at build time (a fresh clone's `swift run phantom` boots it).
    static var repositorySystem: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("system")
    }

    func run() throws {
        let configPath = config ?? Self.repositorySystem.appendingPathComponent("default.config").path
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw CommandFailure(config == nil
                ? "no --config given and the default config \(configPath) is missing"
                : "\(configPath): cannot read the config")
        }
        guard let configText = String(data: data, encoding: .utf8) else {
            throw CommandFailure("\(configPath): the config is not UTF-8 text")
        }
        // A config that does not parse is refused before any image is touched.
        do {
            _ = try Kernel.check(configText: configText, source: configPath)
        } catch {
            throw CommandFailure("\(error)")
        }
        let configDirectory = URL(fileURLWithPath: configPath).deletingLastPathComponent()
        let romDirectory = roms ?? configDirectory.appendingPathComponent("rom").path
        let path = location.path
        let fileRoot = files ?? (URL(fileURLWithPath: path).deletingPathExtension().path + ".files")

        // `<phantom retain>` applies when the image is created (the store keeps 2 at least).
        var storeOptions = Store.Options()
        if let retain = Kernel.configuredRetention(configText: configText, source: configPath) {
            storeOptions.retention = min(max(retain, 2), Layout.maxRetention)
        }
        let (store, outcome) = try ImageAccess.openForWriting(path, options: storeOptions)
        let space = try ObjectSpace(store: store, options: .init(limitBytes: spaceLimit.bytes))
        for warning in space.warnings where !store.warnings.contains(warning) { printError("phantom: warning: \(warning)") }
        let log = KernelLog.standardOutput()
        let kernel: Kernel
        do {
            kernel = try Kernel.boot(space: space, configText: configText, configSource: configPath,
                                     options: .init(romDirectory: romDirectory, fileSystemRoot: fileRoot), log: log)
        } catch {
            log.close()
            throw CommandFailure("\(error)")
        }
        let period: Duration
        if let snapshotEvery {
            period = snapshotEvery
        } else if let configured = kernel.configuredSnapshotPeriod {
            do {
                period = try Duration.parse(configured, in: Duration(nanoseconds: 10_000_000)...Duration.seconds(60))
            } catch {
                throw CommandFailure("\(configPath): <phantom snapshot_period=\"\(configured)\">: \(error)")
            }
        } else {
            period = .seconds(1)
        }
        printError(outcome == .created
            ? "phantom: created \(path); booting \(configPath)"
            : "phantom: booting \(path) from generation \(space.restoredGeneration.generation) (restored in \(String(format: "%.1f", Double(space.restoreNanoseconds) / 1e6)) ms)")

        let stop = StopSignal()
        stop.install()
        let verbose = self.verbose
        kernel.writeTablesAtCut()
        // Filled in once the daemon exists; the daemon's report runs on the
        // store's writer thread right after each commit.
        nonisolated(unsafe) var system: BootedSystem?
        let daemon = SnapshotDaemon<Void>(
            space: space, periodNanoseconds: period.nanoseconds,
            whileStopped: { kernel.writeTablesAtCut() },
            report: { result, _ in
                switch result {
                case let .success(snapshot):
                    system?.committed(store.info)
                    if verbose {
                        printError("phantom: generation \(snapshot.generation.generation) committed (\(snapshot.pages) pages, pause \(snapshot.pauseNanoseconds / 1000) µs)")
                    }
                case let .failure(error):
                    printError("phantom: \(error)")
                }
            })
        let booted = BootedSystem(kernel: kernel, log: log, storeInfo: store.info, snapshot: { daemon.snapshotNow() })
        system = booted
        let control: ControlServer?
        do {
            control = try ControlServer.start(socketPath: ControlServer.socketPath(forImage: path), target: booted)
        } catch {
            printError("phantom: warning: no control socket (phantom ps, stop, … will not reach this system): \(error)")
            control = nil
        }
        kernel.run()
        daemon.start()
        let started = DispatchTime.now().uptimeNanoseconds
        // The main thread only waits for a reason to stop; components run on
        // the kernel's workers.
        var watchedEnd: ComponentSummary.State?
        while !stop.requested && daemon.failure == nil && booted.requestedEnding == nil {
            if let duration, DispatchTime.now().uptimeNanoseconds - started >= duration.nanoseconds { break }
            if let untilExit, let end = kernel.endState(of: untilExit) {
                watchedEnd = end
                break
            }
            if standardOutputFailed() { break }
            usleep(50_000)
        }
        daemon.stop()
        kernel.stop()
        if case let .rollback(generation) = booted.requestedEnding {
            // No final snapshot: the system goes back to `generation`.
            log.close()
            do {
                let record = try store.rollback(to: generation)
                control?.stop(finalGeneration: record.generation, message: "rolled back to generation \(generation)")
                printError("phantom: rolled back to generation \(generation) (as generation \(record.generation)); the next boot continues from it")
                return
            } catch {
                control?.stop(message: "the rollback failed: \(error)")
                throw CommandFailure("the rollback to generation \(generation) failed: \(error)")
            }
        }
        let final = daemon.snapshotNow()
        log.close()
        if let failure = daemon.failure {
            control?.stop(message: "stopped because of a failed snapshot: \(failure)")
            printError("phantom: stopping because of a failed snapshot: \(failure)")
            throw ExitCode(ExitStatus.snapshotFailed)
        }
        switch final {
        case let .success(snapshot):
            control?.stop(finalGeneration: snapshot.generation.generation)
            printError("phantom: stopped; generation \(snapshot.generation.generation) committed")
        case let .failure(error):
            control?.stop(message: "the final snapshot failed: \(error)")
            printError("phantom: the final snapshot failed: \(error)")
            throw ExitCode(ExitStatus.snapshotFailed)
        }
        if standardOutputFailed() { throw ExitCode(ExitStatus.outputClosed) }
        if let signal = stop.signal { throw ExitCode(ExitStatus.stopped(by: signal)) }
        switch watchedEnd {
        case let .exited(code)? where code != 0:
            throw ExitCode(Int32(truncatingIfNeeded: code))
        case .trapped?, .failed?:
            throw ExitCode(1)
        default:
            break
        }
    }
}
