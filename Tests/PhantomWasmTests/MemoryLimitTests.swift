import PhantomSpace
import Testing
import WAT
@testable import PhantomWasm

/// `Instance.setMemoryLimit`: a live memory moves to a reservation of the new
/// size with its contents; `memory.grow` then succeeds up to the new limit.
@Suite struct MemoryLimitTests {
    static let program = #"""
        (module
          (memory (export "memory") 1)
          (func (export "grow") (result i32) (memory.grow (i32.const 1)))
          (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
          (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
        """#

    @Test func aRaisedLimitLetsMemoryGrowAndKeepsItsContents() throws {
        let space = try TrapTests.space()
        let instance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.program)), in: space,
                                                options: InstanceOptions(memoryQuotaPages: 2))
        #expect(try instance.invoke("grow") == .finished([1]))
        #expect(try instance.invoke("grow") == .finished([UInt64(UInt32.max)]), "the quota of 2 pages")
        #expect(try instance.invoke("store", [100, 0x5eed]) == .finished([]))
        #expect(try instance.invoke("store", [70_000, 0xbeef]) == .finished([]))
        let live = space.liveBytes

        #expect(try instance.setMemoryLimit(pages: 5) == 5)
        #expect(instance.memoryLimitPages == 5)
        #expect(try instance.invoke("load", [100]) == .finished([0x5eed]))
        #expect(try instance.invoke("load", [70_000]) == .finished([0xbeef]))
        #expect(try instance.invoke("grow") == .finished([2]))
        #expect(try instance.invoke("grow") == .finished([3]))
        #expect(try instance.invoke("grow") == .finished([4]))
        #expect(try instance.invoke("grow") == .finished([UInt64(UInt32.max)]))

        // Down again, but never below the pages in use.
        #expect(throws: MemoryLimitError.belowCurrentSize(pages: 5)) { try instance.setMemoryLimit(pages: 3) }
        #expect(try instance.setMemoryLimit(pages: 2 + 3) == 5)
        // The old reservation went back: only the size-class difference remains.
        #expect(space.liveBytes >= live)
        #expect(try instance.invoke("load", [70_000]) == .finished([0xbeef]))
    }
}
