import Testing
import WAT
import PhantomWasm

/// Compiles WAT with every feature WasmKit knows, so that out-of-scope modules can be
/// written too; the validator decides what Phantom accepts.
func wasm(_ text: String) throws -> [UInt8] {
    try wat2wasm(text, features: .all)
}

func rejection(_ bytes: [UInt8]) -> WasmValidationError? {
    do {
        _ = try validate(module: bytes)
        return nil
    } catch {
        return error
    }
}

func rejection(wat text: String) throws -> WasmValidationError? {
    rejection(try wasm(text))
}

/// A binary module from raw sections: `(id, contents)`, sizes filled in.
func binaryModule(_ sections: [(UInt8, [UInt8])]) -> [UInt8] {
    var bytes: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00]
    for (id, contents) in sections {
        bytes.append(id)
        bytes.append(UInt8(contents.count))  // all test sections are < 128 bytes
        bytes += contents
    }
    return bytes
}

@Suite struct ValidModules {
    @Test func arithmeticFunctionIsDescribed() throws {
        let module = try validate(module: try wasm("""
            (module
              (import "env" "log" (func $log (param i32)))
              (func (export "add") (param i32 i32) (result i32) (local i64)
                local.get 0 local.get 1 i32.add))
            """))
        #expect(module.importedFunctionCount == 1)
        #expect(module.functions.count == 1)
        let add = module.functions[0]
        #expect(add.index == 1)
        #expect(add.type == FunctionType(parameters: [.i32, .i32], results: [.i32]))
        #expect(add.locals == [.i64])
        #expect(add.maximumStackHeight == 2)
        #expect(module.exports.map(\.name) == ["add"])
    }

    @Test func multiValueBlocksLoopsAndBranches() throws {
        _ = try validate(module: try wasm("""
            (module
              (func (param i32) (result i32 i64)
                (block (result i32 i64)
                  (i32.const 1) (i64.const 2)
                  (br_if 0 (local.get 0))
                  (drop) (drop)
                  (i32.const 5) (loop (param i32) (result i32) (i32.const 1) (i32.add)) (drop)
                  (i32.const 3) (i64.const 4))
              )
              (func (param i32) (result i32)
                (block (block (block (br_table 0 1 2 (local.get 0)))))
                (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2)))))
            """))
    }

    @Test func unreachableCodeIsPolymorphic() throws {
        _ = try validate(module: try wasm("""
            (module (func (result i32) unreachable i32.add)
                    (func (result f64) (return (f64.const 1)) drop drop))
            """))
    }

    @Test func bulkMemoryReferenceTypesAndTables() throws {
        _ = try validate(module: try wasm("""
            (module
              (memory 1 2)
              (data $d "hello")
              (table $t 2 funcref)
              (table $e 1 externref)
              (elem $s func $f)
              (elem declare func $g)
              (global $m (mut i32) (i32.const 0))
              (func $f (param externref) (result i32)
                (memory.init $d (i32.const 0) (i32.const 0) (i32.const 5))
                (data.drop $d)
                (memory.copy (i32.const 0) (i32.const 1) (i32.const 2))
                (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))
                (table.init $t $s (i32.const 0) (i32.const 0) (i32.const 1))
                (elem.drop $s)
                (table.set $e (i32.const 0) (local.get 0))
                (drop (table.grow $t (ref.func $g) (i32.const 1)))
                (table.fill $t (i32.const 0) (ref.null func) (i32.const 1))
                (drop (select (result externref) (local.get 0) (ref.null extern) (i32.const 1)))
                (global.set $m (i32.extend8_s (i32.trunc_sat_f32_s (f32.const 1))))
                (ref.is_null (table.get $e (i32.const 0))))
              (func $g))
            """))
    }
}

@Suite struct InvalidModules {
    @Test func typeMismatchNamesTypesOffsetAndFunction() throws {
        let bytes = try wasm("""
            (module (import "env" "f" (func))
                    (func (result i32) (i32.eqz (f64.const 1))))
            """)
        let error = try #require(rejection(bytes))
        #expect(error.kind == .invalid)
        #expect(error.reason == "type mismatch: expected i32, found f64")
        #expect(error.functionIndex == 1)
        let eqzOffset = try #require(bytes.lastIndex(of: 0x45))  // i32.eqz
        #expect(error.offset == eqzOffset)
        #expect(error.description == "type mismatch: expected i32, found f64 at offset 0x\(String(eqzOffset, radix: 16)) in function 1")
    }

