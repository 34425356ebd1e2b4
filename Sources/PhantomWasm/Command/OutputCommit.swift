import Foundation

/// Output commit for stdout and stderr (DESIGN.md, "Output commit"): what a
/// program writes is held until the snapshot that contains the writing is
/// durable, then released. After a crash, output the world has seen is never
/// produced a second time, and output it has not seen is produced again by
/// the restored program — so across any number of kills the output is
/// exactly that of one uninterrupted run. The price is latency: output
/// appears once per snapshot period.
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
