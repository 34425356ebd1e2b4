import Foundation
import Synchronization
import WAT

/// The official WebAssembly test suite as both spec runners see it: where it is,
/// which files are in scope, and each file's directives, parsed once per test
/// process and shared (parsing the text format dominates the runners' time).
enum SpecSuite {
    /// Top-level core files whose subject is in WebAssembly 2.0. Left out: numbered
    /// variants (`address0.wast`, `imports3.wast`, … are multi-memory), `*64.wast`
    /// (memory64), `simd_*`/relaxed (SIMD), GC, typed function references, tail calls,
    /// exceptions, and text-format-only proposals (annotations).
    static let files = [
        "address", "align", "binary", "binary-leb128", "block", "br", "br_if", "br_table", "bulk",
        "call", "call_indirect", "comments", "const", "conversions", "custom", "data", "elem",
        "endianness", "exports", "f32", "f32_bitwise", "f32_cmp", "f64", "f64_bitwise", "f64_cmp",
        "fac", "float_exprs", "float_literals", "float_memory", "float_misc", "forward", "func",
        "func_ptrs", "global", "i32", "i64", "if", "imports", "inline-module", "int_exprs",
        "int_literals", "labels", "left-to-right", "linking", "load", "local_get", "local_set",
        "local_tee", "loop", "memory", "memory_copy", "memory_fill", "memory_grow", "memory_init",
        "memory_redundancy", "memory_size", "memory_trap", "names", "nop", "ref_func",
        "ref_is_null", "ref_null", "return", "select", "skip-stack-guard-page", "stack", "start",
        "store", "switch", "table", "table-sub", "table_copy", "table_fill", "table_get",
        "table_grow", "table_init", "table_set", "table_size", "token", "traps", "type",
        "unreachable", "unreached-invalid", "unreached-valid", "unwind", "utf8-custom-section-id",
        "utf8-import-field", "utf8-import-module", "utf8-invalid-encoding",
    ]


    static func suiteDirectory() -> URL? {
        if let path = ProcessInfo.processInfo.environment["PHANTOM_WASM_TESTSUITE"] {
            return URL(fileURLWithPath: path)
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/wasm-testsuite")
    }

    static let directory: URL? = {
        guard let directory = suiteDirectory(),
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("i32.wast").path)
        else { return nil }
        return directory
    }()

    enum Binary {
        case bytes([UInt8])
        case textOnly
        case unencodable(String)
    }

    static func binary(of module: ModuleDirective) -> Binary {
        switch module.source {
        case .binary(let bytes):
            return .bytes(bytes)
        case .text(let wat):
            do { return .bytes(try wat.encode()) } catch { return .unencodable("\(error)") }
        case .quote(let text):
            do {
                return .bytes(try wat2wasm(String(decoding: text, as: UTF8.self)))
            } catch {
                return .unencodable("\(error)")
            }
        }
    }

    typealias Directive = (result: Result<WASTDirective, any Error>, line: Int)

    final class Entry: @unchecked Sendable {
        let lock = NSLock()
        var directives: [Directive]?
    }

    static let cache = Mutex<[String: Entry]>([:])

    /// The directives of `file`.wast with their line numbers (parsed on first use).
    static func directives(of file: String, in directory: URL) throws -> [Directive] {
        let entry = cache.withLock { cache in
            if let entry = cache[file] { return entry }
            let entry = Entry()
            cache[file] = entry
            return entry
        }
        entry.lock.lock()
        defer { entry.lock.unlock() }
        if let directives = entry.directives { return directives }
        let source = try String(contentsOf: directory.appendingPathComponent("\(file).wast"), encoding: .utf8)
        var wast = try parseWAST(source)
        var directives: [Directive] = []
        while let (result, location) = wast.nextDirectiveResult() {
            directives.append((result.mapError { $0 as any Error }, location.computeLineAndColumn().line))
        }
        entry.directives = directives
        return directives
    }
}

/// Per-file results of a spec-suite runner (validation or execution).
struct SpecTally: CustomStringConvertible {
    var passed = 0
    var failed = 0
    /// Rejected as a feature beyond WebAssembly 2.0 (the 3.0 suite uses some).
    var outOfScope = 0
    /// Not ours to judge: text-format assertions, or modules WAT could not encode.
    var skipped = 0
    /// Directives of any kind WasmKit's WAST parser could not read.
    var unparsed = 0
    var failures: [String] = []
    var outOfScopeNotes: [String] = []
    /// `assert_invalid` rejections whose reason does not contain the suite's message.
    var messageMismatches: [String] = []

    var total: Int { passed + failed }
    var description: String {
        "\(passed)/\(total)" + (outOfScope > 0 ? ", \(outOfScope) out of scope" : "")
            + (skipped > 0 ? ", \(skipped) skipped" : "")
            + (unparsed > 0 ? ", \(unparsed) directives unparsed" : "")
    }
}
