/// A node tree that cannot be written in a syntax so that it reads back the
/// same: a type that is no HID identifier, a `|` in a HID attribute value, a
/// character XML does not allow, quoted content beside sub nodes in HID.
public struct ConfigRenderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the tree: node types from the root down, with a 1-based
    /// index among the parent's children ("config/start[2]/route[1]").
    public var path: String
    public var syntax: ConfigSyntax
    public var message: String

    public init(path: String, syntax: ConfigSyntax, message: String) {
        self.path = path
        self.syntax = syntax
        self.message = message
    }

    public var description: String { "cannot write \(path) as \(syntax.rawValue.uppercased()): \(message)" }
}
