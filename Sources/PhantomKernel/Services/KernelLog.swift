import Foundation

/// The system log: what components write to their LOG sessions and what init
/// itself says, as Genode prints it (`[init -> sensor] text`, `[init] child
/// "x" exited with exit value 0`).
///
/// Components never wait for the host: lines go into a bounded queue that a
/// writer thread of its own drains into the host's stdout (which may be a
/// full pipe or a stopped terminal). The last lines are also kept in a ring,
/// numbered, for `phantom log` and for tests that wait for a line.
public final class KernelLog: @unchecked Sendable {
    // @unchecked: all mutable state is reached only with `condition` held.
    public struct Line: Sendable, Equatable {
        public var sequence: UInt64
        public var text: String
    }

    private let condition = NSCondition()
    private var pending: [String] = []
    private var pendingBytes = 0
    private var ring: [Line] = []
    private var nextSequence: UInt64 = 1
    private var dropped = 0
    private var writing = false
    private var closed = false
    private let writer: (@Sendable (String) -> Void)?
    private let ringCapacity: Int
    /// Lines the host has not taken are dropped beyond this, and counted.
    private let queueLimit = 16 << 20

    /// `writer` takes whole lines on the log's own thread (nil: keep them only
    /// in the ring, as tests do).
    public init(writer: (@Sendable (String) -> Void)?, ringCapacity: Int = 4096) {
        self.writer = writer
        self.ringCapacity = ringCapacity
        if writer != nil {
            let thread = Thread { [self] in drain() }
            thread.name = "phantom-log"
            thread.start()
        }
    }

    /// Standard output, written whole-line and blocking on the log's own thread.
    public static func standardOutput() -> KernelLog {
        KernelLog(writer: { line in
            var bytes = Array(line.utf8)
            bytes.append(10)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        })
    }

    /// Appends one line (without its newline).
    public func append(_ text: String) {
        condition.lock()
        ring.append(Line(sequence: nextSequence, text: text))
        nextSequence += 1
        // Trimmed in batches: removing the oldest line of a full ring moves
        // all the others (a memmove of the whole ring per line).
        if ring.count >= 2 * ringCapacity { ring.removeFirst(ring.count - ringCapacity) }
        if writer != nil && !closed {
            if pendingBytes + text.utf8.count > queueLimit {
                dropped += 1
            } else {
                pending.append(text)
                pendingBytes += text.utf8.count + 1
            }
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Lines with a sequence number above `after`, oldest first.
    public func lines(after: UInt64 = 0) -> [Line] {
        condition.lock(); defer { condition.unlock() }
        return ring.suffix(ringCapacity).filter { $0.sequence > after }
    }

    /// Waits until a line satisfying `matches` is in the ring (tests; `phantom log -f`).
    public func waitForLine(after: UInt64 = 0, timeout: TimeInterval, _ matches: (String) -> Bool) -> Line? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock(); defer { condition.unlock() }
        var seen = after
        while true {
            for line in ring.suffix(ringCapacity) where line.sequence > seen {
                if matches(line.text) { return line }
                seen = line.sequence
            }
            if !condition.wait(until: deadline) { return nil }
        }
    }

    /// Lets the writer finish what it has (at most `patience` seconds) and stops it.
    public func close(patience: TimeInterval = 2) {
        condition.lock()
        let deadline = Date(timeIntervalSinceNow: patience)
        while (!pending.isEmpty || writing) && writer != nil {
            if !condition.wait(until: deadline) { break }
        }
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func drain() {
        condition.lock()
        while true {
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty && closed { condition.unlock(); return }
            let batch = pending
            pending.removeAll()
            pendingBytes = 0
            let lost = dropped
            dropped = 0
            writing = true
            condition.unlock()
            if lost > 0 { writer?("[init] Warning: \(lost) log lines dropped: the host did not take the log's output") }
            for line in batch { writer?(line) }
            condition.lock()
            writing = false
            condition.broadcast()
        }
    }
}
