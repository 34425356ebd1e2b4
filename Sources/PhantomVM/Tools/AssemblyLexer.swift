/// One token of a `.pas` line.
struct AssemblyToken: Equatable {
    enum Kind: Equatable {
        /// A run of word bytes: a mnemonic, a directive, a name, a number.
        case word(String)
        /// A string literal, as the bytes it stands for.
        case string([UInt8])
        /// One of `( ) [ ] < > , : @`.
        case punctuation(UInt8)
    }

    var kind: Kind
    /// From 1, in bytes.
    var column: Int

    var word: String? { if case .word(let word) = kind { word } else { nil } }

    func isPunctuation(_ character: Character) -> Bool { kind == .punctuation(character.asciiValue ?? 0) }

    /// How the token reads in an error message.
    var spelling: String {
        switch kind {
        case .word(let word): "'\(word)'"
        case .string(let bytes): AssemblySyntax.quoted(bytes)
        case .punctuation(let byte): "'\(Character(Unicode.Scalar(byte)))'"
        }
    }
}

/// Splits `.pas` text into lines of tokens. Comments run from `//` or `;`
/// to the end of the line (Phantom's listings use both: `//  @offset` and
/// `; Line N`).
enum AssemblyLexer {
    struct Line {
        /// From 1.
        var number: Int
        var tokens: [AssemblyToken]
        /// In bytes, for errors about what is missing at its end.
        var length: Int
    }

    /// The tokens of each line; a line ends at LF (a CR before it is dropped).
    static func lines(of text: String, file: String) throws(AssemblyError) -> [Line] {
        var result: [Line] = []
        for (index, line) in Array(text.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var bytes = Array(line)
            if bytes.last == 0x0D { bytes.removeLast() }
            result.append(Line(number: index + 1, tokens: try tokens(of: bytes, line: index + 1, file: file), length: bytes.count))
        }
        return result
    }

    static func tokens(of bytes: [UInt8], line: Int, file: String) throws(AssemblyError) -> [AssemblyToken] {
        var tokens: [AssemblyToken] = []
        var index = 0
        func fail(_ at: Int, _ message: String) -> AssemblyError {
            AssemblyError(file: file, line: line, column: at + 1, message)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 || byte == 0x0B || byte == 0x0C { index += 1; continue }
            if byte == UInt8(ascii: ";") { break }
            if byte == UInt8(ascii: "/") {
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") else {
                    throw fail(index, "a single '/' (comments start with // or ;)")
                }
                break
            }
            let start = index
            if byte == UInt8(ascii: "\"") {
                var value: [UInt8] = []
                index += 1
                while true {
                    guard index < bytes.count else { throw fail(start, "the string is not closed on this line") }
                    let next = bytes[index]
                    if next == UInt8(ascii: "\"") { index += 1; break }
                    guard next == UInt8(ascii: "\\") else { value.append(next); index += 1; continue }
                    guard index + 1 < bytes.count else { throw fail(index, "the string ends in a lone backslash") }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""): value.append(0x22)
                    case UInt8(ascii: "\\"): value.append(0x5C)
                    case UInt8(ascii: "n"): value.append(0x0A)
                    case UInt8(ascii: "t"): value.append(0x09)
                    case UInt8(ascii: "r"): value.append(0x0D)
                    case UInt8(ascii: "0"): value.append(0x00)
                    case UInt8(ascii: "x"):
                        guard index + 3 < bytes.count, let high = hexDigit(bytes[index + 2]), let low = hexDigit(bytes[index + 3]) else {
                            throw fail(index, "\\x needs two hex digits")
                        }
                        value.append(high << 4 | low)
                        index += 2
                    default:
                        throw fail(index, "unknown escape '\\\(Character(Unicode.Scalar(bytes[index + 1])))' (use \\\" \\\\ \\n \\t \\r \\0 or \\xHH)")
                    }
                    index += 2
                }
                tokens.append(AssemblyToken(kind: .string(value), column: start + 1))
            } else if AssemblySyntax.punctuation.contains(byte) {
                tokens.append(AssemblyToken(kind: .punctuation(byte), column: start + 1))
                index += 1
            } else if AssemblySyntax.isWordByte(byte) {
                while index < bytes.count && AssemblySyntax.isWordByte(bytes[index]) { index += 1 }
                tokens.append(AssemblyToken(kind: .word(String(decoding: bytes[start..<index], as: UTF8.self)), column: start + 1))
            } else {
                throw fail(index, "unexpected character 0x\(ClassFileRecord.hex(byte))")
            }
        }
        return tokens
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A decimal or `0x` hexadecimal integer, optionally signed.
    static func integer(_ word: String) -> Int64? {
        var text = Substring(word)
        var negative = false
        if text.first == "-" || text.first == "+" { negative = text.first == "-"; text = text.dropFirst() }
        var radix = 10
        if text.hasPrefix("0x") || text.hasPrefix("0X") { radix = 16; text = text.dropFirst(2) }
        guard !text.isEmpty, text.allSatisfy(\.isHexDigit), let magnitude = UInt64(text, radix: radix) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return Int64(exactly: magnitude)
    }
}
