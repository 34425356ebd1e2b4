/// Builds a class file from PVM assembly text (`.pas`, docs/PVM-ASSEMBLER.md):
/// a class header, fields, constants, signatures and line maps as
/// directives, then methods in the frame of Phantom's `.lstc` listings
/// (`method NAME ordinal N`, `--`, one instruction a line, `--`,
/// `method end`), with Phantom's own mnemonics (`Opcode`) and their
/// operands as `Opcode.operands` declares them.
///
/// It reads what `Disassembler` writes, so a listing assembles back to the
/// same bytes; people and tests write it by hand. Every error names the
/// file, line and column.
public enum Assembler {
    /// The class the text describes. `file` names the text in errors.
    public static func assemble(_ text: String, file: String) throws(AssemblyError) -> ClassFile {
        var state = AssemblyState(file: file)
        let lines = try AssemblyLexer.lines(of: text, file: file)
        for line in lines where !line.tokens.isEmpty {
            var cursor = AssemblyCursor(line, file: file)
            if state.method != nil {
                try state.methodLine(&cursor)
            } else {
                try state.classLine(&cursor)
            }
        }
        return try state.finish(lastLine: lines.last.map { ($0.number, $0.length + 1) } ?? (1, 1))
    }

    /// Directives that stand outside methods.
    static let classDirectives: Set<String> = ["class", "parent", "objects", "methods", "Class", "field", "const",
                                               "signature", "linemap"]
}

/// Where a directive was, for errors found once the whole text is read.
private struct Place {
    var line: Int
    var column: Int
}

/// A method being assembled: its code and the labels of its scope.
private struct MethodInProgress {
    var name: String
    var ordinal: Int32
    var place: Place
    var writer = BytecodeWriter()
    var labels: [String: Place] = [:]
    var references: [(label: String, place: Place)] = []
}

private struct AssemblyState {
    let file: String
    var className: String?
    var parentName: String?
    var version: String?
    var objectSlots: (count: Int32, place: Place)?
    var methodSlots: (count: Int32, place: Place)?
    var fields: [(field: ClassFile.Field, place: Place)] = []
    var constants: [ClassFile.Constant] = []
    var signatures: [ClassFile.Signature] = []
    var lineMaps: [ClassFile.LineMap] = []
    var methods: [(method: ClassFile.Method, place: Place)] = []
    var method: MethodInProgress?

    init(file: String) { self.file = file }

    // MARK: class level

    mutating func classLine(_ cursor: inout AssemblyCursor) throws(AssemblyError) {
        let start = Place(line: cursor.line, column: cursor.column)
        guard let word = cursor.peek()?.word else {
            throw cursor.error("expected a directive (class, parent, objects, methods, field, const, signature, linemap, method), found \(cursor.peek()!.spelling)")
        }
        if cursor.peek(1)?.isPunctuation(":") == true { throw cursor.error("label '\(word)' outside a method") }
        _ = cursor.next()
        switch word {
        case "class":
            guard className == nil else { throw cursor.error("the class is named twice", at: start.column) }
            className = try cursor.name("the class name")
        case "parent":
            guard parentName == nil else { throw cursor.error("the parent is named twice", at: start.column) }
            parentName = try cursor.name("the parent class name")
        case "objects":
            guard objectSlots == nil else { throw cursor.error("the object slot count is given twice", at: start.column) }
            objectSlots = (Int32(try cursor.integer("the object slot count", in: 0...Int64(Int32.max))), start)
        case "methods":
            guard methodSlots == nil else { throw cursor.error("the method slot count is given twice", at: start.column) }
            methodSlots = (Int32(try cursor.integer("the method slot count", in: 0...Int64(Int32.max))), start)
        case "Class":
            try cursor.expect("version", "after 'Class'")
            guard version == nil else { throw cursor.error("the class version is given twice", at: start.column) }
            version = try cursor.name("the class version")
        case "field": try field(&cursor, start)
        case "const":
            let index = try cursor.ordinal("the constant index")
            let type: PhantomType
            if cursor.remaining == 1, case .string = cursor.peek()?.kind { type = .string } else { type = try cursor.type("the constant type") }
            constants.append(ClassFile.Constant(index: index, type: type, bytes: try cursor.string("the constant's value")))
        case "signature": try signature(&cursor)
        case "linemap": try lineMap(&cursor)
        case "method":
            if cursor.peek()?.word == "end" && cursor.remaining == 1 { throw cursor.error("'method end' without a method", at: start.column) }
            let name = try cursor.name("the method name")
            try cursor.expect("ordinal", "after the method name")
            let ordinal = try cursor.ordinal("the method ordinal", slot: true)
            if let first = methods.first(where: { $0.method.ordinal == ordinal }) {
                throw cursor.error("method ordinal \(ordinal) is taken by method \(first.method.name) (line \(first.place.line))", at: start.column)
            }
            method = MethodInProgress(name: name, ordinal: ordinal, place: start)
        default:
            if Opcode.byMnemonic[word] != nil || word == "bytes" || word == "call" || word == "--" {
                throw cursor.error("'\(word)' outside a method (begin one with 'method NAME ordinal N')", at: start.column)
            }
            throw cursor.error("unknown directive '\(word)'", at: start.column)
        }
        try cursor.expectEnd("at the end of the '\(word)' line")
    }

