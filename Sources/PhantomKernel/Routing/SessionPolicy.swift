/// How well a node's `label`, `label_prefix` and `label_suffix` attributes fit
/// a session label (Genode's `Node_label_score`, repos/os/include/os/session_policy.h).
///
/// Servers choose a `<policy>` by it, and init uses its conflict test for the
/// scoped part of routing rules. All present attributes must fit; among
/// fitting nodes an exact `label` is strongest, then the longer
/// `label_prefix`, then the longer `label_suffix`. Label and attribute values
/// are compared with leading and trailing blanks (space, tab, newline)
/// trimmed, as current Genode does.
public struct LabelScore: Sendable, Hashable {
    public var labelPresent: Bool
    public var prefixPresent: Bool
    public var suffixPresent: Bool
    public var labelMatch: Bool
    /// Matched prefix length in bytes plus one; 0 means the prefix does not fit
    /// (so that an empty prefix, which fits everything, still scores above a
    /// conflict).
    public var prefixMatch: Int
    /// As `prefixMatch`, for the suffix.
    public var suffixMatch: Int

    /// The score of no node at all: every attribute "present" and none
    /// fitting, so that the first fitting node is stronger.
    public static let none = LabelScore(labelPresent: true, prefixPresent: true, suffixPresent: true,
                                        labelMatch: false, prefixMatch: 0, suffixMatch: 0)

    init(labelPresent: Bool, prefixPresent: Bool, suffixPresent: Bool,
         labelMatch: Bool, prefixMatch: Int, suffixMatch: Int) {
        self.labelPresent = labelPresent
        self.prefixPresent = prefixPresent
        self.suffixPresent = suffixPresent
        self.labelMatch = labelMatch
        self.prefixMatch = prefixMatch
        self.suffixMatch = suffixMatch
    }

    public init(node: ConfigNode, label: SessionLabel) {
        let subject = Self.trimmed(label.text)
        labelPresent = node.has(attribute: "label")
        prefixPresent = node.has(attribute: "label_prefix")
        suffixPresent = node.has(attribute: "label_suffix")
        labelMatch = node[attribute: "label"].map { Self.trimmed($0) == subject } ?? false
        prefixMatch = node[attribute: "label_prefix"].map { value in
            let prefix = Self.trimmed(value)
            return subject.utf8.starts(with: prefix.utf8) ? prefix.utf8.count + 1 : 0
        } ?? 0
        suffixMatch = node[attribute: "label_suffix"].map { value in
            let suffix = Self.trimmed(value)
            return subject.utf8.reversed().starts(with: suffix.utf8.reversed()) ? suffix.utf8.count + 1 : 0
        } ?? 0
    }

    /// True when a present attribute does not fit the label.
    public var conflict: Bool {
        (labelPresent && !labelMatch) || (prefixPresent && prefixMatch == 0) || (suffixPresent && suffixMatch == 0)
    }

    /// Genode's `Node_label_score::stronger`. Equal scores are not stronger,
    /// so among equally good policies the first in the document wins.
    public func stronger(than other: LabelScore) -> Bool {
        // a node without any label attribute never matches
        if !(labelPresent || prefixPresent || suffixPresent) { return false }
        if conflict { return false }
        if other.conflict { return true }

        if labelPresent && !other.labelPresent { return true }
        if other.labelPresent { return false }

        if prefixPresent != other.prefixPresent { return prefixPresent }
        if prefixPresent && prefixMatch != other.prefixMatch { return prefixMatch > other.prefixMatch }

        if suffixPresent != other.suffixPresent { return suffixPresent }
        if suffixPresent && suffixMatch != other.suffixMatch { return suffixMatch > other.suffixMatch }

        return false
    }

    /// Genode's `is_whitespace`: space, tab, newline.
    static func trimmed(_ text: String) -> String {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { !blank($0) }),
              let last = bytes.lastIndex(where: { !blank($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}

/// The server side of a session request: which `<policy>` of a server's config
/// applies to a client's label (Genode's `with_matching_policy` and, before
/// it, the `Session_policy` class, repos/os/include/os/session_policy.h).
///
/// Every server in the system picks its policy this way — init acting as a
/// server, and our built-in services (LOG, ROM, File_system, report_rom …) —
/// so it lives in one place.
public enum SessionPolicy {
    public enum Selection: Sendable, Hashable {
        /// The strongest `<policy>`; `index` counts all sub nodes of the
        /// policies node, as Genode's does.
        case policy(index: Int, node: ConfigNode)
        /// No `<policy>` fits and there is a `<default-policy>`.
        case defaultPolicy(ConfigNode)
        /// Nothing applies; the session is refused.
        case denied(InitMessage)

        /// The chosen node, if any.
        public var node: ConfigNode? {
            switch self {
            case let .policy(_, node), let .defaultPolicy(node): node
            case .denied: nil
            }
        }
    }

    /// Picks the policy for `label` among the sub nodes of `policies`.
    ///
    /// Only `label`, `label_prefix` and `label_suffix` select a policy. The
    /// init schema (init.hsd) also lists `label_last` for `<policy>`, but
    /// Genode's scoring ignores it, so a policy carrying only `label_last` (or
    /// `unscoped_label`) never matches; we keep that behaviour rather than
    /// invent a rank for it.
    public static func select(label: SessionLabel, in policies: ConfigNode) -> Selection {
        var best: (index: Int, score: LabelScore)?
        for (index, node) in policies.children.enumerated() where node.type == "policy" {
            let score = LabelScore(node: node, label: label)
            if score.stronger(than: best?.score ?? .none) { best = (index, score) }
        }
        if let best { return .policy(index: best.index, node: policies.children[best.index]) }
        if let fallback = policies.child(ofType: "default-policy") { return .defaultPolicy(fallback) }
        return .denied(.warning("no policy defined for label '\(label.text)'", at: policies.location))
    }
}
