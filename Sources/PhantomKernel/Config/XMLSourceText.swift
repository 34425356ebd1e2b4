/// The XML text as the parser saw it, for what `XMLParser` does not tell:
/// where an element starts and in which order its attributes were written.
///
/// `XMLParser` hands a start tag's attributes over as a dictionary, but
/// Genode's node model keeps them in document order (the first of two equal
/// tags wins, and a rendered config should read like the written one). Its
/// `lineNumber`/`columnNumber` during `didStartElement` point at the tag's
/// closing `>` or `/>` (libxml2's cursor; columns count characters, not
/// bytes). From there we step back to the tag's `<` — which cannot occur
/// inside an attribute value, XML forbids it unescaped — and read the
/// attribute names forward. This is not a second XML parser: it only lists
/// names in a tag that libxml2 has already accepted, and when anything does
/// not match (an unexpected cursor, a name it did not report) the caller
/// falls back to sorting the attributes by name.
struct XMLSourceText {
    private let scalars: [Unicode.Scalar]
    /// Offsets in `scalars` where each line starts; line n (1-based) at n - 1.
    private let lineStarts: [Int]

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        var starts = [0]
        for (offset, scalar) in scalars.enumerated() where scalar == "\n" {
            starts.append(offset + 1)
        }
        lineStarts = starts
    }

    /// A start tag found in the text: where its `<` is and its attribute
    /// names in the order written.
    struct StartTag {
        var location: ConfigLocation
        var attributeNames: [String]
    }

    /// The start tag of element `name` whose end the parser's cursor is at
    /// (line and column as `XMLParser` reports them), or nil when the text
    /// there does not look like that tag.
    func startTag(named name: String, cursorLine: Int, cursorColumn: Int) -> StartTag? {
        guard let cursor = offset(line: cursorLine, column: cursorColumn) else { return nil }
        var open = min(cursor, scalars.count - 1)
        while open >= 0 && scalars[open] != "<" { open -= 1 }
        guard open >= 0 else { return nil }
        var position = open + 1
        guard readName(at: &position) == name else { return nil }
        var names: [String] = []
        while true {
            skipSpace(at: &position)
            guard position < scalars.count else { return nil }
            if scalars[position] == ">" || scalars[position] == "/" { break }
            guard let attribute = readName(at: &position), !attribute.isEmpty else { return nil }
            skipSpace(at: &position)
            guard position < scalars.count, scalars[position] == "=" else { return nil }
            position += 1
            skipSpace(at: &position)
            guard position < scalars.count, scalars[position] == "\"" || scalars[position] == "'" else { return nil }
            let quote = scalars[position]
            position += 1
            while position < scalars.count && scalars[position] != quote { position += 1 }
            guard position < scalars.count else { return nil }
            position += 1
            names.append(attribute)
        }
        return StartTag(location: location(ofOffset: open), attributeNames: names)
    }

    /// The first markup that must not reach `XMLParser`, with where it
    /// starts and why; nil when there is none. Comments and CDATA sections
    /// are skipped (their text is no markup); elsewhere `<` starts markup.
    ///
    /// - `<!DOCTYPE`: Genode's XML has no DTDs, libxml2 would silently drop
    ///   references to entities declared there, and FoundationXML's DTD
    ///   callbacks are its least exercised code.
    /// - A processing instruction without data (`<?target?>`): libxml2 passes
    ///   its data as NULL and FoundationXML (swift-corelibs, Linux) calls
    ///   `strlen` on it — a segmentation fault our fuzzer found.
    func unsupportedMarkup() -> (location: ConfigLocation, message: String)? {
        let commentOpen = Array("<!--".unicodeScalars), commentClose = Array("-->".unicodeScalars)
        let cdataOpen = Array("<![CDATA[".unicodeScalars), cdataClose = Array("]]>".unicodeScalars)
        let doctype = Array("<!DOCTYPE".unicodeScalars)
        let piClose = Array("?>".unicodeScalars)
        func skip(past close: [Unicode.Scalar], from start: Int) -> Int {
            var position = start
            while position < scalars.count && !matches(close, at: position) { position += 1 }
            return position + close.count
        }
        var position = 0
        while position < scalars.count {
            guard scalars[position] == "<" else { position += 1; continue }
            if matches(commentOpen, at: position) {
                position = skip(past: commentClose, from: position + commentOpen.count)
            } else if matches(cdataOpen, at: position) {
                position = skip(past: cdataClose, from: position + cdataOpen.count)
            } else if matches(doctype, at: position) {
                return (location(ofOffset: position), "document type declarations (<!DOCTYPE …>) are not supported")
            } else if position + 1 < scalars.count && scalars[position + 1] == "?" {
                var cursor = position + 2
                while cursor < scalars.count && !Self.isSpace(scalars[cursor]) && !matches(piClose, at: cursor) {
                    cursor += 1
                }
                let target = String(String.UnicodeScalarView(scalars[(position + 2)..<cursor]))
                let close = skip(past: piClose, from: cursor)
                let data = scalars[cursor..<max(cursor, min(close - piClose.count, scalars.count))]
                if data.allSatisfy(Self.isSpace) {
                    return (location(ofOffset: position), "processing instruction '<?\(target)?>' without data is not supported")
                }
                // Look inside its data too: libxml2 recovers from a PI that is
                // not closed where it should be (`<?xml ><?p?>`) and may then
                // hand FoundationXML a data-less PI it crashes on.
                position = cursor
            } else {
                position += 1
            }
        }
        return nil
    }

    /// The encoding named by the XML declaration (`<?xml … encoding="…"?>`)
    /// and where its value starts; nil without a declaration or encoding.
    func declaredEncoding() -> (name: String, location: ConfigLocation)? {
        guard matches(Array("<?xml".unicodeScalars), at: 0) else { return nil }
        let close = Array("?>".unicodeScalars)
        let key = Array("encoding".unicodeScalars)
        var position = 5
        while position < scalars.count && !matches(close, at: position) {
            guard matches(key, at: position) else { position += 1; continue }
            position += key.count
            skipSpace(at: &position)
            guard position < scalars.count, scalars[position] == "=" else { continue }
            position += 1
            skipSpace(at: &position)
            guard position < scalars.count, scalars[position] == "\"" || scalars[position] == "'" else { continue }
            let quote = scalars[position]
            let start = position + 1
            var end = start
            while end < scalars.count && scalars[end] != quote && !matches(close, at: end) { end += 1 }
            return (String(String.UnicodeScalarView(scalars[start..<end])), location(ofOffset: start))
        }
        return nil
    }

    /// Where the text ends, for "unexpected end" errors.
    var endLocation: ConfigLocation { location(ofOffset: scalars.count) }

    // MARK: - Positions

    private func offset(line: Int, column: Int) -> Int? {
        guard line >= 1, line <= lineStarts.count, column >= 1 else { return nil }
        let offset = lineStarts[line - 1] + column - 1
        return offset <= scalars.count ? offset : nil
    }

    private func location(ofOffset offset: Int) -> ConfigLocation {
        // The last line start at or before `offset`.
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return ConfigLocation(line: low + 1, column: offset - lineStarts[low] + 1)
    }

    private func matches(_ pattern: [Unicode.Scalar], at position: Int) -> Bool {
        guard position + pattern.count <= scalars.count else { return false }
        for (index, scalar) in pattern.enumerated() where scalars[position + index] != scalar { return false }
        return true
    }

    private func skipSpace(at position: inout Int) {
        while position < scalars.count, Self.isSpace(scalars[position]) { position += 1 }
    }

    /// A run of characters up to a space, `=`, `/` or `>`: enough to compare
    /// with names libxml2 has already checked.
    private func readName(at position: inout Int) -> String? {
        var name = String.UnicodeScalarView()
        while position < scalars.count {
            let scalar = scalars[position]
            if Self.isSpace(scalar) || scalar == "=" || scalar == "/" || scalar == ">" { break }
            name.append(scalar)
            position += 1
        }
        return String(name)
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
    }
}