    @Test(arguments: [
        ("(module (func (result i32)))", "type mismatch"),
        ("(module (func (i32.const 1)))", "type mismatch"),
        ("(module (func (br 1)))", "unknown label 1"),
        ("(module (func (drop (memory.size))))", "unknown memory 0"),
        ("(module (func (drop (i32.load (i32.const 0)))))", "unknown memory 0"),
        ("(module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))))", "immutable global"),
        ("(module (memory 1) (func (drop (i32.load align=8 (i32.const 0)))))", "alignment must not be larger than natural"),
        ("(module (func (export \"a\")) (export \"a\" (func 0)))", "duplicate export name"),
        ("(module (func $s (param i32)) (start $s))", "start function"),
        ("(module (global (mut i32) (i32.const 0)) (global i32 (global.get 0)))", "constant expression required"),
        ("(module (global i32 (f32.const 0)))", "type mismatch"),
        ("(module (global i32 (i32.const 0) (i32.const 0) (i32.add) (i32.const 1)))", "type mismatch"),
        ("(module (table 1 funcref) (elem (i64.const 0) func))", "type mismatch"),
        ("(module (data (i32.const 0) \"x\"))", "unknown memory 0"),
        ("(module (func (drop (ref.func 0))))", "undeclared function reference"),
        ("(module (memory 2 1))", "size minimum must not be greater than maximum"),
        ("(module (memory 65537))", "memory size must be at most 65536 pages (4GiB)"),
        ("(module (table 2 1 funcref))", "size minimum must not be greater than maximum"),
        ("(module (func (param i32) (result i32) (if (result i32) (local.get 0) (then (i32.const 1)))))", "type mismatch"),
        ("(module (func (param externref) (drop (select (local.get 0) (local.get 0) (i32.const 1)))))", "type mismatch"),
        ("(module (table 1 externref) (func (call_indirect (i32.const 0))))", "type mismatch"),
        ("(module (table 1 funcref) (table 1 externref) (func (table.copy 0 1 (i32.const 0) (i32.const 0) (i32.const 0))))", "type mismatch"),
        ("(module (func (block (result i32) (block (br_table 0 1 (i32.const 0) (i32.const 0))) (i32.const 0)) drop))", "type mismatch: br_table targets differ in arity"),
    ])
    func rejectedWithReason(wat: String, reason: String) throws {
        let error = try #require(try rejection(wat: wat), "accepted: \(wat)")
        #expect(error.kind == .invalid, "\(error)")
        #expect(error.reason.contains(reason), "\(wat): \(error)")
    }

    /// WAT resolves indices itself, so dangling ones are written in binary: a module
    /// with type () -> (), one function with `body`, and the `extra` sections.
    @Test(arguments: [
        ([0x20, 0x00, 0x1A, 0x0B], [], "unknown local 0"),
        ([0x23, 0x00, 0x1A, 0x0B], [], "unknown global 0"),
        ([0x10, 0x07, 0x0B], [], "unknown function 7"),
        ([0xFC, 0x10, 0x00, 0x1A, 0x0B], [], "unknown table 0"),
        ([0xFC, 0x0D, 0x00, 0x0B], [], "unknown elem segment 0"),
        ([0x41, 0x00, 0x11, 0x09, 0x00, 0x0B], [(4, [0x01, 0x70, 0x00, 0x01])], "unknown type 9"),
    ] as [([UInt8], [(UInt8, [UInt8])], String)])
    func danglingIndex(body: [UInt8], extra: [(UInt8, [UInt8])], reason: String) throws {
        let code: (UInt8, [UInt8]) = (10, [0x01, UInt8(body.count + 1), 0x00] + body)
        let bytes = binaryModule([(1, [0x01, 0x60, 0x00, 0x00]), (3, [0x01, 0x00])] + extra + [code])
        let error = try #require(rejection(bytes))
        #expect(error.kind == .invalid, "\(error)")
        #expect(error.reason == reason, "\(error)")
        #expect(error.functionIndex == 0)
    }

