import Foundation
import PhantomSpace
import PhantomStore
import Testing
import WAT
@testable import PhantomWasm
import CPhantomDispatch

// The translator's instruction selection: each fusion and the constant slots are
// emitted where expected and compute what the unfused code computes.

/// The threaded dispatch (Execution/Dispatch.swift) has one handler per byte value;
/// those above `Op.lastRawValue` trap, the one at `PHANTOM_OP_EXIT` leaves the loop.
@Suite struct DispatchTableTests {
    @Test func everyOpcodeHasAHandlerBelowTheExitOpcode() {
        #expect(Op.allCases.count == Int(Op.lastRawValue) + 1)
        #expect(Op.allCases.last?.rawValue == Op.lastRawValue)
        #expect(Op.lastRawValue < Op.exitRawValue, "the exit opcode is no instruction")
        #expect(Op.exitRawValue == UInt8(PHANTOM_OP_EXIT))
    }
}

/// The fused loads and stores (an `i32.add` address folded into the access) read
/// and write the right bytes, and trap — ending the thread — at the memory's end
/// like the unfused ones (their trap path is a byte in `Machine`, not a throw).
@Suite struct FusedMemoryAccessTests {
    static let source = """
        (module
          (memory 1 1)
          (data (i32.const 100) "\\01\\80\\ff\\7f\\34\\12")
          (func (export "load16s") (param $p i32) (param $i i32) (result i32)
            (i32.load16_s (i32.add (local.get $p) (local.get $i))))
          (func (export "load16u") (param $p i32) (param $i i32) (result i32)
            (i32.load16_u (i32.add (local.get $p) (local.get $i))))
          (func (export "load16s-imm") (param $p i32) (result i32)
            (i32.load16_s offset=1 (i32.add (local.get $p) (i32.const 1))))
          (func (export "load16u-imm") (param $p i32) (result i32)
            (i32.load16_u offset=1 (i32.add (local.get $p) (i32.const 1))))
          (func (export "load") (param $p i32) (param $i i32) (result i32)
            (i32.load (i32.add (local.get $p) (local.get $i))))
          (func (export "store8") (param $p i32) (param $i i32)
            (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.const 7)))
          (func (export "byte") (param $p i32) (result i32) (i32.load8_u (local.get $p)))
          (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
        )
        """

    @Test func fusedAccessesReadAndWriteTheRightBytes() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        let expected: [Op] = [.i32Load16SAdd, .i32Load16UAdd, .i32Load16SAddImm, .i32Load16UAddImm, .i32LoadAdd, .i32Store8AddImm]
        for (index, op) in expected.enumerated() {
            #expect(Op.decode(module.functions[index].words[0]) == op, "function \(index) is translated to one \(op)")
        }
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        // Bytes at 100...: 01 80 ff 7f 34 12 (little-endian halves at 101: 0xff80, at 104: 0x1234).
        #expect(try instance.invoke("load16s", [100, 1]) == .finished([UInt64(UInt32(bitPattern: Int32(Int16(bitPattern: 0xff80))))]))
        #expect(try instance.invoke("load16u", [100, 1]) == .finished([0xff80]))
        #expect(try instance.invoke("load16s-imm", [102]) == .finished([0x1234]))
        #expect(try instance.invoke("load16u-imm", [99]) == .finished([0xff80]))
        #expect(try instance.invoke("store8", [200, 5]) == .finished([]))
        #expect(try instance.invoke("byte", [205]) == .finished([7]))
    }

    @Test func fusedAccessesTrapAtTheEndOfMemory() throws {
        let space = try TrapTests.space()
        let instance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.source)), in: space)
        let cases: [(String, [UInt64])] = [
            ("load16s", [65534, 1]), ("load16u", [65535, 0]), ("load16s-imm", [65533]), ("load16u-imm", [65534]),
            ("load", [65530, 3]), ("store8", [65535, 1]),
        ]
        for (name, arguments) in cases {
            let thread = try instance.makeThread(name, arguments)
            #expect(thread.run() == .trapped(Trap("out of bounds memory access")), "\(name)")
            #expect(thread.status == .trapped)
        }
        #expect(try instance.invoke("load16u", [65534, 0]) == .finished([0]), "the last half-word is in bounds")
        let division = try instance.makeThread("div", [1, 0])
        #expect(division.run() == .trapped(Trap("integer divide by zero")))
        #expect(try instance.invoke("byte", [65535]) == .finished([0]), "the trapped store wrote nothing")
    }
}

