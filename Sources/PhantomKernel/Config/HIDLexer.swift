/// One meaningful piece of a HID line: a node, an attribute, a line of
/// quoted content or the end marker. Comments and empty segments never
/// become segments.
///
/// hid.txt, "Compacted lines": `|` splits a line into segments, "where each
/// segment denotes a separate line with its indentation retained from the
/// segment". So every segment carries the column it starts at, and the
/// parser treats it exactly like a line of its own.
struct HIDSegment: Equatable {
    enum Kind: Equatable {
        /// The type of the top-level node (hid.txt, "Structure").
        case topLevel(type: String)
        /// `+ type` or, disabled, `x type` (hid.txt, "Disabled sub nodes").
        case subNode(type: String, enabled: Bool)
        /// `tag: value`; a node name arrives as the attribute `name`.
        case attribute(tag: String, value: String)
        /// The text after `: ` (hid.txt, "Quoted content").
        case quoted(String)
        /// `-` at the start of a line.
        case endMarker
    }

    var kind: Kind
    /// 1-based line number.
    var line: Int
    /// 0-based column of the segment's first character: its indentation.
    var indent: Int

    var location: ConfigLocation { ConfigLocation(line: line, column: indent + 1) }
}

/// Splits one HID line into segments and checks the syntax of each
/// (hid.txt, "Syntax"). Structure — which node a segment belongs to — is the
/// parser's business.
///
/// Columns count Unicode scalars, like libxml2's columns for XML. Genode
/// counts bytes; the two differ only where non-ASCII text precedes a `|` on
/// the same line, and then ours matches what an editor shows.
struct HIDLexer {
    let source: String
    /// "source:line:col: message" for input Genode's runtime tolerates but
    /// `hid check` would reject.
    var warnings: [String] = []

    init(source: String) {
        self.source = source
    }

    /// The segments of `line` (without its line break), number `number`.
    /// `expectingTopLevel` while the top-level node has not been seen.
    mutating func segments(of line: [Unicode.Scalar], number: Int,
                           expectingTopLevel: Bool) throws(ConfigError) -> [HIDSegment] {
        // hid.txt allows no control characters but tabs, and tabs only in
        // quoted content and comments (checked per segment below).
        if let bad = line.firstIndex(where: { $0.value < 0x20 && $0 != "\t" }) {
            throw error(number, bad, "control character U+\(Self.hex(line[bad].value)) is not allowed in HID")
        }
        var result: [HIDSegment] = []
        var position = 0
        var first = true
        var expectingTopLevel = expectingTopLevel
        while true {
            var start = position
            while start < line.count && line[start] == " " { start += 1 }
            guard start < line.count else { break }
            let scalar = line[start]
            let next: Unicode.Scalar? = start + 1 < line.count ? line[start + 1] : nil
            let atLineStart = first && start == 0

            if scalar == "|" {
                // An empty segment: visual scoping (hid.txt, "Visual scoping").
                if start > 0 && line[start - 1] != " " {
                    warn(number, start, "'|' should be preceded by a space")
                }
                if let next, next != " " {
                    warn(number, start, "'|' should be followed by a space")
                }
                position = start + 1
                first = false
                continue
            }
            first = false

            if scalar == "\t" {
                throw error(number, start, "tab character: HID indents with spaces; tabs may appear only in quoted content and comments")
            }
            let prefixed = next == nil || next == " "

            if expectingTopLevel {
                if scalar == "." && prefixed { throw error(number, start, "comment above the top-level node") }
                guard atLineStart else {
                    throw error(number, start, "expected the top-level node type at column 1")
                }
                guard Self.isLetter(scalar) else {
                    switch scalar {
                    case "-": throw error(number, start, "end marker '-' without a top-level node")
                    case "+": throw error(number, start, "sub node above the top-level node")
                    default:
                        throw error(number, start, "expected the top-level node type (a-z, then a-z, 0-9, '_' or '-')")
                    }
                }
                position = try node(in: line, number: number, anchor: start, typeAt: start, enabled: true,
                                    topLevel: true, into: &result)
                expectingTopLevel = false
                continue
            }

            if atLineStart && scalar == "-" {
                if line[(start + 1)...].contains(where: { $0 != " " }) {
                    throw error(number, start, "the end marker '-' must stand alone on its line")
                }
                result.append(HIDSegment(kind: .endMarker, line: number, indent: start))
                break
            }
            if atLineStart && Self.isLetter(scalar) && !(scalar == "x" && next == " ") {
                let word = Self.word(in: line, from: start)
                if Self.isTagForm(line[start...]) {
                    throw error(number, start, "attribute '\(word)' is not under a node: attributes are indented at least at their node's level, and only the top-level node starts at column 1")
                }
                throw error(number, start, "second top-level node '\(word)': a HID text has one top-level node; sub nodes start with '+ '")
            }

            if (scalar == "+" || scalar == "x") && next == " " {
                position = try node(in: line, number: number, anchor: start, typeAt: start + 2,
                                    enabled: scalar == "+", topLevel: false, into: &result)
            } else if scalar == "+" {
                throw error(number, start, next == nil ? "expected a node type after '+'"
                                                       : "'+' must be followed by a space and a node type")
            } else if scalar == "." {
                // A comment captures the rest of the line, '|' included.
                guard prefixed else {
                    throw error(number, start, "a comment's text must be separated from '.' by a space")
                }
                break
            } else if scalar == ":" {
                // Quoted content captures the rest of the line after ": ".
                guard prefixed else {
                    throw error(number, start, "quoted content must be separated from ':' by a space")
                }
                let text = start + 2 <= line.count ? String(String.UnicodeScalarView(line[(start + 2)...])) : ""
                result.append(HIDSegment(kind: .quoted(text), line: number, indent: start))
                break
            } else if scalar == "-" && (prefixed || next == "|") {
                throw error(number, start, "the end marker '-' must be at column 1")
            } else {
                position = try attribute(in: line, number: number, at: start, into: &result)
            }
        }
        return result
    }

