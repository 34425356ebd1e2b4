import PhantomSpace
import PhantomStore
import Testing
import WAT
@testable import PhantomWasm

/// `WasmEngine.retire`: an ended instance's records leave the registry and
/// every block it owned goes back to the allocator — measured by the space's
/// live bytes, which return to what they were before it was instantiated.
@Suite struct RetireTests {
    static let program = #"""
        (module
          (memory 2 8)
          (table 3 funcref)
          (global $g (mut i32) (i32.const 5))
          (data (i32.const 16) "phantom")
          (elem (i32.const 0) $seven)
          (func $seven (export "seven") (result i32) (i32.const 7))
          (func (export "grow") (result i32)
            (drop (table.grow (ref.null func) (i32.const 20)))
            (memory.grow (i32.const 3)))
          (func (export "trap") (unreachable)))
        """#

    @Test func retiringAnInstanceAndItsThreadsFreesEverythingItOwned() throws {
        let space = try TrapTests.space()
        let module = try WasmModule(bytes: try wat2wasm(Self.program))
        // A first instance creates the registry and its tables; its own blocks are what is measured.
        let keeper = try Instance.instantiate(module, in: space)
        #expect(try keeper.invoke("seven") == .finished([7]), "the scratch thread and the thread table exist")
        let baseline = space.liveBytes
        let instance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.program)), in: space)
        let grower = try instance.makeThread("grow")
        #expect(grower.run() == .finished([2]))
        let trapper = try instance.makeThread("trap")
        guard case .trapped = trapper.run() else { Issue.record("no trap"); return }
        #expect(space.liveBytes > baseline)

        try instance.engine.retire(instance: instance.id, threads: [grower.id, trapper.id])
        #expect(space.liveBytes == baseline, "\(space.liveBytes - baseline) bytes not freed")
        #expect(instance.engine.instance(id: instance.id) == nil)
        #expect(instance.engine.storedThreads().allSatisfy { $0.id != grower.id && $0.id != trapper.id })
        // The space reuses the freed blocks, and the keeper is untouched.
        #expect(try keeper.invoke("seven") == .finished([7]))
        #expect(space.liveBytes == baseline)
        _ = try Instance.instantiate(module, in: space)
    }

    @Test func aRestoreNoLongerLooksForARetiredInstancesImports() throws {
        let device = MemoryBlockDevice()
        let space = try ObjectSpace(store: try Store.create(on: device), options: .init(limitBytes: 1 << 30))
        let source = #"(module (import "host" "tick" (func)) (memory 1) (func (export "run") (call 0)))"#
        let imports = TestHost()
        let ended = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(source)), in: space, imports: imports,
                                             options: InstanceOptions(memoryQuotaPages: 16))
        let survivor = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.program)), in: space)
        try ended.engine.retire(instance: ended.id, threads: [])
        _ = try space.snapshot()
        let survivorID = survivor.id
        ended.engine.close()

        let reopened = try ObjectSpace(store: try Store.open(device), options: .init(limitBytes: 1 << 30))
        // No resolver at all: only the retired instance had host imports.
        let engine = try WasmEngine.restore(reopened, importsFor: { _ in nil })
        #expect(engine.instance(id: ended.id) == nil)
        #expect(try engine.instance(id: survivorID)?.invoke("seven") == .finished([7]))
        engine.close()
    }

    @Test func anInstanceAnotherOneImportsFromIsNotRetired() throws {
        let space = try TrapTests.space()
        let exporter = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.program)), in: space)
        let importer = try Instance.instantiate(
            try WasmModule(bytes: try wat2wasm(#"(module (import "lib" "seven" (func (result i32))) (func (export "x") (result i32) (call 0)))"#)),
            in: space, registered: ["lib": exporter])
        #expect(throws: WasmRetireError.referenced(instance: exporter.id, by: importer.id)) {
            try exporter.engine.retire(instance: exporter.id, threads: [])
        }
        #expect(try importer.invoke("x") == .finished([7]))
        // The importer owns nothing of the exporter's: it can go, and then the exporter.
        try importer.engine.retire(instance: importer.id, threads: [])
        try exporter.engine.retire(instance: exporter.id, threads: [])
    }
}

/// One host function, `host.tick`, that does nothing.
private struct TestHost: HostModuleResolver {
    func resolve(module: String, name: String) -> HostFunction? {
        guard module == "host", name == "tick" else { return nil }
        return HostFunction(parameters: [], results: []) { _, _ in .success }
    }
}