/// The operand fusions (a commutative op taking in the producer just emitted) and
/// `copy2`/`copy3` (the swap makes three copies): each is emitted where expected and computes what the unfused code does,
/// whichever side the fused operand is on.
@Suite struct OperandFusionTests {
    static let source = """
        (module
          (memory 1)
          (func (export "add3") (param i32 i32 i32) (result i32)
            (i32.add (local.get 0) (i32.add (local.get 1) (local.get 2))))
          (func (export "add3-left") (param i32 i32 i32) (result i32)
            (i32.add (i32.add (local.get 0) (local.get 1)) (local.get 2)))
          (func (export "muladd") (param i32 i32 i32) (result i32)
            (i32.add (local.get 0) (i32.mul (local.get 1) (local.get 2))))
          (func (export "xor-rotl") (param i32 i32) (result i32)
            (i32.xor (local.get 0) (i32.rotl (local.get 1) (i32.const 7))))
          (func (export "xor-rotr-left") (param i32 i32) (result i32)
            (i32.xor (i32.rotr (local.get 1) (i32.const 7)) (local.get 0)))
          (func (export "xor-shr") (param i32 i32) (result i32)
            (i32.xor (local.get 0) (i32.shr_u (local.get 1) (i32.const 35))))
          (func (export "f64-muladd") (param f64 f64 f64) (result f64)
            (f64.add (local.get 0) (f64.mul (local.get 1) (local.get 2))))
          (func (export "f64-muladd-store") (param i32 f64 f64 f64)
            (f64.store offset=8 (local.get 0) (f64.add (local.get 1) (f64.mul (local.get 2) (local.get 3)))))
          (func (export "swap") (param i32 i32) (result i32) (local i32)
            (local.set 2 (local.get 0)) (local.set 0 (local.get 1)) (local.set 1 (local.get 2))
            (i32.add (i32.mul (local.get 0) (i32.const 1000)) (local.get 1)))
          (func (export "f64-at") (param i32) (result f64) (f64.load offset=8 (local.get 0)))
          (func (export "choose") (param i32 i32 i32) (result i32)
            (i32.xor (local.get 2) (i32.and (local.get 0) (i32.xor (local.get 1) (local.get 2)))))
          (func (export "xor-and-left") (param i32 i32 i32) (result i32)
            (i32.xor (i32.and (local.get 1) (local.get 2)) (local.get 0)))
          (func (export "xorshift") (param i32) (result i32)
            (i32.xor (local.get 0) (i32.shl (local.get 0) (i32.const 45))))
          (func (export "sigma") (param i32) (result i32)
            (i32.xor (i32.xor (i32.rotr (local.get 0) (i32.const 2)) (i32.rotr (local.get 0) (i32.const 13)))
                     (i32.rotr (local.get 0) (i32.const 22))))
        )
        """

    @Test func fusedOperationsAreEmittedAndComputeTheUnfusedResult() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        let expected: [Op] = [.i32Add3, .i32Add3, .i32MulAdd, .i32XorRotlImm, .i32XorRotlImm, .i32XorShrUImm,
                              .f64MulAdd, .f64MulAddStore, .copy3]
        for (index, op) in expected.enumerated() {
            #expect(Op.decode(module.functions[index].words[0]) == op, "function \(index) starts with \(op)")
        }
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        let big: UInt64 = 0xfff0_0001
        #expect(try instance.invoke("add3", [big, big, 5]) == .finished([UInt64(UInt32(truncatingIfNeeded: 2 * big + 5))]))
        #expect(try instance.invoke("add3-left", [big, 3, big]) == .finished([UInt64(UInt32(truncatingIfNeeded: 2 * big + 3))]))
        #expect(try instance.invoke("muladd", [7, 0x10001, 0x10001]) == .finished([UInt64(UInt32(truncatingIfNeeded: 7 + 0x10001 * 0x10001))]))
        let x: UInt32 = 0x8765_4321, y: UInt32 = 0xdead_beef
        let rotl7 = y << 7 | y >> 25, rotr7 = y >> 7 | y << 25
        #expect(try instance.invoke("xor-rotl", [UInt64(x), UInt64(y)]) == .finished([UInt64(x ^ rotl7)]))
        #expect(try instance.invoke("xor-rotr-left", [UInt64(x), UInt64(y)]) == .finished([UInt64(x ^ rotr7)]))
        #expect(try instance.invoke("xor-shr", [UInt64(x), UInt64(y)]) == .finished([UInt64(x ^ (y >> 3))]))
        // Values where the product rounded first differs from a fused multiply-add.
        let a = 1e-16, b = 1.0.nextUp, c = 1.0.nextDown
        #expect((a + b * c) != a.addingProduct(b, c), "the chosen values tell an FMA apart")
        let product = b * c
        #expect(try instance.invoke("f64-muladd", [a.bitPattern, b.bitPattern, c.bitPattern])
                == .finished([(a + product).bitPattern]))
        #expect(try instance.invoke("f64-muladd-store", [64, a.bitPattern, b.bitPattern, c.bitPattern]) == .finished([]))
        #expect(try instance.invoke("f64-at", [64]) == .finished([(a + product).bitPattern]))
        #expect(try instance.invoke("swap", [12, 34]) == .finished([34 * 1000 + 12]))
        // choose: e & (f ^ g) is i32AndXor, and g ^ that is not fused again (its producer is fused).
        #expect(Op.decode(module.functions[10].words[0]) == .i32AndXor)
        #expect(Op.decode(module.functions[11].words[0]) == .i32XorAnd)
        #expect(Op.decode(module.functions[12].words[0]) == .i32XorShlImm)
        for (e, f, g) in [(x, y, UInt32(0x0f0f_3c3c)), (y, x, 0), (0xffff_ffff, 1, 2)] {
            #expect(try instance.invoke("choose", [UInt64(e), UInt64(f), UInt64(g)]) == .finished([UInt64((e & f) ^ (~e & g))]))
            #expect(try instance.invoke("xor-and-left", [UInt64(e), UInt64(f), UInt64(g)]) == .finished([UInt64(e ^ (f & g))]))
        }
        #expect(try instance.invoke("xorshift", [UInt64(x)]) == .finished([UInt64(x ^ (x << 13))]), "the count is taken mod 32")
        #expect(Op.decode(module.functions[13].words[0]) == .i32RotlXorRotlImm)
        func rotr(_ v: UInt32, _ k: UInt32) -> UInt32 { v >> k | v << (32 - k) }
        #expect(try instance.invoke("sigma", [UInt64(y)]) == .finished([UInt64(rotr(y, 2) ^ rotr(y, 13) ^ rotr(y, 22))]))
    }
}

