@testable import PhantomKernel

/// Builds a config node the way a parser would deliver it, so the routing and
/// init tests read like the Genode configs they are taken from.
func initNode(_ type: String, _ attributes: KeyValuePairs<String, String> = [:], _ children: [ConfigNode] = [],
              line: Int = 0, column: Int = 0) -> ConfigNode {
    ConfigNode(type: type, attributes: attributes.map { ConfigAttribute($0.key, $0.value) }, children: children,
               location: line == 0 ? .unknown : ConfigLocation(line: line, column: column))
}

/// `<start name=…>` with `ram`/`caps` and sub nodes.
func startNode(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], _ children: [ConfigNode] = []) -> ConfigNode {
    var node = initNode("start", attributes, children)
    node.attributes.insert(ConfigAttribute("name", name), at: 0)
    return node
}

/// `<route>` with rules.
func routeNode(_ rules: ConfigNode...) -> ConfigNode {
    initNode("route", [:], rules)
}
