/// One decoded instruction, for tools (listings, the assembler, validation).
/// The interpreter does not decode into these: it reads operands straight
/// from the code with the same rules (`CodeReader`).
public struct Instruction: Equatable, Sendable {
    /// Offset of the opcode byte in the method's code.
    public var offset: Int
    public var opcode: Opcode
    public var operands: [Operand]
    /// Bytes the instruction occupies, opcode included.
    public var length: Int
}

/// A decoded operand. Jump displacements are resolved to absolute code
/// offsets, so a listing shows where a jump goes.
public enum Operand: Equatable, Sendable {
    case int(Int64)
    case bytes([UInt8])
    case target(Int)
    case switchTable(SwitchTable)
    case debug(flags: UInt8, text: [UInt8]?)
}

/// `switch`: `index = UInt32(value + shift) / divisor`; an index below the
/// entry count jumps to its entry, anything else to the first byte after the
/// table (Phantom's `exec.c`, the compiler places the default case there).
public struct SwitchTable: Equatable, Sendable {
    public var shift: Int32
    public var divisor: Int32
    /// Absolute targets, one per entry.
    public var targets: [Int]
    /// Where execution goes when the index is out of range.
    public var defaultTarget: Int
}

/// Why code could not be decoded: always names the offset.
public struct BytecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public init(offset: Int, _ message: String) { self.offset = offset; self.message = message }
    public var description: String { "at code offset \(offset): \(message)" }
}

/// Reads big-endian operands from a method's code, bounds-checked: a
/// truncated operand is an error, never a trap.
public struct CodeReader {
    public let code: [UInt8]
    public var position: Int

    public init(_ code: [UInt8], at position: Int = 0) { self.code = code; self.position = position }

    public var isAtEnd: Bool { position >= code.count }

    mutating func need(_ count: Int, _ what: String) throws(BytecodeError) {
        guard count >= 0, position <= code.count, count <= code.count - position else {
            throw BytecodeError(offset: position, "\(what) needs \(count) bytes, \(max(0, code.count - position)) left")
        }
    }

    public mutating func u8(_ what: String = "operand") throws(BytecodeError) -> UInt8 {
        try need(1, what)
        defer { position += 1 }
        return code[position]
    }

    public mutating func i32(_ what: String = "operand") throws(BytecodeError) -> Int32 {
        try need(4, what)
        var value: UInt32 = 0
        for index in 0..<4 { value = value << 8 | UInt32(code[position + index]) }
        position += 4
        return Int32(bitPattern: value)
    }

    public mutating func i64(_ what: String = "operand") throws(BytecodeError) -> Int64 {
        try need(8, what)
        var value: UInt64 = 0
        for index in 0..<8 { value = value << 8 | UInt64(code[position + index]) }
        position += 8
        return Int64(bitPattern: value)
    }

    public mutating func string(_ what: String = "string operand") throws(BytecodeError) -> [UInt8] {
        let start = position
        let count = try i32("\(what) length")
        guard count >= 0 else { throw BytecodeError(offset: start, "\(what) has a negative length \(count)") }
        try need(Int(count), what)
        defer { position += Int(count) }
        return Array(code[position..<position + Int(count)])
    }

    /// A rel32 displacement resolved against its own offset.
    public mutating func target() throws(BytecodeError) -> Int {
        let field = position
        return field + Int(try i32("jump displacement"))
    }

    /// Decodes the instruction at `position` and moves past it.
    public mutating func instruction() throws(BytecodeError) -> Instruction {
        let start = position
        let byte = try u8("opcode")
        guard let opcode = Opcode(rawValue: byte) else {
            throw BytecodeError(offset: start, "unknown opcode 0x\(String(byte, radix: 16, uppercase: true))")
        }
        var operands: [Operand] = []
        for kind in opcode.operands {
            switch kind {
            case .u8: operands.append(.int(Int64(try u8())))
            case .i32: operands.append(.int(Int64(try i32())))
            case .i64: operands.append(.int(try i64()))
            case .string: operands.append(.bytes(try string()))
            case .rel32: operands.append(.target(try target()))
            case .debugInfo:
                let flags = try u8("debug flags")
                operands.append(.debug(flags: flags, text: flags & 0x80 != 0 ? try string("debug text") : nil))
            case .switchTable:
                let count = try i32("switch entry count")
                let shift = try i32("switch shift")
                let divisor = try i32("switch divisor")
                guard count >= 0 else { throw BytecodeError(offset: start, "switch has a negative entry count \(count)") }
                try need(Int(count) * 4, "switch table")
                var targets: [Int] = []
                targets.reserveCapacity(Int(count))
                for _ in 0..<count { targets.append(try target()) }
                operands.append(.switchTable(SwitchTable(shift: shift, divisor: divisor, targets: targets, defaultTarget: position)))
            }
        }
        return Instruction(offset: start, opcode: opcode, operands: operands, length: position - start)
    }

    /// Every instruction of `code`, in order.
    public static func decodeAll(_ code: [UInt8]) throws(BytecodeError) -> [Instruction] {
        var reader = CodeReader(code)
        var result: [Instruction] = []
        while !reader.isAtEnd { result.append(try reader.instruction()) }
        return result
    }
}
