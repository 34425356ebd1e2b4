/// A parsed config: its root node, the syntax it was written in, and what the
/// parser tolerated but wants a human to fix.
///
/// Warnings are for input that Genode's runtime accepts but its offline tool
/// (`hid check`) rejects — a duplicated attribute, a `|` without spaces around
/// it (hid.txt, "Offline versus runtime interpretation"). Like Genode's init
/// we go on with the config, but the warnings name source, line and column so
/// a log line can point at the spot.
public struct ConfigDocument: Sendable, Hashable {
    /// The top-level node: `<config>` or HID's first line.
    public var root: ConfigNode
    public var syntax: ConfigSyntax
    /// "source:line:col: message" lines, in document order.
    public var warnings: [String]

    public init(root: ConfigNode, syntax: ConfigSyntax, warnings: [String] = []) {
        self.root = root
        self.syntax = syntax
        self.warnings = warnings
    }
}