    @Test func dataDropNeedsTheDataCountSection() throws {
        // type () -> (); one function; memory; code: data.drop 0; data: one passive segment.
        let bytes = binaryModule([
            (1, [0x01, 0x60, 0x00, 0x00]),
            (3, [0x01, 0x00]),
            (5, [0x01, 0x00, 0x01]),
            (10, [0x01, 0x05, 0x00, 0xFC, 0x09, 0x00, 0x0B]),
            (11, [0x01, 0x01, 0x00]),
        ])
        let error = try #require(rejection(bytes))
        #expect(error.reason.contains("data count section required"), "\(error)")
        #expect(error.functionIndex == 0)
        #expect(error.offset == 0x1C)  // the 0xFC 0x09 of data.drop
    }
}

@Suite struct UnsupportedFeatures {
    @Test(arguments: [
        ("(module (func (param v128)))", "SIMD (v128) is not supported"),
        ("(module (func (drop (v128.const i64x2 0 0))))", "SIMD (v128) is not supported"),
        ("(module (func $f (return_call $f)))", "tail calls are not supported"),
        ("(module (tag $e) (func (throw $e)))", "exception handling is not supported"),
        ("(module (memory 1 1 shared))", "threads (shared memory and atomics) are not supported"),
        ("(module (memory i64 1))", "memory64 (64-bit memories and tables) is not supported"),
        ("(module (memory 1) (memory 1))", "multiple memories (multi-memory) are not supported"),
        ("(module (type (struct)))", "garbage collection (GC types and instructions) is not supported"),
        ("(module (func (param (ref func))))", "typed function references are not supported"),
    ])
    func refusedByName(wat: String, message: String) throws {
        let error = try #require(try rejection(wat: wat), "accepted: \(wat)")
        #expect(error.kind == .unsupported, "\(error)")
        #expect(error.reason == message, "\(wat): \(error)")
    }

    @Test func atomicsAreRefusedAsThreads() throws {
        let error = try #require(try rejection(wat: """
            (module (memory 1 1) (func (drop (i32.atomic.load (i32.const 0)))))
            """))
        #expect(error.reason == "threads (shared memory and atomics) are not supported")
    }
}

@Suite struct MalformedBinaries {
    @Test func badMagic() throws {
        let error = try #require(rejection([0x00, 0x61, 0x73, 0x6E, 0x01, 0x00, 0x00, 0x00]))
        #expect(error.kind == .malformed)
        #expect(error.reason.contains("magic header not detected"), "\(error)")
        #expect(error.offset == 4)
    }

    @Test func truncatedModule() throws {
        let bytes = try wasm("(module (func (result i32) (i32.const 7)))")
        let error = try #require(rejection(Array(bytes.dropLast(3))))
        #expect(error.kind == .malformed, "\(error)")
        #expect(error.offset != nil)
    }

    @Test func overlongLEB128() throws {
        // Type section whose vector length is a 6-byte LEB128 (u32 allows at most 5).
        let bytes = binaryModule([(1, [0x80, 0x80, 0x80, 0x80, 0x80, 0x00])])
        let error = try #require(rejection(bytes))
        #expect(error.kind == .malformed, "\(error)")
        #expect(error.offset != nil, "\(error)")
        #expect(error.description.contains("at offset 0x"))
    }

    @Test func functionAndCodeSectionsDisagree() throws {
        let bytes = binaryModule([(1, [0x01, 0x60, 0x00, 0x00]), (3, [0x01, 0x00])])
        let error = try #require(rejection(bytes))
        #expect(error.kind == .malformed)
        #expect(error.reason.contains("function and code section have inconsistent lengths"))
    }

    @Test func instructionsAfterTheFinalEnd() throws {
        let bytes = binaryModule([
            (1, [0x01, 0x60, 0x00, 0x00]), (3, [0x01, 0x00]), (10, [0x01, 0x03, 0x00, 0x0B, 0x01]),
        ])
        let error = try #require(rejection(bytes))
        #expect(error.kind == .malformed, "\(error)")
        #expect(error.functionIndex == 0)
    }
}
