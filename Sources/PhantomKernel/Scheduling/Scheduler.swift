import Dispatch
import Foundation
import PhantomEngine
import Synchronization

/// Runs every component's threads on a few worker threads in fuel slices,
/// round robin, whatever engine runs them (`EngineThread`).
///
/// A thread that blocks leaves the run queue and holds no worker; the waker
/// thread puts it back when its waitable may have fired, and the blocked call
/// is re-executed (DESIGN.md invariant 5). Waiting is event-driven: the waker
/// sleeps in one `poll(2)` over the descriptors threads wait on plus a wake-up
/// pipe, with the nearest deadline as its timeout, so an idle system uses no
/// CPU (no polling loop). Kernel events (`signal`) move their waiters at once.
///
/// Wake-ups are counted, because on an idle system they are the cost: a
/// thread made ready wakes one parked worker (each worker parks on its own
/// semaphore, so nobody else is woken), none if a worker is free to take it
/// anyway; a new deadline wakes the waker only if it is earlier than the one
/// the waker already sleeps until (`State.wakerSleepsUntil`).
///
/// Genode gives each component a CPU session with a priority; priorities are
/// recorded on the task for the state report but all slices are equal today.
public final class Scheduler: Sendable {
    /// Called once when a thread ends (exited or trapped), on a worker.
    public typealias Completion = @Sendable (SliceOutcome) -> Void

    public struct TaskID: Hashable, Sendable {
        public let value: UInt64
    }

    private final class Task: Sendable {
        let id: TaskID
        let thread: EngineThread
        let completion: Completion
        init(id: TaskID, thread: EngineThread, completion: @escaping Completion) {
            self.id = id
            self.thread = thread
            self.completion = completion
        }
    }

    private struct DescriptorWaiter {
        let descriptor: Int32
        let events: Int16
        let deadline: UInt64?
        let task: Task
    }

    private struct EventWaiter {
        let deadline: UInt64?
        let task: Task
    }

    /// Everything the workers, the waker and callers share, behind one lock.
    private struct State {
        var ready: [Task] = []
        var readyHead = 0
        var sleeping: [(deadline: UInt64, task: Task)] = []
        var waitingForDescriptor: [DescriptorWaiter] = []
        var waitingForEvent: [KernelEvent: [EventWaiter]] = [:]
        /// The signal stamp of each event's last `signal`: a thread that blocks on
        /// an event signalled after its slice began is put back at once (the
        /// signal may have come between its check and its block).
        var eventStamps: [KernelEvent: UInt64] = [:]
        var stamp: UInt64 = 0
        /// Running tasks, with the signal stamp at the start of their slice.
        var running: [TaskID: UInt64] = [:]
        /// Tasks cancelled during their slice; the worker drops them at its end.
        var cancelled: Set<TaskID> = []
        /// `cancel` calls waiting for a running slice to end.
        var sliceEndWaiters: [TaskID: [DispatchSemaphore]] = [:]
        var tasks: [TaskID: Task] = [:]
        var nextID: UInt64 = 1
        var stopping = false
        /// Worker and waker threads not yet ended.
        var threads = 0
        var stopWaiters: [DispatchSemaphore] = []
        /// Workers parked on their semaphore, and how many were woken and have
        /// not taken the lock since (they will look at the run queue).
        var parkedWorkers: [Int] = []
        var wakingWorkers = 0
        /// The time the waker's `poll` ends by itself (`.max`: never; 0: the
        /// waker has not computed it yet). A deadline not earlier than this needs
        /// no wake-up: the waker looks at every deadline when it wakes. Stale
        /// (too early) after a waiter left, which costs one early wake-up only.
        var wakerSleepsUntil: UInt64 = 0
        var slices = 0

        var readyCount: Int { ready.count - readyHead }

        mutating func nextReady() -> Task? {
            guard readyHead < ready.count else { return nil }
            let task = ready[readyHead]
            readyHead += 1
            if readyHead == ready.count {
                ready.removeAll(keepingCapacity: true)
                readyHead = 0
            } else if readyHead > 1024 && readyHead * 2 > ready.count {
                ready.removeFirst(readyHead)
                readyHead = 0
            }
            return task
        }

        /// Parked workers to wake for the ready tasks no worker is coming for.
        mutating func workersToWake() -> [Int] {
            var wake: [Int] = []
            while readyCount > wakingWorkers, let worker = parkedWorkers.popLast() {
                wakingWorkers += 1
                wake.append(worker)
            }
            return wake
        }

        /// Whether a new deadline must wake the waker (it sleeps until later).
        func needsWaker(for deadline: UInt64) -> Bool {
            deadline < wakerSleepsUntil
        }

