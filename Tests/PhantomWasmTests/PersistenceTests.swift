import Foundation
import Synchronization
@testable import PhantomSpace
import PhantomStore
import Testing
import WAT
@testable import PhantomWasm

/// Execution state lives in the object space: a snapshot taken at a safepoint,
/// reopened from the device, continues at exactly that instruction.
@Suite struct PersistenceTests {
    static let source = """
        (module
          (import "env" "started" (func $started))
          (memory (export "mem") 1 200)
          (func (export "count") (param $n i32) (result i32)
            (local $i i32)
            (call $started)
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
                (i32.store (i32.add (i32.const 16) (i32.shl (i32.rem_u (local.get $i) (i32.const 1000)) (i32.const 2)))
                           (i32.add (local.get $i) (i32.load (i32.const 4))))
                (i32.store (i32.const 4) (i32.xor (i32.load (i32.const 4)) (i32.mul (local.get $i) (i32.const 2654435761))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
            (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4))))
          (func $depth (export "depth") (param $n i32) (result i64)
            (if (result i64) (i32.eqz (local.get $n))
              (then (i64.const 0))
              (else (i64.add (i64.mul (i64.extend_i32_u (local.get $n)) (i64.const 3))
                             (call $depth (i32.sub (local.get $n) (i32.const 1)))))))
          (func (export "grow") (param $n i32) (result i64)
            (local $i i32) (local $sum i64) (local $page i32)
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $page (memory.grow (i32.const 1)))
                (i32.store (i32.mul (local.get $page) (i32.const 65536)) (i32.add (local.get $i) (i32.const 7)))
                (i32.store (i32.sub (i32.mul (i32.add (local.get $page) (i32.const 1)) (i32.const 65536)) (i32.const 4))
                           (local.get $page))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
            (local.set $i (i32.const 1))
            (block $done
              (loop $next
                (br_if $done (i32.ge_u (local.get $i) (memory.size)))
                (local.set $sum (i64.add (local.get $sum)
                  (i64.extend_i32_u (i32.add (i32.load (i32.mul (local.get $i) (i32.const 65536)))
                    (i32.load (i32.sub (i32.mul (i32.add (local.get $i) (i32.const 1)) (i32.const 65536)) (i32.const 4)))))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
            (i64.add (local.get $sum) (i64.extend_i32_u (memory.size))))
        )
        """

    /// `env.started` signals a semaphore (so a test knows the guest is running).
    struct Host: HostModuleResolver {
        let started: DispatchSemaphore
        func resolve(module: String, name: String) -> HostFunction? {
            guard module == "env", name == "started" else { return nil }
            let started = started
            return HostFunction(parameters: [], results: []) { _, _ in
                started.signal()
                return .returned([])
            }
        }
    }

    static let options = ObjectSpace.Options(limitBytes: 16 << 30)

    static func fresh() throws -> (MemoryBlockDevice, ObjectSpace, Instance) {
        let device = MemoryBlockDevice()
        let space = try ObjectSpace(store: try Store.create(on: device), options: options)
        let module = try WasmModule(bytes: try wat2wasm(source))
        let instance = try Instance.instantiate(module, in: space, imports: Host(started: DispatchSemaphore(value: 0)))
        return (device, space, instance)
    }

    static func reopen(_ device: MemoryBlockDevice) throws -> (ObjectSpace, WasmEngine) {
        let space = try ObjectSpace(store: try Store.open(device), options: options)
        let engine = try WasmEngine.restore(space, imports: Host(started: DispatchSemaphore(value: 0)))
        return (space, engine)
    }

    static func uninterrupted(_ name: String, _ arguments: [RawValue]) throws -> RunResult {
        let (_, _, instance) = try fresh()
        return try instance.invoke(name, arguments)
    }

    static func runToEnd(_ thread: WasmThread, fuel: Int) -> RunResult {
        while true {
            let result = thread.run(fuel: fuel)
            if case .yielded = result { continue }
            return result
        }
    }

    /// Runs `name` in slices of `fuel`, snapshots after `slicesBeforeSnapshot`
    /// slices, lets the original run on (diverging from the snapshot), then restores
    /// from the device and finishes there.
    static func sliced(_ name: String, _ arguments: [RawValue], fuel: Int, slicesBeforeSnapshot: Int) throws
        -> (restored: RunResult, original: RunResult, statusAtSnapshot: ThreadStatus)
    {
        let (device, space, instance) = try fresh()
        let thread = try instance.makeThread(name, arguments)
        for _ in 0..<slicesBeforeSnapshot {
            #expect(thread.run(fuel: fuel) == .yielded)
        }
        let status = thread.status
        try space.snapshot()
        let original = runToEnd(thread, fuel: fuel)
        let (_, engine) = try reopen(device)
        let restored = try #require(try WasmThread.restore(engine, id: thread.id))
        #expect(restored.status == status)
        return (runToEnd(restored, fuel: fuel), original, status)
    }

    @Test func countingLoopSurvivesSnapshotBetweenSlices() throws {
        let expected = try Self.uninterrupted("count", [20_000])
        let run = try Self.sliced("count", [20_000], fuel: 997, slicesBeforeSnapshot: 7)
        #expect(run.statusAtSnapshot == .running)
        #expect(run.original == expected)
        #expect(run.restored == expected)
    }

    @Test func deepRecursionSurvivesSnapshot() throws {
        let expected = try Self.uninterrupted("depth", [5000])
        #expect(expected == .finished([3 * 5000 * 5001 / 2]))
        let run = try Self.sliced("depth", [5000], fuel: 100, slicesBeforeSnapshot: 31)  // ~3100 frames deep
        #expect(run.restored == expected)
        #expect(run.original == expected)
    }