    // MARK: - Nodes and attributes

    /// Lexes a node type at `typeAt` and what follows it up to the next `|`:
    /// nothing, a name, or one attribute. Returns where the segment ends.
    private mutating func node(in line: [Unicode.Scalar], number: Int, anchor: Int, typeAt: Int, enabled: Bool,
                               topLevel: Bool, into result: inout [HIDSegment]) throws(ConfigError) -> Int {
        let typeEnd = Self.identifierEnd(in: line, from: typeAt)
        let end = Self.segmentEnd(in: line, from: typeAt)
        guard typeEnd > typeAt else {
            let word = Self.word(in: line, from: typeAt)
            throw error(number, typeAt, word.isEmpty
                        ? "expected a node type after '\(enabled ? "+" : "x") '"
                        : "bad node type '\(word)': a type starts with a lower-case letter (a-z) and continues with a-z, 0-9, '_' or '-'")
        }
        if typeEnd < line.count && line[typeEnd] != " " && line[typeEnd] != "|" {
            throw error(number, typeAt, "bad node type '\(Self.word(in: line, from: typeAt))': a type starts with a lower-case letter (a-z) and continues with a-z, 0-9, '_' or '-'")
        }
        try checkNoTabs(in: line, typeAt..<end, number: number)
        let type = String(String.UnicodeScalarView(line[typeAt..<typeEnd]))
        result.append(HIDSegment(kind: topLevel ? .topLevel(type: type) : .subNode(type: type, enabled: enabled),
                                 line: number, indent: anchor))
        // hid.txt, "Node names": a name after the type is the attribute
        // `name`. As in Genode, what reads like `tag: value` is an attribute.
        var restStart = typeEnd
        while restStart < end && line[restStart] == " " { restStart += 1 }
        guard restStart < end else { return end }
        if Self.isTagForm(line[restStart..<end]) {
            _ = try attribute(in: line, number: number, at: restStart, into: &result)
        } else {
            let name = Self.trimmed(line[restStart..<end])
            result.append(HIDSegment(kind: .attribute(tag: "name", value: name), line: number, indent: restStart))
        }
        return end
    }

