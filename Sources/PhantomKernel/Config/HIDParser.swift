/// Reads a config in Genode's human-inclined data syntax (`doc/hid.txt`)
/// into the node model.
///
/// The rules, by hid.txt section:
/// - "Structure": one top-level node, its type at column 1 of its line,
///   closed by `-` at the start of a line; after the marker only blank lines.
/// - Sub nodes (`+ type`) nest by indentation: a sub node belongs to the
///   nearest preceding node whose `+` is further left, and must be indented
///   at least two columns more than that parent. The top-level node's own
///   sub nodes may start at column 1.
/// - "Attributes": `tag: value` belongs to the node just before it and must
///   be indented at least at that node's level (the column of its `+`).
/// - "Node names": the word after a node's type is its attribute `name`.
/// - "Compacted lines", "Visual scoping", "Comments": see `HIDLexer`;
///   every `|` segment counts as a line indented at its own column.
/// - "Quoted content": `: text` lines of a node, joined by "\n", are its
///   `content`. A node has quoted content or sub nodes, never both (Genode
///   ignores quoted lines beside sub nodes; we refuse the ambiguity).
/// - "Disabled sub nodes": an `x` node is parsed and checked like any other,
///   then dropped together with everything under it.
/// - "Offline versus runtime interpretation": we are strict where a mistake
///   would silently change the tree (errors name line and column), and take
///   the runtime's side on the rest: a duplicated attribute keeps its first
///   value, and it, like a `|` without spaces around it, becomes a warning.
enum HIDParser {
    static func parse(_ text: String, source: String) throws(ConfigError) -> ConfigDocument {
        var parser = Builder(source: source)
        let scalars = Array(text.unicodeScalars)
        var lineStart = 0
        var number = 0
        while lineStart <= scalars.count {
            number += 1
            let lineEnd = scalars[lineStart...].firstIndex(of: "\n") ?? scalars.count
            var line = Array(scalars[lineStart..<lineEnd])
            if line.last == "\r" { line.removeLast() }  // CRLF line endings, as Genode tolerates
            try parser.take(line: line, number: number)
            lineStart = lineEnd + 1
        }
        return try parser.finish(endLocation: Self.endLocation(of: scalars, lines: number))
    }

    /// Just past the last character: where a missing end marker is reported.
    private static func endLocation(of scalars: [Unicode.Scalar], lines: Int) -> ConfigLocation {
        let lastLineStart = (scalars.lastIndex(of: "\n") ?? -1) + 1
        return ConfigLocation(line: lines, column: scalars.count - lastLineStart + 1)
    }

    /// The tree under construction: the chain of nodes still open, from the
    /// top-level node to the one most recently started.
    private struct Builder {
        struct OpenNode {
            var node: ConfigNode
            /// Column of the node's `+` (0 for the top-level node): attributes
            /// and content must not start left of it; a later node at or left
            /// of it closes it.
            var anchor: Int
            /// The leftmost column of its sub nodes.
            var childIndent: Int
            var enabled: Bool
            var contentLines: [String]?
            /// Tags seen so far, for the duplicate check without a scan.
            var tags: Set<String> = []
        }

        var lexer: HIDLexer
        var open: [OpenNode] = []
        var root: ConfigNode?
        var sawTopLevel = false
        var endMarkerLine: Int?

        init(source: String) {
            lexer = HIDLexer(source: source)
        }

        var source: String { lexer.source }

        mutating func take(line: [Unicode.Scalar], number: Int) throws(ConfigError) {
            if let endMarkerLine {
                if let column = line.firstIndex(where: { $0 != " " && $0 != "\t" }) {
                    throw ConfigError(source: source, location: ConfigLocation(line: number, column: column + 1),
                                      message: "content after the end marker '-' (line \(endMarkerLine))")
                }
                return
            }
            for segment in try lexer.segments(of: line, number: number, expectingTopLevel: !sawTopLevel) {
                try take(segment)
            }
        }

