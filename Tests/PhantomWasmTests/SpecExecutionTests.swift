import Foundation
import PhantomSpace
import PhantomStore
import Testing
import WAT
@testable import PhantomWasm

/// Runs the official WebAssembly test suite's execution directives through the
/// interpreter: `module` (instantiate), `register`, `invoke`/`get` actions,
/// `assert_return` (with NaN patterns), `assert_trap` (also on instantiation),
/// `assert_exhaustion`, `assert_unlinkable`, and `assert_invalid`/binary
/// `assert_malformed` (the module must be refused by `WasmModule(bytes:)`).
/// Every file runs in a fresh object space with the `spectest` host module.
@Suite struct SpecExecutionTests {
    /// Minimum passing assertions per file (see docs/CONFORMANCE.md); raise as the
    /// engine improves, never lower.
    static let passFloors: [String: Int] = [
        "address": 259,
        "align": 117,
        "binary": 127,
        "binary-leb128": 90,
        "block": 208,
        "br": 97,
        "br_if": 118,
        "br_table": 24,
        "bulk": 117,
        "call": 89,
        "call_indirect": 157,
        "comments": 8,
        "const": 702,
        "conversions": 619,
        "custom": 11,
        "data": 63,
        "elem": 128,
        "endianness": 69,
        "exports": 96,
        "f32": 2512,
        "f32_bitwise": 364,
        "f32_cmp": 2407,
        "f64": 2512,
        "f64_bitwise": 364,
        "f64_cmp": 2407,
        "fac": 8,
        "float_exprs": 927,
        "float_literals": 101,
        "float_memory": 90,
        "float_misc": 471,
        "forward": 5,
        "func": 148,
        "func_ptrs": 35,
        "global": 103,
        "i32": 458,
        "i64": 414,
        "if": 217,
        "imports": 177,
        "inline-module": 1,
        "int_exprs": 108,
        "int_literals": 31,
        "labels": 29,
        "left-to-right": 96,
        "linking": 126,
        "load": 84,
        "local_get": 30,
        "local_set": 47,
        "local_tee": 91,
        "loop": 106,
        "memory": 86,
        "memory_copy": 4450,
        "memory_fill": 100,
        "memory_grow": 0,
        "memory_init": 246,
        "memory_redundancy": 8,
        "memory_size": 42,
        "memory_trap": 182,
        "names": 486,
        "nop": 88,
        "ref_func": 15,
        "ref_is_null": 2,
        "ref_null": 0,
        "return": 84,
        "select": 156,
        "skip-stack-guard-page": 11,
        "stack": 7,
        "start": 19,
        "store": 61,
        "switch": 28,
        "table": 20,
        "table-sub": 2,
        "table_copy": 1727,
        "table_fill": 45,
        "table_get": 16,
        "table_grow": 56,
        "table_init": 785,
        "table_set": 26,
        "table_size": 39,
        "token": 35,
        "traps": 36,
        "type": 1,
        "unreachable": 64,
        "unreached-invalid": 115,
        "unreached-valid": 2,
        "unwind": 50,
        "utf8-custom-section-id": 176,
        "utf8-import-field": 176,
        "utf8-import-module": 176,
        "utf8-invalid-encoding": 0,
    ]

    typealias Tally = SpecTally

    static let spectestSource = """
        (module
          (global (export "global_i32") i32 (i32.const 666))
          (global (export "global_i64") i64 (i64.const 666))
          (global (export "global_f32") f32 (f32.const 666.6))
          (global (export "global_f64") f64 (f64.const 666.6))
          (table (export "table") 10 20 funcref)
          (memory (export "memory") 1 2)
          (func (export "print"))
          (func (export "print_i32") (param i32))
          (func (export "print_i64") (param i64))
          (func (export "print_f32") (param f32))
          (func (export "print_f64") (param f64))
          (func (export "print_i32_f32") (param i32 f32))
          (func (export "print_f64_f64") (param f64 f64))
        )
        """