    /// `field NAME [ordinal N] TYPE`; without an ordinal, the slot after the previous field's.
    private mutating func field(_ cursor: inout AssemblyCursor, _ start: Place) throws(AssemblyError) {
        let name = try cursor.name("the field name")
        let ordinal: Int32
        if cursor.peek()?.word == "ordinal", let next = cursor.peek(1)?.word, AssemblyLexer.integer(next) != nil {
            _ = cursor.next()
            ordinal = try cursor.ordinal("the field ordinal", slot: true)
        } else {
            let next = Int64(fields.last?.field.ordinal ?? -1) + 1
            guard next < Int64(Int32.max) else { throw cursor.error("the previous field took the last slot", at: start.column) }
            ordinal = Int32(next)
        }
        fields.append((ClassFile.Field(name: name, ordinal: ordinal, type: try cursor.type("the field type")), start))
    }

    /// `signature NAME ordinal N [constructor|old] returns TYPE (NAME TYPE, ...)`
    private mutating func signature(_ cursor: inout AssemblyCursor) throws(AssemblyError) {
        let name = try cursor.name("the method name")
        try cursor.expect("ordinal", "after the method name")
        let ordinal = try cursor.ordinal("the method ordinal")
        var isConstructor: Bool? = false
        switch cursor.peek()?.word {
        case "constructor": isConstructor = true; _ = cursor.next()
        case "old": isConstructor = nil; _ = cursor.next()
        default: break
        }
        try cursor.expect("returns", "before the return type ('constructor' or 'old' may come first)")
        let returnType = try cursor.type("the return type")
        try cursor.expectPunctuation("(", "to begin the arguments")
        var arguments: [ClassFile.Signature.Argument] = []
        if cursor.peek()?.isPunctuation(")") != true {
            while true {
                let argument = try cursor.name("an argument name")
                arguments.append(.init(name: argument, type: try cursor.type("the type of argument \(argument)")))
                guard cursor.peek()?.isPunctuation(",") == true else { break }
                _ = cursor.next()
            }
        }
        try cursor.expectPunctuation(")", "to end the arguments")
        signatures.append(ClassFile.Signature(name: name, ordinal: ordinal, isConstructor: isConstructor,
                                              returnType: returnType, arguments: arguments))
    }

    /// `linemap ORDINAL OFFSET:LINE ...`
    private mutating func lineMap(_ cursor: inout AssemblyCursor) throws(AssemblyError) {
        let ordinal = try cursor.ordinal("the method ordinal")
        var entries: [ClassFile.LineMap.Entry] = []
        while !cursor.isAtEnd {
            let offset = try cursor.integer("a code offset", in: Int64.min...Int64.max)
            try cursor.expectPunctuation(":", "between the code offset and the line")
            entries.append(.init(offset: offset, line: try cursor.int32("a line number")))
        }
        lineMaps.append(ClassFile.LineMap(ordinal: ordinal, entries: entries))
    }

    // MARK: method level

    mutating func methodLine(_ cursor: inout AssemblyCursor) throws(AssemblyError) {
        while let label = cursor.peek()?.word, cursor.peek(1)?.isPunctuation(":") == true {
            let place = Place(line: cursor.line, column: cursor.column)
            if let first = method!.labels[label] {
                throw cursor.error("label \(label) is defined twice (first on line \(first.line))")
            }
            guard AssemblyLexer.integer(label) == nil else { throw cursor.error("a label cannot be a number") }
            method!.labels[label] = place
            try? method!.writer.label(label)
            _ = cursor.next(); _ = cursor.next()
        }
        guard let token = cursor.peek() else { return }
        guard let word = token.word else { throw cursor.error("expected an instruction, found \(token.spelling)") }
        let column = cursor.column
        _ = cursor.next()
        switch word {
        case "--": break
        case "method":
            if cursor.peek()?.word == "end" && cursor.remaining == 1 {
                _ = cursor.next()
                try close()
                return
            }
            throw cursor.error("method \(method!.name) (line \(method!.place.line)) is not closed: 'method end' must come first", at: column)
        case "bytes":
            while !cursor.isAtEnd { method!.writer.u8(UInt8(try cursor.integer("a byte", in: 0...255))) }
        case "call": try call(&cursor)
        default:
            guard let opcode = Opcode.byMnemonic[word] else {
                if Assembler.classDirectives.contains(word) {
                    throw cursor.error("'\(word)' is a class directive: end the method with 'method end' first", at: column)
                }
                throw cursor.error("unknown mnemonic '\(word)'", at: column)
            }
            method!.writer.op(opcode)
            for (number, kind) in opcode.operands.enumerated() {
                try operand(kind, of: opcode, number: number + 1, &cursor)
            }
        }
        try cursor.expectEnd("after the operands of '\(word)'")
    }

