/// A child's `config` ROM: its inline config node as text in the syntax of the
/// parent's config (XML if the node cannot be said in HID).
enum ConfigText {
    static func render(_ node: ConfigNode, as syntax: ConfigSyntax) -> String {
        if let text = try? ConfigRenderer.render(node, as: syntax) { return text }
        return (try? ConfigRenderer.render(node, as: .xml)) ?? ""
    }
}
