/// Where something was written, for errors found later (an undefined
/// label, a slot count exceeded).
struct AssemblyPlace {
    var line: Int
    var column: Int
}

/// A method being assembled: its code, written as its lines are read, and
/// the labels of its scope, resolved when it ends.
struct AssemblyMethod {
    var name: String
    var ordinal: Int32
    var place: AssemblyPlace
    var writer = BytecodeWriter()
    var labels: [String: AssemblyPlace] = [:]
    var references: [(label: String, place: AssemblyPlace)] = []

    init(name: String, ordinal: Int32, place: AssemblyPlace) {
        self.name = name
        self.ordinal = ordinal
        self.place = place
    }

    /// Reads one line of the method; true when it is `method end`.
    mutating func line(_ cursor: inout AssemblyCursor) throws(AssemblyError) -> Bool {
        while let label = cursor.peek()?.word, cursor.peek(1)?.isPunctuation(":") == true {
            let place = AssemblyPlace(line: cursor.line, column: cursor.column)
            if let first = labels[label] {
                throw cursor.error("label \(label) is defined twice (first on line \(first.line))")
            }
            guard AssemblyLexer.integer(label) == nil else { throw cursor.error("a label cannot be a number") }
            labels[label] = place
            try? writer.label(label)
            _ = cursor.next(); _ = cursor.next()
        }
        guard let token = cursor.peek() else { return false }
        guard let word = token.word else { throw cursor.error("expected an instruction, found \(token.spelling)") }
        let column = cursor.column
        _ = cursor.next()
        switch word {
        case "--": break
        case "method":
            if cursor.peek()?.word == "end" && cursor.remaining == 1 {
                _ = cursor.next()
                return true
            }
            throw cursor.error("method \(name) (line \(place.line)) is not closed: 'method end' must come first", at: column)
        case "bytes":
            while !cursor.isAtEnd { writer.u8(UInt8(try cursor.integer("a byte", in: 0...255))) }
        case "call": try call(&cursor)
        default:
            guard let opcode = Opcode.byMnemonic[word] else {
                if Assembler.classDirectives.contains(word) {
                    throw cursor.error("'\(word)' is a class directive: end the method with 'method end' first", at: column)
                }
                throw cursor.error("unknown mnemonic '\(word)'", at: column)
            }
            writer.op(opcode)
            for (number, kind) in opcode.operands.enumerated() {
                try operand(kind, of: opcode, number: number + 1, &cursor)
            }
        }
        try cursor.expectEnd("after the operands of '\(word)'")
        return false
    }

    private mutating func operand(_ kind: OperandKind, of opcode: Opcode, number: Int,
                                  _ cursor: inout AssemblyCursor) throws(AssemblyError) {
        let what = "operand \(number) of \(opcode.mnemonic)"
        switch kind {
        case .u8: writer.u8(UInt8(try cursor.integer(what, in: 0...255)))
        case .i32: writer.i32(try cursor.int32(what))
        case .i64: writer.i64(try cursor.integer(what, in: Int64.min...Int64.max))
        case .string: writer.string(try cursor.string(what))
        case .rel32: try emit(try jumpTarget(&cursor, what), &cursor)
        case .debugInfo:
            let flags = UInt8(try cursor.integer("the flags of debug", in: 0...255))
            writer.u8(flags)
            if flags & 0x80 != 0 {
                writer.string(try cursor.string("the text of debug (flag 0x80 is set)"))
            } else if case .string = cursor.peek()?.kind {
                throw cursor.error("a debug text needs flag 0x80 set in the flags")
            }
        case .switchTable:
            let shift = try cursor.int32("the shift of switch")
            let divisor = try cursor.int32("the divisor of switch")
            var targets: [JumpTarget] = []
            while !cursor.isAtEnd { targets.append(try jumpTarget(&cursor, "switch entry \(targets.count)")) }
            writer.i32(Int32(clamping: targets.count))
            writer.i32(shift)
            writer.i32(divisor)
            for target in targets { try emit(target, &cursor) }
        }
    }

    /// A jump target: a label of this method, or `@OFFSET` for an absolute code offset.
    private enum JumpTarget {
        case label(String, AssemblyPlace)
        case offset(Int64, AssemblyPlace)
    }

    private func jumpTarget(_ cursor: inout AssemblyCursor, _ what: String) throws(AssemblyError) -> JumpTarget {
        let place = AssemblyPlace(line: cursor.line, column: cursor.column)
        if cursor.peek()?.isPunctuation("@") == true {
            _ = cursor.next()
            return .offset(try cursor.integer("the code offset after @", in: Int64.min...Int64.max), place)
        }
        guard let label = cursor.peek()?.word else {
            throw cursor.error("expected \(what): a label, or @OFFSET, found \(cursor.peek()?.spelling ?? "the end of the line")")
        }
        guard AssemblyLexer.integer(label) == nil else {
            throw cursor.error("a jump target is a label or @OFFSET, not a number (write @\(label))")
        }
        _ = cursor.next()
        return .label(label, place)
    }

    /// The displacement field of a jump, relative to itself.
    private mutating func emit(_ target: JumpTarget, _ cursor: inout AssemblyCursor) throws(AssemblyError) {
        switch target {
        case .label(let label, let place):
            references.append((label, place))
            writer.reference(label)
        case .offset(let offset, let place):
            let (displacement, overflow) = offset.subtractingReportingOverflow(Int64(writer.position))
            guard !overflow, let value = Int32(exactly: displacement) else {
                throw cursor.error("offset \(offset) is too far from here for a 32-bit displacement", at: place.column)
            }
            writer.i32(value)
        }
    }

    /// `call ORDINAL NPARAM`: the shortest form, chosen as Phantom's compiler
    /// does (`Codegen.emitCall`): `short_call_N` for ordinals 0–3 without
    /// arguments, `call_NN` for ordinals below 32 with fewer than 16, then
    /// `call_8bit` for ordinals below 16, else `call_32bit`.
    private mutating func call(_ cursor: inout AssemblyCursor) throws(AssemblyError) {
        let ordinal = Int(try cursor.int32("the method ordinal of call"))
        let count = try cursor.int32("the argument count of call")
        guard ordinal >= 0 else { throw cursor.error("the method ordinal of call must not be negative") }
        if count == 0 && ordinal < 4 {
            writer.op(Opcode(rawValue: Opcode.short_call_0.rawValue + UInt8(ordinal))!)
        } else if count & ~0xF == 0 && ordinal < 32 {
            writer.op(Opcode(rawValue: Opcode.call_00.rawValue + UInt8(ordinal))!)
            writer.u8(UInt8(count))
        } else if ordinal < 16 {
            writer.op(.call_8bit)
            writer.u8(UInt8(ordinal))
            writer.i32(count)
        } else {
            writer.op(.call_32bit)
            writer.i32(Int32(ordinal))
            writer.i32(count)
        }
    }
}