    private mutating func operand(_ kind: OperandKind, of opcode: Opcode, number: Int,
                                  _ cursor: inout AssemblyCursor) throws(AssemblyError) {
        let what = "operand \(number) of \(opcode.mnemonic)"
        switch kind {
        case .u8: method!.writer.u8(UInt8(try cursor.integer(what, in: 0...255)))
        case .i32: method!.writer.i32(try cursor.int32(what))
        case .i64: method!.writer.i64(try cursor.integer(what, in: Int64.min...Int64.max))
        case .string: method!.writer.string(try cursor.string(what))
        case .rel32: try emit(try jumpTarget(&cursor, what), &cursor)
        case .debugInfo:
            let flags = UInt8(try cursor.integer("the flags of debug", in: 0...255))
            method!.writer.u8(flags)
            if flags & 0x80 != 0 {
                method!.writer.string(try cursor.string("the text of debug (flag 0x80 is set)"))
            } else if case .string = cursor.peek()?.kind {
                throw cursor.error("a debug text needs flag 0x80 set in the flags")
            }
        case .switchTable:
            let shift = try cursor.int32("the shift of switch")
            let divisor = try cursor.int32("the divisor of switch")
            var targets: [JumpTarget] = []
            while !cursor.isAtEnd { targets.append(try jumpTarget(&cursor, "switch entry \(targets.count)")) }
            method!.writer.i32(Int32(clamping: targets.count))
            method!.writer.i32(shift)
            method!.writer.i32(divisor)
            for target in targets { try emit(target, &cursor) }
        }
    }

    /// A jump target: a label of this method, or `@OFFSET` for an absolute code offset.
    private enum JumpTarget {
        case label(String, Place)
        case offset(Int64, Place)
    }

    private func jumpTarget(_ cursor: inout AssemblyCursor, _ what: String) throws(AssemblyError) -> JumpTarget {
        let place = Place(line: cursor.line, column: cursor.column)
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
            method!.references.append((label, place))
            method!.writer.reference(label)
        case .offset(let offset, let place):
            let (displacement, overflow) = offset.subtractingReportingOverflow(Int64(method!.writer.position))
            guard !overflow, let value = Int32(exactly: displacement) else {
                throw cursor.error("offset \(offset) is too far from here for a 32-bit displacement", at: place.column)
            }
            method!.writer.i32(value)
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
            method!.writer.op(Opcode(rawValue: Opcode.short_call_0.rawValue + UInt8(ordinal))!)
        } else if count & ~0xF == 0 && ordinal < 32 {
            method!.writer.op(Opcode(rawValue: Opcode.call_00.rawValue + UInt8(ordinal))!)
            method!.writer.u8(UInt8(count))
        } else if ordinal < 16 {
            method!.writer.op(.call_8bit)
            method!.writer.u8(UInt8(ordinal))
            method!.writer.i32(count)
        } else {
            method!.writer.op(.call_32bit)
            method!.writer.i32(Int32(ordinal))
            method!.writer.i32(count)
        }
    }

    private mutating func close() throws(AssemblyError) {
        let current = method!
        for reference in current.references where current.labels[reference.label] == nil {
            throw AssemblyError(file: file, line: reference.place.line, column: reference.place.column,
                                "label \(reference.label) is not defined in method \(current.name)")
        }
        let code: [UInt8]
        do { code = try current.writer.finish() } catch {
            throw AssemblyError(file: file, line: current.place.line, column: current.place.column, error.description)
        }
        methods.append((ClassFile.Method(name: current.name, ordinal: current.ordinal, code: code), current.place))
        method = nil
    }

    // MARK: the end

    func finish(lastLine: (line: Int, column: Int)) throws(AssemblyError) -> ClassFile {
        if let method {
            throw AssemblyError(file: file, line: lastLine.line, column: lastLine.column,
                                "method \(method.name) (line \(method.place.line)) is not closed with 'method end'")
        }
        guard let className else { throw AssemblyError(file: file, line: 1, column: 1, "no 'class NAME' line") }
        let objectCount = objectSlots?.count ?? (fields.map(\.field.ordinal).max().map { $0 + 1 } ?? 0)
        for (field, place) in fields where field.ordinal >= objectCount {
            throw AssemblyError(file: file, line: place.line, column: place.column,
                                "field \(field.name) has ordinal \(field.ordinal), outside the \(objectCount) object slots ('objects' on line \(objectSlots?.place.line ?? 0))")
        }
        let methodCount = methodSlots?.count ?? (methods.map(\.method.ordinal).max().map { $0 + 1 } ?? 0)
        for (method, place) in methods where method.ordinal >= methodCount {
            throw AssemblyError(file: file, line: place.line, column: place.column,
                                "method \(method.name) has ordinal \(method.ordinal), outside the \(methodCount) method slots ('methods' on line \(methodSlots?.place.line ?? 0))")
        }
        return ClassFile(name: className, parentName: parentName ?? ".internal.object", objectSlotCount: objectCount,
                         methodSlotCount: methodCount, version: version, methods: methods.map(\.method),
                         signatures: signatures, lineMaps: lineMaps, fields: fields.map(\.field), constants: constants)
    }
}
