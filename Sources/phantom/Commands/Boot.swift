import ArgumentParser
import Foundation
import PhantomSpace
import PhantomStore
import Synchronization

/// Boots an image and runs the demonstration workload under periodic snapshots.
struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot an image (creating it if needed) and run its workload with periodic snapshots.",
        discussion: """
            The workload continues exactly where the last committed snapshot left it, whether the \
            previous run stopped cleanly (Ctrl-C: a final snapshot is taken) or was killed. \
            Each committed snapshot is reported on standard output.
            """)

    @OptionGroup var location: ImageLocation
    @Option(help: "Time between snapshots (e.g. 10ms, 1s, 1m).")
    var snapshotEvery = Duration(nanoseconds: 1_000_000_000)
    @Option(help: "Workload iterations per second (0 = as fast as possible).")
    var rate = 20_000
    @Option(help: "Stop cleanly after this many iterations in this run.")
    var iterations: UInt64?
    @Option(help: "Stop cleanly after this long.")
    var duration: Duration?
    @Option(help: "Largest the object space may grow to.")
    var spaceLimit = ByteSize(bytes: 64 << 30)
    @Option(help: "Generations to keep when creating the image.")
    var retention = 3
    @Flag(help: "Print only the start and the end, not every snapshot.")
    var quiet = false

    func validate() throws {
        guard snapshotEvery.nanoseconds >= 1_000_000 else { throw ValidationError("--snapshot-every must be at least 1ms") }
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard retention >= 2 && retention <= Layout.maxRetention else {
            throw ValidationError("--retention must be between 2 and \(Layout.maxRetention)")
        }
    }

    func run() throws {
        lineBufferStandardOutput()
        let path = location.path
        // Held exclusively (invariant 9) until the process exits; see ImageAccess.
        let (store, outcome) = try ImageAccess.openForWriting(path, options: .init(retention: retention))
        if outcome == .created { print("phantom: created image \(path)") }
        let space = try ObjectSpace(store: store, options: .init(limitBytes: spaceLimit.bytes))
        for warning in space.warnings where !store.warnings.contains(warning) { printError("phantom: warning: \(warning)") }
        print("phantom: opened \(path) at generation \(space.restoredGeneration.generation) "
              + "(\(space.restoredGeneration.pageCount) pages, restored in \(String(format: "%.1f", Double(space.restoreNanoseconds) / 1e6)) ms)")

        let workload = try CounterListWorkload(space: space)
        if workload.isFresh {
            print("demo: starting fresh")
        } else if let violation = workload.checkInvariant() {
            printError("demo: INVARIANT BROKEN after restore at iteration \(workload.iteration): \(violation)")
            throw ExitCode(3)
        } else {
            print("demo: resumed at iteration \(workload.iteration); invariant holds (\(workload.length) list nodes, sum \(workload.sum))")
        }

        let stop = StopSignal()
        stop.install()
        let quiet = self.quiet
        let daemon = SnapshotDaemon<UInt64>(
            space: space, period: snapshotEvery,
            whileStopped: { workload.iteration },
            report: { result, iteration in
                switch result {
                case let .success(snapshot) where !quiet:
                    print("snapshot: generation \(snapshot.generation.generation) committed at iteration \(iteration) "
                          + "(\(snapshot.pages) pages, pause \(snapshot.pauseNanoseconds / 1000) µs, commit \(String(format: "%.1f", Double(snapshot.commitNanoseconds) / 1e6)) ms)")
                case .success:
                    break
                case let .failure(error):
                    printError("phantom: \(error)")
                }
            })
        daemon.start()

        // The workload is the only mutator; it parks at the safepoint between steps.
        space.safepoints.register()
        let start = DispatchTime.now().uptimeNanoseconds
        var done: UInt64 = 0
        let batch = rate == 0 ? 1000 : max(1, rate / 100)
        while !stop.requested && daemon.failure == nil {
            for _ in 0..<batch {
                try workload.step()
                space.safepoints.poll()
            }
            done += UInt64(batch)
            if let iterations, done >= iterations { break }
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            if let duration, elapsed >= duration.nanoseconds { break }
            if rate > 0 {
                // Sleep off the rest of this batch's time slot, parked for snapshots.
                let due = start + done * 1_000_000_000 / UInt64(rate)
                if due > elapsed + start {
                    space.safepoints.enterBlocking()
                    usleep(UInt32(min(1_000_000, (due - elapsed - start) / 1000)))
                    space.safepoints.leaveBlocking()
                }
            }
        }
        space.safepoints.unregister()
        daemon.stop()
        if let failure = daemon.failure {
            printError("phantom: \(failure)")
            throw ExitCode(2)
        }
        let final = try daemon.snapshotNow().get()
        print("phantom: stopped cleanly at iteration \(workload.iteration); generation \(final.generation.generation) committed")
    }
}

/// Turns SIGINT and SIGTERM into a flag the main loop checks, so a clean stop
/// takes a final snapshot.
final class StopSignal: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    private var sources: [DispatchSourceSignal] = []
    var requested: Bool { flag.load(ordering: .relaxed) }

    func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.flag.store(true, ordering: .relaxed) }
            source.resume()
            sources.append(source)
        }
    }
}

