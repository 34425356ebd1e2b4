import Foundation
import PhantomStore

/// Runs many WASI programs on a few worker threads in fuel-bounded time
/// slices (round robin). A program blocked in a host call — a sleep in
/// `poll_oneoff`, a read of empty stdin — leaves the run queue and holds no
/// worker; a waker thread puts it back when its condition may hold, and the
/// blocked call is then re-executed (DESIGN.md invariant 5).
///
/// DESIGN.md gives the scheduler to the kernel; until the kernel exists it
/// lives next to the programs it schedules.
public final class Scheduler: @unchecked Sendable {
    public typealias Completion = @Sendable (WASICommand.Outcome) -> Void

    private struct Task {
        let command: WASICommand
        let completion: Completion
    }

    private let sliceFuel: Int
    private let condition = NSCondition()
    private var ready: [Task] = []
    private var readyHead = 0
    private var sleeping: [(deadline: UInt64, task: Task)] = []
    private var waitingForDescriptor: [(descriptor: Int32, events: Int16, deadline: UInt64?, task: Task)] = []
    private var active = 0
    private var stopping = false
    private var threads = 0

    /// Slices completed, for tests and statistics.
    public private(set) var slices = 0

    public init(workers: Int = 2, sliceFuel: Int = 20_000) {
        self.sliceFuel = sliceFuel
        for index in 0..<max(1, workers) { spawn(name: "phantom-worker-\(index)") { [self] in work() } }
        spawn(name: "phantom-waker") { [self] in wake() }
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

    /// Adds a program; `completion` runs on a worker when it exits, traps, or
    /// (after `stop`) is stopped.
    public func submit(_ command: WASICommand, completion: @escaping Completion = { _ in }) {
        condition.lock()
        active += 1
        ready.append(Task(command: command, completion: completion))
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every submitted program has completed.
    public func waitUntilIdle() {
        condition.lock()
        while active > 0 { condition.wait() }
        condition.unlock()
    }

    /// Stops every program at its next slice boundary (they stay resumable)
    /// and the threads; returns when all are gone.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while threads > 0 { condition.wait() }
        condition.unlock()
        let remaining = ready[readyHead...].map(\.self) + sleeping.map(\.task) + waitingForDescriptor.map(\.task)
        ready.removeAll()
        sleeping.removeAll()
        waitingForDescriptor.removeAll()
        for task in remaining { task.completion(.stopped) }
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
        return task
    }

    private func work() {
        while let task = nextReady() {
            let result = task.command.thread.run(fuel: sliceFuel)
            condition.lock()
            slices += 1
            var outcome: WASICommand.Outcome?
            switch result {
            case .yielded:
                ready.append(task)
            case .blocked(.yield), .blocked(.event), .blocked(.eventUntil):
                ready.append(task)
            case let .blocked(.wallClock(deadline)):
                sleeping.append((deadline, task))
            case let .blocked(.readable(descriptor)):
                waitingForDescriptor.append((descriptor, Int16(POLLIN), nil, task))
            case let .blocked(.readableUntil(descriptor, deadline)):
                waitingForDescriptor.append((descriptor, Int16(POLLIN), deadline, task))
            case let .blocked(.writable(descriptor)):
                waitingForDescriptor.append((descriptor, Int16(POLLOUT), nil, task))
            case .finished:
                outcome = .exited(0)
            case let .exited(code):
                outcome = .exited(code)
            case let .trapped(trap):
                outcome = .trapped(trap)
            }
            condition.broadcast()
            condition.unlock()
            if let outcome {
                task.command.markEnded(outcome)
                task.completion(outcome)
                condition.lock()
                active -= 1
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// Moves sleepers whose deadline passed, and readers and writers whose
    /// descriptor is ready (or whose timeout passed), back to the run queue.
    private func wake() {
        while true {
            condition.lock()
            if stopping { condition.unlock(); return }
            let now = nowNanoseconds()
            var woken = 0
            sleeping.removeAll { entry in
                guard entry.deadline <= now else { return false }
                ready.append(entry.task)
                woken += 1
                return true
            }
            waitingForDescriptor.removeAll { entry in
                var poller = pollfd(fd: entry.descriptor, events: entry.events, revents: 0)
                let timedOut = entry.deadline.map { $0 <= now } ?? false
                guard timedOut || poll(&poller, 1, 0) != 0 else { return false }
                ready.append(entry.task)
                woken += 1
                return true
            }
            if woken > 0 { condition.broadcast() }
            let next = (sleeping.map(\.deadline) + waitingForDescriptor.compactMap(\.deadline)).min()
            let idle = next.map { $0 > now ? min($0 - now, 20_000_000) : 0 } ?? 20_000_000
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(idle) / 1e9))
            condition.unlock()
        }
    }
}
