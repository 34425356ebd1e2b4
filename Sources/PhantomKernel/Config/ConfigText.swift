/// Renders a node back to config text, for a child's `config` ROM.
/// (Replaced by the full renderer of the config parsers.)
enum ConfigText {
    static func render(_ node: ConfigNode, as syntax: ConfigSyntax) -> String {
        var out = ""
        xml(node, indent: "", into: &out)
        return out
    }

    private static func xml(_ node: ConfigNode, indent: String, into out: inout String) {
        out += "\(indent)<\(node.type)"
        for attribute in node.attributes { out += " \(attribute.name)=\"\(escape(attribute.value))\"" }
        if node.children.isEmpty && node.content == nil {
            out += "/>\n"
            return
        }
        out += ">"
        if let content = node.content { out += escape(content) }
        if !node.children.isEmpty {
            out += "\n"
            for child in node.children { xml(child, indent: indent + "\t", into: &out) }
            out += indent
        }
        out += "</\(node.type)>\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
