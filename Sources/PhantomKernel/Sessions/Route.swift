/// Where a session request goes, in the kernel's terms.
enum Route: Equatable {
    /// A service init provides itself (`parent-provides`).
    case parent(service: String, label: String)
    /// A child that announced the service.
    case child(UInt64, label: String)
    /// A child that will provide it has not announced it yet: the request waits.
    case pending(label: String)
    /// Refused; init's messages about it (possibly none, as in Genode).
    case denied([String])
}

extension Kernel {
    /// Routes a request of `client` with Genode's route model (the child's
    /// `route`, else `default-route`; first matching rule wins), by the config
    /// of the init the client belongs to. `label` is already prefixed with the
    /// client's name. Lock held.
    ///
    /// Recursion, as in Genode: a nested init's child routed to its `parent`
    /// becomes a request of that init to *its* parent, the label prefixed
    /// with the init's name; a request routed to a nested init's service goes
    /// on to the child its `<service>` policy names.
    func route(client: Component, service: String, label: String, depth: Int = 0) -> Route {
        var firstLabel: String?
        return route(client: client, service: service, label: label, depth: depth, firstLabel: &firstLabel)
    }

    /// The label of a session of `client` as its own init resolved it —
    /// what that init's state report shows, whatever an init further up
    /// made of it. Lock held.
    func localLabel(client: Component, service: String, label: String) -> String? {
        var firstLabel: String?
        _ = route(client: client, service: service, label: label, depth: 0, firstLabel: &firstLabel)
        return firstLabel
    }

    private func route(client: Component, service: String, label: String, depth: Int, firstLabel: inout String?) -> Route {
        let scope = scope(of: client)
        guard depth < 16, let model = model(of: scope) else { return .denied([]) }
        let siblings = children(of: scope)
        var state = RoutingState(parentServices: model.parentProvides, aliases: model.initConfig.aliasTable)
        for start in model.initConfig.starts {
            let running = siblings.first { $0.name == start.name && $0.isRunning }
            for provided in start.provides {
                state.childServices.append(.init(child: start.name, service: provided,
                                                 announced: running?.image.announced.contains(provided) ?? false))
            }
        }
        let request = SessionRequest(child: client.name, service: service, label: SessionLabel(label))
        let resolution = model.initConfig.resolve(request, in: state)
        let messages = resolution.messages.map(\.description)
        if depth == 0, let target = resolution.target {
            switch target {
            case let .parent(_, label), let .child(_, _, label), let .inlineConfig(_, label): firstLabel = label.text
            }
        }
        switch resolution.outcome {
        case let .routed(.parent(service, label)):
            guard scope != Self.rootScope else { return .parent(service: service, label: label.text) }
            guard let parentInit = components[scope] else { return .denied(messages) }
            return route(client: parentInit, service: service, label: Kernel.prefixed(label.text, by: parentInit.name), depth: depth + 1,
                         firstLabel: &firstLabel)
        case let .routed(.inlineConfig(_, label)):
            return .parent(service: "ROM", label: label.text)
        case let .routed(.child(name, service, label)):
            guard let server = siblings.first(where: { $0.name == name && $0.isRunning }),
                  server.image.announced.contains(service) else { return .pending(label: label.text) }
            if server.image.native == NativeComponents.initBinary {
                return forward(service: service, label: label.text, through: server, depth: depth)
            }
            return .child(server.id, label: label.text)
        case let .pending(target):
            switch target {
            case let .child(_, _, label), let .parent(_, label), let .inlineConfig(_, label): return .pending(label: label.text)
            }
        case .denied:
            return .denied(messages)
        }
    }

    /// A request that reached a nested init's service: Genode's init serves
    /// it by the `<service name=…>` node of its config, whose `<policy>` (or
    /// `<default-policy>`) selected by the label names the child that
    /// provides it. No policy: denied; a child that does not exist or has
    /// not announced the service yet: the request waits. Lock held.
    private func forward(service: String, label: String, through initComponent: Component, depth: Int) -> Route {
        // Without a config yet the request waits; a config without a
        // `<service>` node for it does not provide it.
        guard let model = initComponent.initModel else { return .pending(label: label) }
        guard let serviceNode = model.initConfig.services.first(where: { $0.name == service })?.node else { return .denied([]) }
        let policy: ConfigNode
        switch SessionPolicy.select(label: SessionLabel(label), in: serviceNode) {
        case let .policy(_, node): policy = node
        case let .defaultPolicy(node): policy = node
        case .denied: return .denied([])
        }
        guard let target = policy.child(ofType: "child"), let name = target[attribute: "name"] else { return .denied([]) }
        let forwarded = target[attribute: "label"] ?? label
        guard let server = children(of: initComponent.id).first(where: { $0.name == name && $0.isRunning }),
              server.image.announced.contains(service) else { return .pending(label: forwarded) }
        if server.image.native == NativeComponents.initBinary {
            return forward(service: service, label: forwarded, through: server, depth: depth + 1)
        }
        return .child(server.id, label: forwarded)
    }
}
