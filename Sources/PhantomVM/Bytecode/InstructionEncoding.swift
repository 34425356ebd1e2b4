extension BytecodeWriter {
    /// Writes a decoded instruction back, as `CodeReader` would read it:
    /// absolute targets become displacements relative to their own field
    /// again. With the writer at the instruction's offset, decoding code and
    /// encoding its instructions gives the same bytes. Throws when the
    /// operands are not those the opcode declares, or do not fit.
    public mutating func instruction(_ instruction: Instruction) throws(BytecodeError) {
        let opcode = instruction.opcode
        let kinds = opcode.operands
        guard kinds.count == instruction.operands.count else {
            throw BytecodeError(offset: position, "\(opcode.mnemonic) takes \(kinds.count) operands, not \(instruction.operands.count)")
        }
        op(opcode)
        for (kind, operand) in zip(kinds, instruction.operands) {
            switch (kind, operand) {
            case (.u8, .int(let value)):
                guard let byte = UInt8(exactly: value) else { throw BytecodeError(offset: position, "\(value) does not fit a byte") }
                u8(byte)
            case (.i32, .int(let value)):
                guard let word = Int32(exactly: value) else { throw BytecodeError(offset: position, "\(value) does not fit an int32") }
                i32(word)
            case (.i64, .int(let value)): i64(value)
            case (.string, .bytes(let bytes)): try lengthPrefixed(bytes)
            case (.rel32, .target(let target)): try displacement(to: target)
            case (.switchTable, .switchTable(let table)):
                guard let count = Int32(exactly: table.targets.count) else { throw BytecodeError(offset: position, "switch table too long") }
                i32(count)
                i32(table.shift)
                i32(table.divisor)
                for target in table.targets { try displacement(to: target) }
            case (.debugInfo, .debug(let flags, let text)):
                guard (flags & 0x80 != 0) == (text != nil) else {
                    throw BytecodeError(offset: position, "debug has a text exactly when flag 0x80 is set")
                }
                u8(flags)
                if let text { try lengthPrefixed(text) }
            default:
                throw BytecodeError(offset: position, "\(opcode.mnemonic) does not take \(operand) as a \(kind) operand")
            }
        }
    }

    private mutating func lengthPrefixed(_ bytes: [UInt8]) throws(BytecodeError) {
        guard bytes.count <= Int(Int32.max) else { throw BytecodeError(offset: position, "string too long for an int32 length") }
        string(bytes)
    }

    private mutating func displacement(to target: Int) throws(BytecodeError) {
        guard let value = Int32(exactly: target - position) else {
            throw BytecodeError(offset: position, "target \(target) is out of reach of a 32-bit displacement")
        }
        i32(value)
    }
}
