/// Writes a class file as a listing in the form of the `.lstc` files
/// Phantom's compiler writes beside each class (`Codegen.list`,
/// `Codegen.listlbl`, `MethodTable.codegen`), which the assembler reads back
/// into the same bytes.
///
/// What is the same as a `.lstc` of the current compiler (2019, `Codegen.java`
/// at bf8b53b; listings of 2016–2017 differ only in the tab stop, 4 − length/8,
/// and in indenting comments and giving them an offset):
/// - `Class version V` and an empty line first (when the file has a version);
/// - each method as `method NAME ordinal N`, `--`, its lines, `--`,
///   `method end` and an empty line;
/// - an instruction line is two spaces, the text, 7 − length/8 tabs (at least
///   one) and `//  @OFFSET`, the offset of the instruction; a label line is
///   `NAME:`, one tab and `//  @OFFSET`; labels are called `_label_N`;
/// - comments are lines of their own starting with `;`, among them the line
///   map's `; Line N` before the instruction where the line's code begins.
///
/// Where it differs, and why:
/// - Instructions are written as their opcodes (`Opcode.mnemonic`) with every
///   operand (`iconst_32bit 5`, `os_load8 12`, `call_08 0`, `prefix_long`),
///   not in the compiler's words (`const 5`, `load fld=12`,
///   `call m=8 nparm=0`, `:long`): those do not say which encoding was used
///   (`const 1` is any of three), omit some operands (`debug`), and could not
///   be assembled back.
/// - Strings are escaped (`\n`, `\xHH`) rather than written raw, so an
///   instruction stays on one line.
/// - The class header, fields, constants, signatures and line maps, which a
///   `.lstc` does not show, are written as directives (`class`, `parent`,
///   `objects`, `methods`, `field`, `const`, `signature`, `linemap`) so
///   that nothing of the class file is lost; the compiler's other comments
///   (`; set x`, `; str '...'`) come from the source and cannot be recovered.
/// - Methods come in file order (the `.lstc` has the same order, the
///   compiler's hash-map order, as its class file), and labels are numbered
///   in code order (the compiler's in creation order).
/// - Code that does not decode is written as `bytes` lines from the first
///   instruction that fails, after a `;` comment saying why; a jump to an
///   offset where no line starts is written `@OFFSET`.
public enum Disassembler {
    public static func listing(_ classFile: ClassFile) -> String {
        var lines: [String] = []
        if let version = classFile.version {
            lines += ["Class version " + AssemblySyntax.name(version), ""]
        }
        lines.append("class " + AssemblySyntax.name(classFile.name))
        lines.append("parent " + AssemblySyntax.name(classFile.parentName))
        lines.append("objects \(classFile.objectSlotCount)")
        lines.append("methods \(classFile.methodSlotCount)")
        for field in classFile.fields {
            lines.append("field \(AssemblySyntax.name(field.name)) ordinal \(field.ordinal) \(AssemblySyntax.type(field.type))")
        }
        for constant in classFile.constants {
            let type = constant.type == .string ? "" : AssemblySyntax.type(constant.type) + " "
            lines.append("const \(constant.index) \(type)\(AssemblySyntax.quoted(constant.bytes))")
        }
        lines.append("")
        // Signatures and line maps go before the method of their ordinal as
        // long as that keeps each in file order, as the writer places them.
        var nextSignature = 0
        var nextLineMap = 0
        for method in classFile.methods {
            while nextSignature < classFile.signatures.count && classFile.signatures[nextSignature].ordinal == method.ordinal {
                lines.append(signature(classFile.signatures[nextSignature]))
                nextSignature += 1
            }
            while nextLineMap < classFile.lineMaps.count && classFile.lineMaps[nextLineMap].ordinal == method.ordinal {
                lines.append(lineMap(classFile.lineMaps[nextLineMap]))
                nextLineMap += 1
            }
            let entries = classFile.lineMaps.filter { $0.ordinal == method.ordinal }.flatMap(\.entries)
            lines.append("method \(AssemblySyntax.name(method.name)) ordinal \(method.ordinal)")
            lines.append("--")
            lines += body(method.code, lineEntries: entries)
            lines += ["--", "method end", ""]
        }
        lines += classFile.signatures[nextSignature...].map(signature)
        lines += classFile.lineMaps[nextLineMap...].map(lineMap)
        return lines.joined(separator: "\n") + "\n"
    }

