import Foundation

/// The system Genode's test-init runs in (repos/os/recipes/pkg/test-init/
/// runtime), as an init config for our root init:
///
/// - `report_rom`, whose policies serve test-init's `init.config` report as
///   the nested init's `config` ROM and the nested init's `state` report as
///   test-init's `state` ROM;
/// - `test-init`, whose config is the script, providing LOG;
/// - `init`, the nested init under test, logging to test-init.
///
/// One difference: Genode routes test-init's `config` ROM to a file
/// (`test-init.config`); we put the script inline, so that the image holds
/// it and a restored run reads the same script.
public enum TestInitSystem {
    /// Phantom's options for a run, written as attributes of the script's top
    /// node (`TestInitScript`).
    public struct Options: Sendable {
        public var stepLimitMs: UInt64?
        public var keepGoing = false
        public init(stepLimitMs: UInt64? = nil, keepGoing: Bool = false) {
            self.stepLimitMs = stepLimitMs
            self.keepGoing = keepGoing
        }
    }

    /// The runtime config for `scriptText`, in the script's syntax. Throws a
    /// script that does not parse or names unknown steps, with its line.
    public static func config(script scriptText: String, source: String, options: Options) throws -> String {
        let script = try TestInitScript.parse(scriptText, source: source)
        var scriptNode = script.root
        scriptNode.type = "config"
        scriptNode.attributes.removeAll { $0.name.hasPrefix("phantom_") }
        if let limit = options.stepLimitMs { scriptNode.attributes.append(ConfigAttribute("phantom_step_limit_ms", String(limit))) }
        if options.keepGoing { scriptNode.attributes.append(ConfigAttribute("phantom_keep_going", "yes")) }

        func node(_ type: String, _ attributes: [(String, String)] = [], _ children: [ConfigNode] = []) -> ConfigNode {
            ConfigNode(type: type, attributes: attributes.map { ConfigAttribute($0.0, $0.1) }, children: children)
        }
        func service(_ name: String, _ attributes: [(String, String)] = [], _ targets: [ConfigNode]) -> ConfigNode {
            node("service", [("name", name)] + attributes, targets)
        }
        let parentServices = ["ROM", "CPU", "PD", "LOG", "Timer"].map { node("service", [("name", $0)]) }
        let reportRom = node("start", [("name", "report_rom"), ("ram", "2M")], [
            node("provides", [], [node("service", [("name", "ROM")]), node("service", [("name", "Report")])]),
            node("config", [("verbose", "no")], [
                node("policy", [("label", "init -> config"), ("report", "test-init -> init.config")]),
                node("policy", [("label", "test-init -> state"), ("report", "init -> state")]),
            ]),
        ])
        let testInit = node("start", [("name", "test-init"), ("ram", "4M")], [
            node("provides", [], [node("service", [("name", "LOG")])]),
            scriptNode,
            node("route", [], [
                service("Report", [], [node("child", [("name", "report_rom")])]),
                service("ROM", [("label", "state")], [node("child", [("name", "report_rom")])]),
                node("any-service", [], [node("parent")]),
            ]),
        ])
        let nestedInit = node("start", [("name", "init"), ("caps", "2000"), ("ram", "16M")], [
            node("binary", [("name", "init")]),
            node("route", [], [
                service("ROM", [("label", "config")], [node("child", [("name", "report_rom")])]),
                service("Report", [], [node("child", [("name", "report_rom")])]),
                service("LOG", [], [node("child", [("name", "test-init")])]),
                service("ROM", [("label", "another_dummy")], [node("parent", [("label", "dummy")])]),
                node("any-service", [], [node("parent")]),
            ]),
        ])
        let root = node("config", [], [
            node("parent-provides", [], parentServices),
            node("default-route", [], [node("any-service", [], [node("parent"), node("any-child")])]),
            node("default", [("caps", "100")]),
            reportRom, testInit, nestedInit,
        ])
        return try ConfigRenderer.render(root, as: script.syntax)
    }
}
