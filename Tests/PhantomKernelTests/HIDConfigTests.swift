import Testing
@testable import PhantomKernel

/// The HID syntax, section by section of Genode's doc/hid.txt, then every
/// error with its line and column.
@Suite struct HIDConfigTests {
    private func root(_ text: String) throws -> ConfigNode {
        let document = try ConfigTest.parse(text)
        #expect(document.syntax == .hid)
        return document.root
    }

    private func attributes(_ node: ConfigNode) -> [String] {
        node.attributes.map { "\($0.name)=\($0.value)" }
    }

    // MARK: - Structure, names, attributes

    @Test func smallestConfigIsTypeAndEndMarker() throws {
        let config = try root("config\n-\n")
        #expect(config == ConfigNode(type: "config", location: ConfigLocation(line: 1, column: 1)))
    }

    @Test func subNodesNestByIndentation() throws {
        let config = try root("""
            config

            + default-route
              + any-service
                + parent
                + any-child
            + start osci
            -
            """)
        #expect(config.children.map(\.type) == ["default-route", "start"])
        let anyService = try #require(config.child(ofType: "default-route")?.child(ofType: "any-service"))
        #expect(anyService.children.map(\.type) == ["parent", "any-child"])
        #expect(config.children[1][attribute: "name"] == "osci")
        #expect(anyService.children[1].location == ConfigLocation(line: 6, column: 5))
        #expect(config.children[1].location == ConfigLocation(line: 7, column: 1))
    }

    @Test func attributesMayBeIndentedFreelyAtOrRightOfTheirNode() throws {
        let config = try root("""
            config
                   verbose: yes
                   arch:    x86_64
            + start osci
              ram: 8M
                                      pkg: nfeske/pkg/rom_osci/2025-12-12
            -
            """)
        #expect(attributes(config) == ["verbose=yes", "arch=x86_64"])
        #expect(attributes(config.children[0]) == ["name=osci", "ram=8M", "pkg=nfeske/pkg/rom_osci/2025-12-12"])
    }

    @Test func valuesKeepInnerSpacesColonsAndUnicodeButNotOuterSpaces() throws {
        let config = try root("config\n  label:   a: b .c  +d é 字  \n  empty:\n  url: http://x/y\n-")
        #expect(attributes(config) == ["label=a: b .c  +d é 字", "empty=", "url=http://x/y"])
    }

    @Test func aNameThatReadsLikeAnAttributeIsAnAttribute() throws {
        // As in Genode: `tag:` or `tag: …` after the type is an attribute,
        // anything else (even with a colon inside) is the name.
        let config = try root("config\n+ start ram: 8M\n+ start a:b\n+ node | category: route\n+ top-level x\n-")
        #expect(attributes(config.children[0]) == ["ram=8M"])
        #expect(attributes(config.children[1]) == ["name=a:b"])
        #expect(attributes(config.children[2]) == ["category=route"])
        #expect(attributes(config.children[3]) == ["name=x"])
    }

    @Test func topLevelNodeMayHaveANameAndAttributesOnItsLine() throws {
        let config = try root("schema config | version: 2\n-")
        #expect(config.type == "schema")
        #expect(attributes(config) == ["name=config", "version=2"])
    }

    // MARK: - Compacted lines, tabular arrangement, visual scoping

    @Test func compactedLineEqualsItsExpandedForm() throws {
        let expanded = try root("""
            config
                     verbose: yes
                                    arch: x86_64
            + route
              + service ROM
                              label: recording
                                                 + child record_rom
              + service Gui
                                                 + child wm
            -
            """)
        let compacted = try root("""
            config | verbose: yes | arch: x86_64
            + route
              + service ROM | label: recording | + child record_rom
              + service Gui                    | + child wm
            -
            """)
        #expect(compacted.withoutLocations() == expanded.withoutLocations())
        let rom = compacted.children[0].children[0]
        #expect(attributes(rom) == ["name=ROM", "label=recording"])
        #expect(rom.children.map { $0[attribute: "name"] } == ["record_rom"])
        // A segment's location is its own column.
        #expect(rom.children[0].location == ConfigLocation(line: 3, column: 38))
    }

