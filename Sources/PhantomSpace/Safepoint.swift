import Foundation
import Synchronization

/// Brings every engine thread to a safepoint so that a snapshot sees one
/// consistent cut (DESIGN.md invariant 1, protocol step 2).
///
/// Engine threads register as mutators. They call `poll()` at loop back-edges
/// and calls — a single relaxed atomic load when no snapshot is pending. When
/// one is, the thread writes its registers back into the space and parks in
/// `poll()` until the capture is done. A thread about to block outside the
/// space (a sleep, a read from a socket) calls `enterBlocking()` first: it
/// counts as parked and cannot touch the space until `leaveBlocking()`,
/// which waits for a capture in progress to finish.
public final class SafepointCoordinator: @unchecked Sendable {
    @usableFromInline let requested = Atomic<Bool>(false)
    private let condition = NSCondition()
    /// Mutators currently free to touch the space.
    private var running = 0
    private var stopping = false

    public init() {}

    /// Registers the calling thread as a mutator (waits out a capture in progress).
    public func register() {
        condition.lock()
        while stopping { condition.wait() }
        running += 1
        condition.unlock()
    }

    public func unregister() {
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The cheap check engine threads make at safepoints.
    @inlinable @inline(__always)
    public func poll() {
        if requested.load(ordering: .relaxed) { park() }
    }

    /// Whether a snapshot is waiting for mutators to park: one relaxed atomic
    /// load. Lets an engine keep its registers in host locals and write them
    /// back only when it is about to `poll()` into a park (or yield), instead
    /// of at every safepoint.
    @inlinable @inline(__always)
    public var isRequested: Bool { requested.load(ordering: .relaxed) }

    @usableFromInline
    func park() {
        condition.lock()
        running -= 1
        condition.broadcast()
        while stopping { condition.wait() }
        running += 1
        condition.unlock()
    }

    public func enterBlocking() { unregister() }
    public func leaveBlocking() { register() }

    /// Returns once every registered mutator is parked or blocked.
    func stopTheWorld() {
        condition.lock()
        stopping = true
        requested.store(true, ordering: .releasing)
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    func resumeTheWorld() {
        condition.lock()
        stopping = false
        requested.store(false, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }
}
