/// Reads a Genode config in either syntax into the one node model.
///
/// As in Genode, the syntax is not declared but recognised: a text whose first
/// non-blank character is `<` is XML, anything else is HID (`doc/hid.txt`).
/// Everything above this call works on `ConfigNode` only.
public enum ConfigParser {
    /// How deep nodes may nest, in either syntax.
    ///
    /// A config is input like any other (invariant 8: bad input never kills
    /// the system): without a bound, one HID line of `| + a | + a …` nests
    /// tens of thousands of levels and the recursive walks over the tree
    /// (equality, rendering) would exhaust the stack. libxml2 has a similar
    /// bound of its own; ours is lower, so it is always ours that reports.
    public static let maximumDepth = 200

    /// Parses `text`, naming `source` (a file or ROM name) in errors and warnings.
    public static func parse(_ text: String, source: String) throws(ConfigError) -> ConfigDocument {
        // A byte-order mark is no character of the config: editors hide it,
        // and columns count from after it.
        var text = text
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        switch detectSyntax(text) {
        case .xml: return try XMLConfigParser.parse(text, source: source)
        case .hid: return try HIDParser.parse(text, source: source)
        case nil:
            throw ConfigError(source: source, location: ConfigLocation(line: 1, column: 1),
                              message: "empty config: expected an XML element or a HID node")
        }
    }

    /// The syntax of `text` by Genode's rule, or nil when it holds nothing but
    /// blanks (spaces, tabs, line breaks).
    public static func detectSyntax(_ text: String) -> ConfigSyntax? {
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ", "\t", "\n", "\r": continue
            case "<": return .xml
            default: return .hid
            }
        }
        return nil
    }
}