    static func makeSpace() throws -> ObjectSpace {
        try ObjectSpace(store: try Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 256 << 30))
    }

    enum Outcome {
        case values([RawValue])
        case trap(String)
        case outOfScope
        case failure(String)
    }

    struct Runner {
        let file: String
        let space: ObjectSpace
        var registered: [String: Instance] = [:]
        var named: [String: Instance] = [:]
        var definitions: [String: [UInt8]] = [:]
        var lastDefinition: [UInt8]?
        var current: Instance?
        /// The most recent module was beyond 2.0 (or unencodable): its assertions are out of scope.
        var currentOutOfScope = false
        /// Names registered for a module that was out of scope: importing from them is out of scope too.
        var outOfScopeRegistrations: Set<String> = []
        var tally = Tally()
        let options = InstanceOptions(memoryQuotaPages: 16384)

        init(file: String) throws {
            self.file = file
            space = try makeSpace()
            let spectest = try Instance.instantiate(
                try WasmModule(bytes: try wat2wasm(SpecExecutionTests.spectestSource)), in: space)
            registered["spectest"] = spectest
        }

        mutating func fail(_ line: String, _ message: String) {
            tally.failed += 1
            tally.failures.append("\(line): \(message)")
        }

        func argument(_ value: WASTConstValue) -> RawValue? {
            switch value {
            case .i32(let v): UInt64(v)
            case .i64(let v): v
            case .f32(let v): UInt64(v)
            case .f64(let v): v
            case .refNull: 0
            case .refExtern(let v): UInt64(v) + 1
            default: nil
            }
        }

        func matches(_ actual: RawValue, _ expected: WASTExpectValue) -> Bool? {
            switch expected {
            case .i32(let v): return UInt32(truncatingIfNeeded: actual) == v
            case .i64(let v): return actual == v
            case .f32(let v): return UInt32(truncatingIfNeeded: actual) == v
            case .f64(let v): return actual == v
            case .f32CanonicalNaN: return UInt32(truncatingIfNeeded: actual) & 0x7fff_ffff == 0x7fc0_0000
            case .f32ArithmeticNaN: return UInt32(truncatingIfNeeded: actual) & 0x7fc0_0000 == 0x7fc0_0000
            case .f64CanonicalNaN: return actual & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000
            case .f64ArithmeticNaN: return actual & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000
            case .refNull: return actual == 0
            case .refExtern(let v): return v.map { actual == UInt64($0) + 1 } ?? (actual != 0)
            case .refFunc(let index): return index == nil ? actual != 0 : nil
            case .either(let options):
                var sawUnknown = false
                for option in options {
                    switch matches(actual, option) {
                    case true?: return true
                    case nil: sawUnknown = true
                    default: break
                    }
                }
                return sawUnknown ? nil : false
            default: return nil
            }
        }

        func instance(_ name: String?) -> Instance? {
            if let name { return named[name] }
            return current
        }

        mutating func perform(_ execute: WASTExecute) -> Outcome {
            switch execute {
            case .invoke(let invoke):
                if invoke.module == nil, currentOutOfScope { return .outOfScope }
                guard let instance = instance(invoke.module) else { return .outOfScope }
                var arguments: [RawValue] = []
                for value in invoke.args {
                    guard let raw = argument(value) else { return .outOfScope }
                    arguments.append(raw)
                }
                do {
                    switch try instance.invoke(invoke.name, arguments) {
                    case .finished(let values): return .values(values)
                    case .trapped(let trap): return .trap(trap.message)
                    case let other: return .failure("unexpected \(other)")
                    }
                } catch {
                    return .failure("\(error)")
                }
            case .get(let module, let name):
                if module == nil, currentOutOfScope { return .outOfScope }
                guard let instance = instance(module) else { return .outOfScope }
                guard let value = instance.global(name) else { return .failure("no global \(name)") }
                return .values([value])
            case .wat(var wat):
                guard let bytes = try? wat.encode() else { return .outOfScope }
                return instantiate(bytes)
            }
        }

        mutating func instantiate(_ bytes: [UInt8]) -> Outcome {
            let module: WasmModule
            do { module = try WasmModule(bytes: bytes) } catch where error.kind == .unsupported {
                return .outOfScope
            } catch {
                return .failure("module refused: \(error)")
            }
            do {
                let instance = try Instance.instantiate(module, in: space, registered: registered, options: options)
                return .values([UInt64(instance.id)])
            } catch WasmInstantiationError.trap(let trap) {
                return .trap(trap.message)
            } catch {
                return .trap("\(error)")
            }
        }

        mutating func run(_ directive: WASTDirective, line: String) {
            switch directive {
            case .module(let module):
                if case .bytes(let bytes) = SpecSuite.binary(of: module), tally.outOfScopeNotes.count < 3 {
                    do { _ = try WasmModule(bytes: bytes) } catch { tally.outOfScopeNotes.append("\(line): \(error)") }
                }
                if module.isDefinition {
                    if case .bytes(let bytes) = SpecSuite.binary(of: module) {
                        lastDefinition = bytes
                        if let id = module.id { definitions[id] = bytes }
                    }
                    tally.skipped += 1
                    return
                }
                guard case .bytes(let bytes) = SpecSuite.binary(of: module) else {
                    currentOutOfScope = true
                    current = nil
                    tally.skipped += 1
                    return
                }
                load(bytes, id: module.id, line: line)
            case .moduleInstance(let instanceName, let moduleName):
                guard let bytes = moduleName.flatMap({ definitions[$0] }) ?? lastDefinition else {
                    tally.skipped += 1
                    return
                }
                load(bytes, id: instanceName, line: line)
            case .register(let name, let id):
                guard let instance = instance(id) else {
                    if id == nil, currentOutOfScope { outOfScopeRegistrations.insert(name) }
                    tally.skipped += 1
                    return
                }
                registered[name] = instance
            case .invoke(let invoke):
                switch perform(.invoke(invoke)) {
                case .values: tally.passed += 1
                case .trap(let message): fail(line, "invoke \(invoke.name) trapped: \(message)")
                case .outOfScope: tally.outOfScope += 1
                case .failure(let message): fail(line, message)
                }
            case .assertReturn(let execute, let results):
                switch perform(execute) {
                case .values(let values):
                    if case .wat = execute {
                        tally.passed += 1
                        return
                    }
                    guard values.count == results.count else {
                        fail(line, "expected \(results.count) results, got \(values)")
                        return
                    }
                    var unknown = false
                    for (value, expected) in zip(values, results) {
                        switch matches(value, expected) {
                        case false?:
                            fail(line, "expected \(results), got \(values.map { String($0, radix: 16) })")
                            return
                        case nil: unknown = true
                        default: break
                        }
                    }
                    if unknown { tally.outOfScope += 1 } else { tally.passed += 1 }
                case .trap(let message): fail(line, "expected \(results), trapped: \(message)")
                case .outOfScope: tally.outOfScope += 1
                case .failure(let message): fail(line, message)
                }
            case .assertTrap(let execute, let message):
                expectTrap(perform(execute), message, line: line)
            case .assertExhaustion(let call, let message):
                expectTrap(perform(.invoke(call)), message, line: line)
            case .assertUnlinkable(var wat, let message):
                guard let bytes = try? wat.encode() else {
                    tally.skipped += 1
                    return
                }
                let module: WasmModule
                do { module = try WasmModule(bytes: bytes) } catch where error.kind == .unsupported {
                    tally.outOfScope += 1
                    return
                } catch {
                    fail(line, "unlinkable module refused by validation: \(error)")
                    return
                }
                do {
                    _ = try Instance.instantiate(module, in: space, registered: registered, options: options)
                    fail(line, "instantiated, expected unlinkable \"\(message)\"")
                } catch WasmInstantiationError.unlinkable {
                    tally.passed += 1
                } catch {
                    fail(line, "expected unlinkable \"\(message)\", got \(error)")
                }
            case .assertInvalid(let module, let message), .assertMalformed(let module, let message):
                if case .assertMalformed = directive, case .quote = module.source {
                    tally.skipped += 1
                    return
                }
                guard case .bytes(let bytes) = SpecSuite.binary(of: module) else {
                    tally.skipped += 1
                    return
                }
                do {
                    _ = try WasmModule(bytes: bytes)
                    fail(line, "accepted, expected \"\(message)\"")
                } catch where error.kind == .unsupported {
                    tally.outOfScope += 1
                } catch {
                    tally.passed += 1
                }
            default:
                tally.skipped += 1
            }
        }

        mutating func expectTrap(_ outcome: Outcome, _ message: String, line: String) {
            switch outcome {
            case .trap(let actual):
                if actual.contains(message) || message.contains(actual) {
                    tally.passed += 1
                } else {
                    fail(line, "expected trap \"\(message)\", got \"\(actual)\"")
                }
            case .values(let values): fail(line, "expected trap \"\(message)\", got \(values)")
            case .outOfScope: tally.outOfScope += 1
            case .failure(let failure): fail(line, failure)
            }
        }

        mutating func load(_ bytes: [UInt8], id: String?, line: String) {
            switch instantiate(bytes) {
            case .values(let ids):
                current = (try? WasmEngine.shared(for: space))?.instance(id: UInt32(ids[0]))
                currentOutOfScope = false
                if let id { named[id] = current }
                tally.passed += 1
            case .outOfScope:
                current = nil
                currentOutOfScope = true
                tally.outOfScope += 1
            case .trap(let message):
                current = nil
                if outOfScopeRegistrations.contains(where: { message.contains("unknown import \($0).") }) {
                    currentOutOfScope = true
                    tally.outOfScope += 1
                    return
                }
                currentOutOfScope = false
                fail(line, "module failed to instantiate: \(message)")
            case .failure(let message):
                current = nil
                currentOutOfScope = false
                fail(line, message)
            }
        }
    }

    static func run(file: String, in directory: URL) throws -> Tally {
        var runner = try Runner(file: file)
        for (result, lineNumber) in try SpecSuite.directives(of: file, in: directory) {
            guard case .success(let directive) = result else {
                runner.tally.skipped += 1
                continue
            }
            runner.run(directive, line: "\(file).wast:\(lineNumber)")
        }
        return runner.tally
    }

    @Test(arguments: SpecSuite.files) func executionDirectives(of file: String) throws {
        guard let directory = SpecSuite.directory else {
            print("wasm test suite not found (set PHANTOM_WASM_TESTSUITE); skipping \(file).wast")
            return
        }
        let start = Date()
        let tally = try Self.run(file: file, in: directory)
        print("spec execution \(file).wast: \(tally) [\(String(format: "%.2f", Date().timeIntervalSince(start))) s]")
        for failure in tally.failures.prefix(15) { print("  FAIL \(failure)") }
        for note in tally.outOfScopeNotes { print("  OUT OF SCOPE \(note)") }
        #expect(tally.passed >= Self.passFloors[file, default: 0], "\(file).wast: \(tally)")
    }
}
