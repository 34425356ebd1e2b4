import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The clocks a program sees, read through its Timer session
/// (`WASITimerSession`; the kernel's built-in Timer reads the host's).
///
/// - realtime (0): the session's realtime clock (the host's CLOCK_REALTIME).
///   It is the wall clock: it may jump (NTP, a restore on another machine)
///   and is not kept monotonic.
/// - monotonic (1): *persistent*. It never goes backwards for the program,
///   also across a restart, and it keeps counting while the system is down
///   (by the wall clock), so a sleep that a restart interrupted — which
///   resumes against its wall-clock deadline — has lasted its full length by
///   the monotonic clock too. Every value handed out is stored in the state
///   with the wall time it was read at; a new process starts at
///   `last + max(0, wallNow − wallThen)` and advances with the session's
///   monotonic clock from there. A value already handed out is a floor.
///   (If the wall clock was set back while the system was down, the clock
///   continues from the last value: it stalls, it does not go back.)
/// - process/thread cputime (2, 3): persistent the same way but without the
///   downtime: CPU time consumed by this process since the session was
///   attached (the first clock call of this process), added to what earlier
///   processes recorded. Approximate: the host process runs other instances too.
///
/// Made once per process, when the first clock call finds the session
/// (`WASITimer`); "attaching" is that moment.
final class WASIClocks: @unchecked Sendable {
    private let state: WASIState
    let session: WASITimerSession
    private let lock = NSLock()
    private let hostMonotonicAtAttach: UInt64
    private let monotonicAtAttach: UInt64
    private let hostCPUAtAttach: UInt64
    private let cpuAtAttach: UInt64

    init(state: WASIState, session: WASITimerSession) {
        self.state = state
        self.session = session
        let wall = session.now(.realtime)
        let hostMonotonic = session.now(.monotonic)
        let last = state.monotonicLast
        if last.value == 0 && last.wall == 0 {
            monotonicAtAttach = hostMonotonic
        } else {
            monotonicAtAttach = last.value + (wall > last.wall ? wall - last.wall : 0)
        }
        hostMonotonicAtAttach = hostMonotonic
        hostCPUAtAttach = session.now(.processCPUTime)
        cpuAtAttach = state.cputimeLast
    }

    var realtime: UInt64 { session.now(.realtime) }

    /// The program's monotonic time now; recorded as the new floor.
    func monotonic() -> UInt64 {
        lock.withLock {
            let now = monotonicAtAttach + (session.now(.monotonic) &- hostMonotonicAtAttach)
            let value = max(now, state.monotonicLast.value)
            state.monotonicLast = (value, realtime)
            return value
        }
    }

    func cputime() -> UInt64 {
        lock.withLock {
            let now = cpuAtAttach + (session.now(.processCPUTime) &- hostCPUAtAttach)
            let value = max(now, state.cputimeLast)
            state.cputimeLast = value
            return value
        }
    }

    func time(_ clock: WASIClockID) -> UInt64 {
        switch clock {
        case .realtime: realtime
        case .monotonic: monotonic()
        case .processCputime, .threadCputime: cputime()
        }
    }

    func resolution(_ clock: WASIClockID) -> UInt64 {
        switch clock {
        case .realtime: session.resolution(.realtime)
        case .monotonic: session.resolution(.monotonic)
        case .processCputime, .threadCputime: session.resolution(.processCPUTime)
        }
    }
}

/// `clock_res_get`, `clock_time_get`, `random_get`.
///
/// The clock calls go through the component's Timer session (`WASITimer`):
/// without one they fail with ENOTCAPABLE (an unknown clock id is EINVAL
/// and a bad pointer EFAULT first, whatever the session). `random_get` needs
/// no session.
///
/// Re-execution: they write one fresh value into guest memory; a re-executed
/// call writes a newer one, which is what the program would have seen had it
/// made the call later. The monotonic floor only ever rises.
extension WASI {
    func clockResGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        guard let clock = WASIClockID(rawValue: a.u32(0)) else { throw .inval }
        try guest.check(a.pointer(1), 8)
        try guest.store64(try timer.withClocks { $0.resolution(clock) }, a.pointer(1))
        return .success
    }

    @inline(__always) // into the table's closure: the call is hot
    func clockTimeGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        // a.u64(1) is the requested precision; the host clock is always as precise as it can be.
        try guest.check(a.pointer(2), 8)
        guard let clock = WASIClockID(rawValue: a.u32(0)) else { throw .inval }
        try guest.store64(try timer.withClocks { $0.time(clock) }, a.pointer(2))
        return .success
    }

    func randomGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let address = a.pointer(0), length = UInt64(a.u32(1))
        try guest.check(address, length)
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: Int(length))
        var index = 0
        while index < bytes.count {
            var word = generator.next()
            for _ in 0..<8 where index < bytes.count {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        try guest.write(bytes, address)
        return .success
    }
}