/// A loop counter's step fused into its compare-and-branch (`brI32AddImm…Imm`,
/// `brI32Add…`), and f64 constants folded into `f64AddImm`/`f64MulImm`: the loops
/// run the same number of times as the unfused code, also across the signed and
/// unsigned wrap-around, and a yield inside the fused back-edge resumes exactly.
@Suite struct CounterFusionTests {
    static let source = """
        (module
          (func (export "count-ne") (param $n i32) (result i32) (local $i i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (i32.const 3)))
              (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n)))
              )
            (local.get $s))
          (func (export "count-lts") (param $from i32) (result i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (br_if $l (i32.lt_s (local.tee $from (i32.add (local.get $from) (i32.const 7))) (i32.const 100)))
              )
            (i32.add (i32.mul (local.get $s) (i32.const 1000)) (local.get $from)))
          (func (export "count-ltu") (param $from i32) (result i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (br_if $l (i32.lt_u (local.tee $from (i32.add (local.get $from) (i32.const 7))) (i32.const 100)))
              )
            (local.get $s))
          (func (export "stride") (param $j i32) (param $step i32) (param $n i32) (result i32) (local $s i32)
            (loop $l
              (local.set $s (i32.add (local.get $s) (i32.const 1)))
              (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $j) (local.get $step))) (local.get $n)))
              )
            (i32.add (i32.mul (local.get $s) (i32.const 1000)) (local.get $j)))
          (func (export "f64-consts") (param f64) (result f64)
            (f64.sub (f64.mul (f64.add (local.get 0) (f64.const 0.5)) (f64.const 3)) (f64.const 0.25)))
        )
        """

    static func words(_ function: FunctionCode) -> [Op] {
        // Decodes instruction heads by walking the lengths of the ops these functions use.
        var ops: [Op] = []
        for index in 0..<function.count { ops.append(Op(rawValue: UInt8(truncatingIfNeeded: function.words[index])) ?? .unreachable) }
        return ops
    }

    @Test func fusedCounterLoopsCountLikeTheUnfusedOnes() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        #expect(Self.words(module.functions[0]).contains(.brI32AddImmNeImm) == false,
                "`i != n` with n a local is not a constant compare")
        #expect(Self.words(module.functions[1]).contains(.brI32AddImmLtSImm))
        #expect(Self.words(module.functions[2]).contains(.brI32AddImmLtUImm))
        #expect(Self.words(module.functions[3]).contains(.brI32AddLtU))
        #expect(Self.words(module.functions[4]).contains(.f64AddImm))
        #expect(Self.words(module.functions[4]).contains(.f64MulImm))
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        #expect(try instance.invoke("count-ne", [5]) == .finished([15]))
        // Signed: -50 + 7k < 100 until k = 22 (104).
        #expect(try instance.invoke("count-lts", [UInt64(UInt32(bitPattern: -50))]) == .finished([22 * 1000 + 104]))
        // Unsigned: 2^32 - 13 is not below 100, so one pass (a signed compare would go on).
        #expect(try instance.invoke("count-ltu", [UInt64(UInt32.max - 19)]) == .finished([1]))
        #expect(try instance.invoke("count-ltu", [0]) == .finished([15]))
        #expect(try instance.invoke("stride", [3, 5, 50]) == .finished([10 * 1000 + 53]))
        let x = 1.25
        #expect(try instance.invoke("f64-consts", [x.bitPattern]) == .finished([((x + 0.5) * 3 - 0.25).bitPattern]))
    }

    @Test func aFusedBackEdgeYieldsAndResumesExactly() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        let thread = try instance.makeThread("stride", [0, 1, 100_000])
        var slices = 0
        var result = thread.run(fuel: 997)
        while result == .yielded {
            slices += 1
            result = thread.run(fuel: 997)
        }
        #expect(slices > 50, "the loop's back-edges took fuel")
        let expected: UInt64 = UInt64(UInt32(truncatingIfNeeded: 100_000 * 1000 + 100_000))
        #expect(result == .finished([expected]), "resumed after every yield, it counts like an uninterrupted run")
        #expect(try instance.invoke("stride", [0, 1, 100_000]) == .finished([expected]))
    }
}

/// `x[i] ± a * b` stored back where `x[i]` was just loaded from: one in-place
/// update (`f64MulAddUpdate`, `f64MulSubUpdate`) with one bounds check, which
/// traps without writing; a product also kept in a local is still written there.
@Suite struct UpdateFusionTests {
    static let source = """
        (module
          (memory 1)
          (func (export "sub-update") (param $p i32) (param f64 f64)
            (f64.store offset=16 (local.get $p)
              (f64.sub (f64.load offset=16 (local.get $p)) (f64.mul (local.get 1) (local.get 2)))))
          (func (export "add-update") (param $p i32) (param f64 f64)
            (f64.store offset=16 (local.get $p)
              (f64.add (f64.load offset=16 (local.get $p)) (f64.mul (local.get 1) (local.get 2)))))
          (func (export "add-update-product-first") (param $p i32) (param f64 f64)
            (f64.store offset=16 (local.get $p)
              (f64.add (f64.mul (local.get 1) (local.get 2)) (f64.load offset=16 (local.get $p)))))
          (func (export "product-kept") (param $p i32) (param f64 f64) (result f64) (local $t f64)
            (f64.store offset=16 (local.get $p)
              (f64.add (local.tee $t (f64.mul (local.get 1) (local.get 2))) (f64.load offset=16 (local.get $p))))
            (local.get $t))
          (func (export "other-offset") (param $p i32) (param f64 f64)
            (f64.store offset=24 (local.get $p)
              (f64.sub (f64.load offset=16 (local.get $p)) (f64.mul (local.get 1) (local.get 2)))))
          (func (export "set") (param i32 f64) (f64.store offset=16 (local.get 0) (local.get 1)))
          (func (export "get") (param i32) (result f64) (f64.load offset=16 (local.get 0)))
          (func (export "get24") (param i32) (result f64) (f64.load offset=24 (local.get 0)))
        )
        """

