/// Writes a method's code: operands in Phantom's big-endian encoding, jumps
/// to labels resolved when the code is finished (displacements relative to
/// the displacement field itself, as Phantom's `Codegen.correct_int32` writes
/// them). The assembler and the tests build code with it.
public struct BytecodeWriter {
    public private(set) var code: [UInt8] = []
    private var labels: [String: Int] = [:]
    /// Displacement fields waiting for a label: (field offset, label).
    private var fixups: [(field: Int, label: String)] = []

    public init() {}

    public var position: Int { code.count }

    public mutating func u8(_ value: UInt8) { code.append(value) }
    public mutating func i32(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        code += [UInt8(bits >> 24), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
    }
    public mutating func i64(_ value: Int64) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) { code.append(UInt8(bits >> UInt64(shift) & 0xFF)) }
    }
    public mutating func string(_ bytes: [UInt8]) { i32(Int32(bytes.count)); code += bytes }

    /// Places `name` at the current position. A name may be defined once.
    public mutating func label(_ name: String) throws(BytecodeError) {
        guard labels[name] == nil else { throw BytecodeError(offset: position, "label \(name) is defined twice") }
        labels[name] = position
    }

    /// A rel32 field that will point at `label`.
    public mutating func reference(_ label: String) {
        fixups.append((position, label))
        i32(0)
    }

    /// Emits an opcode alone (an instruction without operands, or the first
    /// byte of one whose operands follow).
    public mutating func op(_ opcode: Opcode) { code.append(opcode.rawValue) }

    /// The finished code with every label resolved.
    public func finish() throws(BytecodeError) -> [UInt8] {
        var result = code
        for (field, label) in fixups {
            guard let target = labels[label] else { throw BytecodeError(offset: field, "label \(label) is never defined") }
            let bits = UInt32(bitPattern: Int32(target - field))
            result[field] = UInt8(bits >> 24)
            result[field + 1] = UInt8(bits >> 16 & 0xFF)
            result[field + 2] = UInt8(bits >> 8 & 0xFF)
            result[field + 3] = UInt8(bits & 0xFF)
        }
        return result
    }
}

extension BytecodeWriter {
    /// An instruction with integer operands, written as its table says
    /// (`call_8bit 16 1`, `iconst_32bit -5`, `stack_reserve 2 0`).
    public mutating func emit(_ opcode: Opcode, _ operands: Int64...) throws(BytecodeError) {
        let kinds = opcode.operands
        guard kinds.count == operands.count, !kinds.contains(.string), !kinds.contains(.rel32),
              !kinds.contains(.switchTable), !kinds.contains(.debugInfo) else {
            throw BytecodeError(offset: position, "\(opcode.mnemonic) takes \(kinds), not \(operands.count) integers")
        }
        op(opcode)
        for (kind, value) in zip(kinds, operands) {
            switch kind {
            case .u8:
                guard (0...255).contains(value) else { throw BytecodeError(offset: position, "\(opcode.mnemonic): \(value) does not fit a byte") }
                u8(UInt8(value))
            case .i32:
                guard (Int64(Int32.min)...Int64(Int32.max)).contains(value) else { throw BytecodeError(offset: position, "\(opcode.mnemonic): \(value) does not fit 32 bits") }
                i32(Int32(value))
            default: i64(value)
            }
        }
    }

    /// A jump (or `push_catcher`) to a label.
    public mutating func emit(_ opcode: Opcode, to label: String) {
        op(opcode)
        reference(label)
    }

    /// `sconst_bin` or `summon_by_name` with its string.
    public mutating func emit(_ opcode: Opcode, string: String) {
        op(opcode)
        self.string(Array(string.utf8))
    }
}
