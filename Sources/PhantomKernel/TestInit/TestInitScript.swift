import Foundation

/// A script of Genode's test-init (repos/os/src/test/init/main.cc): the sub
/// nodes of its config are steps, run in order — `init_config` (published as
/// the report `init.config`, which the runtime's report_rom serves as the
/// nested init's config), `expect_log` and `expect_warning` (a line on the LOG
/// service test-init provides), `expect_init_state` (a condition on the nested
/// init's state report, `StateCondition`), `message`, `sleep`, `nop`.
///
/// Two attributes of the top node are ours; Genode's test-init ignores
/// attributes there, so a script that has them still runs on Genode:
/// `phantom_step_limit_ms` ends a step that has not completed in that time
/// (Genode relies on the run script's overall timeout instead), and
/// `phantom_keep_going="yes"` then goes on with the next step instead of
/// failing the run — to learn which steps of a script pass.
public struct TestInitScript: Sendable {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    static let stepTypes: Set<String> = ["init_config", "expect_log", "expect_warning", "expect_init_state",
                                         "message", "sleep", "nop"]

    /// How messages name the script (a path, or "the config of test-init").
    public let source: String
    public let syntax: ConfigSyntax
    /// The top node; its sub nodes are the steps.
    public let root: ConfigNode
    public var steps: [ConfigNode] { root.children }
    public var stepLimitMs: UInt64? { root[attribute: "phantom_step_limit_ms"].flatMap { UInt64($0) } }
    public var keepGoing: Bool { root[attribute: "phantom_keep_going"] == "yes" }

    /// Parses and checks a script: unknown steps, missing attributes and
    /// malformed conditions are refused here, naming line and step, instead
    /// of surfacing halfway through a run.
    public static func parse(_ text: String, source: String) throws(Problem) -> TestInitScript {
        let document: ConfigDocument
        do {
            document = try ConfigParser.parse(text, source: source)
        } catch {
            throw Problem(description: "\(error)")
        }
        let script = TestInitScript(source: source, syntax: document.syntax, root: document.root)
        try script.check()
        return script
    }

    /// Where a step is, for messages: `source:line`.
    public func place(_ node: ConfigNode) -> String { "\(source):\(node.location.line)" }

    private func check() throws(Problem) {
        if let limit = root[attribute: "phantom_step_limit_ms"], UInt64(limit) == nil {
            throw Problem(description: "\(place(root)): phantom_step_limit_ms '\(limit)' is not a number of milliseconds")
        }
        for step in steps {
            guard Self.stepTypes.contains(step.type) else {
                throw Problem(description: "\(place(step)): unknown step '\(step.type)' (steps: \(Self.stepTypes.sorted().joined(separator: ", ")))")
            }
            switch step.type {
            case "expect_log", "expect_warning":
                guard step[attribute: "string"] != nil else {
                    throw Problem(description: "\(place(step)): \(step.type) needs a string")
                }
            case "expect_init_state":
                do {
                    try StateCondition.check(step)
                } catch {
                    throw Problem(description: "\(source):\(error.line): \(error.message)")
                }
            case "sleep":
                if let ms = step[attribute: "ms"], UInt64(ms) == nil {
                    throw Problem(description: "\(place(step)): sleep ms '\(ms)' is not a number of milliseconds")
                }
            default:
                break
            }
        }
    }

    /// test-init's `sleep` default.
    static let defaultSleepMs: UInt64 = 250

    /// The line an `expect_log` or `expect_warning` step waits for, as a test.
    /// test-init compares `string` (for a warning: followed by the colour
    /// escape and `colored`) with `[label] message`, the message cut at the
    /// colour reset that ends a coloured line. We print no colours, so a
    /// received line is compared with its escapes removed, and a warning
    /// matches `string` + `colored`; HID trims the blank at the end of
    /// `string: [init] `, so a blank between the two parts is optional.
    static func matcher(for step: ConfigNode) -> (String) -> Bool {
        let string = step[attribute: "string"] ?? ""
        guard step.type == "expect_warning" else { return { $0 == string } }
        let colored = step[attribute: "colored"] ?? ""
        let joined = string + colored
        let spaced = colored.isEmpty || string.hasSuffix(" ") ? joined : string + " " + colored
        return { $0 == joined || $0 == spaced }
    }

    /// A line as test-init sees it: ANSI escapes (`ESC [ … m`) removed.
    static func withoutColours(_ line: String) -> String {
        guard line.contains("\u{1B}") else { return line }
        var out = ""
        var iterator = line.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            guard scalar == "\u{1B}" else { out.unicodeScalars.append(scalar); continue }
            // Skip `[`, parameters and the final letter.
            while let next = iterator.next(), !(next.properties.isAlphabetic) {}
        }
        return out
    }

    /// The report test-init publishes for an `init_config` step: `<config>`
    /// with the step's `version` and its content (Genode: `_publish_report`),
    /// in the script's syntax.
    func initConfigText(_ step: ConfigNode) throws(Problem) -> String {
        var config = ConfigNode(type: "config")
        config.location = step.location
        if let version = step[attribute: "version"] { config.attributes = [ConfigAttribute("version", version)] }
        config.children = step.children
        do {
            return try ConfigRenderer.render(config, as: syntax)
        } catch {
            throw Problem(description: "\(place(step)): the init config cannot be rendered: \(error)")
        }
    }
}
