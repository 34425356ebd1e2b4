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
        func wait(for count: Int) {
            condition.lock(); defer { condition.unlock() }
            let guardDeadline = Date(timeIntervalSinceNow: 300)
            while list.count < count && condition.wait(until: guardDeadline) {}
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
}
