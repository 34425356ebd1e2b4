/// The spelling of names, strings and types in the PVM assembly text
/// (`.pas`, docs/PVM-ASSEMBLER.md), shared by the disassembler, which
/// writes it, and the assembler, which reads it, so that a listing always
/// reads back as the class it came from.
///
/// A name is written as it is when it is a plain word (letters, digits and
/// `_ . $ -`, not a keyword), otherwise as a string literal. A string
/// literal stands for bytes: the UTF-8 of its characters, with the escapes
/// `\"` `\\` `\n` `\t` `\r` `\0` and `\xHH` for any byte.
public enum AssemblySyntax {
    /// Words with a meaning of their own somewhere in the text; a name
    /// spelled like one is quoted, so that it cannot be misread.
    public static let keywords: Set<String> = [
        "class", "parent", "objects", "methods", "Class", "version", "field", "ordinal", "const", "signature",
        "constructor", "old", "returns", "linemap", "method", "end", "bytes", "call", "--",
    ]

    /// Bytes that end a word: punctuation, comment starts, quotes and white space.
    static let punctuation: Set<UInt8> = Set("\"()[]<>,:@;/".utf8)

    static func isWordByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte != 0x7F && !punctuation.contains(byte)
    }

    private static func isPlainByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "$"),
             UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// A class, method, field or argument name as the text spells it.
    public static func name(_ name: String) -> String {
        let plain = !name.isEmpty && name.utf8.allSatisfy(isPlainByte) && !keywords.contains(name)
        return plain ? name : quoted(name.utf8)
    }

    /// A string literal for `bytes`: valid UTF-8 stays readable, anything
    /// else is escaped, so every byte string has exactly one spelling.
    public static func quoted(_ bytes: some Collection<UInt8>) -> String {
        let bytes = Array(bytes)
        var text = "\""
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\\"): text += "\\\\"
            case 0x0A: text += "\\n"
            case 0x09: text += "\\t"
            case 0x0D: text += "\\r"
            case 0x00: text += "\\0"
            case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(byte))
            case 0xC2...0xF4:
                // A lead byte: keep the character if the sequence is valid UTF-8.
                let length = byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                if index + length <= bytes.count,
                   let character = String(validating: bytes[index..<index + length], as: UTF8.self),
                   character.unicodeScalars.allSatisfy({ $0.properties.generalCategory != .control && !$0.properties.isWhitespace || $0 == " " }) {
                    text += character
                    index += length
                    continue
                }
                text += "\\x" + ClassFileRecord.hex(byte)
            default: text += "\\x" + ClassFileRecord.hex(byte)
            }
            index += 1
        }
        return text + "\""
    }

    /// A type: `main` for a plain type, `main[contained]` for a container
    /// (`[contained]` when it names no container class), and `main<contained>`
    /// for the odd plain type that names a contained class too.
    public static func type(_ type: PhantomType) -> String {
        let main = type.mainClassName
        let contained = type.containedClassName
        if type.isContainer {
            return (main.isEmpty ? "" : name(main)) + "[" + (contained.isEmpty ? "" : name(contained)) + "]"
        }
        return contained.isEmpty ? name(main) : name(main) + "<" + name(contained) + ">"
    }
}
