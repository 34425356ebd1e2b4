import Foundation
import Synchronization
import Testing
import PhantomSpace
@testable import PhantomWasm

/// Clocks and sleeps through the component's Timer session (`WASITimerProvider`):
/// none → ENOTCAPABLE; asked for once and cached; the persistent monotonic
/// clock keeps its meaning whatever clock the session reads.
@Suite struct WASITimerTests {
    /// Counts how often the provider is asked.
    final class Asked: Sendable {
        let count = Atomic<Int>(0)
        func provider(_ session: WASITimerSession?) -> WASITimerProvider {
            WASITimerProvider { [self] in
                count.add(1, ordering: .relaxed)
                return session
            }
        }
    }

    /// A clock the test moves: what a Timer session's host would read.
    final class FakeClock: @unchecked Sendable {
        private let lock = NSLock()
        private var wall: UInt64, monotonic: UInt64
        init(wall: UInt64, monotonic: UInt64) { self.wall = wall; self.monotonic = monotonic }
        /// Both clocks run on by `nanoseconds`.
        func advance(_ nanoseconds: UInt64) { lock.withLock { wall += nanoseconds; monotonic += nanoseconds } }
        /// A new boot: the monotonic clock starts again, the wall clock is `wall`.
        func reboot(wall: UInt64, monotonic: UInt64) { lock.withLock { self.wall = wall; self.monotonic = monotonic } }
        var session: WASITimerSession {
            WASITimerSession(now: { [self] clock in
                lock.withLock {
                    switch clock {
                    case .realtime: wall
                    case .monotonic: monotonic
                    case .processCPUTime: 0
                    }
                }
            }, resolution: { _ in 1 })
        }
    }

    static let second: UInt64 = 1_000_000_000

