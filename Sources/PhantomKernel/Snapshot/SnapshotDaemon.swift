import Foundation
import PhantomSpace

/// Takes a snapshot every `period` on its own thread (protocol step 1), and
/// one on demand (`snapshotNow`: `phantom snapshot`, the final one on a stop).
///
/// `whileStopped` runs with the world stopped, at the exact cut the snapshot
/// captures (to read a label, or to cut held output); `report` runs after
/// the commit, with whatever `whileStopped` returned.
public final class SnapshotDaemon<Token>: @unchecked Sendable {
    private let space: ObjectSpace
    private let period: TimeInterval
    private let whileStopped: () -> Token
    private let report: (Result<SnapshotResult, Error>, Token) -> Void
    private let condition = NSCondition()
    private var stopping = false
    private var running = false
    public private(set) var failure: String?

    public init(space: ObjectSpace, periodNanoseconds: UInt64, whileStopped: @escaping () -> Token,
         report: @escaping (Result<SnapshotResult, Error>, Token) -> Void) {
        self.space = space
        self.period = TimeInterval(periodNanoseconds) / 1e9
        self.whileStopped = whileStopped
        self.report = report
    }

    public func start() {
        running = true
        let thread = Thread { [self] in loop() }
        thread.name = "phantom-snapshot-daemon"
        thread.start()
    }

    /// Stops the daemon and waits for a snapshot in progress to finish.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    /// A snapshot now, from the calling thread (which must not be a mutator),
    /// reported like the periodic ones. The report runs on the writer thread
    /// the moment the generation is durable — for held output, that keeps the
    /// window in which a kill loses a committed batch to microseconds.
    @discardableResult
    public func snapshotNow() -> Result<SnapshotResult, Error> {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var token: Token?
        nonisolated(unsafe) var outcome: Result<SnapshotResult, Error>!
        nonisolated(unsafe) let report = self.report
        space.snapshotInBackground(whileStopped: { token = self.whileStopped() }) { result in
            if let token { report(result, token) }
            outcome = result
            done.signal()
        }
        done.wait()
        return outcome
    }

    private func loop() {
        while true {
            condition.lock()
            let deadline = Date(timeIntervalSinceNow: period)
            while !stopping && Date() < deadline { _ = condition.wait(until: deadline) }
            if stopping {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            condition.unlock()
            if case let .failure(error) = snapshotNow() {
                condition.lock()
                failure = "\(error)"
                condition.unlock()
            }
        }
    }
}
