import Foundation
import PhantomEngine

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
/// Genode gives each component a CPU session with a priority; priorities are
/// recorded on the task for the state report but all slices are equal today.
public final class Scheduler: @unchecked Sendable {
    // @unchecked: every mutable field below is reached only with `condition`
    // held (workers, the waker and callers all lock it first).

    /// Called once when a thread ends (exited or trapped), on a worker.
    public typealias Completion = @Sendable (SliceOutcome) -> Void

    public struct TaskID: Hashable, Sendable {
        public let value: UInt64
    }

    private final class Task: @unchecked Sendable {
        // @unchecked: `stampAtSliceStart` is written by the worker running the
        // task, under the scheduler's lock; the rest is immutable.
        let id: TaskID
        let thread: EngineThread
        let completion: Completion
        var stampAtSliceStart: UInt64 = 0
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

    private let sliceFuel: Int
    private let condition = NSCondition()
    private var ready: [Task] = []
    private var readyHead = 0
    private var sleeping: [(deadline: UInt64, task: Task)] = []
    private var waitingForDescriptor: [DescriptorWaiter] = []
    private var waitingForEvent: [KernelEvent: [(deadline: UInt64?, task: Task)]] = [:]
    /// The signal stamp of each event's last `signal`: a thread that blocks on
    /// an event signalled after its slice began is put back at once (the
    /// signal may have come between its check and its block).
    private var eventStamps: [KernelEvent: UInt64] = [:]
    private var stamp: UInt64 = 0
    private var cancelled: Set<TaskID> = []
    private var running: [TaskID: Task] = [:]
    private var tasks: [TaskID: Task] = [:]
    private var nextID: UInt64 = 1
    private var stopping = false
    private var threads = 0
    private let wakePipe: (read: Int32, write: Int32)

    /// Slices completed, for statistics and tests.
    public private(set) var slices = 0

