import Testing
@testable import PhantomKernel

/// Shared helpers of the config tests.
enum ConfigTest {
    static func parse(_ text: String, source: String = "test") throws(ConfigError) -> ConfigDocument {
        try ConfigParser.parse(text, source: source)
    }

    /// The error `text` is rejected with, or nil (recorded as an issue) when
    /// it parses.
    static func error(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
        do {
            let document = try ConfigParser.parse(text, source: "test")
            Issue.record("parsed without error: \(document.root)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    /// Expects `text` to be rejected at `line`:`column` with a message
    /// containing `fragment`.
    static func expectError(_ text: String, _ line: Int, _ column: Int, _ fragment: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = error(text, sourceLocation: sourceLocation) else { return }
        #expect(error.location == ConfigLocation(line: line, column: column), "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix("test:\(line):\(column): "), sourceLocation: sourceLocation)
    }

    /// One init config, written once per syntax. Everything Genode's init
    /// reads appears: parent-provides, default route, defaults, start nodes
    /// with binary, provides, a child config and routes to parent and child,
    /// label rewriting, comments.
    static let initXML = """
        <config verbose="yes" prio_levels="2">
        \t<!-- services of our parent -->
        \t<parent-provides>
        \t\t<service name="ROM"/>
        \t\t<service name="CPU"/>
        \t\t<service name="PD"/>
        \t\t<service name="LOG"/>
        \t</parent-provides>
        \t<default caps="100" ram="1M"/>
        \t<default-route>
        \t\t<any-service> <parent/> <any-child/> </any-service>
        \t</default-route>
        \t<start name="server" ram="2M">
        \t\t<binary name="dummy"/>
        \t\t<provides> <service name="LOG"/> </provides>
        \t\t<config> <log_service/> </config>
        \t\t<route> <any-service> <parent/> </any-service> </route>
        \t</start>
        \t<start name="client" version="X" ram="1M" caps="200">
        \t\t<binary name="dummy"/>
        \t\t<config version="Version A">
        \t\t\t<log string="client started"/>
        \t\t\t<create_log_connections count="1"/>
        \t\t</config>
        \t\t<route>
        \t\t\t<service name="LOG"> <child name="server"/> </service>
        \t\t\t<service name="ROM" unscoped_label="renamed_dummy">
        \t\t\t\t<parent label="dummy"/> </service>
        \t\t\t<any-service> <parent/> </any-service>
        \t\t</route>
        \t</start>
        </config>
        """

    static let initHID = """
        config | verbose: yes | prio_levels: 2
        . services of our parent
        + parent-provides
          + service ROM
          + service CPU
          + service PD
          + service LOG

        + default | caps: 100 | ram: 1M

        + default-route
          + any-service
            + parent
            + any-child

        + start server | ram: 2M
          + binary dummy
          + provides | + service LOG
          + config   | + log_service
          + route    | + any-service | + parent

        + start client | version: X | ram: 1M | caps: 200
          + binary dummy
          + config
          |          version: Version A
          |   + log                    | string: client started
          |   + create_log_connections | count: 1
          + route
            + service LOG | + child server
            + service ROM | unscoped_label: renamed_dummy | + parent | label: dummy
            + any-service | + parent
        -
        """

    /// The tree both texts describe, built in code.
    static var initTree: ConfigNode {
        func node(_ type: String, _ attributes: [(String, String)] = [], _ children: [ConfigNode] = []) -> ConfigNode {
            ConfigNode(type: type, attributes: attributes.map { ConfigAttribute($0.0, $0.1) }, children: children)
        }
        func service(_ name: String, _ children: [ConfigNode] = []) -> ConfigNode {
            node("service", [("name", name)], children)
        }
        return node("config", [("verbose", "yes"), ("prio_levels", "2")], [
            node("parent-provides", [], ["ROM", "CPU", "PD", "LOG"].map { service($0) }),
            node("default", [("caps", "100"), ("ram", "1M")]),
            node("default-route", [], [node("any-service", [], [node("parent"), node("any-child")])]),
            node("start", [("name", "server"), ("ram", "2M")], [
                node("binary", [("name", "dummy")]),
                node("provides", [], [service("LOG")]),
                node("config", [], [node("log_service")]),
                node("route", [], [node("any-service", [], [node("parent")])]),
            ]),
            node("start", [("name", "client"), ("version", "X"), ("ram", "1M"), ("caps", "200")], [
                node("binary", [("name", "dummy")]),
                node("config", [("version", "Version A")], [
                    node("log", [("string", "client started")]),
                    node("create_log_connections", [("count", "1")]),
                ]),
                node("route", [], [
                    service("LOG", [node("child", [("name", "server")])]),
                    node("service", [("name", "ROM"), ("unscoped_label", "renamed_dummy")],
                         [node("parent", [("label", "dummy")])]),
                    node("any-service", [], [node("parent")]),
                ]),
            ]),
        ])
    }
}

/// A small seeded generator (SplitMix64), so a failing random case can be
/// reproduced from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