    @Test func inPlaceUpdatesComputeTheUnfusedResult() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        let expected: [Op] = [.f64MulSubUpdate, .f64MulAddUpdate, .f64MulAddUpdate]
        for (index, op) in expected.enumerated() {
            #expect(Op.decode(module.functions[index].words[0]) == op, "function \(index) is one \(op)")
        }
        #expect(Op.decode(module.functions[3].words[0]) != .f64MulAddUpdate, "the tee'd product must still reach its local")
        #expect(Op.decode(module.functions[4].words[0]) != .f64MulSubUpdate, "another offset is no update")
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        let x = 1.5, a = 0.1, b = 0.7
        func check(_ name: String, _ expected: Double, at address: UInt64 = 40, read: String = "get") throws {
            #expect(try instance.invoke("set", [address, x.bitPattern]) == .finished([]))
            #expect(try instance.invoke(name, [address, a.bitPattern, b.bitPattern]) == .finished([]))
            #expect(try instance.invoke(read, [address]) == .finished([expected.bitPattern]), "\(name)")
        }
        try check("sub-update", x - a * b)
        try check("add-update", x + a * b)
        try check("add-update-product-first", a * b + x)
        try check("other-offset", x - a * b, read: "get24")
        #expect(try instance.invoke("set", [40, x.bitPattern]) == .finished([]))
        #expect(try instance.invoke("product-kept", [40, a.bitPattern, b.bitPattern]) == .finished([(a * b).bitPattern]))
        #expect(try instance.invoke("get", [40]) == .finished([(a * b + x).bitPattern]))
        // 65536 - 16 - 4: the 8 bytes at 65516 + 16 run past the end; nothing is written.
        for name in ["sub-update", "add-update", "add-update-product-first"] {
            let thread = try instance.makeThread(name, [65516, a.bitPattern, b.bitPattern])
            #expect(thread.run() == .trapped(Trap("out of bounds memory access")), "\(name)")
        }
        #expect(try instance.invoke("get", [65512]) == .finished([0]), "the trapped updates wrote nothing")
    }
}

/// A load from an address just computed into a local (`local.tee`): one
/// instruction that still writes the local, and traps like the unfused load.
@Suite struct TeeLoadFusionTests {
    static let source = """
        (module
          (memory 1)
          (data (i32.const 96) "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c")
          (func (export "f64-tee") (param $base i32) (param $i i32) (result i64) (local $p i32)
            (i64.reinterpret_f64 (f64.load offset=2 (local.tee $p (i32.add (local.get $base) (local.get $i)))))
            (i64.extend_i32_u (local.get $p)) (i64.const 32) (i64.shl) (i64.add))
          (func (export "i32-tee") (param $base i32) (param $i i32) (result i32) (local $p i32)
            (i32.load (local.tee $p (i32.add (local.get $base) (local.get $i))))
            (i32.mul (local.get $p) (i32.const 0x1000000)) (i32.add))
        )
        """

    @Test func teeLoadsWriteTheLocalAndLoad() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        #expect(Op.decode(module.functions[0].words[0]) == .i64LoadAddTee)
        #expect(Op.decode(module.functions[1].words[0]) == .i32LoadAddTee)
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        // 96 + 1 + 2 = 99: bytes 04..0b; p = 97.
        let loaded: UInt64 = 0x0b0a_0908_0706_0504
        #expect(try instance.invoke("f64-tee", [96, 1]) == .finished([loaded &+ (97 << 32)]))
        #expect(try instance.invoke("i32-tee", [96, 2]) == .finished([UInt64(UInt32(truncatingIfNeeded: 0x0605_0403 &+ 98 &* 0x100_0000))]))
        // The address wraps like i32.add: (0xffff_fff0 + 0x70) mod 2^32 = 0x60 = 96.
        #expect(try instance.invoke("i32-tee", [0xffff_fff0, 0x70]) == .finished([UInt64(UInt32(truncatingIfNeeded: 0x0403_0201 &+ 96 &* 0x100_0000))]))
        let thread = try instance.makeThread("f64-tee", [65530, 0])
        #expect(thread.run() == .trapped(Trap("out of bounds memory access")))
    }
}

/// A count-down loop (`i -= 1; br_if` on i itself) becomes one step + test + jump.
@Suite struct CountDownFusionTests {
    @Test func countDownLoopsRunTheirCount() throws {
        let module = try WasmModule(bytes: try wat2wasm("""
            (module
              (func (export "down") (param $i i32) (result i32) (local $s i32)
                (loop $l
                  (local.set $s (i32.add (local.get $s) (i32.const 2)))
                  (br_if $l (local.tee $i (i32.add (local.get $i) (i32.const -1)))))
                (local.get $s))
              (func (export "until-zero") (param $i i32) (result i32) (local $s i32)
                (block $done
                  (loop $l
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br_if $done (i32.eqz (local.tee $i (i32.add (local.get $i) (i32.const -1)))))
                    (br $l)))
                (local.get $s)))
            """))
        #expect(CounterFusionTests.words(module.functions[0]).contains(.brI32AddImmNeImm))
        #expect(CounterFusionTests.words(module.functions[1]).contains(.brI32AddImmEqImm))
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        #expect(try instance.invoke("down", [10]) == .finished([20]))
        #expect(try instance.invoke("down", [1]) == .finished([2]))
        #expect(try instance.invoke("down", [3]) == .finished([6]))
        #expect(try instance.invoke("until-zero", [7]) == .finished([7]))
    }
}

