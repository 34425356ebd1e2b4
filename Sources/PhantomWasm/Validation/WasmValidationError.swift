/// Why a module was refused: it is malformed (the binary format is broken), invalid
/// (well-formed but ill-typed or referring to what does not exist), or uses a
/// WebAssembly feature beyond 2.0 that Phantom does not support.
public struct WasmValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// Binary format violation (spec: "Binary Format"); `assert_malformed` in the test suite.
        case malformed
        /// Validation rule violation (spec: "Validation"); `assert_invalid` in the test suite.
        case invalid
        /// A feature outside WebAssembly 2.0 (SIMD, threads, GC, …).
        case unsupported
    }

    public let kind: Kind
    public let reason: String
    /// Byte offset in the module binary: the instruction for errors inside a function
    /// body, otherwise the start of the section (or the parser's error position).
    public let offset: Int?
    /// Index in the function index space (imports first) of the offending function.
    public let functionIndex: Int?

    public init(_ kind: Kind, _ reason: String, offset: Int? = nil, functionIndex: Int? = nil) {
        self.kind = kind
        self.reason = reason
        self.offset = offset
        self.functionIndex = functionIndex
    }

    public var description: String {
        var text: String
        switch kind {
        case .malformed: text = "malformed module: \(reason)"
        case .invalid: text = reason
        case .unsupported: text = reason
        }
        if let offset { text += " at offset 0x\(String(offset, radix: 16))" }
        if let functionIndex { text += " in function \(functionIndex)" }
        return text
    }

    static func invalid(_ reason: String) -> WasmValidationError {
        WasmValidationError(.invalid, reason)
    }

    static func unsupported(_ feature: UnsupportedFeature) -> WasmValidationError {
        WasmValidationError(.unsupported, feature.message)
    }

    func at(offset: Int?, function: Int? = nil) -> WasmValidationError {
        WasmValidationError(kind, reason, offset: self.offset ?? offset, functionIndex: functionIndex ?? function)
    }
}

/// WebAssembly features beyond 2.0, refused by name.
enum UnsupportedFeature {
    case simd, tailCalls, exceptions, memory64, threads, multiMemory, gc, functionReferences

    var message: String {
        switch self {
        case .simd: "SIMD (v128) is not supported"
        case .tailCalls: "tail calls are not supported"
        case .exceptions: "exception handling is not supported"
        case .memory64: "memory64 (64-bit memories and tables) is not supported"
        case .threads: "threads (shared memory and atomics) are not supported"
        case .multiMemory: "multiple memories (multi-memory) are not supported"
        case .gc: "garbage collection (GC types and instructions) is not supported"
        case .functionReferences: "typed function references are not supported"
        }
    }
}

extension WasmValidationError {
    /// Wraps a WasmParser error; `fallbackOffset` is used when its text names no offset.
    init(parserError: WasmParserError, fallbackOffset: Int?, functionIndex: Int? = nil) {
        let text = parserError.description
        var offset = fallbackOffset
        var reason = text
        if let range = text.ranges(of: " at offset 0x").last {
            let digits = text[range.upperBound...].prefix { $0.isHexDigit }
            if let value = Int(digits, radix: 16) {
                offset = value
                reason = String(text[..<range.lowerBound]) + String(text[range.upperBound...].dropFirst(digits.count))
            }
        }
        for (prefix, suffix) in [("\"", "\""), ("Message(text: \"", "\")")]
        where reason.hasPrefix(prefix) && reason.hasSuffix(suffix) && reason.count >= prefix.count + suffix.count {
            reason = String(reason.dropFirst(prefix.count).dropLast(suffix.count))
        }
        if let feature = UnsupportedFeature(parserMessage: reason) {
            self.init(.unsupported, feature.message, offset: offset, functionIndex: functionIndex)
        } else {
            self.init(.malformed, reason, offset: offset, functionIndex: functionIndex)
        }
    }
}

extension UnsupportedFeature {
    /// Encodings WasmParser refuses when the feature is off (Phantom parses with the
    /// 2.0 feature set) and that belong to a known later proposal.
    init?(parserMessage: String) {
        func number(after prefix: String) -> Int? {
            guard parserMessage.hasPrefix(prefix) else { return nil }
            return Int(parserMessage.dropFirst(prefix.count).prefix { $0.isNumber })
        }
        if let flags = number(after: "Malformed limit: ") {
            switch flags {
            case 0x02, 0x03: self = .threads
            case 0x04...0x07: self = .memory64
            default: return nil
            }
        } else if let byte = number(after: "malformed value type: ") {
            switch byte {
            case 0x63, 0x64: self = .functionReferences
            case 0x69: self = .exceptions
            case 0x6A...0x6E, 0x71...0x74: self = .gc
            default: return nil
            }
        } else if let byte = number(after: "Malformed function type: ") {
            switch byte {
            case 0x4E, 0x4F, 0x50, 0x5E, 0x5F: self = .gc
            default: return nil
            }
        } else if let byte = Int(parserMessage.dropFirst("Unexpected byte 0x".count).prefix { $0.isHexDigit }, radix: 16),
            parserMessage.hasPrefix("Unexpected byte 0x")
        {
            // Table types with a non-nullable or indexed element type, table initializers
            // (0x40), tag imports and exports (0x04).
            switch byte {
            case 0x40, 0x63, 0x64: self = .functionReferences
            case 0x04, 0x69: self = .exceptions
            default: return nil
            }
        } else if number(after: "malformed section id: ") == 13 {
            self = .exceptions
        } else if parserMessage.hasPrefix("Illegal opcode: [251") || parserMessage.hasPrefix("Illegal opcode: [211") {
            self = .gc
        } else {
            return nil
        }
    }
}

func typeName(_ type: ValueType) -> String {
    switch type {
    case .i32: "i32"
    case .i64: "i64"
    case .f32: "f32"
    case .f64: "f64"
    case .v128: "v128"
    case .ref(let ref): typeName(ref)
    }
}

func typeName(_ type: ReferenceType) -> String {
    switch (type.heapType, type.isNullable) {
    case (.abstract(.funcRef), true): return "funcref"
    case (.abstract(.externRef), true): return "externref"
    case (.abstract(let heap), let nullable): return "(ref \(nullable ? "null " : "")\(heap))"
    case (.concrete(let index), let nullable): return "(ref \(nullable ? "null " : "")\(index))"
    }
}

func typeName(_ operand: ValueType?) -> String {
    operand.map(typeName) ?? "unknown"
}

func typeList(_ types: [ValueType]) -> String {
    "[" + types.map(typeName).joined(separator: " ") + "]"
}