    /// Lexes `tag: value` at `start` up to the next `|`; returns its end.
    private mutating func attribute(in line: [Unicode.Scalar], number: Int, at start: Int,
                                    into result: inout [HIDSegment]) throws(ConfigError) -> Int {
        let end = Self.segmentEnd(in: line, from: start)
        let tagEnd = Self.identifierEnd(in: line, from: start)
        let badTag = "a tag starts with a lower-case letter (a-z) and continues with a-z, 0-9, '_' or '-'"
        guard tagEnd > start else {
            throw error(number, start, "bad attribute tag '\(Self.word(in: line, from: start))': \(badTag)")
        }
        let tag = String(String.UnicodeScalarView(line[start..<tagEnd]))
        guard tagEnd < end, line[tagEnd] == ":" else {
            if tagEnd < end && line[tagEnd] != " " {
                throw error(number, start, "bad attribute tag '\(Self.word(in: line, from: start))': \(badTag)")
            }
            throw error(number, tagEnd, "expected ':' after the attribute tag '\(tag)'")
        }
        try checkNoTabs(in: line, start..<end, number: number)
        let valueStart = tagEnd + 1
        if valueStart < end && line[valueStart] != " " {
            warn(number, valueStart, "the value of '\(tag)' should be separated from ':' by a space")
        }
        let value = Self.trimmed(line[valueStart..<end])
        result.append(HIDSegment(kind: .attribute(tag: tag, value: value), line: number, indent: start))
        return end
    }

    private func checkNoTabs(in line: [Unicode.Scalar], _ range: Range<Int>, number: Int) throws(ConfigError) {
        if let tab = line[range].firstIndex(of: "\t") {
            throw error(number, tab, "tab character: HID indents with spaces; tabs may appear only in quoted content and comments")
        }
    }

    // MARK: - Character classes (hid.txt, "Syntax")

    static func isLetter(_ scalar: Unicode.Scalar) -> Bool { scalar >= "a" && scalar <= "z" }

    static func isIdentifierCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isLetter(scalar) || (scalar >= "0" && scalar <= "9") || scalar == "_" || scalar == "-"
    }

    /// Whether `name` is a valid node type or attribute tag.
    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isLetter(first) else { return false }
        return name.unicodeScalars.allSatisfy(isIdentifierCharacter)
    }

    /// Whether `text` starts like an attribute: a tag followed by `:` at its
    /// end or by `: ` — Genode's test for telling a node name from an
    /// attribute on a node's line.
    static func isTagForm<C: Collection>(_ text: C) -> Bool where C.Element == Unicode.Scalar {
        guard let first = text.first, isLetter(first) else { return false }
        var index = text.startIndex
        while index != text.endIndex && isIdentifierCharacter(text[index]) { index = text.index(after: index) }
        guard index != text.endIndex, text[index] == ":" else { return false }
        let after = text.index(after: index)
        return after == text.endIndex || text[after] == " "
    }

    /// The end of the identifier starting at `start` (== start when none).
    private static func identifierEnd(in line: [Unicode.Scalar], from start: Int) -> Int {
        guard start < line.count, isLetter(line[start]) else { return start }
        var end = start + 1
        while end < line.count && isIdentifierCharacter(line[end]) { end += 1 }
        return end
    }

    /// The index of the next `|` at or after `start`, or the line's end.
    private static func segmentEnd(in line: [Unicode.Scalar], from start: Int) -> Int {
        line[start...].firstIndex(of: "|") ?? line.count
    }

    /// The characters from `start` up to a space, `:` or `|`, for messages.
    private static func word(in line: [Unicode.Scalar], from start: Int) -> String {
        guard start < line.count else { return "" }
        let end = line[start...].firstIndex { $0 == " " || $0 == ":" || $0 == "|" } ?? line.count
        return String(String.UnicodeScalarView(line[start..<end]))
    }

    /// Spaces off both ends (hid.txt: "Leading and trailing space around an
    /// attribute value is not part of the value").
    private static func trimmed(_ text: ArraySlice<Unicode.Scalar>) -> String {
        guard let first = text.firstIndex(where: { $0 != " " }),
              let last = text.lastIndex(where: { $0 != " " }) else { return "" }
        return String(String.UnicodeScalarView(text[first...last]))
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: - Reporting

    private func error(_ line: Int, _ index: Int, _ message: String) -> ConfigError {
        ConfigError(source: source, location: ConfigLocation(line: line, column: index + 1), message: message)
    }

    private mutating func warn(_ line: Int, _ index: Int, _ message: String) {
        warnings.append("\(source):\(line):\(index + 1): \(message)")
    }
}