    @Test func leadingPipesOnlyScope() throws {
        let config = try root("""
            config | verbose: yes
            + start osci | ram: 8M
              + config
              |        fps:        50
              |        phase_lock: no
              |
              | + channel | label: mic_left  | v_pos: 0.25
              | + channel | label: mic_right | v_pos: 0.75
              + route
                + any-service | + parent
            -
            """)
        let start = config.children[0]
        #expect(start.children.map(\.type) == ["config", "route"])
        let inner = start.children[0]
        #expect(attributes(inner) == ["fps=50", "phase_lock=no"])
        #expect(inner.children.map { $0[attribute: "label"] } == ["mic_left", "mic_right"])
        #expect(attributes(inner.children[1]) == ["label=mic_right", "v_pos=0.75"])
        #expect(start.children[1].children[0].children.map(\.type) == ["parent"])
    }

    // MARK: - Comments

    @Test func commentsAreDroppedWholeLinesAndTrailingSegments() throws {
        let config = try root("""
            config
            .
            . A comment may hold anything: | + start x | tag: value
            .
            + start osci | ram: 8M | . trailing, with | pipes | + child
              .
              + config
              |        phase_lock: no    | . use 'yes' for more stability
              .
            -
            """)
        #expect(config.children.count == 1)
        let start = config.children[0]
        #expect(attributes(start) == ["name=osci", "ram=8M"])
        #expect(start.children.map(\.type) == ["config"])
        #expect(attributes(start.children[0]) == ["phase_lock=no"])
        #expect(start.children[0].children.isEmpty)
    }

    @Test func tabsAreAllowedInComments() throws {
        let config = try root("config\n. a\tcomment\n-")
        #expect(config.children.isEmpty)
    }

    // MARK: - Quoted content

    @Test func quotedContentCapturesWholeLinesIncludingPipes() throws {
        let config = try root("""
            config
            + arg bash | . command name presented in argv[0]
            + arg -c
              : while true; do
              :  read -p '> ' -e; history -s $REPLY | pcalc $REPLY;\tx
              : done
            + env TERM  | : screen
            + env EMPTY | :
            + env SPACE | :    two | three
            -
            """)
        #expect(config.children.map { $0[attribute: "name"] } == ["bash", "-c", "TERM", "EMPTY", "SPACE"])
        #expect(config.children[0].content == nil)
        #expect(config.children[1].content == "while true; do\n read -p '> ' -e; history -s $REPLY | pcalc $REPLY;\tx\ndone")
        #expect(config.children[2].content == "screen")
        #expect(config.children[3].content == "")
        #expect(config.children[4].content == "   two | three")
    }

    @Test func contentLinesMayBeSeparatedByComments() throws {
        let config = try root("config\n+ script\n  : one\n  . the next line\n  : two\n-")
        #expect(config.children[0].content == "one\ntwo")
    }

    // MARK: - Disabled sub nodes

    @Test func disabledNodesAreDroppedWithTheirSubtree() throws {
        let config = try root("""
            config
            + arg bash
            x arg -c
              : while true; do
              : done
            + start a
              x route
                + any-service | + parent
              + binary b
            x start b | ram: 1M
              + config | + deep | + deeper
            + start c
            -
            """)
        #expect(config.children.map { $0[attribute: "name"] } == ["bash", "a", "c"])
        #expect(config.children[1].children.map(\.type) == ["binary"])
    }

    @Test func disabledNodesAreStillChecked() {
        ConfigTest.expectError("config\nx start a\n  + Bad\n-", 3, 5, "bad node type 'Bad'")
    }

    // MARK: - Duplicates and tolerated sloppiness (warnings)

