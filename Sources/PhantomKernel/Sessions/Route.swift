/// Where a session request goes.
enum Route: Equatable {
    /// A service init provides itself (`parent-provides`).
    case parent(service: String, label: String)
    /// A child that announced the service.
    case child(UInt64, label: String)
    /// A child that will provide it has not announced it yet: the request waits.
    case pending(label: String)
    /// Refused; the text is init's warning.
    case denied(String)
}

extension Kernel {
    /// Routes a request of `client` by its `route` node, else `default-route`
    /// (first matching rule wins; Genode's route_model). Lock held.
    /// (Replaced by the routing layer's full label matching.)
    func route(client: Component, service: String, label: String) -> Route {
        let node = config.starts.first { $0.name == client.name }?.node
        let rules = node?.child(ofType: "route") ?? config.root.child(ofType: "default-route")
        for rule in rules?.children ?? [] {
            guard rule.type == "any-service" || (rule.type == "service" && rule[attribute: "name"] == service) else { continue }
            if let wanted = rule[attribute: "label"], wanted != label { continue }
            for target in rule.children {
                let rewritten = target[attribute: "label"] ?? label
                switch target.type {
                case "parent":
                    if config.parentProvides.contains(service) || BuiltinServices.names.contains(service) {
                        return .parent(service: service, label: rewritten)
                    }
                case "child":
                    guard let name = target[attribute: "name"] else { continue }
                    if let server = components.values.first(where: { $0.name == name && $0.isRunning }) {
                        return server.image.announced.contains(service) ? .child(server.id, label: rewritten) : .pending(label: rewritten)
                    }
                    if config.starts.contains(where: { $0.name == name }) { return .pending(label: rewritten) }
                case "any-child":
                    let providers = components.values.filter { $0.isRunning && $0.image.announced.contains(service) }
                    if providers.count == 1 { return .child(providers[0].id, label: rewritten) }
                    if providers.count > 1 {
                        return .denied("\(client.name): ambiguous routes to service \"\(service)\"")
                    }
                    if config.starts.contains(where: { $0.provides.contains(service) }) { return .pending(label: rewritten) }
                default:
                    continue
                }
            }
            if rule.type == "service" { break }
        }
        return .denied("\(client.name): no route to service \"\(service)\" (label=\"\(label)\")")
    }
}
