/// What a blocked thread waits for. The kernel owns every waitable: it arms a
/// timer for a deadline, polls a host descriptor, or wakes the thread when a
/// kernel object signals an event (a session reply, a request for a server,
/// a changed ROM). The engine only reports which one; it never waits itself.
///
/// A blocked call is re-executed from its start once the waitable may have
/// fired — after a spurious wake-up and after a restore alike (DESIGN.md
/// invariant 5) — so a waitable is a hint, never a promise.
public enum Waitable: Hashable, Sendable {
    /// Until this wall-clock time (nanoseconds since 1970, CLOCK_REALTIME), so
    /// that a sleep interrupted by a restart resumes with its remaining time.
    case wallClock(nanoseconds: UInt64)
    /// Until host descriptor input is readable (a terminal, a socket).
    case readable(hostDescriptor: Int32)
    /// Until the descriptor is readable or the time has come, whichever is first.
    case readableUntil(hostDescriptor: Int32, wallClockNanoseconds: UInt64)
    /// Until host descriptor output is writable: the thread waits outside the
    /// safepoint protocol instead of inside `write(2)`, so snapshots and stop
    /// requests never wait for a reader.
    case writable(hostDescriptor: Int32)
    /// Until the kernel signals `event` (see `KernelEvent`).
    case event(KernelEvent)
    /// Until the event is signalled or the time has come.
    case eventUntil(KernelEvent, wallClockNanoseconds: UInt64)
    /// Give up the rest of the slice and continue.
    case yield

    /// The deadline this waitable ends at by itself, if any.
    public var deadline: UInt64? {
        switch self {
        case let .wallClock(nanoseconds): nanoseconds
        case let .readableUntil(_, nanoseconds): nanoseconds
        case let .eventUntil(_, nanoseconds): nanoseconds
        case .readable, .writable, .event, .yield: nil
        }
    }
}

/// A kernel object a thread can wait on, by a number the kernel hands out
/// (a session's reply queue, a server's request queue, a ROM module). Events
/// are transient: after a restore every blocked call is re-executed and
/// waits again on whatever event its re-execution names.
public struct KernelEvent: Hashable, Sendable, CustomStringConvertible {
    public let id: UInt64
    public init(_ id: UInt64) { self.id = id }
    public var description: String { "event \(id)" }
}