        private mutating func take(_ segment: HIDSegment) throws(ConfigError) {
            switch segment.kind {
            case .topLevel(let type):
                sawTopLevel = true
                open = [OpenNode(node: ConfigNode(type: type, location: segment.location),
                                 anchor: 0, childIndent: 0, enabled: true)]
            case .subNode(let type, let enabled):
                try startSubNode(type: type, enabled: enabled, at: segment)
            case .attribute(let tag, let value):
                try addAttribute(tag: tag, value: value, at: segment)
            case .quoted(let text):
                try addContent(text, at: segment)
            case .endMarker:
                while open.count > 1 { close() }
                if var top = open.popLast() {
                    Self.finishContent(of: &top)
                    root = top.node
                }
                endMarkerLine = segment.line
            }
        }

        private mutating func startSubNode(type: String, enabled: Bool, at segment: HIDSegment) throws(ConfigError) {
            while open.count > 1, let last = open.last, last.anchor >= segment.indent { close() }
            guard let parent = open.last else { return }
            guard segment.indent >= parent.childIndent else {
                throw error(segment, "sub node '\(type)' must be indented at least two columns more than its parent '\(parent.node.type)' (column \(parent.anchor + 1)), so at column \(parent.childIndent + 1) or further right")
            }
            if parent.contentLines != nil {
                throw error(segment, "node '\(parent.node.type)' has quoted content, so it cannot also have sub nodes")
            }
            guard open.count < ConfigParser.maximumDepth else {
                throw error(segment, "nodes nest deeper than \(ConfigParser.maximumDepth) levels")
            }
            open.append(OpenNode(node: ConfigNode(type: type, location: segment.location),
                                 anchor: segment.indent, childIndent: segment.indent + 2, enabled: enabled))
        }

        private mutating func addAttribute(tag: String, value: String, at segment: HIDSegment) throws(ConfigError) {
            guard let current = open.last else { return }
            guard segment.indent >= current.anchor else {
                throw error(segment, "attribute '\(tag)' is not under a node: its node '\(current.node.type)' starts at column \(current.anchor + 1); an outer node's attributes go before its sub nodes")
            }
            guard current.contentLines == nil else {
                throw error(segment, "attribute '\(tag)' after the quoted content of node '\(current.node.type)': attributes go first")
            }
            if current.tags.contains(tag) {
                lexer.warnings.append("\(source):\(segment.line):\(segment.indent + 1): duplicate attribute '\(tag)' of node '\(current.node.type)' ignored: the first value wins")
                return
            }
            open[open.count - 1].tags.insert(tag)
            open[open.count - 1].node.attributes.append(ConfigAttribute(tag, value))
        }

        private mutating func addContent(_ text: String, at segment: HIDSegment) throws(ConfigError) {
            guard let current = open.last else { return }
            guard segment.indent >= current.anchor else {
                throw error(segment, "quoted content is not under a node: its node '\(current.node.type)' starts at column \(current.anchor + 1)")
            }
            open[open.count - 1].contentLines = (current.contentLines ?? []) + [text]
        }

        /// Closes the innermost open node: it joins its parent unless it is
        /// disabled, which drops it together with its sub nodes.
        private mutating func close() {
            guard var closing = open.popLast() else { return }
            Self.finishContent(of: &closing)
            if closing.enabled, !open.isEmpty {
                open[open.count - 1].node.children.append(closing.node)
            }
        }

        private static func finishContent(of open: inout OpenNode) {
            if let lines = open.contentLines { open.node.content = lines.joined(separator: "\n") }
        }

        mutating func finish(endLocation: ConfigLocation) throws(ConfigError) -> ConfigDocument {
            guard sawTopLevel else {
                throw ConfigError(source: source, location: ConfigLocation(line: 1, column: 1),
                                  message: "empty config: expected a HID top-level node")
            }
            guard let root else {
                let top = open.first?.node
                throw ConfigError(source: source, location: endLocation,
                                  message: "missing end marker '-' of the top-level node '\(top?.type ?? "")' (line \(top?.location.line ?? 1))")
            }
            return ConfigDocument(root: root, syntax: .hid, warnings: lexer.warnings)
        }

        private func error(_ segment: HIDSegment, _ message: String) -> ConfigError {
            ConfigError(source: source, location: segment.location, message: message)
        }
    }
}