/// A multiplication by a 16-bit value just loaded (`i32MulLoad16SAddImm`), either
/// side: sign-extended like `i32.load16_s`, and the load's trap is kept.
@Suite struct MultiplyByLoadFusionTests {
    @Test func multiplyByALoadedHalfWord() throws {
        let module = try WasmModule(bytes: try wat2wasm("""
            (module
              (memory 1)
              (data (i32.const 104) "\\fe\\ff\\07\\00")
              (func (export "right") (param i32 i32) (result i32)
                (i32.mul (local.get 0) (i32.load16_s offset=2 (i32.add (local.get 1) (i32.const 2)))))
              (func (export "left") (param i32 i32) (result i32)
                (i32.mul (i32.load16_s offset=2 (i32.add (local.get 1) (i32.const 4))) (local.get 0)))
              (func (export "f64-sub") (param f64 i32) (result f64)
                (f64.sub (local.get 0) (f64.load offset=8 (i32.add (local.get 1) (i32.const 8)))))
              (func (export "f64-sub-left") (param f64 i32) (result f64)
                (f64.sub (f64.load offset=8 (i32.add (local.get 1) (i32.const 8))) (local.get 0)))
              (func (export "f64-put") (param i32 f64) (f64.store offset=16 (local.get 0) (local.get 1))))
            """))
        #expect(Op.decode(module.functions[0].words[0]) == .i32MulLoad16SAddImm)
        #expect(Op.decode(module.functions[1].words[0]) == .i32MulLoad16SAddImm)
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        // 100 + 2 + 2 = 104: 0xfffe = -2; 100 + 4 + 2 = 106: 7.
        #expect(try instance.invoke("right", [1000, 100]) == .finished([UInt64(UInt32(bitPattern: -2000))]))
        #expect(try instance.invoke("left", [1000, 100]) == .finished([7000]))
        let thread = try instance.makeThread("right", [3, 65531])
        #expect(thread.run() == .trapped(Trap("out of bounds memory access")))
        // a - x[i] fuses; x[i] - a (not commutative) must not.
        #expect(Op.decode(module.functions[2].words[0]) == .f64SubLoadAddImm)
        #expect(Op.decode(module.functions[3].words[0]) != .f64SubLoadAddImm)
        let a = 10.25, x = 0.5
        #expect(try instance.invoke("f64-put", [200, x.bitPattern]) == .finished([]))
        #expect(try instance.invoke("f64-sub", [a.bitPattern, 200]) == .finished([(a - x).bitPattern]))
        #expect(try instance.invoke("f64-sub-left", [a.bitPattern, 200]) == .finished([(x - a).bitPattern]))
        let subtraction = try instance.makeThread("f64-sub", [a.bitPattern, 65520])
        #expect(subtraction.run() == .trapped(Trap("out of bounds memory access")))
    }
}

/// Constants read inside loops live in constant slots of the frame (Translator.swift,
/// `Frame`): no instruction writes them in the loop, every new frame gets them,
/// a callee's frame does not overwrite its caller's, and constants folded into
/// immediates take no slot.
@Suite struct ConstantSlotTests {
    static let source = """
        (module
          (memory 1)
          ;; sum of select(7, 0, i & 1) for i < n: both arms are constant slots
          (func (export "odd-sevens") (param i32) (result i64) (local i64 i32)
            (loop $l
              (local.set 1 (i64.add (local.get 1)
                (select (i64.const 7) (i64.const 0) (i32.and (local.get 2) (i32.const 1)))))
              (local.set 2 (i32.add (local.get 2) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get 2) (local.get 0))))
            (local.get 1))
          ;; a loop whose constants are read after a recursive call in its body
          (func $nested (export "nested") (param i32) (result i32) (local i32 i32)
            (if (i32.eqz (local.get 0)) (then (return (i32.const 1))))
            (loop $l
              (local.set 1 (i32.add (local.get 1)
                (i32.add (call $nested (i32.sub (local.get 0) (i32.const 1)))
                         (select (i32.const 1000) (i32.const 3) (local.get 2)))))
              (local.set 2 (i32.add (local.get 2) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get 2) (i32.const 2))))
            (local.get 1))
          ;; constants only folded into immediates: no slot
          (func (export "count") (param i32) (result i32) (local i32)
            (loop $l
              (local.set 1 (i32.add (local.get 1) (i32.const 3)))
              (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
            (local.get 1))
          ;; a constant stored as a byte and passed to a call inside a loop
          (func $id (param i32) (result i32) (local.get 0))
          (func (export "fill") (param i32 i32) (result i32) (local i32 i32)
            (loop $l
              (i32.store8 (i32.add (local.get 1) (local.get 2)) (i32.const 0x5a))
              (local.set 3 (i32.add (local.get 3) (call $id (i32.const 2))))
              (local.set 2 (i32.add (local.get 2) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get 2) (local.get 0))))
            (i32.add (local.get 3) (i32.load8_u (i32.add (local.get 1) (i32.sub (local.get 0) (i32.const 1))))))
        )
        """

    @Test func constantsReadInLoopsComeFromSlots() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        let oddSevens = module.functions[0]
        #expect(oddSevens.constantCount == 2, "7 and 0 (the mask 1 is an immediate)")
        #expect(Array(UnsafeBufferPointer(start: oddSevens.constants, count: oddSevens.constantCount)).sorted() == [0, 7])
        let opcodes = (0..<oddSevens.count).map { Op.decode(oddSevens.words[$0]) }
        #expect(!opcodes.contains(.i64Const), "no constant is written inside the loop")
        #expect(module.functions[1].constantCount == 2)
        #expect(module.functions[2].constantCount == 0)
        #expect(module.functions[4].constantCount == 1, "2 (the call argument); 0x5a goes into the store")
        #expect(ControlFusionTests.contains(module.functions[4], .i32Store8AddImm))

        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        #expect(try instance.invoke("odd-sevens", [10]) == .finished([35]))
        #expect(try instance.invoke("odd-sevens", [1]) == .finished([0]))
        // nested(n) = 2 * nested(n - 1) + 1003 (arms 3 then 1000), nested(0) = 1
        var expected: UInt64 = 1
        for _ in 0..<6 { expected = 2 * expected + 1003 }
        #expect(try instance.invoke("nested", [6]) == .finished([expected]))
        #expect(try instance.invoke("count", [10]) == .finished([12]))
        #expect(try instance.invoke("fill", [5, 16]) == .finished([10 + 0x5a]))
        #expect(instance.readMemory(at: 15, count: 7) == [0, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0])
    }
}

