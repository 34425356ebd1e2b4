/// Writes a node tree back as text, in either syntax, so that parsing the
/// text gives the same tree again (locations aside).
///
/// Used for the state report, for handing a child its `<config>` as a ROM,
/// and for converting between the syntaxes. Whatever a syntax cannot say is
/// refused with a `ConfigRenderError` rather than written so that it would
/// read back differently — with one documented exception: XML content is
/// trimmed by the parser (white space around text is layout in Genode's
/// XML), so content with white space at its ends comes back trimmed.
public enum ConfigRenderer {
    public static func render(_ node: ConfigNode, as syntax: ConfigSyntax) throws(ConfigRenderError) -> String {
        switch syntax {
        case .xml: return try xml(node)
        case .hid: return try hid(node)
        }
    }

    // MARK: - XML

    /// Genode's XML layout: one element per line, tab-indented, attributes
    /// in their order, empty elements as `<type/>`.
    public static func xml(_ node: ConfigNode) throws(ConfigRenderError) -> String {
        var out = ""
        try writeXML(node, depth: 1, path: node.type, into: &out)
        return out
    }

    private static func writeXML(_ node: ConfigNode, depth: Int, path: String,
                                 into out: inout String) throws(ConfigRenderError) {
        func fail(_ message: String) -> ConfigRenderError {
            ConfigRenderError(path: path, syntax: .xml, message: message)
        }
        guard depth <= ConfigParser.maximumDepth else {
            throw fail("nodes nest deeper than \(ConfigParser.maximumDepth) levels")
        }
        guard isXMLName(node.type) else { throw fail("'\(node.type)' is not an XML element name") }
        let indent = String(repeating: "\t", count: depth - 1)
        out += indent + "<" + node.type
        for attribute in node.attributes {
            guard isXMLName(attribute.name) else { throw fail("'\(attribute.name)' is not an XML attribute name") }
            guard attribute.value.unicodeScalars.allSatisfy(isXMLCharacter) else {
                throw fail("attribute '\(attribute.name)' holds a character XML does not allow")
            }
            out += " \(attribute.name)=\"\(escapeXML(attribute.value, inAttribute: true))\""
        }
        if node.children.isEmpty && node.content == nil {
            out += "/>\n"
            return
        }
        out += ">"
        if let content = node.content {
            guard content.unicodeScalars.allSatisfy(isXMLCharacter) else {
                throw fail("content holds a character XML does not allow")
            }
            out += escapeXML(content, inAttribute: false)
        }
        if !node.children.isEmpty {
            out += "\n"
            for (index, child) in node.children.enumerated() {
                try writeXML(child, depth: depth + 1, path: "\(path)/\(child.type)[\(index + 1)]", into: &out)
            }
            out += indent
        }
        out += "</\(node.type)>\n"
    }

    /// Escapes markup characters and, in attribute values, the white space
    /// that XML's attribute-value normalisation would turn into spaces.
    private static func escapeXML(_ text: String, inAttribute: Bool) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where inAttribute: out += "&quot;"
            case "\n" where inAttribute: out += "&#10;"
            case "\t" where inAttribute: out += "&#9;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// XML 1.0's `Char` production.
    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    /// XML 1.0's `Name` production without `:` (a colon would make libxml2
    /// check a namespace prefix that nothing declares).
    private static func isXMLName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isXMLNameStart(first) else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            if isXMLNameStart(scalar) { return true }
            switch scalar.value {
            case 0x2D, 0x2E, 0x30...0x39, 0xB7, 0x300...0x36F, 0x203F...0x2040: return true
            default: return false
            }
        }
    }

    private static func isXMLNameStart(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x41...0x5A, 0x5F, 0x61...0x7A, 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2FF, 0x370...0x37D,
             0x37F...0x1FFF, 0x200C...0x200D, 0x2070...0x218F, 0x2C00...0x2FEF, 0x3001...0xD7FF,
             0xF900...0xFDCF, 0xFDF0...0xFFFD, 0x10000...0xEFFFF:
            return true
        default:
            return false
        }
    }

    // MARK: - HID

    /// The canonical HID layout, as Genode's generator writes it: each node
    /// on one line with its attributes compacted behind `|`, the name right
    /// after the type, sub nodes two columns further in (the top-level
    /// node's at column 1), quoted content below its node, `-` at the end.
    public static func hid(_ node: ConfigNode) throws(ConfigRenderError) -> String {
        var out = ""
        try writeHID(node, depth: 1, path: node.type, into: &out)
        return out + "-\n"
    }

    private static func writeHID(_ node: ConfigNode, depth: Int, path: String,
                                 into out: inout String) throws(ConfigRenderError) {
        func fail(_ message: String) -> ConfigRenderError {
            ConfigRenderError(path: path, syntax: .hid, message: message)
        }
        guard depth <= ConfigParser.maximumDepth else {
            throw fail("nodes nest deeper than \(ConfigParser.maximumDepth) levels")
        }
        guard HIDLexer.isIdentifier(node.type) else {
            throw fail("'\(node.type)' is not a HID node type (a-z, then a-z, 0-9, '_' or '-')")
        }
        // Column of this node's `+`, and of everything inside it.
        let anchor = depth == 1 ? 0 : 2 * (depth - 2)
        let inner = String(repeating: " ", count: depth == 1 ? 0 : anchor + 2)
        out += depth == 1 ? node.type : String(repeating: " ", count: anchor) + "+ " + node.type
        for (index, attribute) in node.attributes.enumerated() {
            guard HIDLexer.isIdentifier(attribute.name) else {
                throw fail("'\(attribute.name)' is not a HID attribute tag (a-z, then a-z, 0-9, '_' or '-')")
            }
            let value = attribute.value
            if let bad = value.unicodeScalars.first(where: { $0.value < 0x20 || $0 == "|" }) {
                throw fail("attribute '\(attribute.name)' holds \(bad == "|" ? "'|'" : "a control character"), which HID values cannot")
            }
            if value.hasPrefix(" ") || value.hasSuffix(" ") {
                throw fail("attribute '\(attribute.name)' has spaces at its ends, which HID drops")
            }
            if index == 0 && attribute.name == "name" && !value.isEmpty && !HIDLexer.isTagForm(value.unicodeScalars) {
                out += " " + value
            } else {
                out += " | " + attribute.name + ":" + (value.isEmpty ? "" : " " + value)
            }
        }
        out += "\n"
        if let content = node.content {
            guard node.children.isEmpty else {
                throw fail("a HID node holds quoted content or sub nodes, not both")
            }
            for line in content.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" }) {
                    throw fail("content holds a control character, which HID cannot quote")
                }
                out += inner + (line.isEmpty ? ":" : ": " + line) + "\n"
            }
        }
        for (index, child) in node.children.enumerated() {
            try writeHID(child, depth: depth + 1, path: "\(path)/\(child.type)[\(index + 1)]", into: &out)
        }
    }
}