    @Test func memoryGrowLoopSurvivesSnapshot() throws {
        let expected = try Self.uninterrupted("grow", [150])
        let run = try Self.sliced("grow", [150], fuel: 9, slicesBeforeSnapshot: 8)
        #expect(run.restored == expected)
        #expect(run.original == expected)
    }

    /// A thread about to run `count(n)` in a fresh space; `started` is
    /// signalled once it runs guest code.
    static func countingThread(_ n: UInt32) throws
        -> (MemoryBlockDevice, ObjectSpace, Instance, WasmThread, DispatchSemaphore)
    {
        let device = MemoryBlockDevice()
        let space = try ObjectSpace(store: try Store.create(on: device), options: options)
        let started = DispatchSemaphore(value: 0)
        let module = try WasmModule(bytes: try wat2wasm(source))
        let instance = try Instance.instantiate(module, in: space, imports: Host(started: started))
        return (device, space, instance, try instance.makeThread("count", [RawValue(n)]), started)
    }

    /// A snapshot from another OS thread stops the interpreter at a safepoint in
    /// the middle of a long loop; the restored copy finishes with the same result.
    @Test func concurrentSnapshotWhileRunning() throws {
        let expected = try Self.uninterrupted("count", [400_000])
        let (device, space, instance, thread, started) = try Self.countingThread(400_000)
        let snapshotDone = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var snapshotError: Error?
        Foundation.Thread.detachNewThread {
            started.wait()
            Foundation.Thread.sleep(forTimeInterval: 0.02)
            do { try space.snapshot() } catch { snapshotError = error }
            snapshotDone.signal()
        }
        let original = thread.run()
        snapshotDone.wait()
        #expect(snapshotError == nil)
        #expect(original == expected)
        let (_, engine) = try Self.reopen(device)
        let restored = try #require(try WasmThread.restore(engine, id: thread.id))
        #expect(restored.status == .running)
        let memory = try #require(engine.instance(id: instance.id)?.readMemory(at: 0, count: 4))
        let countAtSnapshot = memory.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        print("concurrent snapshot caught the loop at iteration \(countAtSnapshot) of 400000")
        #expect(Self.runToEnd(restored, fuel: 5000) == expected)
    }

    /// A copy-on-write snapshot of a running thread: the writer is held right
    /// after the cut until the thread has run to its end — rewriting its linear
    /// memory and its stack (written slot by slot, unmarked) all the while —
    /// and the generation still holds memory and live stack exactly as they
    /// were at the cut, and finishes from there with the uninterrupted result.
    @Test func copyOnWriteSnapshotOfARunningThreadHoldsTheCut() throws {
        let expected = try Self.uninterrupted("count", [400_000])
        let (device, space, instance, thread, started) = try Self.countingThread(400_000)
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var original: RunResult?
        Foundation.Thread.detachNewThread {
            original = thread.run()
            finished.signal()
        }
        started.wait()
        let atCut = Mutex<(memory: [UInt8], stack: [UInt8], count: UInt32)?>(nil)
        let stackOffset = space.load(UInt64.self, at: thread.record + ThreadRecord.stack)
        let held = DispatchSemaphore(value: 0)
        space.setCaptureHook { event in
            // The thread runs to its end (or on, a long way) before anything is copied.
            if case .willCopy = event { finished.wait(); held.signal() }
        }
        let committed = Mutex<Result<SnapshotResult, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        space.snapshotInBackground(whileStopped: {
            let sp = space.load(UInt64.self, at: thread.record + ThreadRecord.sp)
            let memory = instance.readMemory(at: 0, count: 65536) ?? []
            atCut.withLock {
                $0 = (memory, space.read(at: stackOffset, count: Int(sp) * 8),
                      memory.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
            }
        }) { result in
            committed.withLock { $0 = result }
            done.signal()
        }
        held.wait()
        done.wait()
        space.setCaptureHook(nil)
        let result = try committed.withLock { $0! }.get()
        #expect(original == expected)
        let cut = try #require(atCut.withLock { $0 })
        #expect(cut.count < 400_000, "the cut fell inside the loop")
        #expect(result.pagesCopiedByMutators > 0, "the thread reached captured pages before the writer")

        let (reopened, engine) = try Self.reopen(device)
        // Required: from a state that is not the cut, the thread could run for ever.
        try #require(engine.instance(id: instance.id)?.readMemory(at: 0, count: 65536) == cut.memory)
        try #require(reopened.read(at: stackOffset, count: cut.stack.count) == cut.stack)
        let restored = try #require(try WasmThread.restore(engine, id: thread.id))
        #expect(restored.status == .running)
        #expect(Self.runToEnd(restored, fuel: 5000) == expected)
    }

    /// A changed translation is read through the stored resume maps
    /// (`ResumeStateTests`); without readable maps it is refused.
    @Test func changedTranslationIsRefusedOnRestore() throws {
        let (device, space, instance) = try Self.fresh()
        let moduleRecord = space.load(UInt64.self, at: instance.record + InstanceRecord.module)
        space.store(UInt64(0xdead_beef), at: moduleRecord + ModuleRecord.checksum)
        space.store(UInt64(0), at: moduleRecord + ModuleRecord.resumeMap)
        try space.snapshot()
        let reopened = try ObjectSpace(store: try Store.open(device), options: Self.options)
        #expect {
            try WasmEngine.restore(reopened, imports: Host(started: DispatchSemaphore(value: 0)))
        } throws: { error in
            "\(error)".contains("checksum")
        }
    }
}
