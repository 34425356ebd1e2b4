/// The label of a session: who asks, and for what, as a chain of names.
///
/// A component may label its session requests freely, but every parent on the
/// way up puts the requesting child's name in front, joined by `" -> "`
/// (Genode's `prefixed_label`, repos/base/include/base/session_label.h, applied
/// in `Child::session`). A server therefore sees `init -> app -> log`, and no
/// component can pretend to be another: the part a child controls always
/// comes after its parent-given name (DESIGN.md invariant 7).
///
/// Labels are compared as text. Like Genode's `Session_label`
/// (`String<160>`), a label holds at most 159 bytes; longer text is cut
/// (here at a character boundary, where Genode cuts bytes).
public struct SessionLabel: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// Genode's label separator.
    public static let separator = " -> "
    /// Bytes a label can hold, as Genode's `Session_label::capacity()` minus
    /// the terminating null.
    public static let maxBytes = 159

    public let text: String

    public init(_ text: String) {
        self.text = Self.truncated(text)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public static let empty = SessionLabel("")

    public var isEmpty: Bool { text.isEmpty }
    public var description: String { text }

    /// `prefix -> label`, as a parent labels its child's request.
    ///
    /// The separator is written even when `label` is empty (`"app -> "`):
    /// current Genode builds the label by plain concatenation. (The 2016
    /// version of session_label.h returned the bare prefix for an empty label;
    /// that special case is gone.)
    public static func prefixed(_ prefix: String, _ label: SessionLabel) -> SessionLabel {
        SessionLabel(prefix + separator + label.text)
    }

    /// The part after the last separator, or the whole label if it has none
    /// (`Session_label::last_element`). Routing rules use it through
    /// `label_last`, and init recognises a child's `config` ROM by it.
    public var lastElement: SessionLabel {
        let bytes = Array(text.utf8)
        let sep = Array(Self.separator.utf8)
        guard bytes.count >= sep.count else { return self }
        var index = bytes.count - sep.count
        while true {
            if bytes[index..<(index + sep.count)].elementsEqual(sep) {
                return SessionLabel(String(decoding: bytes[(index + sep.count)...], as: UTF8.self))
            }
            if index == 0 { return self }
            index -= 1
        }
    }

    /// The label without its last element (`Session_label::prefix`), empty if
    /// there is no separator after the first character. Genode's search stops
    /// before offset 0, so a label that starts with the separator has an empty
    /// prefix; this mirrors it.
    public var prefix: SessionLabel {
        let bytes = Array(text.utf8)
        let sep = Array(Self.separator.utf8)
        guard bytes.count >= sep.count else { return .empty }
        var length = bytes.count - sep.count
        while length > 0 {
            if bytes[length..<(length + sep.count)].elementsEqual(sep) { break }
            length -= 1
        }
        return SessionLabel(String(decoding: bytes[..<length], as: UTF8.self))
    }

    /// The label as the child itself wrote it: the part after `child -> `, or
    /// nil when the label does not start with that child's name and the
    /// separator (Sandbox `skip_label_prefix`, repos/os/src/lib/sandbox/utils.h).
    /// Routing rules with `label`, `label_prefix` and `label_suffix` match this
    /// scoped part, so a config names a child's sessions without repeating the
    /// child's own name.
    public func scoped(to childName: String) -> SessionLabel? {
        let head = childName + Self.separator
        guard text.utf8.starts(with: head.utf8) else { return nil }
        return SessionLabel(String(decoding: text.utf8.dropFirst(head.utf8.count), as: UTF8.self))
    }

    /// The label a route target hands to the server (Sandbox
    /// `Child::_with_route`, `rewritten_target_label`).
    ///
    /// A target's `label` replaces the whole label. Otherwise the label is
    /// rebuilt from an identity (the target's `identity`, default: this
    /// label's `prefix`) and a resource (`prepend_resource` followed by the
    /// target's `resource`, default: this label's `lastElement`), joined by the
    /// separator unless the identity is empty. So `<parent resource="x"/>`
    /// renames what is asked for while keeping who asks, and `identity=""`
    /// hides who asks.
    ///
    /// The current Genode schema (repos/os/src/init/init.hsd) gives targets
    /// exactly these four attributes; `label_prefix`, `label_suffix` and
    /// `label_last` select routing rules and are not target attributes.
    public func rewritten(by target: ConfigNode) -> SessionLabel {
        if let label = target[attribute: "label"] { return SessionLabel(label) }
        let identity = target[attribute: "identity"] ?? prefix.text
        let resource = target[attribute: "resource"] ?? lastElement.text
        let prepend = target[attribute: "prepend_resource"] ?? ""
        let prependedResource = SessionLabel(prepend + resource)
        return identity.isEmpty ? prependedResource : .prefixed(identity, prependedResource)
    }

    public static func < (lhs: SessionLabel, rhs: SessionLabel) -> Bool { lhs.text < rhs.text }

    private static func truncated(_ text: String) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > maxBytes { break }
            result.append(character)
            used += size
        }
        return result
    }
}