    @Test func withoutATimerSessionEveryClockCallIsNotCapable() throws {
        let asked = Asked()
        let h = try WASIHarness(timer: asked.provider(nil))
        #expect(h.errno("clock_time_get", [1, 1, 100]) == .notcapable)   // monotonic
        #expect(h.errno("clock_time_get", [0, 1, 100]) == .notcapable)   // realtime
        #expect(h.errno("clock_time_get", [2, 1, 100]) == .notcapable)   // process cputime
        #expect(h.errno("clock_res_get", [1, 100]) == .notcapable)
        // Argument errors come first, whatever the session.
        #expect(h.errno("clock_time_get", [9, 1, 100]) == .inval)
        #expect(h.errno("clock_res_get", [9, 100]) == .inval)
        #expect(h.errno("clock_time_get", [1, 1, 70000]) == .fault)
        // A sleep gets its event at once, carrying the error (as a bad fd carries EBADF).
        WASIPersistenceTests.sleepSubscription(h, nanoseconds: 60 * Self.second)
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 == .returned([0]))
        #expect(h.memory.u32(6000) == 1)
        #expect(h.memory.u64(5000) == 77)
        #expect(h.memory.u32(5008) & 0xFFFF == UInt32(WASIErrno.notcapable.rawValue))
        #expect(try h.memory.read(at: 5010, count: 1) == [0])
        // Beside an fd subscription that is ready: both events.
        WASIPersistenceTests.sleepSubscription(h, at: 4000, nanoseconds: 60 * Self.second)
        try h.memory.write([UInt8](repeating: 0, count: 48), at: 4048)
        h.memory.setU64(5, 4048)
        h.memory.setU32(2, 4056) // tag: fd_write
        h.memory.setU32(1, 4064) // stdout
        #expect(h.call("poll_oneoff", [4000, 5000, 2, 6000]).0 == .returned([0]))
        #expect(h.memory.u32(6000) == 2)
        #expect(h.memory.u32(5008) & 0xFFFF == UInt32(WASIErrno.notcapable.rawValue))
        #expect(h.memory.u64(5032) == 5 && h.memory.u32(5040) & 0xFFFF == 0)
        // What needs no Timer still works.
        #expect(h.errno("random_get", [200, 16]) == .success)
        #expect(h.errno("args_sizes_get", [300, 304]) == .success)
        // Asked once: a denial is remembered, not asked (and logged) per call.
        #expect(asked.count.load(ordering: .relaxed) == 1)
    }

    @Test func theSessionIsAskedForAtTheFirstClockCallAndOnlyOnce() throws {
        let asked = Asked()
        let h = try WASIHarness(timer: asked.provider(.host))
        #expect(h.errno("args_sizes_get", [300, 304]) == .success)
        #expect(h.errno("random_get", [200, 16]) == .success)
        #expect(asked.count.load(ordering: .relaxed) == 0, "no clock call yet, no Timer session")
        var last: UInt64 = 0
        for _ in 0..<1000 {
            #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
            #expect(h.memory.u64(100) >= last)
            last = h.memory.u64(100)
        }
        #expect(h.errno("clock_res_get", [0, 100]) == .success && h.memory.u64(100) >= 1)
        WASIPersistenceTests.sleepSubscription(h, nanoseconds: 0)
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 == .returned([0]))
        #expect(h.memory.u32(5008) & 0xFFFF == 0)
        #expect(asked.count.load(ordering: .relaxed) == 1)
        // A restored instance asks its new provider again (the kernel's finds the stored session).
        try h.restart()
        #expect(h.errno("clock_time_get", [1, 1, 100]) == .success && h.memory.u64(100) >= last)
        #expect(asked.count.load(ordering: .relaxed) == 2)
    }

    @Test func manyThreadsAskingAtOnceAskTheProviderOnce() throws {
        let asked = Asked()
        let h = try WASIHarness(timer: asked.provider(.host))
        let clockTimeGet = h.function("clock_time_get")
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let memory = TestMemory(size: 1024)
            for _ in 0..<200 {
                var context = HostCallContext(memory: memory, pendingCallState: 0)
                _ = clockTimeGet.call(&context, [1, 1, 8])
            }
            _ = index
        }
        #expect(asked.count.load(ordering: .relaxed) == 1)
    }

    /// The persistent monotonic clock keeps its meaning through the session:
    /// it counts the downtime by the wall clock, never goes back, and stalls
    /// rather than going back when the wall clock was set back.
    @Test func theMonotonicClockCountsDowntimeAndNeverGoesBack() throws {
        let clock = FakeClock(wall: 1_000_000 * Self.second, monotonic: 5 * Self.second)
        let h = try WASIHarness(timer: WASITimerProvider { clock.session })
        func monotonic() -> UInt64 {
            #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
            return h.memory.u64(100)
        }
        func realtime() -> UInt64 {
            #expect(h.errno("clock_time_get", [0, 1, 100]) == .success)
            return h.memory.u64(100)
        }
        #expect(monotonic() == 5 * Self.second)
        #expect(realtime() == 1_000_000 * Self.second)
        clock.advance(Self.second)
        #expect(monotonic() == 6 * Self.second)

        // Down for 10 s; the new boot's monotonic clock starts near 0.
        clock.reboot(wall: 1_000_011 * Self.second, monotonic: Self.second / 2)
        try h.restart()
        #expect(monotonic() == 16 * Self.second)
        clock.advance(Self.second)
        #expect(monotonic() == 17 * Self.second)

        // The wall clock was set back while down: the clock stalls, then runs on.
        clock.reboot(wall: 999_000 * Self.second, monotonic: 3 * Self.second)
        try h.restart()
        #expect(monotonic() == 17 * Self.second)
        clock.advance(2 * Self.second)
        #expect(monotonic() == 19 * Self.second)
        #expect(realtime() == 999_002 * Self.second)
    }

    /// A sleep through the session survives a restart: it re-arms its stored
    /// wall-clock deadline, and lasts its length by the monotonic clock.
    @Test func aSleepInterruptedByARestartKeepsItsDeadline() throws {
        let asked = Asked()
        let h = try WASIHarness(timer: asked.provider(.host))
        #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
        let start = h.memory.u64(100)
        WASIPersistenceTests.sleepSubscription(h, nanoseconds: 50_000_000)
        let (first, pending) = h.call("poll_oneoff", [4000, 5000, 1, 6000])
        guard case .block(.wallClock(let deadline)) = first else { Issue.record("\(first)"); return }
        try h.restart()
        // Re-executed after the restore: the same deadline, not a new one.
        if case .block(.wallClock(let again)) = h.call("poll_oneoff", [4000, 5000, 1, 6000], pending: pending).0 {
            #expect(again == deadline)
        }
        while WASIHostClock.read(CLOCK_REALTIME) < deadline { Thread.sleep(forTimeInterval: 0.005) }
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000], pending: pending).0 == .returned([0]))
        #expect(h.memory.u32(5008) & 0xFFFF == 0)
        #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
        #expect(h.memory.u64(100) >= start + 50_000_000)
    }
}
