import Foundation
import PhantomSpace
import PhantomStore
import Testing
import PhantomEngine
import PhantomWasm
@testable import PhantomKernel

/// The kernel's scheduler: many programs on few workers, fuel slices
/// interleave them, and a sleeping program holds no worker.
@Suite struct SchedulerTests {
    static func fixture(_ path: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Programs/wasm").appendingPathComponent(path)
        return Array(try Data(contentsOf: url))
    }

    final class Console: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [Int: String] = [:]
        /// Every write, in the order the programs made them.
        private var log: [(program: Int, text: String)] = []
        func io(_ program: Int) -> WASIHostIO {
            var io = WASIHostIO.standard
            io.output = { _, bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                self.lock.lock(); self.lines[program, default: ""] += text; self.log.append((program, text)); self.lock.unlock()
                return .success
            }
            return io
        }
        /// The position in the write order of the first write by `program` that contains `text`.
        func position(of text: String, by program: Int) -> Int? {
            lock.lock(); defer { lock.unlock() }
            return log.firstIndex { $0.program == program && $0.text.contains(text) }
        }
        func output(_ program: Int) -> String { lock.lock(); defer { lock.unlock() }; return lines[program] ?? "" }
    }

    /// A WASI program's main thread in `space` (what the kernel does for a
    /// component, without the kernel).
    static func program(_ module: [UInt8], name: String, in space: ObjectSpace, arguments: [String], io: WASIHostIO) throws -> WasmThread {
        let state = try WASIState.create(in: space, args: [name] + arguments, environment: [])
        let wasi = try WASI(space: space, stateOffset: state, io: io)
        let instance = try Instance.instantiate(try WasmModule(bytes: module), in: space, imports: wasi)
        return try instance.makeThread("_start")
    }

    @Test func sleepersDoNotHoldWorkers() throws {
        let space = try ObjectSpace(store: Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 64 << 30))
        let console = Console()
        let sleeper = try Self.fixture("c/sleeper.wasm")
        // Six programs each sleeping 3 × 150 ms, on ONE worker: if a sleep held the
        // worker, each program would finish before the next started. Judged by
        // the order of their output, not by elapsed time (a busy machine may be
        // slow, but cannot reorder a round robin).
        let scheduler = Scheduler(workers: 1)
        let outcomes = Outcomes()
        // All six are instantiated before any is submitted, so none can finish
        // while a later one is still being set up.
        let commands = try (0..<6).map { index in
            try Self.program(sleeper, name: "sleeper", in: space, arguments: ["3", "150"], io: console.io(index))
        }
        for command in commands { scheduler.submit(command) { outcomes.add($0) } }
        outcomes.wait(for: 6)
        scheduler.stop()
        #expect(outcomes.all == Array(repeating: .exited(code: 0), count: 6))
        // Every program had started (and gone to sleep) before any finished its sleeps.
        let lastStart = (0..<6).compactMap { console.position(of: "start", by: $0) }.max() ?? Int.max
        let firstEnd = (0..<6).compactMap { console.position(of: "tick 3", by: $0) }.min() ?? -1
        #expect(lastStart < firstEnd, "sleeps held the worker: a program finished before another started")
        for index in 0..<6 { #expect(console.output(index).hasSuffix("ok\n"), "\(console.output(index))") }
    }

    @Test func computeBoundProgramsShareWorkersBySlices() throws {
        let space = try ObjectSpace(store: Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 64 << 30))
        let console = Console()
        let counter = try Self.fixture("c/counter.wasm")
        let scheduler = Scheduler(workers: 2, sliceFuel: 5_000)
        let outcomes = Outcomes()
        for index in 0..<5 {
            let command = try Self.program(counter, name: "counter", in: space, arguments: ["200000", "100000"], io: console.io(index))
            scheduler.submit(command) { outcomes.add($0) }
        }
        // Snapshots keep working while workers switch between programs.
        for _ in 0..<5 { try space.snapshot() }
        outcomes.wait(for: 5)
        #expect(scheduler.slices > 20, "programs were sliced, not run to completion one by one")
        scheduler.stop()
        #expect(outcomes.all == Array(repeating: .exited(code: 0), count: 5))
        for index in 0..<5 { #expect(console.output(index) == "count 100000\ncount 200000\ndone 200000\n") }
    }

    final class Outcomes: @unchecked Sendable {
        // @unchecked: `list` is reached only with `condition` held.
        private let condition = NSCondition()
        private var list: [SliceOutcome] = []
        func add(_ outcome: SliceOutcome) { condition.lock(); list.append(outcome); condition.broadcast(); condition.unlock() }
        var all: [SliceOutcome] { condition.lock(); defer { condition.unlock() }; return list }
        /// Waits for `count` programs to end (a readiness signal, no deadline but a guard).
        @discardableResult
        func wait(for count: Int, timeout: TimeInterval = 300) -> Bool {
            condition.lock(); defer { condition.unlock() }
            let guardDeadline = Date(timeIntervalSinceNow: timeout)
            while list.count < count && condition.wait(until: guardDeadline) {}
            return list.count >= count
        }
    }

    /// A thread blocked on a kernel event runs again when the event is
    /// signalled, and one signalled during its slice is not lost.
    @Test func kernelEventsWakeTheirWaiters() throws {
        final class Waiter: EngineThread, @unchecked Sendable {
            // @unchecked: `runs` is touched only by the one worker running the slice.
            var runs = 0
            func runSlice(fuel: Int) -> SliceOutcome {
                runs += 1
                return runs < 3 ? .blocked(.event(KernelEvent(7))) : .exited(code: UInt32(runs))
            }
        }
        let scheduler = Scheduler(workers: 1)
        let outcomes = Outcomes()
        let waiter = Waiter()
        scheduler.submit(waiter) { outcomes.add($0) }
        // Signalled over and over until it has ended: each signal wakes it at most once.
        while outcomes.all.isEmpty {
            scheduler.signal(KernelEvent(7))
            usleep(1000)
        }
        scheduler.stop()
        #expect(outcomes.all == [.exited(code: 3)])
    }

    /// A thread that blocks on `waits` in turn, one per slice, then exits with
    /// the number of slices it ran; `started` is signalled as its first slice begins.
    final class Blocker: EngineThread, @unchecked Sendable {
        // @unchecked: `runs` is touched only by the one worker running the slice
        // (slices of one thread never overlap); the rest is immutable.
        let waits: [Waitable]
        let started: DispatchSemaphore?
        var runs = 0
        init(_ waits: [Waitable], started: DispatchSemaphore? = nil) {
            self.waits = waits
            self.started = started
        }
        func runSlice(fuel: Int) -> SliceOutcome {
            if runs == 0 { started?.signal() }
            runs += 1
            return runs <= waits.count ? .blocked(waits[runs - 1]) : .exited(code: UInt32(runs))
        }
    }

    /// Every time the waker is about to sleep, and until when.
    final class WakerWatch: @unchecked Sendable {
        // @unchecked: `sleeps` is reached only with `condition` held.
        private let condition = NSCondition()
        private var sleeps: [UInt64] = []
        func willSleep(until: UInt64) { condition.lock(); sleeps.append(until); condition.broadcast(); condition.unlock() }
        /// Waits until the waker goes to sleep until `deadline` (a readiness signal; the deadline only ends a hung test).
        func waitForSleep(until deadline: UInt64) -> Bool {
            condition.lock(); defer { condition.unlock() }
            let guardDeadline = Date(timeIntervalSinceNow: 300)
            while !sleeps.contains(deadline) { if !condition.wait(until: guardDeadline) { return false } }
            return true
        }
    }

    /// The waker skips the wake-up pipe for a deadline later than the one it
    /// sleeps until; an earlier one must still wake it. A thread sleeps an
    /// hour, the waker sleeps until then (its longest poll is two hours here,
    /// so nothing but the pipe ends that poll early), then short waits —
    /// a sleep, an event wait with a deadline, already passed or soon — must
    /// end long before that hour.
    @Test(arguments: [UInt64(0), 1_000_000, 20_000_000])
    func shortWaitEndsWhileTheWakerSleepsUntilALaterDeadline(delay: UInt64) throws {
        let watch = WakerWatch()
        let scheduler = Scheduler(workers: 2, sliceFuel: 1_000, longestWait: 7_200_000_000_000,
                                  wakerWillSleep: { watch.willSleep(until: $0) })
        let outcomes = Outcomes()
        let hour = wallClockNow() + 3_600_000_000_000
        let long = scheduler.submit(Blocker([.wallClock(nanoseconds: hour)])) { outcomes.add($0) }
        #expect(watch.waitForSleep(until: hour), "the waker never slept until the long sleeper's deadline")
        let soon = wallClockNow() + delay
        scheduler.submit(Blocker([.wallClock(nanoseconds: soon)])) { outcomes.add($0) }
        scheduler.submit(Blocker([.eventUntil(KernelEvent(99), wallClockNanoseconds: soon + delay)])) { outcomes.add($0) }
        // Both end (each exits with code 2: one blocked slice, one that exits)
        // while the long sleeper still sleeps; the guard of `wait` is 300 s.
        outcomes.wait(for: 2)
        #expect(outcomes.all == [.exited(code: 2), .exited(code: 2)])
        #expect(scheduler.taskCount == 1)
        scheduler.cancel(long)
        scheduler.stop()
    }

    /// A short sleep submitted after many later ones (the waker's deadline only
    /// ever moves earlier) still ends first, for each of many sleeps in a row.
    @Test func sleepsEndInDeadlineOrderWhateverTheWakerSleepsUntil() throws {
        let watch = WakerWatch()
        let scheduler = Scheduler(workers: 1, sliceFuel: 1_000, longestWait: 7_200_000_000_000,
                                  wakerWillSleep: { watch.willSleep(until: $0) })
        let outcomes = Outcomes()
        let base = wallClockNow() + 3_600_000_000_000
        var sleepers: [Scheduler.TaskID] = []
        // Deadlines an hour away, each a second earlier than the last: every one
        // must move the waker's deadline.
        for index in 0..<20 {
            let deadline = base - UInt64(index) * 1_000_000_000
            sleepers.append(scheduler.submit(Blocker([.wallClock(nanoseconds: deadline)])) { outcomes.add($0) })
            #expect(watch.waitForSleep(until: deadline), "the waker did not move its deadline to sleeper \(index)'s")
        }
        scheduler.submit(Blocker([.wallClock(nanoseconds: wallClockNow())])) { outcomes.add($0) }
        outcomes.wait(for: 1)
        #expect(outcomes.all == [.exited(code: 2)])
        for id in sleepers { scheduler.cancel(id) }
        #expect(scheduler.taskCount == 0)
        scheduler.stop()
    }

    /// Many threads made ready at once — by one signal, by one deadline —
    /// all run, on one worker or several (each ready thread wakes at most one
    /// parked worker; none may be left in the queue with every worker parked).
    @Test(arguments: [1, 2, 4])
    func threadsWokenAtOnceAllRun(workers: Int) throws {
        let scheduler = Scheduler(workers: workers, sliceFuel: 1_000)
        let outcomes = Outcomes()
        let count = 64
        let event = KernelEvent(42)
        let started = DispatchSemaphore(value: 0)
        // Blocked on the event, then on a deadline shared by all, then on the
        // event again: three mass wake-ups.
        let shared = wallClockNow() + 5_000_000
        for _ in 0..<count {
            scheduler.submit(Blocker([.event(event), .wallClock(nanoseconds: shared), .event(event)], started: started)) { outcomes.add($0) }
        }
        for _ in 0..<count { started.wait() }
        // Signalled until every thread has ended: a thread woken by a signal
        // blocks again on the deadline, then on the event; a signal that comes
        // before a thread blocks is not lost (signal stamps), so each signal
        // moves every waiter along at most one step.
        while !outcomes.wait(for: count, timeout: 0.01) {
            scheduler.signal(event)
        }
        scheduler.stop()
        #expect(outcomes.all == Array(repeating: .exited(code: 4), count: count))
    }

    /// One signal wakes every waiter of the event, once all have blocked.
    @Test(arguments: [1, 2])
    func oneSignalWakesEveryWaiter(workers: Int) throws {
        let scheduler = Scheduler(workers: workers, sliceFuel: 1_000)
        let outcomes = Outcomes()
        let count = 100
        let event = KernelEvent(43)
        for _ in 0..<count { scheduler.submit(Blocker([.event(event)])) { outcomes.add($0) } }
        // Readiness: every thread is off the run queue and blocked on the event.
        #expect(scheduler.waitUntilBlocked(count, on: event))
        scheduler.signal(event)
        outcomes.wait(for: count)
        scheduler.stop()
        #expect(outcomes.all == Array(repeating: .exited(code: 2), count: count))
    }

    /// `cancel` of a running thread returns once its slice has ended, and its
    /// completion never runs; of a blocked thread, at once.
    @Test func cancelWaitsForTheRunningSlice() throws {
        final class Holder: EngineThread {
            let entered = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            func runSlice(fuel: Int) -> SliceOutcome {
                entered.signal()
                release.wait()
                return .exited(code: 0)
            }
        }
        let scheduler = Scheduler(workers: 2, sliceFuel: 1_000)
        let outcomes = Outcomes()
        let holder = Holder()
        let held = scheduler.submit(holder) { outcomes.add($0) }
        let blocked = scheduler.submit(Blocker([.event(KernelEvent(44))])) { outcomes.add($0) }
        holder.entered.wait()
        let cancelled = DispatchSemaphore(value: 0)
        Thread { scheduler.cancel(held); cancelled.signal() }.start()
        #expect(scheduler.waitUntilBlocked(1, on: KernelEvent(44)))
        scheduler.cancel(blocked)
        // Cancel cannot return while the slice is held (whenever its thread runs).
        #expect(cancelled.wait(timeout: .now() + 0.05) == .timedOut)
        holder.release.signal()
        cancelled.wait()
        #expect(scheduler.taskCount == 0)
        scheduler.stop()
        #expect(outcomes.all.isEmpty)
    }
}

extension Scheduler {
    /// Waits until `count` threads are blocked on `event` (looked at every
    /// 100 µs: a readiness check, not a delay; the guard only ends a hung test).
    func waitUntilBlocked(_ count: Int, on event: KernelEvent) -> Bool {
        let guardDeadline = Date(timeIntervalSinceNow: 300)
        while waiterCount(on: event) < count {
            if Date() > guardDeadline { return false }
            usleep(100)
        }
        return true
    }
}
