import Foundation
import Testing
import WAT
import PhantomWasm

/// Runs the validation-related directives of the official WebAssembly test suite
/// (`module`, `assert_invalid`, `assert_malformed`) against `PhantomWasm.validate`.
/// Execution directives (`assert_return`, `assert_trap`, …) wait for the interpreter.
@Suite struct SpecValidationTests {
    static let files = SpecSuite.files

    /// Minimum passing assertions per file (see docs/CONFORMANCE.md); raise them as the
    /// validator improves, never lower them.
    static let passFloors: [String: Int] = [
        "address": 4,
        "align": 69,
        "binary-leb128": 90,
        "binary": 127,
        "block": 156,
        "br": 21,
        "br_if": 30,
        "br_table": 24,
        "bulk": 13,
        "call": 17,
        "call_indirect": 23,
        "comments": 5,
        "const": 402,
        "conversions": 26,
        "custom": 11,
        "data": 49,
        "elem": 82,
        "endianness": 1,
        "exports": 87,
        "f32": 12,
        "f32_bitwise": 4,
        "f32_cmp": 7,
        "f64": 12,
        "f64_bitwise": 4,
        "f64_cmp": 7,
        "fac": 1,
        "float_exprs": 98,
        "float_literals": 2,
        "float_memory": 6,
        "float_misc": 1,
        "forward": 1,
        "func": 52,
        "func_ptrs": 9,
        "global": 41,
        "i32": 84,
        "i64": 30,
        "if": 93,
        "imports": 67,
        "inline-module": 1,
        "int_exprs": 19,
        "int_literals": 1,
        "labels": 4,
        "left-to-right": 1,
        "linking": 17,
        "load": 47,
        "local_get": 11,
        "local_set": 28,
        "local_tee": 36,
        "loop": 28,
        "memory": 34,
        "memory_copy": 97,
        "memory_fill": 75,
        "memory_grow": 0,
        "memory_init": 92,
        "memory_redundancy": 1,
        "memory_size": 6,
        "memory_trap": 2,
        "names": 4,
        "nop": 5,
        "ref_func": 5,
        "ref_is_null": 2,
        "ref_null": 0,
        "return": 21,
        "select": 32,
        "skip-stack-guard-page": 1,
        "stack": 2,
        "start": 8,
        "store": 52,
        "switch": 2,
        "table-sub": 2,
        "table": 21,
        "table_copy": 52,
        "table_fill": 10,
        "table_get": 6,
        "table_grow": 15,
        "table_init": 103,
        "table_set": 8,
        "table_size": 3,
        "token": 35,
        "traps": 4,
        "type": 1,
        "unreachable": 1,
        "unreached-invalid": 115,
        "unreached-valid": 1,
        "unwind": 1,
        "utf8-custom-section-id": 176,
        "utf8-import-field": 176,
        "utf8-import-module": 176,
        "utf8-invalid-encoding": 0,
    ]

    typealias Tally = SpecTally

    static func binary(of module: ModuleDirective) -> SpecSuite.Binary { SpecSuite.binary(of: module) }

    static func run(file: String, in directory: URL) throws -> Tally {
        var tally = Tally()
        for (result, lineNumber) in try SpecSuite.directives(of: file, in: directory) {
            let line = "\(file).wast:\(lineNumber)"
            guard case .success(let directive) = result else {
                tally.unparsed += 1
                continue
            }
            switch directive {
            case .module(let module):
                guard case .bytes(let bytes) = binary(of: module) else {
                    tally.skipped += 1
                    continue
                }
                do {
                    _ = try validate(module: bytes)
                    tally.passed += 1
                } catch let error where error.kind == .unsupported {
                    tally.outOfScope += 1
                } catch {
                    tally.failed += 1
                    tally.failures.append("\(line): valid module rejected: \(error)")
                }
            case .assertInvalid(let module, let message), .assertMalformed(let module, let message):
                let isMalformed: Bool
                if case .assertMalformed = directive { isMalformed = true } else { isMalformed = false }
                if isMalformed, case .quote = module.source {
                    tally.skipped += 1  // the text format's concern, not the validator's
                    continue
                }
                guard case .bytes(let bytes) = binary(of: module) else {
                    tally.skipped += 1
                    continue
                }
                do {
                    _ = try validate(module: bytes)
                    tally.failed += 1
                    tally.failures.append("\(line): accepted, expected \"\(message)\"")
                } catch let error where error.kind == .unsupported {
                    tally.outOfScope += 1
                } catch {
                    tally.passed += 1
                    if !isMalformed, !error.reason.contains(message) {
                        tally.messageMismatches.append("\(line): expected \"\(message)\", got \"\(error.reason)\"")
                    }
                }
            default:
                continue
            }
        }
        return tally
    }

    static var directory: URL? { SpecSuite.directory }

    @Test(arguments: files) func validationDirectives(of file: String) throws {
        guard let directory = Self.directory else {
            print("wasm test suite not found (set PHANTOM_WASM_TESTSUITE); skipping \(file).wast")
            return
        }
        let tally = try Self.run(file: file, in: directory)
        print("spec validation \(file).wast: \(tally)")
        for failure in tally.failures { print("  FAIL \(failure)") }
        for mismatch in tally.messageMismatches { print("  MESSAGE \(mismatch)") }
        #expect(tally.passed >= Self.passFloors[file, default: 0], "\(file).wast: \(tally)")
    }
}
