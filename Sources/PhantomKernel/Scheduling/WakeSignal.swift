import Foundation

/// A wake-up for one of the kernel's background threads that is never lost:
/// `signal` marks it pending and wakes the thread; `wait` returns at once
/// when it was signalled since the last wait. It may be signalled with the
/// kernel's lock held, so its thread never holds that lock while waiting.
final class WakeSignal: @unchecked Sendable {
    // @unchecked: `pending` is reached only with `condition` locked.
    private let condition = NSCondition()
    private var pending = false

    func signal() {
        condition.lock()
        pending = true
        condition.signal()
        condition.unlock()
    }

    /// Waits until signalled, `deadline` passes, or `stop()` holds.
    func wait(until deadline: Date? = nil, stop: () -> Bool) {
        condition.lock()
        defer { condition.unlock() }
        while !pending && !stop() {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else {
                condition.wait()
            }
        }
        pending = false
    }
}
