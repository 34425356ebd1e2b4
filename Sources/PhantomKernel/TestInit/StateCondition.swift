/// The condition language of test-init's `expect_init_state`, on our node
/// model (Genode: `xml_matches` and `xml_attribute_matches` in
/// repos/os/src/test/init/main.cc). A condition node holds, in any order:
///
/// - `attribute` with `name` and one of `value` (the node's attribute equals
///   it; a missing attribute reads as empty), `higher` or `lower` (compared
///   as Genode's `Number_of_bytes`: `2M`, `4000K`, `100`; missing reads as 0);
/// - `node` with `name` (a sub node type): at least one sub node of that
///   type meets the conditions inside it;
/// - `not`: the conditions inside it do not all hold.
///
/// In HID: `+ node child` / `+ attribute name | value: server`.
enum StateCondition {
    struct Problem: Error {
        var line: Int
        var message: String
    }

    /// Refuses conditions test-init would not understand (it logs an error
    /// and treats them as false, or ignores them).
    static func check(_ condition: ConfigNode) throws(Problem) {
        for part in condition.children {
            switch part.type {
            case "attribute":
                guard part[attribute: "name"] != nil else {
                    throw Problem(line: part.location.line, message: "an attribute condition needs a name")
                }
                let kinds = ["value", "higher", "lower"].filter { part.has(attribute: $0) }
                guard kinds.count == 1 else {
                    throw Problem(line: part.location.line, message: "an attribute condition needs exactly one of value, higher, lower")
                }
                for kind in ["higher", "lower"] {
                    if let bound = part[attribute: kind], NumberOfBytes(parsing: bound) == nil {
                        throw Problem(line: part.location.line, message: "\(kind) '\(bound)' is not a number of bytes (like 100, 4000K, 2M)")
                    }
                }
            case "node":
                guard part[attribute: "name"] != nil else {
                    throw Problem(line: part.location.line, message: "a node condition needs the name of a node type (HID: `+ node child`)")
                }
                try check(part)
            case "not":
                try check(part)
            default:
                throw Problem(line: part.location.line, message: "unknown condition '\(part.type)' (conditions: attribute, node, not)")
            }
        }
    }

    /// Nil when `node` meets every condition of `condition`, else why not.
    static func mismatch(_ condition: ConfigNode, in node: ConfigNode) throws(Problem) -> String? {
        for part in condition.children {
            switch part.type {
            case "attribute":
                if let why = attributeMismatch(part, in: node) { return why }
            case "node":
                let type = part[attribute: "name"] ?? ""
                let candidates = node.children(ofType: type)
                var met = false
                for candidate in candidates where try mismatch(part, in: candidate) == nil {
                    met = true
                    break
                }
                if met { continue }
                // Say why, for the candidates that have the attributes asked
                // for at this level (the ones the scenario meant).
                let meant = candidates.filter { candidate in
                    part.children(ofType: "attribute").allSatisfy { attributeMismatch($0, in: candidate) == nil }
                }
                let described = describe(part)
                if candidates.isEmpty {
                    return "no <\(type)> in <\(describe(node))> (condition \(described) at line \(part.location.line))"
                }
                if let first = meant.first, let why = try mismatch(part, in: first) {
                    return "\(described) (line \(part.location.line)): \(why)"
                }
                // Name the nodes that meet its first attribute condition (a
                // `name`, usually) and how they differ.
                var near = ""
                if let first = part.children(ofType: "attribute").first {
                    let similar = candidates.filter { attributeMismatch(first, in: $0) == nil }
                    let whys = similar.prefix(3).compactMap { candidate in
                        part.children(ofType: "attribute").compactMap { attributeMismatch($0, in: candidate) }.first
                    }
                    if !whys.isEmpty { near = ": " + whys.joined(separator: "; ") }
                }
                return "no <\(type)> in <\(describe(node))> is \(described) (line \(part.location.line))\(near)"
            case "not":
                if try mismatch(part, in: node) == nil {
                    return "<\(describe(node))> meets what the `not` at line \(part.location.line) excludes"
                }
            default:
                throw Problem(line: part.location.line, message: "unknown condition '\(part.type)'")
            }
        }
        return nil
    }

    private static func attributeMismatch(_ condition: ConfigNode, in node: ConfigNode) -> String? {
        let name = condition[attribute: "name"] ?? ""
        let actual = node[attribute: name]
        let shown = actual.map { "\"\($0)\"" } ?? "absent"
        if let value = condition[attribute: "value"] {
            return (actual ?? "") == value ? nil
                : "<\(describe(node))> has \(name) \(shown), expected \"\(value)\" (line \(condition.location.line))"
        }
        let number = actual.flatMap { NumberOfBytes(parsing: $0) }?.value ?? 0
        if let higher = condition[attribute: "higher"], let bound = NumberOfBytes(parsing: higher) {
            return number > bound.value ? nil
                : "<\(describe(node))> has \(name) \(shown), expected higher than \(higher) (line \(condition.location.line))"
        }
        if let lower = condition[attribute: "lower"], let bound = NumberOfBytes(parsing: lower) {
            return number < bound.value ? nil
                : "<\(describe(node))> has \(name) \(shown), expected lower than \(lower) (line \(condition.location.line))"
        }
        return "attribute condition at line \(condition.location.line) has no value, higher or lower"
    }

    /// `child name="server"` for a report node; `child(name=server)` for a
    /// condition, listing its attribute conditions.
    private static func describe(_ node: ConfigNode) -> String {
        if node.type == "node" {
            let conditions = node.children(ofType: "attribute").map { condition -> String in
                let name = condition[attribute: "name"] ?? ""
                if let value = condition[attribute: "value"] { return "\(name)=\(value)" }
                if let higher = condition[attribute: "higher"] { return "\(name)>\(higher)" }
                return "\(name)<\(condition[attribute: "lower"] ?? "")"
            }
            return "\(node[attribute: "name"] ?? "")" + (conditions.isEmpty ? "" : "(\(conditions.joined(separator: ", ")))")
        }
        let identity = ["name", "service", "label"].compactMap { key in node[attribute: key].map { "\(key)=\"\($0)\"" } }
        return ([node.type] + identity).joined(separator: " ")
    }
}