/// The control fusions found in coremark's list code: a copy joins the jump after
/// it, a load joins the `br_if`/`if` that tests the loaded value, a mask joins an
/// equality jump. Each is emitted and behaves like the unfused instructions,
/// including a trapping load that must neither write nor jump.
@Suite struct ControlFusionTests {
    static let source = """
        (module
          (memory 1)
          ;; a list at 16 -> 32 -> 48 -> 0 (next pointer first, then a value)
          (data (i32.const 16) "\\20\\00\\00\\00\\05\\01\\00\\00")
          (data (i32.const 32) "\\30\\00\\00\\00\\07\\02\\00\\00")
          (data (i32.const 48) "\\00\\00\\00\\00\\09\\03\\00\\00")
          ;; fib(n) mod 2^32, its loop ending in a copy and a back-edge br
          (func (export "fib") (param i32) (result i32) (local i32 i32 i32)
            (local.set 2 (i32.const 1))
            (block $done
              (loop $l
                (br_if $done (i32.eqz (local.get 0)))
                (local.set 3 (i32.add (local.get 1) (local.get 2)))
                (local.set 1 (local.get 2))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (local.set 2 (local.get 3))
                (br $l)))
            (local.get 1))
          (func (export "choose") (param i32 i32 i32) (result i32)
            (if (result i32) (local.get 0) (then (local.get 1)) (else (local.get 2))))
          ;; nodes from p on (p = p->next; while (p))
          (func (export "length") (param i32) (result i32) (local i32)
            (loop $l
              (local.set 1 (i32.add (local.get 1) (i32.const 1)))
              (br_if $l (local.tee 0 (i32.load (local.get 0)))))
            (local.get 1))
          ;; whether p has a successor, through `if` on the loaded next pointer
          (func (export "has-next") (param i32) (result i32)
            (if (result i32) (i32.load (local.get 0)) (then (i32.const 1)) (else (i32.const 0))))
          ;; the first node whose value's low byte is v: (p->value & 0xff) == v
          (func (export "find") (param i32 i32) (result i32)
            (block $found
              (loop $l
                (br_if $found (i32.eq (i32.and (i32.load offset=4 (local.get 0)) (i32.const 0xff)) (local.get 1)))
                (br_if $l (local.tee 0 (i32.load (local.get 0))))))
            (local.get 0))
          (func (export "low-byte-is") (param i32 i32) (result i32)
            (if (result i32) (i32.eq (local.get 1) (i32.and (local.get 0) (i32.const 0xff)))
              (then (i32.const 1)) (else (i32.const 0))))
        )
        """

    static func contains(_ code: FunctionCode, _ op: Op) -> Bool {
        (0..<code.count).contains { Op.decode(code.words[$0]) == op }
    }

    @Test func fusedControlIsEmittedAndBehavesAsUnfused() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        #expect(Self.contains(module.functions[0], .copyJump), "the loop's back-edge")
        #expect(Self.contains(module.functions[1], .copyJump), "the then-arm's value")
        #expect(Self.contains(module.functions[2], .i32LoadBrIf))
        #expect(Self.contains(module.functions[3], .i32LoadBrUnless))
        #expect(Self.contains(module.functions[4], .brI32EqAndImm))
        #expect(Self.contains(module.functions[4], .i32LoadBrIf))
        #expect(Self.contains(module.functions[5], .brI32NeAndImm))

        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        // Run in slices of 1000 units of fuel, so that many yields happen at copyJump's back-edge.
        var a: UInt32 = 0, b: UInt32 = 1
        for _ in 0..<100_000 { (a, b) = (b, a &+ b) }
        let thread = try instance.makeThread("fib", [100_000])
        var slices = 1
        var result = thread.run(fuel: 1000)
        while result == .yielded {
            slices += 1
            result = thread.run(fuel: 1000)
        }
        #expect(result == .finished([UInt64(a)]))
        #expect(slices >= 100, "the loop yielded at its back-edge")
        #expect(try instance.invoke("fib", [10]) == .finished([55]))
        #expect(try instance.invoke("choose", [1, 11, 22]) == .finished([11]))
        #expect(try instance.invoke("choose", [0, 11, 22]) == .finished([22]))
        #expect(try instance.invoke("length", [16]) == .finished([3]))
        #expect(try instance.invoke("length", [48]) == .finished([1]))
        #expect(try instance.invoke("has-next", [32]) == .finished([1]))
        #expect(try instance.invoke("has-next", [48]) == .finished([0]))
        #expect(try instance.invoke("find", [16, 7]) == .finished([32]))
        #expect(try instance.invoke("find", [16, 9]) == .finished([48]))
        #expect(try instance.invoke("find", [16, 8]) == .finished([0]), "not found: the walk ends at null")
        #expect(try instance.invoke("low-byte-is", [0x1234, 0x34]) == .finished([1]))
        #expect(try instance.invoke("low-byte-is", [0x1234, 0x1234]) == .finished([0]), "the mask applies")
        for function in ["length", "has-next"] {
            #expect(try instance.invoke(function, [65534]) == .trapped(Trap("out of bounds memory access")), "\(function)")
        }
    }
}