    static func signature(_ signature: ClassFile.Signature) -> String {
        let kind = switch signature.isConstructor {
        case nil: "old "
        case true?: "constructor "
        case false?: ""
        }
        let arguments = signature.arguments.map { AssemblySyntax.name($0.name) + " " + AssemblySyntax.type($0.type) }
        return "signature \(AssemblySyntax.name(signature.name)) ordinal \(signature.ordinal) \(kind)returns "
            + "\(AssemblySyntax.type(signature.returnType)) (\(arguments.joined(separator: ", ")))"
    }

    static func lineMap(_ lineMap: ClassFile.LineMap) -> String {
        (["linemap \(lineMap.ordinal)"] + lineMap.entries.map { "\($0.offset):\($0.line)" }).joined(separator: " ")
    }

    /// An instruction line as the compiler's `Codegen.list` lays it out
    /// (the length counted in UTF-16 units, as Java's `String.length`).
    static func listed(_ text: String, at offset: Int) -> String {
        "  " + text + String(repeating: "\t", count: max(1, 7 - text.utf16.count / 8)) + "//  @\(offset)"
    }

    /// The lines of a method's code: labels, `; Line` comments, instructions,
    /// and `bytes` for whatever does not decode.
    static func body(_ code: [UInt8], lineEntries: [ClassFile.LineMap.Entry]) -> [String] {
        var reader = CodeReader(code)
        var instructions: [Instruction] = []
        var failure: BytecodeError?
        while !reader.isAtEnd {
            let start = reader.position
            do { instructions.append(try reader.instruction()) } catch {
                failure = error
                reader.position = start
                break
            }
        }
        let rawStart = reader.position
        // Every offset a line starts at (or the end), where a label can stand.
        var lineStarts = Set(instructions.map(\.offset))
        lineStarts.formUnion(stride(from: rawStart, through: code.count, by: 16))
        lineStarts.insert(code.count)
        var targets = Set<Int>()
        for instruction in instructions {
            for operand in instruction.operands {
                switch operand {
                case .target(let target): targets.insert(target)
                case .switchTable(let table): targets.formUnion(table.targets)
                default: break
                }
            }
        }
        var labels: [Int: String] = [:]
        for (number, offset) in targets.filter(lineStarts.contains).sorted().enumerated() { labels[offset] = "_label_\(number)" }
        var lineComments: [Int: [Int32]] = [:]
        for entry in lineEntries {
            guard let offset = Int(exactly: entry.offset), lineStarts.contains(offset) else { continue }
            lineComments[offset, default: []].append(entry.line)
        }

        var lines: [String] = []
        func place(_ offset: Int) {
            if let label = labels[offset] { lines.append("\(label):\t//  @\(offset)") }
            for line in lineComments[offset] ?? [] { lines.append("; Line \(line)") }
        }
        func target(_ offset: Int) -> String { labels[offset] ?? "@\(offset)" }
        for instruction in instructions {
            place(instruction.offset)
            lines.append(listed(text(instruction, target: target), at: instruction.offset))
        }
        if let failure, rawStart < code.count {
            place(rawStart)
            lines.append("; does not decode: \(failure.description)")
            for start in stride(from: rawStart, to: code.count, by: 16) {
                if start != rawStart { place(start) }
                let chunk = code[start..<min(start + 16, code.count)].map { "0x" + ClassFileRecord.hex($0) }
                lines.append(listed("bytes " + chunk.joined(separator: " "), at: start))
            }
        }
        if labels[code.count] != nil || lineComments[code.count] != nil { place(code.count) }
        return lines
    }

    /// An instruction as the assembler reads it: its mnemonic and operands.
    static func text(_ instruction: Instruction, target: (Int) -> String) -> String {
        var parts = [instruction.opcode.mnemonic]
        for operand in instruction.operands {
            switch operand {
            case .int(let value): parts.append(String(value))
            case .bytes(let bytes): parts.append(AssemblySyntax.quoted(bytes))
            case .target(let offset): parts.append(target(offset))
            case .switchTable(let table):
                parts += [String(table.shift), String(table.divisor)] + table.targets.map(target)
            case .debug(let flags, let text):
                parts.append(String(flags))
                if let text { parts.append(AssemblySyntax.quoted(text)) }
            }
        }
        return parts.joined(separator: " ")
    }
}
