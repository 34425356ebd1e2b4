/// Reads the tokens of one `.pas` line in order, with the assembler's
/// vocabulary (names, integers in a range, types, labels); every error
/// points at the token it is about, or at the end of the line.
struct AssemblyCursor {
    let tokens: [AssemblyToken]
    let line: Int
    let file: String
    /// Where errors about a missing token point.
    let endColumn: Int
    private(set) var index = 0

    init(_ line: AssemblyLexer.Line, file: String) {
        self.tokens = line.tokens
        self.line = line.number
        self.file = file
        self.endColumn = line.length + 1
    }

    var isAtEnd: Bool { index >= tokens.count }
    var remaining: Int { tokens.count - index }
    func peek(_ ahead: Int = 0) -> AssemblyToken? { index + ahead < tokens.count ? tokens[index + ahead] : nil }
    mutating func next() -> AssemblyToken? {
        defer { index += 1 }
        return peek()
    }

    /// The column of the next token, or of the end of the line.
    var column: Int { peek()?.column ?? endColumn }

    func error(_ message: String, at column: Int? = nil) -> AssemblyError {
        AssemblyError(file: file, line: line, column: column ?? self.column, message)
    }

    /// What the next token is, for "expected X, found Y" messages.
    private var found: String { peek().map { "found \($0.spelling)" } ?? "found the end of the line" }

    mutating func expect(_ word: String, _ context: String) throws(AssemblyError) {
        guard peek()?.word == word else { throw error("expected '\(word)' \(context), \(found)") }
        index += 1
    }

    mutating func expectPunctuation(_ character: Character, _ context: String) throws(AssemblyError) {
        guard peek()?.isPunctuation(character) == true else { throw error("expected '\(character)' \(context), \(found)") }
        index += 1
    }

    mutating func expectEnd(_ context: String) throws(AssemblyError) {
        guard let token = peek() else { return }
        throw error("unexpected \(token.spelling) \(context)")
    }

    /// Whether the next token is a name (a word or a string).
    var atName: Bool {
        switch peek()?.kind {
        case .word, .string: true
        default: false
        }
    }

    mutating func name(_ what: String) throws(AssemblyError) -> String {
        switch peek()?.kind {
        case .word(let word): index += 1; return word
        case .string(let bytes): index += 1; return ClassFile.text(bytes)
        default: throw error("expected \(what), \(found)")
        }
    }

    mutating func string(_ what: String) throws(AssemblyError) -> [UInt8] {
        guard case .string(let bytes) = peek()?.kind else { throw error("expected \(what) (a \"string\"), \(found)") }
        index += 1
        return bytes
    }

    mutating func integer(_ what: String, in range: ClosedRange<Int64>) throws(AssemblyError) -> Int64 {
        guard let word = peek()?.word, let value = AssemblyLexer.integer(word) else {
            throw error("expected \(what) (an integer), \(found)")
        }
        guard range.contains(value) else {
            throw error("\(what) must be \(range.lowerBound)...\(range.upperBound), not \(word)")
        }
        index += 1
        return value
    }

    mutating func int32(_ what: String) throws(AssemblyError) -> Int32 {
        Int32(try integer(what, in: Int64(Int32.min)...Int64(Int32.max)))
    }

    /// An ordinal or index: not negative. A method's or field's must leave
    /// room for the slot count above it (`slot: true`).
    mutating func ordinal(_ what: String, slot: Bool = false) throws(AssemblyError) -> Int32 {
        Int32(try integer(what, in: 0...Int64(slot ? Int32.max - 1 : Int32.max)))
    }

    /// `name`, `main[contained]`, `[contained]`, `main[]` or `main<contained>` (`AssemblySyntax.type`).
    mutating func type(_ what: String) throws(AssemblyError) -> PhantomType {
        let column = self.column
        let main = atName ? try name(what) : nil
        if peek()?.isPunctuation("[") == true {
            index += 1
            let contained = atName ? try name("the contained class of \(what)") : ""
            try expectPunctuation("]", "to close the container type")
            return PhantomType(isContainer: true, mainClassName: main ?? "", containedClassName: contained)
        }
        if peek()?.isPunctuation("<") == true {
            index += 1
            let contained = try name("the contained class of \(what)")
            try expectPunctuation(">", "to close the contained class")
            return PhantomType(isContainer: false, mainClassName: main ?? "", containedClassName: contained)
        }
        guard let main else { throw error("expected \(what) (a class name, or NAME[ELEMENT] for a container), \(found)", at: column) }
        return PhantomType(main)
    }
}