/// Two 16-bit loads multiplied (`i32MulLoad16SPair`), counting zeros
/// (`i32AddEqz`) and three-way i64 sums (`i64Add3`): emitted, and computing the
/// unfused result on either operand side, with signed halves and traps.
@Suite struct PairFusionTests {
    static let source = """
        (module
          (memory 1)
          ;; x[i] * y[i] for int16 arrays at 0x100 + 2i and 0x200 + 2i (offsets 4 and 6)
          (func (export "product") (param i32 i32) (result i32)
            (i32.mul (i32.load16_s offset=4 (i32.add (local.get 0) (i32.const 0x100)))
                     (i32.load16_s offset=6 (i32.add (local.get 1) (i32.const 0x200)))))
          (func (export "zeros") (param i32 i32 i32) (result i32)
            (i32.add (i32.add (local.get 0) (i32.eqz (local.get 1))) (i32.eqz (local.get 2))))
          (func (export "zeros-left") (param i32 i32) (result i32)
            (i32.add (i32.eqz (local.get 1)) (local.get 0)))
          (func (export "sum3") (param i64 i64 i64) (result i64)
            (i64.add (local.get 0) (i64.add (local.get 1) (local.get 2))))
          (func (export "sum3-left") (param i64 i64 i64) (result i64)
            (i64.add (i64.add (local.get 0) (local.get 1)) (local.get 2)))
          (func (export "store16") (param i32 i32) (i32.store16 (local.get 0) (local.get 1)))
        )
        """

    @Test func pairFusionsAreEmittedAndComputeTheUnfusedResult() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        #expect(Op.decode(module.functions[0].words[0]) == .i32MulLoad16SPair)
        #expect(ControlFusionTests.contains(module.functions[1], .i32AddEqz))
        #expect(Op.decode(module.functions[2].words[0]) == .i32AddEqz)
        #expect(Op.decode(module.functions[3].words[0]) == .i64Add3)
        #expect(Op.decode(module.functions[4].words[0]) == .i64Add3)

        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        func store16(_ address: UInt64, _ value: Int16) throws {
            #expect(try instance.invoke("store16", [address, UInt64(UInt16(bitPattern: value))]) == .finished([]))
        }
        try store16(0x100 + 10 + 4, -300)
        try store16(0x200 + 20 + 6, 7000)
        #expect(try instance.invoke("product", [10, 20]) == .finished([UInt64(UInt32(bitPattern: -300 * 7000))]))
        try store16(0x200 + 20 + 6, -32768)
        #expect(try instance.invoke("product", [10, 20]) == .finished([UInt64(UInt32(bitPattern: -300 * -32768))]))
        // The second address past the memory (the first one fine), and the first one wrapping around.
        #expect(try instance.invoke("product", [10, 65534 - 0x200]) == .trapped(Trap("out of bounds memory access")))
        #expect(try instance.invoke("product", [UInt64(UInt32.max - 0xff), 20]) == .finished([0]),
                "0xffffff00 + 0x100 wraps to 0 as in the unfused i32.add")
        #expect(try instance.invoke("zeros", [5, 0, 0]) == .finished([7]))
        #expect(try instance.invoke("zeros", [5, 1, 0x8000_0000]) == .finished([5]))
        #expect(try instance.invoke("zeros-left", [UInt64(UInt32.max), 0]) == .finished([0]), "wraps at 32 bits")
        #expect(try instance.invoke("zeros-left", [9, 3]) == .finished([9]))
        let big = UInt64.max - 1
        #expect(try instance.invoke("sum3", [big, 3, 5]) == .finished([big &+ 8]))
        #expect(try instance.invoke("sum3-left", [1, big, 7]) == .finished([big &+ 8]))
    }
}

/// `(x << 16) >> 16` and `(x << 24) >> 24` become the sign extensions (clang-14's
/// `(int16_t)`/`(int8_t)` casts), inside and outside loops, and three copies in a
/// row one `copy3` that keeps their order.
@Suite struct ShiftAndCopyFusionTests {
    static let source = """
        (module
          (func (export "int16") (param i32) (result i32)
            (i32.shr_s (i32.shl (local.get 0) (i32.const 16)) (i32.const 16)))
          (func (export "int8") (param i32) (result i32)
            (i32.shr_s (i32.shl (local.get 0) (i32.const 24)) (i32.const 24)))
          (func (export "not-an-extension") (param i32) (result i32)
            (i32.shr_s (i32.shl (local.get 0) (i32.const 16)) (i32.const 8)))
          ;; sum of (int16_t)(i * 0x1234) for i < n, the casts inside a loop
          (func (export "sum-int16") (param i32) (result i32) (local i32 i32)
            (loop $l
              (local.set 2 (i32.add (local.get 2)
                (i32.shr_s (i32.shl (i32.mul (local.get 1) (i32.const 0x1234)) (i32.const 16)) (i32.const 16))))
              (local.set 1 (i32.add (local.get 1) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
            (local.get 2))
          ;; rotate (a, b, c, d) left n times: t = a; a = b; b = c; c = d; d = t
          (func (export "rotate") (param i32 i32 i32 i32 i32) (result i32) (local i32)
            (block $done
              (loop $l
                (br_if $done (i32.eqz (local.get 4)))
                (local.set 5 (local.get 0))
                (local.set 0 (local.get 1))
                (local.set 1 (local.get 2))
                (local.set 2 (local.get 3))
                (local.set 3 (local.get 5))
                (local.set 4 (i32.sub (local.get 4) (i32.const 1)))
                (br $l)))
            (i32.add (i32.add (i32.mul (local.get 0) (i32.const 1000)) (i32.mul (local.get 1) (i32.const 100)))
                     (i32.add (i32.mul (local.get 2) (i32.const 10)) (local.get 3))))
        )
        """

