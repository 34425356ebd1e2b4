import Foundation
import PhantomSpace
import PhantomStore
import Testing
@testable import PhantomWasm

/// Many programs on few workers: fuel slices interleave them, and a sleeping
/// program holds no worker.
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
            try WASICommand.start(module: sleeper, name: "sleeper", in: space, arguments: ["3", "150"],
                                  environment: [], preopens: [], io: console.io(index))
        }
        for command in commands { scheduler.submit(command) { outcomes.add($0) } }
        scheduler.waitUntilIdle()
        scheduler.stop()
        #expect(outcomes.all == Array(repeating: .exited(0), count: 6))
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
            let command = try WASICommand.start(module: counter, name: "counter", in: space, arguments: ["200000", "100000"],
                                                environment: [], preopens: [], io: console.io(index))
            scheduler.submit(command) { outcomes.add($0) }
        }
        // Snapshots keep working while workers switch between programs.
        for _ in 0..<5 { try space.snapshot() }
        scheduler.waitUntilIdle()
        #expect(scheduler.slices > 20, "programs were sliced, not run to completion one by one")
        scheduler.stop()
        #expect(outcomes.all == Array(repeating: .exited(0), count: 5))
        for index in 0..<5 { #expect(console.output(index) == "count 100000\ncount 200000\ndone 200000\n") }
    }

    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [WASICommand.Outcome] = []
        func add(_ outcome: WASICommand.Outcome) { lock.lock(); list.append(outcome); lock.unlock() }
        var all: [WASICommand.Outcome] { lock.lock(); defer { lock.unlock() }; return list }
    }
}
