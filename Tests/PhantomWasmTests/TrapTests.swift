import Foundation
import PhantomSpace
import PhantomStore
import Testing
import WAT
@testable import PhantomWasm
import CPhantomDispatch

/// A trap ends only its own instance's call, with the spec's message; an endless
/// loop is preempted when its fuel runs out.
@Suite struct TrapTests {
    static let source = """
        (module
          (type $v (func))
          (type $i (func (result i32)))
          (memory 1 1)
          (table 4 funcref)
          (elem (i32.const 0) $ok)
          (func $ok (result i32) (i32.const 42))
          (func (export "ok") (result i32) (call $ok))
          (func (export "unreachable") (unreachable))
          (func (export "div0") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
          (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
          (func (export "conversion") (result i32) (i32.trunc_f32_s (f32.const nan)))
          (func (export "conversion-overflow") (result i32) (i32.trunc_f64_u (f64.const 1e20)))
          (func (export "oob-load") (result i32) (i32.load (i32.const 65534)))
          (func (export "oob-store") (i64.store (i32.const 65530) (i64.const 1)))
          (func (export "undefined-element") (result i32) (call_indirect (type $i) (i32.const 9)))
          (func (export "uninitialized-element") (result i32) (call_indirect (type $i) (i32.const 1)))
          (func (export "type-mismatch") (call_indirect (type $v) (i32.const 0)))
          (func (export "table-oob") (result funcref) (table.get (i32.const 4)))
          (func $recurse (export "recurse") (call $recurse))
          (func (export "spin") (loop $l (br $l)))
          (func (export "grow-bomb") (result i32) (memory.grow (i32.const 1)))
        )
        """

    static let cases: [(String, String)] = [
        ("unreachable", "unreachable"),
        ("div0", "integer divide by zero"),
        ("overflow", "integer overflow"),
        ("conversion", "invalid conversion to integer"),
        ("conversion-overflow", "integer overflow"),
        ("oob-load", "out of bounds memory access"),
        ("oob-store", "out of bounds memory access"),
        ("undefined-element", "undefined element"),
        ("uninitialized-element", "uninitialized element"),
        ("type-mismatch", "indirect call type mismatch"),
        ("table-oob", "out of bounds table access"),
        ("recurse", "call stack exhausted"),
    ]

    static func space() throws -> ObjectSpace {
        try ObjectSpace(store: try Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 16 << 30))
    }

    @Test func eachTrapEndsOnlyItsInstance() throws {
        let space = try Self.space()
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        let victim = try Instance.instantiate(module, in: space)
        let bystander = try Instance.instantiate(module, in: space)
        for (name, message) in Self.cases {
            let thread = try victim.makeThread(name)
            let result = thread.run()
            #expect(result == .trapped(Trap(message)), "\(name)")
            #expect(thread.status == .trapped)
            #expect(thread.run() == .trapped(Trap(message)), "a trapped thread stays trapped")
            #expect(try bystander.invoke("ok") == .finished([42]))
            #expect(try victim.invoke("ok") == .finished([42]))
        }
    }

    @Test func endlessLoopIsPreempted() throws {
        let space = try Self.space()
        let instance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.source)), in: space)
        let thread = try instance.makeThread("spin")
        for _ in 0..<50 { #expect(thread.run(fuel: 1000) == .yielded) }
        #expect(thread.status == .running)
        #expect(try instance.invoke("ok") == .finished([42]))
    }

    @Test func memoryGrowStopsAtQuota() throws {
        let space = try Self.space()
        let module = try WasmModule(bytes: try wat2wasm("""
            (module (memory 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
            """))
        let instance = try Instance.instantiate(module, in: space, options: InstanceOptions(memoryQuotaPages: 8))
        #expect(try instance.invoke("grow", [7]) == .finished([1]))
        #expect(try instance.invoke("grow", [1]) == .finished([UInt64(UInt32.max)]))
        #expect(instance.memoryPages == 8)
    }

    @Test func blockedHostCallIsReexecuted() throws {
        struct Host: HostModuleResolver {
            func resolve(module: String, name: String) -> HostFunction? {
                HostFunction(parameters: [.i32], results: [.i32]) { context, arguments in
                    // First execution: remember the argument and block; the re-execution returns.
                    if context.pendingCallState == 0 {
                        context.pendingCallState = arguments[0] + 1
                        return .block(.yield)
                    }
                    return .returned([context.pendingCallState * 10])
                }
            }
        }
        let space = try Self.space()
        let module = try WasmModule(bytes: try wat2wasm("""
            (module (import "env" "wait" (func $wait (param i32) (result i32)))
              (func (export "main") (result i32) (i32.add (i32.const 1) (call $wait (i32.const 4)))))
            """))
        let instance = try Instance.instantiate(module, in: space, imports: Host())
        let thread = try instance.makeThread("main")
        #expect(thread.run() == .blocked(.yield))
        #expect(thread.status == .blocked)
        #expect(thread.run() == .finished([51]))
    }

    @Test func unlinkableAndBadModulesFailClearly() throws {
        let space = try Self.space()
        let importing = try WasmModule(bytes: try wat2wasm(#"(module (import "env" "missing" (func)))"#))
        #expect(throws: WasmInstantiationError.unlinkable("unknown import env.missing")) {
            try Instance.instantiate(importing, in: space)
        }
        #expect(throws: WasmValidationError.self) { try WasmModule(bytes: [0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]) }
    }
}
