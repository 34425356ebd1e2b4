/// Reads typed attribute values off config nodes and collects what is wrong
/// with them.
///
/// Genode's `attribute_value(name, default)` silently returns the default when
/// a value does not parse. A typo in a quota then starts a component with a
/// quota nobody wrote; we report it instead (DESIGN.md invariant 8). Booleans
/// keep Genode's fallback, with a warning; numbers report an error and let the
/// caller decide whether the node can still be used.
struct AttributeReader {
    var messages: [InitMessage] = []

    /// Genode's boolean spellings; anything else warns and yields `fallback`.
    mutating func bool(_ node: ConfigNode, _ name: String, default fallback: Bool, context: String) -> Bool {
        guard let text = node[attribute: name] else { return fallback }
        if let value = GenodeNumber.bool(text) { return value }
        messages.append(.warning("\(context): \(name)=\"\(text)\" is not a boolean (yes/no), using \(fallback ? "yes" : "no")",
                                 at: node.location))
        return fallback
    }

    /// A byte quantity (`512K`, `1M`); nil and an error if malformed.
    mutating func bytes(_ node: ConfigNode, _ name: String, context: String) -> Malformable<NumberOfBytes> {
        guard let text = node[attribute: name] else { return .absent }
        if let value = NumberOfBytes(parsing: text) { return .value(value) }
        messages.append(.error("\(context): malformed \(name)=\"\(text)\", expected a number of bytes "
                               + "with an optional K, M or G suffix", at: node.location))
        return .malformed
    }

    /// A non-negative integer (decimal, or hexadecimal after `0x`).
    mutating func unsigned(_ node: ConfigNode, _ name: String, context: String) -> Malformable<UInt64> {
        guard let text = node[attribute: name] else { return .absent }
        if let value = GenodeNumber.unsigned(text) { return .value(value) }
        messages.append(.error("\(context): malformed \(name)=\"\(text)\", expected a non-negative integer",
                               at: node.location))
        return .malformed
    }

    /// A signed integer.
    mutating func signed(_ node: ConfigNode, _ name: String, context: String) -> Malformable<Int64> {
        guard let text = node[attribute: name] else { return .absent }
        if let value = GenodeNumber.signed(text) { return .value(value) }
        messages.append(.error("\(context): malformed \(name)=\"\(text)\", expected an integer", at: node.location))
        return .malformed
    }
}

/// An optional attribute value that may also be present but unreadable.
enum Malformable<Value> {
    case absent
    case value(Value)
    case malformed

    /// The value, or `fallback` when absent or malformed.
    func or(_ fallback: Value) -> Value {
        if case let .value(value) = self { return value }
        return fallback
    }

    var isMalformed: Bool {
        if case .malformed = self { return true }
        return false
    }
}

extension Malformable: Sendable where Value: Sendable {}
