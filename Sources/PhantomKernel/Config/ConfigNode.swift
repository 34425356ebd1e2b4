/// One node of a Genode configuration, whichever syntax it was written in.
///
/// Genode's init reads its config either as XML or as HID ("human-inclined
/// data", `doc/hid.txt`); both describe the same tree of typed nodes with
/// attributes, sub nodes and (HID) quoted content. Everything above the
/// parsers — the init model, routing, policies, scenario scripts — sees only
/// this model, so a rule is written once for both syntaxes.
public struct ConfigNode: Sendable, Hashable {
    /// The node type: `config`, `start`, `route`, `service`, …
    public var type: String
    /// Attributes in the order the parser reports them. A HID node name
    /// (`+ start sensor`) is the attribute `name`. On duplicates the first wins
    /// (Genode's runtime rule).
    public var attributes: [ConfigAttribute]
    /// Enabled sub nodes in document order (HID `x` nodes are dropped).
    public var children: [ConfigNode]
    /// HID quoted content (`: text` lines joined by newlines), or XML character
    /// data; nil when there is none.
    public var content: String?
    /// Where the node starts in its source, for error messages.
    public var location: ConfigLocation

    public init(type: String, attributes: [ConfigAttribute] = [], children: [ConfigNode] = [],
                content: String? = nil, location: ConfigLocation = .unknown) {
        self.type = type
        self.attributes = attributes
        self.children = children
        self.content = content
        self.location = location
    }

    /// The value of attribute `name`, or nil when absent.
    public subscript(attribute name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    public func has(attribute name: String) -> Bool { self[attribute: name] != nil }

    /// Sub nodes of one type, in document order.
    public func children(ofType type: String) -> [ConfigNode] { children.filter { $0.type == type } }

    /// The first sub node of one type.
    public func child(ofType type: String) -> ConfigNode? { children.first { $0.type == type } }

    /// The same tree with every location set to `.unknown`.
    ///
    /// Two configs that say the same thing compare equal this way even when
    /// they were written in different syntaxes or at different lines — what
    /// init needs to tell whether a `<start>` node really changed.
    public func withoutLocations() -> ConfigNode {
        ConfigNode(type: type, attributes: attributes, children: children.map { $0.withoutLocations() },
                   content: content, location: .unknown)
    }
}

public struct ConfigAttribute: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A 1-based line and column in a config source.
public struct ConfigLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    /// For nodes built in code rather than parsed.
    public static let unknown = ConfigLocation(line: 0, column: 0)
    public var description: String { "line \(line), column \(column)" }
}

/// The two syntaxes of a Genode config. As in Genode, a text whose first
/// non-blank character is `<` is XML, anything else HID.
public enum ConfigSyntax: String, Sendable {
    case xml
    case hid
}

/// A config that cannot be read: names the source, line and column.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or ROM the text came from ("config", "/etc/phantom.hid").
    public var source: String
    public var location: ConfigLocation
    public var message: String

    public init(source: String, location: ConfigLocation, message: String) {
        self.source = source
        self.location = location
        self.message = message
    }

    public var description: String {
        location == .unknown ? "\(source): \(message)" : "\(source):\(location.line):\(location.column): \(message)"
    }
}
