import Testing
@testable import PhantomKernel

/// Rendering trees back to text: exact layouts, round trips of real configs
/// and of seeded random trees, and what each syntax refuses to write.
@Suite struct ConfigRenderTests {
    private static let sample = ConfigNode(type: "config", attributes: [.init("verbose", "yes")], children: [
        ConfigNode(type: "start", attributes: [.init("name", "a b"), .init("ram", "1M"), .init("empty", "")], children: [
            ConfigNode(type: "route", children: [ConfigNode(type: "any-service", children: [ConfigNode(type: "parent")])]),
        ]),
        ConfigNode(type: "arg", attributes: [.init("name", "-c")], content: "echo <hi> & \"bye\"\n  | next\n"),
        ConfigNode(type: "log", attributes: [.init("string", "a <b> & \"c\"\nd\te")]),
    ])

    @Test func xmlLayout() throws {
        #expect(try ConfigRenderer.xml(Self.sample) == """
            <config verbose="yes">
            \t<start name="a b" ram="1M" empty="">
            \t\t<route>
            \t\t\t<any-service>
            \t\t\t\t<parent/>
            \t\t\t</any-service>
            \t\t</route>
            \t</start>
            \t<arg name="-c">echo &lt;hi&gt; &amp; "bye"
              | next
            </arg>
            \t<log string="a &lt;b&gt; &amp; &quot;c&quot;&#10;d&#9;e"/>
            </config>

            """)
    }

    @Test func hidLayout() throws {
        var sample = Self.sample
        sample.children[2].attributes = [.init("string", "a <b> & \"c\"")]
        #expect(try ConfigRenderer.hid(sample) == """
            config | verbose: yes
            + start a b | ram: 1M | empty:
              + route
                + any-service
                  + parent
            + arg -c
              : echo <hi> & "bye"
              :   | next
              :
            + log | string: a <b> & "c"
            -

            """)
    }

    @Test func hidWritesTheNameInlineOnlyWhenItReadsBackAsTheName() throws {
        let config = ConfigNode(type: "config", children: [
            ConfigNode(type: "start", attributes: [.init("name", "ram: 8M")]),
            ConfigNode(type: "start", attributes: [.init("name", "")]),
            ConfigNode(type: "start", attributes: [.init("ram", "1M"), .init("name", "late")]),
            ConfigNode(type: "start", attributes: [.init("name", "a:b")]),
        ])
        let text = try ConfigRenderer.hid(config)
        #expect(text == "config\n+ start | name: ram: 8M\n+ start | name:\n+ start | ram: 1M | name: late\n+ start a:b\n-\n")
        #expect(try ConfigTest.parse(text).root.withoutLocations() == config)
    }

    @Test func realConfigsRoundTripInBothSyntaxes() throws {
        for text in [ConfigTest.initXML, ConfigTest.initHID] {
            let tree = try ConfigTest.parse(text).root.withoutLocations()
            for syntax in [ConfigSyntax.xml, .hid] {
                let rendered = try ConfigRenderer.render(tree, as: syntax)
                let back = try ConfigTest.parse(rendered)
                #expect(back.syntax == syntax)
                #expect(back.warnings.isEmpty)
                #expect(back.root.withoutLocations() == tree, "\(rendered)")
            }
        }
    }

    @Test func hidConvertsToXMLAndBack() throws {
        let hid = """
            config
            + arg -c
              : while true; do
              :   echo "<$x>" | cat
              : done
            + env TERM
              : screen
            -
            """
        let tree = try ConfigTest.parse(hid).root.withoutLocations()
        let viaXML = try ConfigTest.parse(ConfigRenderer.xml(tree)).root.withoutLocations()
        #expect(viaXML == tree)
        #expect(try ConfigRenderer.hid(viaXML) == hid + "\n")
    }

    // MARK: - What a syntax cannot say

    @Test func hidRefusesWhatItCannotSay() {
        func refusal(_ node: ConfigNode) -> ConfigRenderError? {
            do { _ = try ConfigRenderer.hid(node); return nil } catch { return error }
        }
        let pipe = ConfigNode(type: "config", children: [ConfigNode(type: "start", attributes: [.init("label", "a|b")])])
        #expect(refusal(pipe) == ConfigRenderError(path: "config/start[1]", syntax: .hid,
                                                   message: "attribute 'label' holds '|', which HID values cannot"))
        #expect(refusal(ConfigNode(type: "Config"))?.message.contains("not a HID node type") == true)
        #expect(refusal(ConfigNode(type: "config", attributes: [.init("Ram", "1")]))?.message.contains("not a HID attribute tag") == true)
        #expect(refusal(ConfigNode(type: "config", attributes: [.init("a", " x")]))?.message.contains("spaces at its ends") == true)
        #expect(refusal(ConfigNode(type: "config", attributes: [.init("a", "x\ny")]))?.message.contains("control character") == true)
        #expect(refusal(ConfigNode(type: "config", content: "a\rb"))?.message.contains("control character") == true)
        let mixed = ConfigNode(type: "config", children: [ConfigNode(type: "x", children: [ConfigNode(type: "y")], content: "t")])
        #expect(refusal(mixed)?.description == "cannot write config/x[1] as HID: a HID node holds quoted content or sub nodes, not both")
    }

    @Test func xmlRefusesWhatItCannotSay() {
        func refusal(_ node: ConfigNode) -> ConfigRenderError? {
            do { _ = try ConfigRenderer.xml(node); return nil } catch { return error }
        }
        #expect(refusal(ConfigNode(type: "1config"))?.message.contains("not an XML element name") == true)
        #expect(refusal(ConfigNode(type: "a:b"))?.message.contains("not an XML element name") == true)
        #expect(refusal(ConfigNode(type: "c", attributes: [.init("x y", "1")]))?.message.contains("not an XML attribute name") == true)
        #expect(refusal(ConfigNode(type: "c", attributes: [.init("x", "\u{1}")]))?.message.contains("character XML does not allow") == true)
        #expect(refusal(ConfigNode(type: "c", content: "\u{FFFE}")) != nil)
        #expect(refusal(ConfigNode(type: "Ünïcode-ok.1", attributes: [.init("_x", "\u{10000}")])) == nil)
    }

    @Test func renderingRefusesTreesTooDeepToReadBack() {
        var node = ConfigNode(type: "a")
        for _ in 0..<ConfigParser.maximumDepth { node = ConfigNode(type: "a", children: [node]) }
        #expect(throws: ConfigRenderError.self) { try ConfigRenderer.hid(node) }
        #expect(throws: ConfigRenderError.self) { try ConfigRenderer.xml(node) }
    }

    // MARK: - Property: random trees read back equal

    /// A random tree that both syntaxes can say. `hidContent` picks HID's
    /// content form (any printable line, untrimmed, never beside sub nodes);
    /// otherwise content is XML's normal form (trimmed, non-empty).
    private static func randomTree(_ random: inout SeededGenerator, depth: Int, hidContent: Bool) -> ConfigNode {
        let types = ["config", "start", "route", "any-service", "parent", "child", "service", "x", "a_b-9"]
        let tags = ["name", "ram", "caps", "label", "version", "x", "unscoped_label", "v-1"]
        let pieces = ["a", "B", "7", " ", ":", ": ", ".", "+ ", "x ", "-", "#", "<", ">", "&", "\"", "'", "é", "字", "🙂", "/", "=", "amp;"]
        func text(_ count: Int) -> String {
            (0..<count).map { _ in pieces.randomElement(using: &random) ?? "a" }.joined()
        }
        func value() -> String {
            var value = text(Int.random(in: 0...5, using: &random))
            while value.hasPrefix(" ") { value.removeFirst() }
            while value.hasSuffix(" ") { value.removeLast() }
            return value
        }
        var node = ConfigNode(type: types.randomElement(using: &random) ?? "config")
        var used: Set<String> = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            let tag = tags.randomElement(using: &random) ?? "name"
            if used.insert(tag).inserted { node.attributes.append(ConfigAttribute(tag, value())) }
        }
        let childCount = depth < 5 ? Int.random(in: 0...3, using: &random) : 0
        for _ in 0..<childCount {
            node.children.append(randomTree(&random, depth: depth + 1, hidContent: hidContent))
        }
        if Int.random(in: 0..<4, using: &random) == 0 {
            if hidContent {
                if node.children.isEmpty {
                    let lines = (0..<Int.random(in: 1...3, using: &random)).map { _ in text(Int.random(in: 0...6, using: &random)) + (Bool.random(using: &random) ? " | \t" : "") }
                    node.content = lines.joined(separator: "\n")
                }
            } else {
                let content = value()
                if !content.isEmpty { node.content = content + (Bool.random(using: &random) ? "\n|\t" + value() + "x" : "") }
            }
        }
        return node
    }

    @Test(arguments: [ConfigSyntax.hid, .xml])
    func randomTreesRoundTrip(_ syntax: ConfigSyntax) throws {
        var random = SeededGenerator(seed: syntax == .hid ? 0x4849_44 : 0x584D_4C)
        for iteration in 0..<400 {
            let tree = Self.randomTree(&random, depth: 1, hidContent: syntax == .hid)
            let text = try ConfigRenderer.render(tree, as: syntax)
            let document = try ConfigTest.parse(text, source: "iteration \(iteration)")
            #expect(document.syntax == syntax)
            #expect(document.warnings.isEmpty, "\(text)")
            #expect(document.root.withoutLocations() == tree, "iteration \(iteration):\n\(text)")
            // Rendering is a fixed point: the text of the read-back tree is the same text.
            #expect(try ConfigRenderer.render(document.root, as: syntax) == text)
        }
    }

    @Test func randomTreesCrossBetweenSyntaxes() throws {
        // XML-normal trees without content beside children say the same in both.
        var random = SeededGenerator(seed: 0xC055)
        var crossed = 0
        for _ in 0..<300 {
            let tree = Self.randomTree(&random, depth: 1, hidContent: false)
            guard let hid = try? ConfigRenderer.hid(tree) else { continue }
            let fromHID = try ConfigTest.parse(hid).root.withoutLocations()
            let fromXML = try ConfigTest.parse(ConfigRenderer.xml(fromHID)).root.withoutLocations()
            #expect(fromXML == tree)
            crossed += 1
        }
        #expect(crossed > 100)
    }
}
