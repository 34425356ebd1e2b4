import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Genode's state report (`<state><child name=… ><ram …/><requested>…`) as
/// `phantom ps` shows it: a table for people, JSON for scripts.
struct StateReport {
    /// One element of the report.
    struct Element {
        var type: String
        var attributes: [(name: String, value: String)] = []
        var children: [Element] = []
        var text = ""

        subscript(_ name: String) -> String? { attributes.first { $0.name == name }?.value }
        func first(_ type: String) -> Element? { children.first { $0.type == type } }
        func all(_ type: String) -> [Element] { children.filter { $0.type == type } }
    }

    var root: Element

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    init(xml: String) throws {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let error = parser.parserError.map { "\($0.localizedDescription)" } ?? "no element"
            throw ParseError(description: "the system's state report is not XML (line \(parser.lineNumber), column \(parser.columnNumber): \(error))")
        }
        self.root = root
    }

    // MARK: - Table

    /// One row per child: name, state, RAM quota and use, sessions it requested.
    func table() -> String {
        var rows = [["NAME", "STATE", "RAM QUOTA", "RAM USED", "SESSIONS"]]
        for child in root.all("child") {
            let ram = child.first("ram")
            let sessions = child.first("requested")?.all("session") ?? []
            rows.append([
                child["name"] ?? "?",
                Self.state(of: child),
                Self.bytes(ram?["quota"] ?? ram?["assigned"]),
                Self.bytes(ram?["used"]),
                sessions.isEmpty ? "-" : Self.summary(of: sessions),
            ])
        }
        if rows.count == 1 { return "no components" + (root["version"].map { " (config version \($0))" } ?? "") }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// What a child is doing: the report's `state`, or `exited N` when it
    /// carries an exit value, else running.
    static func state(of child: Element) -> String {
        if let state = child["state"] {
            if let value = child["exited"] ?? child["exit_value"] { return "\(state) \(value)" }
            return state
        }
        if let value = child["exited"] ?? child["exit_value"] { return "exited \(value)" }
        return "running"
    }

    /// Services and how many sessions of each: `LOG, ROM ×2, Timer`.
    static func summary(of sessions: [Element]) -> String {
        var counts: [(String, Int)] = []
        for session in sessions {
            let service = session["service"] ?? "?"
            if let index = counts.firstIndex(where: { $0.0 == service }) {
                counts[index].1 += 1
            } else {
                counts.append((service, 1))
            }
        }
        return counts.map { $0.1 == 1 ? $0.0 : "\($0.0) ×\($0.1)" }.joined(separator: ", ")
    }

    /// A byte count from the report (a number, or Genode's `4M` style) for people.
    static func bytes(_ value: String?) -> String {
        guard let value else { return "-" }
        if let number = UInt64(value) { return formatBytes(number) }
        if let size = try? ByteSize.parse(value, in: 0...UInt64.max) { return formatBytes(size.bytes) }
        return value
    }

    // MARK: - JSON

    /// The report as JSON: each element an object of its attributes (as
    /// strings), its child elements in arrays under their type
    /// (`"child": [{"name": "a", "ram": [{"quota": "…"}], …}]`), text under
    /// `"text"`. An attribute that has the name of a child type is kept as `"@name"`.
    func json() throws -> String {
        let data = try JSONSerialization.data(withJSONObject: Self.object(root), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func object(_ element: Element) -> [String: Any] {
        var object: [String: Any] = [:]
        var grouped: [String: [[String: Any]]] = [:]
        for child in element.children { grouped[child.type, default: []].append(Self.object(child)) }
        for (name, value) in element.attributes {
            object[grouped[name] == nil ? name : "@" + name] = value
        }
        for (type, children) in grouped { object[type] = children }
        let text = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty { object["text"] = text }
        return object
    }
}

/// Builds `StateReport.Element`s from XMLParser's events.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [StateReport.Element] = []
    var root: StateReport.Element?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        // XMLParser hands attributes over unordered: sorted, so output is stable.
        let sorted = attributes.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        stack.append(StateReport.Element(type: elementName, attributes: sorted))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !stack.isEmpty { stack[stack.count - 1].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let element = stack.popLast() else { return }
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }
}