    public init(workers: Int = 2, sliceFuel: Int = 20_000) {
        self.sliceFuel = sliceFuel
        var fds: [Int32] = [0, 0]
        if pipe(&fds) != 0 { fatalError("phantom: cannot create the scheduler's wake-up pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakePipe = (fds[0], fds[1])
        for index in 0..<max(1, workers) { spawn(name: "phantom-worker-\(index)") { [self] in work() } }
        spawn(name: "phantom-waker") { [self] in wake() }
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    private func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        condition.lock()
        threads += 1
        condition.unlock()
        let thread = Thread {
            body()
            self.condition.lock()
            self.threads -= 1
            self.condition.broadcast()
            self.condition.unlock()
        }
        thread.name = name
        thread.start()
    }

    /// Adds a thread to the run queue; `completion` runs once when it ends.
    @discardableResult
    public func submit(_ thread: EngineThread, completion: @escaping Completion = { _ in }) -> TaskID {
        condition.lock()
        let task = Task(id: TaskID(value: nextID), thread: thread, completion: completion)
        nextID += 1
        tasks[task.id] = task
        ready.append(task)
        condition.broadcast()
        condition.unlock()
        return task.id
    }

    /// Takes a thread out of scheduling (its component is being torn down).
    /// Returns once it is not running; its completion is not called.
    public func cancel(_ id: TaskID) {
        condition.lock()
        defer { condition.unlock() }
        guard let task = tasks.removeValue(forKey: id) else { return }
        cancelled.insert(id)
        ready.removeAll { $0 === task }
        readyHead = min(readyHead, ready.count)
        sleeping.removeAll { $0.task === task }
        waitingForDescriptor.removeAll { $0.task === task }
        for key in waitingForEvent.keys { waitingForEvent[key]?.removeAll { $0.task === task } }
        while running[id] != nil { condition.wait() }
        cancelled.remove(id)
    }

    /// Wakes every thread waiting on `event` (a reply arrived, a request was
    /// queued, a ROM changed). Cheap when nobody waits.
    public func signal(_ event: KernelEvent) {
        condition.lock()
        stamp += 1
        eventStamps[event] = stamp
        if let waiters = waitingForEvent.removeValue(forKey: event), !waiters.isEmpty {
            ready.append(contentsOf: waiters.map(\.task))
            condition.broadcast()
            if waiters.contains(where: { $0.deadline != nil }) { poke() }
        }
        condition.unlock()
    }

    /// Number of threads being scheduled (running, ready or waiting).
    public var taskCount: Int {
        condition.lock(); defer { condition.unlock() }
        return tasks.count
    }

    /// Stops scheduling at the next slice boundaries (threads stay resumable:
    /// their state is in the object space) and ends the worker threads.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        poke()
        while threads > 0 { condition.wait() }
        ready.removeAll()
        sleeping.removeAll()
        waitingForDescriptor.removeAll()
        waitingForEvent.removeAll()
        tasks.removeAll()
        condition.unlock()
    }

    /// Wakes the waker out of `poll` (its wait set changed). Lock held.
    private func poke() {
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    private func nextReady() -> Task? {
        condition.lock()
        defer { condition.unlock() }
        while readyHead == ready.count && !stopping { condition.wait() }
        guard !stopping else { return nil }
        let task = ready[readyHead]
        readyHead += 1
        if readyHead > 1024 && readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        running[task.id] = task
        task.stampAtSliceStart = stamp
        return task
    }

    private func work() {
        while let task = nextReady() {
            let outcome = task.thread.runSlice(fuel: sliceFuel)
            condition.lock()
            slices += 1
            running[task.id] = nil
            let wasCancelled = cancelled.contains(task.id)
            var finished = false
            if !wasCancelled && !stopping {
                switch outcome {
                case .yielded, .blocked(.yield):
                    ready.append(task)
                case let .blocked(.wallClock(deadline)):
                    sleeping.append((deadline, task))
                    poke()
                case let .blocked(.readable(descriptor)):
                    waitingForDescriptor.append(DescriptorWaiter(descriptor: descriptor, events: Int16(POLLIN), deadline: nil, task: task))
                    poke()
                case let .blocked(.readableUntil(descriptor, deadline)):
                    waitingForDescriptor.append(DescriptorWaiter(descriptor: descriptor, events: Int16(POLLIN), deadline: deadline, task: task))
                    poke()
                case let .blocked(.writable(descriptor)):
                    waitingForDescriptor.append(DescriptorWaiter(descriptor: descriptor, events: Int16(POLLOUT), deadline: nil, task: task))
                    poke()
                case let .blocked(.event(event)):
                    block(task, on: event, until: nil)
                case let .blocked(.eventUntil(event, deadline)):
                    block(task, on: event, until: deadline)
                    poke()
                case .exited, .trapped:
                    tasks[task.id] = nil
                    finished = true
                }
            }
            condition.broadcast()
            condition.unlock()
            if finished { task.completion(outcome) }
        }
    }

    /// Lock held.
    private func block(_ task: Task, on event: KernelEvent, until deadline: UInt64?) {
        if let signalled = eventStamps[event], signalled > task.stampAtSliceStart {
            ready.append(task)
        } else {
            waitingForEvent[event, default: []].append((deadline, task))
        }
    }

    /// The waker: one `poll(2)` over the wake-up pipe and every descriptor a
    /// thread waits on, with the nearest deadline as its timeout.
    private func wake() {
        var drain = [UInt8](repeating: 0, count: 64)
        while true {
            condition.lock()
            if stopping { condition.unlock(); return }
            let now = wallClockNow()
            var woken = 0
            sleeping.removeAll { entry in
                guard entry.deadline <= now else { return false }
                ready.append(entry.task)
                woken += 1
                return true
            }
            // Find the expired ones first: mutating the dictionary while
            // iterating its keys copies it once per key.
            var expired: [KernelEvent] = []
            for (key, waiters) in waitingForEvent where waiters.contains(where: { $0.deadline.map { $0 <= now } ?? false }) {
                expired.append(key)
            }
            for key in expired {
                waitingForEvent[key]?.removeAll { entry in
                    guard let deadline = entry.deadline, deadline <= now else { return false }
                    ready.append(entry.task)
                    woken += 1
                    return true
                }
                if waitingForEvent[key]?.isEmpty == true { waitingForEvent[key] = nil }
            }
            waitingForDescriptor.removeAll { entry in
                guard let deadline = entry.deadline, deadline <= now else { return false }
                ready.append(entry.task)
                woken += 1
                return true
            }
            if woken > 0 { condition.broadcast() }
            var polled = [pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
            polled += waitingForDescriptor.map { pollfd(fd: $0.descriptor, events: $0.events, revents: 0) }
            let deadlines = sleeping.map(\.deadline) + waitingForDescriptor.compactMap(\.deadline)
                + waitingForEvent.values.flatMap { $0.compactMap(\.deadline) }
            let timeout: Int32 = deadlines.min().map { next in
                next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 60_000))
            } ?? -1
            condition.unlock()

            let count = poll(&polled, nfds_t(polled.count), timeout)
            if count <= 0 { continue }
            if polled[0].revents != 0 { _ = read(wakePipe.read, &drain, drain.count) }
            let readyDescriptors = polled.dropFirst().filter { $0.revents != 0 }
            guard !readyDescriptors.isEmpty else { continue }
            condition.lock()
            waitingForDescriptor.removeAll { entry in
                guard readyDescriptors.contains(where: { $0.fd == entry.descriptor && $0.revents & (entry.events | Int16(POLLERR | POLLHUP | POLLNVAL)) != 0 }) else { return false }
                ready.append(entry.task)
                return true
            }
            condition.broadcast()
            condition.unlock()
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