    @Test func shiftsBecomeExtensionsAndCopiesJoin() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        #expect(Op.decode(module.functions[0].words[0]) == .i32Extend16S)
        #expect(Op.decode(module.functions[1].words[0]) == .i32Extend8S)
        #expect(!ControlFusionTests.contains(module.functions[2], .i32Extend16S))
        #expect(ControlFusionTests.contains(module.functions[3], .i32Extend16S))
        #expect(ControlFusionTests.contains(module.functions[4], .copy3))
        #expect(ControlFusionTests.contains(module.functions[4], .copy2), "five copies: copy3, then copy2")

        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        #expect(try instance.invoke("int16", [0x1_8001]) == .finished([UInt64(UInt32(bitPattern: -32767))]))
        #expect(try instance.invoke("int16", [0x7fff]) == .finished([0x7fff]))
        #expect(try instance.invoke("int8", [0x1ff]) == .finished([UInt64(UInt32.max)]))
        #expect(try instance.invoke("int8", [0x17f]) == .finished([0x7f]))
        #expect(try instance.invoke("not-an-extension", [0x8001]) == .finished([UInt64(UInt32(bitPattern: Int32(bitPattern: 0x8001_0000) >> 8))]))
        var sum: Int32 = 0
        for i in 0..<1000 { sum &+= Int32(Int16(truncatingIfNeeded: i &* 0x1234)) }
        #expect(try instance.invoke("sum-int16", [1000]) == .finished([UInt64(UInt32(bitPattern: sum))]))
        #expect(try instance.invoke("rotate", [1, 2, 3, 4, 1]) == .finished([2341]))
        #expect(try instance.invoke("rotate", [1, 2, 3, 4, 6]) == .finished([3412]))
    }
}

/// `f64.sqrt` taken into the multiplication or division that consumes it
/// (`f64MulSqrt`, `f64DivSqrt`, `f64DivMulSqrt`: n-body's `dt / (d2 * sqrt(d2))`),
/// with the same rounding as the separate instructions; a square root on the left
/// of a division is not fused.
@Suite struct SquareRootFusionTests {
    static let source = """
        (module
          (func (export "mul-sqrt") (param f64 f64) (result f64)
            (f64.mul (local.get 0) (f64.sqrt (local.get 1))))
          (func (export "sqrt-mul") (param f64 f64) (result f64)
            (f64.mul (f64.sqrt (local.get 1)) (local.get 0)))
          (func (export "div-sqrt") (param f64 f64) (result f64)
            (f64.div (local.get 0) (f64.sqrt (local.get 1))))
          (func (export "sqrt-div") (param f64 f64) (result f64)
            (f64.div (f64.sqrt (local.get 1)) (local.get 0)))
          (func (export "inverse-cube") (param f64 f64) (result f64)
            (f64.div (local.get 0) (f64.mul (local.get 1) (f64.sqrt (local.get 1)))))
        )
        """

    @Test func squareRootsJoinTheirConsumers() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        let expected: [Op?] = [.f64MulSqrt, .f64MulSqrt, .f64DivSqrt, nil, .f64DivMulSqrt]
        for (index, op) in expected.enumerated() {
            let ops = (0..<module.functions[index].count).map { Op.decode(module.functions[index].words[$0]) }
            if let op { #expect(ops.first == op, "function \(index)") } else { #expect(ops.contains(.f64Sqrt), "function \(index)") }
        }
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        func call(_ name: String, _ a: Double, _ b: Double) throws -> Double? {
            guard case .finished(let results) = try instance.invoke(name, [a.bitPattern, b.bitPattern]) else { return nil }
            return results.first.map { Double(bitPattern: $0) }
        }
        let a = 0.1, b = 2.7
        #expect(try call("mul-sqrt", a, b) == a * b.squareRoot())
        #expect(try call("sqrt-mul", a, b) == b.squareRoot() * a)
        #expect(try call("div-sqrt", a, b) == a / b.squareRoot())
        #expect(try call("sqrt-div", a, b) == b.squareRoot() / a)
        let product = b * b.squareRoot()
        #expect(try call("inverse-cube", a, b) == a / product)
        #expect(try call("div-sqrt", 1, -1)?.isNaN == true)
        #expect(try call("inverse-cube", 1, 0) == .infinity)
    }
}

/// A strided byte fill (`for (j = s; j < n; j += step) bytes[base + j] = c`, a
/// sieve's marking loop) is one `i32Store8AddImmBrAddLtU` per element, whichever
/// order the additions name their operands in; a store out of bounds traps after
/// the elements before it, without stepping on.
@Suite struct StridedFillFusionTests {
    static let source = """
        (module
          (memory 1)
          (func (export "fill") (param $base i32) (param $j i32) (param $step i32) (param $n i32)
            (loop $l
              (i32.store8 (i32.add (local.get $base) (local.get $j)) (i32.const 7))
              (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $j) (local.get $step))) (local.get $n)))))
          (func (export "fill-swapped") (param $base i32) (param $j i32) (param $step i32) (param $n i32)
            (loop $l
              (i32.store8 offset=1 (i32.add (local.get $j) (local.get $base)) (i32.const 9))
              (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $step) (local.get $j))) (local.get $n)))))
          (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))
        )
        """

    @Test func stridedFillsAreOneInstructionPerElement() throws {
        let module = try WasmModule(bytes: try wat2wasm(Self.source))
        #expect(ControlFusionTests.contains(module.functions[0], .i32Store8AddImmBrAddLtU))
        #expect(ControlFusionTests.contains(module.functions[1], .i32Store8AddImmBrAddLtU))
        let instance = try Instance.instantiate(module, in: try TrapTests.space())
        #expect(try instance.invoke("fill", [100, 3, 5, 30]) == .finished([]))
        #expect(instance.readMemory(at: 100, count: 32) == (0..<32).map { $0 >= 3 && $0 < 30 && ($0 - 3) % 5 == 0 ? 7 : 0 })
        #expect(try instance.invoke("fill-swapped", [200, 0, 4, 9]) == .finished([]))
        #expect(instance.readMemory(at: 200, count: 16) == (0..<16).map { [1, 5, 9].contains($0) ? 9 : 0 })
        // Stores at 65530, 65532, 65534, then 65536 is out of bounds.
        #expect(try instance.invoke("fill", [65530, 0, 2, 20]) == .trapped(Trap("out of bounds memory access")))
        #expect(instance.readMemory(at: 65529, count: 7) == [0, 7, 0, 7, 0, 7, 0])
    }
}