        mutating func block(_ task: Task, on event: KernelEvent, until deadline: UInt64?, sliceStamp: UInt64) {
            if let signalled = eventStamps[event], signalled > sliceStamp {
                ready.append(task)
            } else {
                waitingForEvent[event, default: []].append(EventWaiter(deadline: deadline, task: task))
            }
        }
    }

    private let sliceFuel: Int
    private let state = Mutex(State())
    /// One per worker: a parked worker waits on its own.
    private let parkers: [DispatchSemaphore]
    private let wakePipe: (read: Int32, write: Int32)
    /// The waker's longest `poll` (nanoseconds): beyond it, it looks again anyway.
    private let longestWait: UInt64
    /// Tests: called by the waker just before it sleeps, with the time its
    /// `poll` ends by itself (`.max`: never).
    private let wakerWillSleep: (@Sendable (UInt64) -> Void)?

    /// Slices completed, for statistics and tests.
    public var slices: Int { state.withLock { $0.slices } }

    public convenience init(workers: Int = 2, sliceFuel: Int = 20_000) {
        self.init(workers: workers, sliceFuel: sliceFuel, longestWait: 60_000_000_000, wakerWillSleep: nil)
    }

    init(workers: Int, sliceFuel: Int, longestWait: UInt64, wakerWillSleep: (@Sendable (UInt64) -> Void)?) {
        self.sliceFuel = sliceFuel
        self.longestWait = max(1_000_000, min(longestWait, UInt64(Int32.max) * 1_000_000))
        self.wakerWillSleep = wakerWillSleep
        var fds: [Int32] = [0, 0]
        if pipe(&fds) != 0 { fatalError("phantom: cannot create the scheduler's wake-up pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakePipe = (fds[0], fds[1])
        let count = max(1, workers)
        parkers = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        state.withLock { $0.threads = count + 1 }
        for index in 0..<count { spawn(name: "phantom-work\(index)") { [self] in work(index) } }
        spawn(name: "phantom-waker") { [self] in wake() }
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// `name` is also the OS thread's name (at most 15 bytes on Linux), which
    /// `/proc/PID/task/TID/comm` shows (`phantom bench kernel idle` reads it).
    private func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            #if os(Linux)
            // pthread_setname_np is not in Glibc's Swift module: its file instead.
            let comm = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            if comm >= 0 {
                let bytes = Array(name.utf8.prefix(15))
                _ = bytes.withUnsafeBytes { write(comm, $0.baseAddress, $0.count) }
                close(comm)
            }
            #endif
            body()
            let waiters = self.state.withLock { state -> [DispatchSemaphore] in
                state.threads -= 1
                guard state.threads == 0 else { return [] }
                defer { state.stopWaiters.removeAll() }
                return state.stopWaiters
            }
            for waiter in waiters { waiter.signal() }
        }
        thread.name = name
        thread.start()
    }

    /// Adds a thread to the run queue; `completion` runs once when it ends.
    @discardableResult
    public func submit(_ thread: EngineThread, completion: @escaping Completion = { _ in }) -> TaskID {
        let (id, wake) = state.withLock { state in
            let task = Task(id: TaskID(value: state.nextID), thread: thread, completion: completion)
            state.nextID += 1
            state.tasks[task.id] = task
            state.ready.append(task)
            return (task.id, state.workersToWake())
        }
        unpark(wake)
        return id
    }

    /// Takes a thread out of scheduling (its component is being torn down).
    /// Returns once it is not running; its completion is not called.
    public func cancel(_ id: TaskID) {
        let sliceEnd: DispatchSemaphore? = state.withLock { state in
            guard let task = state.tasks.removeValue(forKey: id) else { return nil }
            if state.readyHead > 0 {
                state.ready.removeFirst(state.readyHead)
                state.readyHead = 0
            }
            state.ready.removeAll { $0 === task }
            state.sleeping.removeAll { $0.task === task }
            state.waitingForDescriptor.removeAll { $0.task === task }
            let events = state.waitingForEvent.compactMap { key, waiters in waiters.contains { $0.task === task } ? key : nil }
            for key in events {
                state.waitingForEvent[key]?.removeAll { $0.task === task }
                if state.waitingForEvent[key]?.isEmpty == true { state.waitingForEvent[key] = nil }
            }
            guard state.running[id] != nil else { return nil }
            state.cancelled.insert(id)
            let semaphore = DispatchSemaphore(value: 0)
            state.sliceEndWaiters[id, default: []].append(semaphore)
            return semaphore
        }
        sliceEnd?.wait()
    }

    /// Wakes every thread waiting on `event` (a reply arrived, a request was
    /// queued, a ROM changed). Cheap when nobody waits. Waiters with a deadline
    /// leave the waker's timeout stale (earlier than needed): it wakes once
    /// for nothing, which costs what telling it now would.
    public func signal(_ event: KernelEvent) {
        let wake = state.withLock { state -> [Int] in
            state.stamp += 1
            state.eventStamps[event] = state.stamp
            guard let waiters = state.waitingForEvent.removeValue(forKey: event) else { return [] }
            for waiter in waiters { state.ready.append(waiter.task) }
            return state.workersToWake()
        }
        unpark(wake)
    }

    /// Number of threads being scheduled (running, ready or waiting).
    public var taskCount: Int {
        state.withLock { $0.tasks.count }
    }

    /// Threads blocked on `event` now (tests: a readiness check).
    func waiterCount(on event: KernelEvent) -> Int {
        state.withLock { $0.waitingForEvent[event]?.count ?? 0 }
    }

    /// Stops scheduling at the next slice boundaries (threads stay resumable:
    /// their state is in the object space) and ends the worker threads.
    public func stop() {
        let (parked, ended) = state.withLock { state -> ([Int], DispatchSemaphore?) in
            state.stopping = true
            let parked = state.parkedWorkers
            state.wakingWorkers += parked.count
            state.parkedWorkers.removeAll()
            guard state.threads > 0 else { return (parked, nil) }
            let semaphore = DispatchSemaphore(value: 0)
            state.stopWaiters.append(semaphore)
            return (parked, semaphore)
        }
        poke()
        unpark(parked)
        ended?.wait()
        let sliceEndWaiters = state.withLock { state -> [DispatchSemaphore] in
            state.ready.removeAll()
            state.readyHead = 0
            state.sleeping.removeAll()
            state.waitingForDescriptor.removeAll()
            state.waitingForEvent.removeAll()
            state.tasks.removeAll()
            defer { state.sliceEndWaiters.removeAll() }
            return state.sliceEndWaiters.values.flatMap { $0 }
        }
        for waiter in sliceEndWaiters { waiter.signal() }
    }

    /// Wakes the waker out of `poll` (its wait set changed). Never with the lock held.
    private func poke() {
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    private func unpark(_ workers: [Int]) {
        for worker in workers { parkers[worker].signal() }
    }

    /// What a worker does after one look at the state.
    private enum Step {
        case run(Task)
        /// Call the completion of a thread that ended (no task taken: it may cancel any).
        case complete(Task, SliceOutcome)
        case park
        case exit
    }

    private func work(_ index: Int) {
        var last: (task: Task, outcome: SliceOutcome)?
        var woken = false
        while true {
            // One lock for both: record the last slice's outcome and take the next task.
            var pokeWaker = false
            var wake: [Int] = []
            var sliceEnded: [DispatchSemaphore] = []
            let step = state.withLock { state -> Step in
                if woken {
                    state.wakingWorkers -= 1
                    woken = false
                }
                var finished = false
                if let (task, outcome) = last {
                    (pokeWaker, finished) = record(outcome, of: task, in: &state, sliceEnded: &sliceEnded)
                }
                if state.stopping { return .exit }
                if finished, let (task, outcome) = last { return .complete(task, outcome) }
                if let task = state.nextReady() {
                    state.running[task.id] = state.stamp
                    wake = state.workersToWake()
                    return .run(task)
                }
                state.parkedWorkers.append(index)
                return .park
            }
            last = nil
            if pokeWaker { poke() }
            unpark(wake)
            for waiter in sliceEnded { waiter.signal() }
            switch step {
            case .exit:
                return
            case let .run(task):
                last = (task, task.thread.runSlice(fuel: sliceFuel))
            case let .complete(task, outcome):
                task.completion(outcome)
            case .park:
                parkers[index].wait()
                woken = true
            }
        }
    }

    /// A slice ended: requeue, block or retire its task. Returns whether the
    /// waker must look at the wait set again, and whether the thread ended (its
    /// completion is due). Lock held.
    private func record(_ outcome: SliceOutcome, of task: Task, in state: inout State,
                        sliceEnded: inout [DispatchSemaphore]) -> (pokeWaker: Bool, finished: Bool) {
        state.slices += 1
        let sliceStamp = state.running.removeValue(forKey: task.id) ?? 0
        if state.cancelled.remove(task.id) != nil {
            sliceEnded = state.sliceEndWaiters.removeValue(forKey: task.id) ?? []
            return (false, false)
        }
        if state.stopping { return (false, false) }
        switch outcome {
        case .yielded, .blocked(.yield):
            state.ready.append(task)
        case let .blocked(.wallClock(deadline)):
            state.sleeping.append((deadline, task))
            return (state.needsWaker(for: deadline), false)
        case let .blocked(.readable(descriptor)):
            state.waitingForDescriptor.append(DescriptorWaiter(descriptor: descriptor, events: Int16(POLLIN), deadline: nil, task: task))
            return (true, false)
        case let .blocked(.readableUntil(descriptor, deadline)):
            state.waitingForDescriptor.append(DescriptorWaiter(descriptor: descriptor, events: Int16(POLLIN), deadline: deadline, task: task))
            return (true, false)
        case let .blocked(.writable(descriptor)):
            state.waitingForDescriptor.append(DescriptorWaiter(descriptor: descriptor, events: Int16(POLLOUT), deadline: nil, task: task))
            return (true, false)
        case let .blocked(.event(event)):
            state.block(task, on: event, until: nil, sliceStamp: sliceStamp)
        case let .blocked(.eventUntil(event, deadline)):
            state.block(task, on: event, until: deadline, sliceStamp: sliceStamp)
            return (state.needsWaker(for: deadline), false)
        case .exited, .trapped:
            state.tasks[task.id] = nil
            return (false, true)
        }
        return (false, false)
    }

    /// The waker: one `poll(2)` over the wake-up pipe and every descriptor a
    /// thread waits on, with the nearest deadline as its timeout.
    private func wake() {
        var drain = [UInt8](repeating: 0, count: 64)
        var polled: [pollfd] = []
        var polledCount = 0
        while true {
            // One lock per round: the descriptors the last poll found ready, the
            // deadlines that passed, and the next poll's set and timeout.
            let readyDescriptors = polled.prefix(polledCount).dropFirst().filter { $0.revents != 0 }
            let result = state.withLock { state -> (timeout: Int32, until: UInt64, wake: [Int])? in
                if state.stopping { return nil }
                if !readyDescriptors.isEmpty {
                    state.waitingForDescriptor.removeAll { entry in
                        guard readyDescriptors.contains(where: { $0.fd == entry.descriptor && $0.revents & (entry.events | Int16(POLLERR | POLLHUP | POLLNVAL)) != 0 }) else { return false }
                        state.ready.append(entry.task)
                        return true
                    }
                }
                let now = wallClockNow()
                var nearest = UInt64.max
                var index = 0
                while index < state.sleeping.count {
                    let entry = state.sleeping[index]
                    if entry.deadline <= now {
                        state.ready.append(entry.task)
                        state.sleeping.swapAt(index, state.sleeping.count - 1)
                        state.sleeping.removeLast()
                    } else {
                        nearest = min(nearest, entry.deadline)
                        index += 1
                    }
                }
                var expired: [KernelEvent] = []
                for (key, waiters) in state.waitingForEvent {
                    for waiter in waiters {
                        guard let deadline = waiter.deadline else { continue }
                        if deadline <= now { expired.append(key); break }
                        nearest = min(nearest, deadline)
                    }
                }
                // Mutating the dictionary while iterating its keys would copy it
                // once per key: the expired ones are collected first.
                for key in expired {
                    state.waitingForEvent[key]?.removeAll { entry in
                        guard let deadline = entry.deadline else { return false }
                        guard deadline <= now else { nearest = min(nearest, deadline); return false }
                        state.ready.append(entry.task)
                        return true
                    }
                    if state.waitingForEvent[key]?.isEmpty == true { state.waitingForEvent[key] = nil }
                }
                state.waitingForDescriptor.removeAll { entry in
                    guard let deadline = entry.deadline else { return false }
                    guard deadline <= now else { nearest = min(nearest, deadline); return false }
                    state.ready.append(entry.task)
                    return true
                }
                polled.removeAll(keepingCapacity: true)
                polled.append(pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0))
                for entry in state.waitingForDescriptor {
                    polled.append(pollfd(fd: entry.descriptor, events: entry.events, revents: 0))
                }
                let timeout: Int32
                if nearest == .max {
                    timeout = -1
                    state.wakerSleepsUntil = .max
                } else {
                    // poll sleeps at least its timeout (rounded up to a millisecond):
                    // it ends at or after `until`, never before.
                    let wait = min(nearest > now ? nearest - now : 0, longestWait)
                    timeout = Int32((wait + 999_999) / 1_000_000)
                    state.wakerSleepsUntil = now + wait
                }
                return (timeout, state.wakerSleepsUntil, state.workersToWake())
            }
            guard let result else { return }
            unpark(result.wake)
            wakerWillSleep?(result.until)
            polledCount = polled.count
            let count = poll(&polled, nfds_t(polledCount), result.timeout)
            if count <= 0 {
                polledCount = 0
                continue
            }
            if polled[0].revents != 0 { _ = read(wakePipe.read, &drain, drain.count) }
        }
    }
}

/// CLOCK_REALTIME in nanoseconds: deadlines in waitables are wall-clock times,
/// so a sleep interrupted by a restart ends when it would have.
func wallClockNow() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
