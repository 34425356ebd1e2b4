import PhantomSpace
import Testing
import WAT
@testable import PhantomWasm

/// An engine and its instances refer to each other; `WasmEngine.close()` breaks
/// that so everything, the space included, is freed once the caller lets go.
@Suite struct EngineLifetimeTests {
    static let source = #"(module (memory 1) (func (export "seven") (result i32) (i32.const 7)))"#

    @Test func aClosedEngineIsFreedWithItsInstancesThreadsAndSpace() throws {
        weak var engine: WasmEngine?
        weak var instance: Instance?
        weak var space: ObjectSpace?
        weak var thread: WasmThread?
        do {
            let strongSpace = try TrapTests.space()
            let strongInstance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.source)), in: strongSpace)
            #expect(try strongInstance.invoke("seven") == .finished([7]), "the scratch thread exists")
            let strongThread = try strongInstance.makeThread("seven")
            #expect(strongThread.run() == .finished([7]))
            engine = strongInstance.engine
            instance = strongInstance
            space = strongSpace
            thread = strongThread
            strongInstance.engine.close()
        }
        #expect(thread == nil)
        #expect(instance == nil)
        #expect(engine == nil)
        #expect(space == nil)
    }

    @Test func withoutCloseTheCycleKeepsTheEngine() throws {
        weak var engine: WasmEngine?
        do {
            let instance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.source)), in: try TrapTests.space())
            engine = instance.engine
        }
        // This documents why `close()` exists; if it starts failing, the cycle is gone
        // and `close()` may become a no-op.
        #expect(engine != nil)
        engine?.close()
        #expect(engine == nil)
    }
}
