import ArgumentParser
import Foundation
import PhantomKernel
import PhantomSpace
import PhantomVM
import PhantomWasm
import Synchronization

/// `phantom pvm run`: a Phantom VM image booted from class files, run with
/// periodic snapshots; kill it and run the same command again, and every
/// thread continues from the last snapshot (boot never runs twice).
struct PvmRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot (or continue) a Phantom VM image from Phantom class files.",
        discussion: """
            On a new image the boot class is loaded from CLASSES (a directory of .pc files or a class \
            bundle), instantiated, and its method 8 is called with a .internal.boot object, once. \
            Classes are loaded into the image as they are first used and live there from then on. \
            Kill the process any way you like and run the same command again: every thread continues \
            from the last snapshot, a sleeping thread sleeps out its time. The run ends when every \
            thread has ended (exit 0) or when all that remain wait for each other (exit 1).

            """ + ExitStatus.summary)

    @Argument(help: "A directory of .pc files, or a class bundle.") var classes: String
    @Option(help: "The boot class (on a new image only).") var boot = ".ru.dz.phantom.system.boot"
    @Option(help: "The image (default: ./pvm.img).") var image = "pvm.img"
    @Flag(help: "Start over: discard what the image holds.") var fresh = false
    @Option(help: "Trace for garbage after this much allocation that reference counting left (e.g. 256K, 64M); 0: after any, and always in whole when an image is resumed.",
            transform: ByteSize.parser(in: 0...(1 << 40)))
    var collectAfter = ByteSize(bytes: 64 << 20)
    @OptionGroup var options: PersistentRunOptions

    func run() throws {
        lineBufferStandardOutput()
        let source = try ClassFiles.open(classes)
        var store = try ImageAccess.openForWriting(image, fresh: fresh).store
        // --fresh: a new, empty image in its place, made while its lock is held.
        if fresh { store = try ImageAccess.recreate(store) }
        let space = try ObjectSpace(store: store, options: .init(limitBytes: options.spaceLimit.bytes))
        for warning in space.warnings { printError("phantom: warning: \(warning)") }
        if space.root(PVMRoots.heap) == 0 && space.pageCount > 1 && !fresh {
            throw CommandFailure("\(image) holds something other than a Phantom VM image; pass --fresh to replace it, or --image for another image")
        }
        // --hold-output: what the program prints is held until the snapshot
        // that contains it is durable (`OutputCommit`), so a kill never makes
        // a resumed run print it again.
        let held = options.holdOutput ? OutputCommit(writer: WASIHostIO.standard.write) : nil
        let output: (String) -> Void = if let held {
            { held.hold(descriptor: 1, bytes: Array($0.utf8)) }
        } else {
            // stdio (line-buffered), not FileHandle: a closed stdout is an error it reports, not a crash.
            { print($0, terminator: "") }
        }
        let vm: VirtualMachine
        do {
            vm = try VirtualMachine(space: space, classSource: source, output: output,
                                    diagnostics: { printError("phantom: \($0)") })
        } catch {
            throw CommandFailure("\(image): \(error)")
        }
        vm.collectionThreshold = collectAfter.bytes
        if options.verbose {
            vm.onCollection = { statistics in
                printError("phantom: collected \(statistics.freed) objects (\(statistics.freedBytes) bytes), \(statistics.reachable) reachable, in \(statistics.nanoseconds / 1000) µs, \(statistics.steps) steps, longest \(statistics.longestStepNanoseconds / 1000) µs")
            }
        }
        if vm.hasBooted {
            printError("phantom: resuming \(image) from generation \(space.restoredGeneration.generation) (\(vm.threads.count) threads)")
        } else {
            printError("phantom: booting \(boot) from \(classes) into \(image)")
            do { try vm.boot(className: boot) } catch { throw CommandFailure("\(classes): cannot boot \(boot): \(error)") }
        }
        try runLoop(vm, space: space, held: held)
    }

    private func runLoop(_ vm: VirtualMachine, space: ObjectSpace, held: OutputCommit?) throws {
        let stop = StopSignal()
        stop.install()
        let verbose = options.verbose
        let period = options.snapshotEvery.nanoseconds
        let failed = FailureFlag()
        // Snapshots whose completion has not run yet: `waitForCommits`
        // returns once the writer is idle, which can be before the last
        // completion released its output, and the process would exit
        // without printing it (a --hold-output run lost its last lines).
        let reports = DispatchGroup()
        func snapshot() {
            // Between rounds this thread is the only mutator: what was printed
            // up to now is exactly what the captured state has printed.
            let batch = held?.cut() ?? []
            reports.enter()
            space.snapshotInBackground { result in
                defer { reports.leave() }
                switch result {
                case let .success(snapshot):
                    held?.release(batch)
                    if verbose {
                        printError("phantom: generation \(snapshot.generation.generation) committed (\(snapshot.pages) pages, pause \(snapshot.pauseNanoseconds / 1000) µs)")
                    }
                case let .failure(error):
                    held?.requeue(batch)
                    failed.set()
                    printError("phantom: snapshot failed: \(error)")
                }
            }
        }
        func monotonic() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        var nextSnapshot = monotonic() + period
        // The boot (or the restore) is made durable at once.
        snapshot()
        var exitStatus: Int32 = 0
        loop: while true {
            if let signal = stop.signal {
                printError("phantom: \(StopSignal.name(of: signal)): stopping after a final snapshot")
                exitStatus = ExitStatus.stopped(by: signal)
                break
            }
            if failed.isSet { exitStatus = ExitStatus.snapshotFailed; break }
            let result: VirtualMachine.RoundResult
            do { result = try vm.runRound() } catch {
                printError("phantom: the VM stopped: \(error)")
                exitStatus = ExitStatus.failure
                break
            }
            if monotonic() >= nextSnapshot {
                snapshot()
                nextSnapshot = monotonic() + period
            }
            switch result {
            case .ran:
                continue
            case let .idle(until):
                // Sleep until the first thread wakes or the next snapshot is due.
                let wall = VirtualMachine.wallClock()
                let untilWake = until > wall ? until - wall : 0
                let untilSnapshot = nextSnapshot > monotonic() ? nextSnapshot - monotonic() : 0
                let nap = min(untilWake, untilSnapshot, 100_000_000)
                if nap > 0 { usleep(UInt32(max(nap / 1000, 1))) }
            case .finished:
                printError("phantom: every thread has ended")
                break loop
            case .deadlocked:
                printError("phantom: the remaining threads all wait for each other; nothing can wake them")
                exitStatus = ExitStatus.failure
                break loop
            }
        }
        snapshot()
        space.waitForCommits()
        reports.wait()
        if let abandoned = held?.finish(), abandoned > 0 {
            printError("phantom: \(abandoned) bytes of committed output were not delivered: the reader took nothing for half a second")
        }
        if exitStatus != 0 { throw ExitCode(exitStatus) }
    }
}

/// Set by the snapshot writer's thread, read by the run loop.
private final class FailureFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
