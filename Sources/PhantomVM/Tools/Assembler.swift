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
            if var method = state.method {
                state.method = nil  // so that the method's code is not copied as it grows
                if try method.line(&cursor) {
                    try state.close(method)
                } else {
                    state.method = method
                }
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

struct AssemblyState {
    let file: String
    var className: String?
    var parentName: String?
    var version: String?
    var objectSlots: (count: Int32, place: AssemblyPlace)?
    var methodSlots: (count: Int32, place: AssemblyPlace)?
    var fields: [(field: ClassFile.Field, place: AssemblyPlace)] = []
    var constants: [ClassFile.Constant] = []
    var signatures: [ClassFile.Signature] = []
    var lineMaps: [ClassFile.LineMap] = []
    var methods: [(method: ClassFile.Method, place: AssemblyPlace)] = []
    /// The method whose lines are being read.
    var method: AssemblyMethod?

    init(file: String) { self.file = file }

    // MARK: class level

    mutating func classLine(_ cursor: inout AssemblyCursor) throws(AssemblyError) {
        let start = AssemblyPlace(line: cursor.line, column: cursor.column)
        guard let word = cursor.peek()?.word else {
            throw cursor.error("expected a directive (class, parent, objects, methods, field, const, signature, linemap, method), found \(cursor.peek().map(\.spelling) ?? "nothing")")
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
            method = AssemblyMethod(name: name, ordinal: ordinal, place: start)
        default:
            if Opcode.byMnemonic[word] != nil || word == "bytes" || word == "call" || word == "--" {
                throw cursor.error("'\(word)' outside a method (begin one with 'method NAME ordinal N')", at: start.column)
            }
            throw cursor.error("unknown directive '\(word)'", at: start.column)
        }
        try cursor.expectEnd("at the end of the '\(word)' line")
    }

    /// `field NAME [ordinal N] TYPE`; without an ordinal, the slot after the previous field's.
    private mutating func field(_ cursor: inout AssemblyCursor, _ start: AssemblyPlace) throws(AssemblyError) {
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

    /// Ends the method: every label it jumps to must be defined in it.
    mutating func close(_ current: AssemblyMethod) throws(AssemblyError) {
        for reference in current.references where current.labels[reference.label] == nil {
            throw AssemblyError(file: file, line: reference.place.line, column: reference.place.column,
                                "label \(reference.label) is not defined in method \(current.name)")
        }
        let code: [UInt8]
        do { code = try current.writer.finish() } catch {
            throw AssemblyError(file: file, line: current.place.line, column: current.place.column, error.description)
        }
        methods.append((ClassFile.Method(name: current.name, ordinal: current.ordinal, code: code), current.place))
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
