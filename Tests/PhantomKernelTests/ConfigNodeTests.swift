import Testing
@testable import PhantomKernel

@Suite struct ConfigNodeTests {
    @Test func attributesAndChildrenAreFoundByName() {
        let node = ConfigNode(type: "start", attributes: [.init("name", "a"), .init("ram", "1M"), .init("name", "b")],
                              children: [ConfigNode(type: "route"), ConfigNode(type: "config")])
        #expect(node[attribute: "name"] == "a")
        #expect(node[attribute: "caps"] == nil)
        #expect(node.child(ofType: "config") != nil)
        #expect(node.children(ofType: "route").count == 1)
        #expect(ConfigError(source: "config", location: .init(line: 3, column: 7), message: "x").description == "config:3:7: x")
    }
}
