import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads a config in Genode's XML syntax with Foundation's `XMLParser`
/// (libxml2 underneath), so well-formedness is libxml2's and not ours.
///
/// The mapping to the node model: an element is a node, its attributes in the
/// order written (see `XMLSourceText`; sorted by name if that order cannot be
/// recovered), its character data and CDATA — trimmed, nil when blank — the
/// node's content; comments and processing instructions are dropped.
///
/// Beyond well-formedness we refuse: a document type declaration and a
/// processing instruction without data (see `XMLSourceText.unsupportedMarkup`
/// — the latter crashes FoundationXML), an encoding other than
/// UTF-8 in the XML declaration, nesting deeper than
/// `ConfigParser.maximumDepth`, and a text that ends before its root
/// element closes (which `XMLParser` does not report as an error).
enum XMLConfigParser {
    static func parse(_ text: String, source: String) throws(ConfigError) -> ConfigDocument {
        let sourceText = XMLSourceText(text)
        // The text arrives decoded and is handed to libxml2 as UTF-8; a
        // declaration naming another encoding would make libxml2 misread
        // every non-ASCII character without a word.
        if let (encoding, location) = sourceText.declaredEncoding(),
           !["utf-8", "utf8", "us-ascii", "ascii"].contains(encoding.lowercased()) {
            throw ConfigError(source: source, location: location,
                              message: "declared encoding '\(encoding)': the config is read as UTF-8 text; declare UTF-8 or nothing")
        }
        if let (location, message) = sourceText.unsupportedMarkup() {
            throw ConfigError(source: source, location: location, message: message)
        }
        let parser = XMLParser(data: Data(text.utf8))
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        let builder = XMLTreeBuilder(sourceText: sourceText)
        parser.delegate = builder
        let finished = parser.parse()

        func fail(_ location: ConfigLocation, _ message: String) -> ConfigError {
            ConfigError(source: source, location: location, message: message)
        }
        // Our own reasons first (they abort the parser, which then reports
        // only "aborted"), then the first error libxml2 reported — later ones
        // are usually consequences. `parse()` may return true with an error
        // set, so both are checked.
        if let (location, message) = builder.abortReason { throw fail(location, message) }
        if let (code, location) = builder.firstError {
            // libxml2 reports a text that ends inside the root element, or
            // holds no element at all, as "extra content" (5) too; say which.
            if code == 5, let open = builder.openElements.last {
                throw fail(sourceText.endLocation, Self.unclosed(open))
            }
            if code == 5, builder.root == nil { throw fail(sourceText.endLocation, "no root element") }
            throw fail(location, XMLParserErrorText.describe(code: code))
        }
        if let error = parser.parserError {
            let location = ConfigLocation(line: max(1, parser.lineNumber), column: max(1, parser.columnNumber))
            throw fail(location, XMLParserErrorText.describe(code: (error as NSError).code))
        }
        if !finished { throw fail(sourceText.endLocation, "malformed XML") }
        if let open = builder.openElements.last { throw fail(sourceText.endLocation, Self.unclosed(open)) }
        guard let root = builder.root else {
            throw fail(sourceText.endLocation, "no root element")
        }
        return ConfigDocument(root: root, syntax: .xml, warnings: [])
    }

    private static func unclosed(_ node: ConfigNode) -> String {
        "unexpected end of document: <\(node.type)> at line \(node.location.line), column \(node.location.column) is not closed"
    }
}

/// The `XMLParser` delegate that builds the node tree. It lives only for
/// one parse, on the calling thread.
private final class XMLTreeBuilder: NSObject, XMLParserDelegate {
    let sourceText: XMLSourceText
    /// Elements started but not yet ended, outermost first, with their text so far.
    var openElements: [ConfigNode] = []
    var openTexts: [String] = []
    var root: ConfigNode?
    var firstError: (code: Int, location: ConfigLocation)?
    var abortReason: (ConfigLocation, String)?

    init(sourceText: XMLSourceText) {
        self.sourceText = sourceText
    }

    private func cursor(_ parser: XMLParser) -> ConfigLocation {
        ConfigLocation(line: max(1, parser.lineNumber), column: max(1, parser.columnNumber))
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        guard abortReason == nil, firstError == nil else { return }
        let tag = sourceText.startTag(named: elementName, cursorLine: parser.lineNumber,
                                      cursorColumn: parser.columnNumber)
        let location = tag?.location ?? cursor(parser)
        guard openElements.count < ConfigParser.maximumDepth else {
            abortReason = (location, "elements nest deeper than \(ConfigParser.maximumDepth) levels")
            parser.abortParsing()
            return
        }
        var ordered: [ConfigAttribute]
        if let names = tag?.attributeNames, names.count == attributes.count,
           Set(names) == Set(attributes.keys) {
            ordered = names.compactMap { name in attributes[name].map { ConfigAttribute(name, $0) } }
        } else {
            ordered = attributes.sorted { $0.key < $1.key }.map { ConfigAttribute($0.key, $0.value) }
        }
        openElements.append(ConfigNode(type: elementName, attributes: ordered, location: location))
        openTexts.append("")
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName: String?) {
        guard abortReason == nil, firstError == nil,
              var node = openElements.popLast(), let text = openTexts.popLast() else { return }
        let trimmed = Self.trimmed(text)
        node.content = trimmed.isEmpty ? nil : trimmed
        if openElements.isEmpty {
            root = node
        } else {
            openElements[openElements.count - 1].children.append(node)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !openTexts.isEmpty else { return }
        openTexts[openTexts.count - 1] += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !openTexts.isEmpty else { return }
        openTexts[openTexts.count - 1] += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if firstError == nil { firstError = ((parseError as NSError).code, cursor(parser)) }
    }

    /// XML's white space (space, tab, CR, LF) off both ends.
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !XMLSourceText.isSpace($0) }),
              let last = scalars.lastIndex(where: { !XMLSourceText.isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }
}
