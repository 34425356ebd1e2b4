import ArgumentParser
import Foundation
import PhantomKernel
import PhantomSpace
import PhantomStore
import Synchronization

/// Runs the demonstration workload (a counter and a linked list in the object
/// space, no engine, no kernel) under periodic snapshots: the store's and the
/// space's persistence on their own, as the crash tests drive them.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the object-space demonstration workload (no components) with periodic snapshots.",
        discussion: """
            The workload continues exactly where the last committed snapshot left it, whether the \
            previous run stopped cleanly (Ctrl-C: a final snapshot is taken) or was killed. \
            Each committed snapshot is reported on standard output.

            Exit status: 0 after --iterations or --duration; 130, 143 or 129 when stopped by SIGINT, \
            SIGTERM or SIGHUP (after a final snapshot); 141 when standard output was closed (after a \
            final snapshot); 2 when a snapshot failed; 3 when the workload's invariant was broken; \
            1 for a bad image, 64 for a bad argument, 75 when another process holds the image.
            """)

    @OptionGroup var location: ImageLocation
    @Option(help: "Time between snapshots (e.g. 10ms, 1s, 1m; 1ms to 24h).", transform: Duration.parser(in: snapshotPeriodRange))
    var snapshotEvery = Duration.seconds(1)
    @Option(help: "Workload iterations per second (0 = as fast as possible).")
    var rate = 20_000
    @Option(help: "Stop cleanly after this many iterations in this run.")
    var iterations: UInt64?
    @Option(help: "Stop cleanly after this long (e.g. 10s, 5m).", transform: Duration.parser(in: Duration(nanoseconds: 0)...Duration.ceiling))
    var duration: Duration?
    @Option(help: "Largest the object space may grow to (1M to 64T).", transform: ByteSize.parser(in: spaceLimitRange))
    var spaceLimit = ByteSize(bytes: 64 << 30)
    @Option(help: "Generations to keep when creating the image.")
    var retention = 3
    @Flag(help: "Print only the start and the end, not every snapshot.")
    var quiet = false
    @Option(help: "MiB of ballast pages, rewritten round robin 16 a step and checked on resume, so that snapshots are large (kept at the size the image was created with).")
    var ballast = 0

    func validate() throws {
        guard rate >= 0 else { throw ValidationError("--rate must not be negative") }
        guard ballast >= 0 && ballast <= 65_536 else { throw ValidationError("--ballast must be between 0 and 65536 MiB") }
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
        let ballast = try Ballast(space: space, megabytes: workload.isFresh ? self.ballast : 0)
        if workload.isFresh {
            print("demo: starting fresh")
        } else if let violation = workload.checkInvariant() ?? ballast?.check(at: workload.iteration) {
            printError("demo: INVARIANT BROKEN after restore at iteration \(workload.iteration): \(violation)")
            throw ExitCode(ExitStatus.invariantBroken)
        } else {
            print("demo: resumed at iteration \(workload.iteration); invariant holds (\(workload.length) list nodes, sum \(workload.sum))")
        }

        let stop = StopSignal()
        stop.install()
        let quiet = self.quiet
        let daemon = SnapshotDaemon<UInt64>(
            space: space, periodNanoseconds: snapshotEvery.nanoseconds,
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
        var outputClosed = false
        while !stop.requested && daemon.failure == nil {
            // A reader that went away (`phantom | head -1`) ends the run like a
            // stop request: final snapshot, then exit 141, never death by SIGPIPE.
            if standardOutputFailed() { outputClosed = true; break }
            for _ in 0..<batch {
                try workload.step()
                ballast?.step(workload.iteration)
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
            printError("phantom: stopping because of a failed snapshot: \(failure)")
            throw ExitCode(ExitStatus.snapshotFailed)
        }
        let final: SnapshotResult
        switch daemon.snapshotNow() {
        case let .success(result): final = result
        case let .failure(error):
            printError("phantom: the final snapshot failed: \(error)")
            throw ExitCode(ExitStatus.snapshotFailed)
        }
        let summary = "stopped cleanly at iteration \(workload.iteration); generation \(final.generation.generation) committed"
        if outputClosed || standardOutputFailed() {
            printError("phantom: standard output was closed (or failed); \(summary)")
            throw ExitCode(ExitStatus.outputClosed)
        }
        print("phantom: \(summary)")
        if let signal = stop.signal {
            printError("phantom: stopped by \(StopSignal.name(of: signal))")
            throw ExitCode(ExitStatus.stopped(by: signal))
        }
    }
}

