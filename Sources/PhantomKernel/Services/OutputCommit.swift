import Foundation
import PhantomWasm
import Synchronization

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
/// writing before the commit would repeat instead — so the window is kept
/// short: `release` runs on the snapshot writer right after the superblock
/// flush and wakes a releaser thread of its own, which writes the batch at
/// once when the reader keeps up.
///
/// When the reader is behind, committed batches wait in that thread's
/// backlog; the snapshot writer never blocks on a reader, so snapshots stay
/// on schedule however slow the reader (issue 8).
public final class OutputCommit: Sendable {
    /// Writes without blocking: takes what the host accepts now (see `WASIHostIO.write`).
    public typealias Writer = @Sendable (_ descriptor: Int32, _ bytes: [UInt8]) -> WASIHostIO.Output

    private struct State {
        /// Written by the program since the last cut.
        var pending: [(Int32, [UInt8])] = []
        /// Committed but not yet taken by the host, in order.
        var backlog: [(Int32, [UInt8])] = []
        var releaserRunning = false
        var closed = false
        /// Bytes in `pending` and `backlog`.
        var heldBytes = 0
    }

    private let state = Mutex(State())
    private let writer: Writer
    private let backlogChanged = NSCondition()

    public init(writer: @escaping Writer) { self.writer = writer }

    /// Most bytes held (written but not yet taken by the host) before the
    /// program's own writes block: a reader that stopped must not make a
    /// program that keeps printing grow without bound.
    public static let holdLimitBytes = 16 << 20

    /// Holds what the program wrote; false (hold nothing) once
    /// `holdLimitBytes` are held, so the write blocks until the reader drains.
    public func append(descriptor: Int32, bytes: [UInt8]) -> Bool {
        state.withLock { state in
            guard state.heldBytes + bytes.count <= Self.holdLimitBytes || state.heldBytes == 0 else { return false }
            state.pending.append((descriptor, bytes))
            state.heldBytes += bytes.count
            return true
        }
    }

    /// Holds what a writer that cannot wait wrote (the Phantom VM's print
    /// completes or fails, it is not re-executed byte by byte), beyond
    /// `holdLimitBytes` if need be: the next commit releases it.
    public func hold(descriptor: Int32, bytes: [UInt8]) {
        state.withLock { state in
            state.pending.append((descriptor, bytes))
            state.heldBytes += bytes.count
        }
    }

    /// What has been written up to now: call while the world is stopped for a
    /// capture, and `release` the batch once that generation is committed.
    public func cut() -> [(Int32, [UInt8])] {
        state.withLock { state in
            let batch = state.pending
            state.pending.removeAll()
            return batch
        }
    }

    /// Hands a committed batch to the world: what the host takes now is
    /// written at once, the rest by the releaser thread.
    public func release(_ batch: [(Int32, [UInt8])]) {
        guard !batch.isEmpty else { return }
        let startReleaser = state.withLock { state -> Bool in
            state.backlog.append(contentsOf: batch)
            guard !state.releaserRunning else { return false }
            state.releaserRunning = true
            return true
        }
        if startReleaser {
            let thread = Thread { [self] in releaseLoop() }
            thread.name = "phantom-output-release"
            thread.start()
        }
        backlogChanged.lock()
        backlogChanged.broadcast()
        backlogChanged.unlock()
    }

    /// Returns an uncommitted batch (its commit failed) to the front of the queue.
    public func requeue(_ batch: [(Int32, [UInt8])]) {
        state.withLock { $0.pending.insert(contentsOf: batch, at: 0) }
    }

    /// Bytes committed but not yet taken by the host.
    public var backlogBytes: Int { state.withLock { $0.backlog.reduce(0) { $0 + $1.1.count } } }

    /// Waits until the backlog is written, as long as the reader keeps taking
    /// output: once it has taken nothing for `patience` seconds, the rest is
    /// abandoned (a reader that stopped reading must not keep a stopping
    /// system from exiting). Returns the bytes abandoned.
    public func finish(patience: Double = 0.5) -> Int {
        var lastProgress = Date()
        var remaining = backlogBytes
        while remaining > 0 {
            backlogChanged.lock()
            _ = backlogChanged.wait(until: Date(timeIntervalSinceNow: 0.05))
            backlogChanged.unlock()
            let now = backlogBytes
            if now < remaining { lastProgress = Date() }
            remaining = now
            if remaining > 0 && Date().timeIntervalSince(lastProgress) >= patience { break }
        }
        return state.withLock { state in
            state.closed = true
            let abandoned = state.backlog.reduce(0) { $0 + $1.1.count }
            state.heldBytes -= abandoned
            state.backlog.removeAll()
            return abandoned
        }
    }

    /// Writes the backlog in order as the host takes it; a descriptor the
    /// host refuses (EPIPE) has its bytes dropped, as a direct write would.
    private func releaseLoop() {
        while true {
            guard let (descriptor, bytes) = state.withLock({ state -> (Int32, [UInt8])? in
                if state.closed { return nil }
                return state.backlog.first
            }) else {
                backlogChanged.lock()
                let closed = state.withLock { $0.closed }
                if closed { backlogChanged.unlock(); return }
                _ = backlogChanged.wait(until: Date(timeIntervalSinceNow: 0.1))
                backlogChanged.unlock()
                continue
            }
            switch writer(descriptor, bytes) {
            case let .wrote(count):
                state.withLock { state in
                    guard !state.backlog.isEmpty else { return }
                    let taken = min(count, state.backlog[0].1.count)
                    state.heldBytes -= taken
                    if taken == state.backlog[0].1.count {
                        state.backlog.removeFirst()
                    } else {
                        state.backlog[0].1.removeFirst(taken)
                    }
                }
                backlogChanged.lock()
                backlogChanged.broadcast()
                backlogChanged.unlock()
            case .wouldBlock:
                var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&entry, 1, 100)
            case .failed:
                state.withLock { state in
                    guard !state.backlog.isEmpty else { return }
                    state.heldBytes -= state.backlog.removeFirst().1.count
                }
            }
        }
    }
}
