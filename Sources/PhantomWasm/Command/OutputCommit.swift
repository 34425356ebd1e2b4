import Foundation

/// Output commit for stdout and stderr (DESIGN.md, "Output commit"): what a
/// program writes is held until the snapshot that contains the writing is
/// durable, then released. The world never sees output that a crash would
/// undo: after a restart, nothing it has seen is produced a second time, and
/// output it had not seen (written after the last snapshot) is produced
/// again by the restored program. The price is latency: output appears once
/// per snapshot period.
///
/// Delivery is at most once, not exactly once: a kill in the instant between
/// a generation becoming durable and its batch being written loses that
/// batch (the restored program is already past it). No pipe allows better —
/// writing before the commit would repeat instead — so the window is kept to
/// microseconds: the batch is released on the writer thread right after the
/// superblock flush.
public final class OutputCommit: @unchecked Sendable {
    public typealias Sink = @Sendable (_ descriptor: Int32, _ bytes: [UInt8]) -> Void
    private let lock = NSLock()
    private var pending: [(Int32, [UInt8])] = []
    private let sink: Sink

    public init(sink: @escaping Sink) { self.sink = sink }

    public func append(descriptor: Int32, bytes: [UInt8]) {
        lock.lock()
        pending.append((descriptor, bytes))
        lock.unlock()
    }

    /// What has been written up to now: call while the world is stopped for a
    /// capture, and `release` the batch once that generation is committed.
    public func cut() -> [(Int32, [UInt8])] {
        lock.lock()
        defer { lock.unlock() }
        let batch = pending
        pending.removeAll()
        return batch
    }

    /// Hands a committed batch to the world.
    public func release(_ batch: [(Int32, [UInt8])]) {
        for (descriptor, bytes) in batch { sink(descriptor, bytes) }
    }

    /// Returns an uncommitted batch (its commit failed) to the front of the queue.
    public func requeue(_ batch: [(Int32, [UInt8])]) {
        lock.lock()
        pending.insert(contentsOf: batch, at: 0)
        lock.unlock()
    }
}