    @Test func duplicateAttributeKeepsTheFirstValueAndWarns() throws {
        let document = try ConfigTest.parse("config\n+ start a | ram: 1M\n  ram: 2M\n  name: b\n-")
        #expect(attributes(document.root.children[0]) == ["name=a", "ram=1M"])
        #expect(document.warnings == [
            "test:3:3: duplicate attribute 'ram' of node 'start' ignored: the first value wins",
            "test:4:3: duplicate attribute 'name' of node 'start' ignored: the first value wins",
        ])
    }

    @Test func missingSpacesAroundPipesAndValuesAreWarnings() throws {
        let document = try ConfigTest.parse("config|verbose:yes |arch: x\n-")
        #expect(attributes(document.root) == ["verbose=yes", "arch=x"])
        #expect(document.warnings == [
            "test:1:7: '|' should be preceded by a space",
            "test:1:7: '|' should be followed by a space",
            "test:1:16: the value of 'verbose' should be separated from ':' by a space",
            "test:1:20: '|' should be followed by a space",
        ])
    }

    @Test func cleanTextHasNoWarnings() throws {
        #expect(try ConfigTest.parse(ConfigTest.initHID).warnings.isEmpty)
    }

    // MARK: - Lines and blanks

    @Test func crlfLineEndingsAndBlankLinesAroundAreAccepted() throws {
        let config = try root("\n\nconfig | a: 1\r\n+ start x\r\n  : text \r\n-\r\n\n   \n")
        #expect(attributes(config) == ["a=1"])
        #expect(config.children[0].content == "text ")
        #expect(config.location == ConfigLocation(line: 3, column: 1))
    }

    @Test func theInitConfigReadsAsTheExpectedTree() throws {
        let config = try root(ConfigTest.initHID)
        #expect(config.withoutLocations() == ConfigTest.initTree)
    }

    @Test func aSchemaInTheStyleOfGenodesHSDFilesParses() throws {
        // Our own text in the style of an .hsd: quoted regexes with '|',
        // empty defaults, trailing comments, compacted nested nodes.
        let schema = try root("""
            schema config

            + type any      | : .*
            + type bool     | : yes|no
            + type bytes    | : \\d+[GMK]?

            + category target
              + node parent
                + attr label | type: any | default:
              + node child   | + attr name | type: any

            + node start
              + attr name | type: any
              + attr ram  | type: bytes | default: | . RAM quota
              + node route | multiple: no
                + node | category: target
            -
            """)
        #expect(schema[attribute: "name"] == "config")
        #expect(schema.children(ofType: "type").compactMap(\.content) == [".*", "yes|no", "\\d+[GMK]?"])
        let label = try #require(schema.child(ofType: "category")?.children[0].children.first)
        #expect(attributes(label) == ["name=label", "type=any", "default="])
        let ram = try #require(schema.child(ofType: "node")?.children[1])
        #expect(attributes(ram) == ["name=ram", "type=bytes", "default="])
        #expect(schema.child(ofType: "node")?.child(ofType: "node")?.children[0].attributes == [ConfigAttribute("category", "target")])
    }

    // MARK: - Errors, each at its line and column

    @Test func emptyOrBlankTextIsAnError() {
        ConfigTest.expectError("", 1, 1, "empty config")
        ConfigTest.expectError(" \n\t\n", 1, 1, "empty config")
    }

    @Test func badAttributeTag() {
        ConfigTest.expectError("config\n  Ram: 1M\n-", 2, 3, "bad attribute tag 'Ram'")
        ConfigTest.expectError("config\n  r$m: 1M\n-", 2, 3, "bad attribute tag 'r$m'")
        ConfigTest.expectError("config | 7: x\n-", 1, 10, "bad attribute tag '7'")
    }

    @Test func attributeWithoutColon() {
        ConfigTest.expectError("config\n  verbose yes\n-", 2, 10, "expected ':' after the attribute tag 'verbose'")
        ConfigTest.expectError("config\n  x\n-", 2, 4, "expected ':' after the attribute tag 'x'")
    }

    @Test func badNodeType() {
        ConfigTest.expectError("config\n+ Start a\n-", 2, 3, "bad node type 'Start'")
        ConfigTest.expectError("config\n+ st@rt a\n-", 2, 3, "bad node type 'st@rt'")
        ConfigTest.expectError("config\n+\n-", 2, 1, "expected a node type after '+'")
        ConfigTest.expectError("config\n+start\n-", 2, 1, "'+' must be followed by a space")
        ConfigTest.expectError("config\n+  start\n-", 2, 3, "expected a node type after '+ '")
        ConfigTest.expectError("Config\n-", 1, 1, "expected the top-level node type")
    }

    @Test func missingEndMarker() {
        ConfigTest.expectError("config\n+ start a\n", 3, 1, "missing end marker '-' of the top-level node 'config' (line 1)")
        ConfigTest.expectError("\nconfig | a: 1", 2, 14, "missing end marker '-' of the top-level node 'config' (line 2)")
    }

    @Test func endMarkerMustStandAloneAtColumnOne() {
        ConfigTest.expectError("config\n- x\n", 2, 1, "must stand alone")
        ConfigTest.expectError("config\n  -\n", 2, 3, "must be at column 1")
        ConfigTest.expectError("config | -\n", 1, 10, "must be at column 1")
        ConfigTest.expectError("-\n", 1, 1, "without a top-level node")
    }

    @Test func contentAfterTheEndMarker() {
        ConfigTest.expectError("config\n-\n\n  + start a\n", 4, 3, "content after the end marker '-' (line 2)")
        ConfigTest.expectError("config\n-\nconfig\n-\n", 3, 1, "content after the end marker")
    }

    @Test func attributeNotUnderANode() {
        ConfigTest.expectError("config\n+ start a\n  + config\n ram: 1M\n-", 4, 2,
                               "attribute 'ram' is not under a node: its node 'config' starts at column 3")
        ConfigTest.expectError("config\nverbose: yes\n-", 2, 1, "attribute 'verbose' is not under a node")
        ConfigTest.expectError("  verbose: yes\nconfig\n-", 1, 3, "expected the top-level node type at column 1")
    }

    @Test func quotedContentNotUnderItsNode() {
        ConfigTest.expectError("config\n+ start a\n  + arg\n : text\n-", 4, 2, "quoted content is not under a node")
    }

    @Test func wrongIndentation() {
        ConfigTest.expectError("config\n+ start a\n + binary b\n-", 3, 2,
                               "sub node 'binary' must be indented at least two columns more than its parent 'start' (column 1)")
        ConfigTest.expectError("config\n+ a\n  + b\n   + c\n-", 4, 4, "sub node 'c' must be indented at least two columns more than its parent 'b' (column 3)")
    }

    @Test func secondTopLevelNode() {
        ConfigTest.expectError("config\nstart a\n-", 2, 1, "second top-level node 'start'")
    }

    @Test func commentsAndNodesAboveTheTopLevelNode() {
        ConfigTest.expectError(". about\nconfig\n-", 1, 1, "comment above the top-level node")
        ConfigTest.expectError("  . about\nconfig\n-", 1, 3, "comment above the top-level node")
        ConfigTest.expectError("+ start\nconfig\n-", 1, 1, "sub node above the top-level node")
    }

    @Test func commentAndQuoteNeedASpace() {
        ConfigTest.expectError("config\n  .x\n-", 2, 3, "separated from '.' by a space")
        ConfigTest.expectError("config\n+ a | :x\n-", 2, 7, "separated from ':' by a space")
    }

    @Test func tabsAndControlCharacters() {
        ConfigTest.expectError("config\n\t+ start a\n-", 2, 1, "tab character")
        ConfigTest.expectError("config\n+ start a\tb\n-", 2, 10, "tab character")
        ConfigTest.expectError("config\n  name: a\u{7}\n-", 2, 10, "control character U+0007")
        ConfigTest.expectError("config\n  name: a\rb\n-", 2, 10, "control character U+000D")
    }

    @Test func quotedContentAndSubNodesDoNotMix() {
        ConfigTest.expectError("config\n+ arg\n  : text\n  + sub\n-", 4, 3,
                               "node 'arg' has quoted content, so it cannot also have sub nodes")
        ConfigTest.expectError("config\n+ arg\n  : text\n  x sub\n-", 4, 3, "cannot also have sub nodes")
    }

    @Test func attributeAfterQuotedContent() {
        ConfigTest.expectError("config\n+ arg\n  : text\n  late: 1\n-", 4, 3,
                               "attribute 'late' after the quoted content of node 'arg'")
    }

    @Test func nestingIsBounded() throws {
        let limit = ConfigParser.maximumDepth
        let deepest = "config" + String(repeating: " | + a", count: limit - 1) + "\n-"
        var depth = 0
        var node: ConfigNode? = try root(deepest)
        while let current = node { depth += 1; node = current.children.first }
        #expect(depth == limit)
        let tooDeep = "config" + String(repeating: " | + a", count: limit) + "\n-"
        ConfigTest.expectError(tooDeep, 1, 10 + 6 * (limit - 1), "nodes nest deeper than \(limit) levels")
    }

    @Test func garbledInputNeverCrashes() {
        // Mutations of a real config: each either parses or names an error
        // inside the text.
        var random = SeededGenerator(seed: 0x41D)
        let base = Array(ConfigTest.initHID.unicodeScalars)
        let alphabet: [Unicode.Scalar] = [" ", "|", "+", "x", "-", ".", ":", "\n", "\t", "a", "Z", "é", "\r"]
        var rejected = 0
        for _ in 0..<2000 {
            var text = base
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<text.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: text.remove(at: index)
                case 1: text.insert(alphabet.randomElement(using: &random) ?? " ", at: index)
                default: text[index] = alphabet.randomElement(using: &random) ?? " "
                }
            }
            var string = ""
            string.unicodeScalars.append(contentsOf: text)
            do {
                _ = try ConfigParser.parse(string, source: "fuzz")
            } catch {
                rejected += 1
                #expect(error.location.line >= 1 && error.location.column >= 1)
                #expect(error.location.line <= string.split(separator: "\n", omittingEmptySubsequences: false).count + 1)
            }
        }
        #expect(rejected > 100)
    }
}
