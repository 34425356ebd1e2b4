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
    /// `route`, else `default-route`; first matching rule wins). `label` is
    /// already prefixed with the client's name. Lock held.
    func route(client: Component, service: String, label: String) -> Route {
        var state = RoutingState(parentServices: config.parentProvides, aliases: config.initConfig.aliasTable)
        for start in config.initConfig.starts {
            let running = components.values.first { $0.name == start.name && $0.isRunning }
            for provided in start.provides {
                state.childServices.append(.init(child: start.name, service: provided,
                                                 announced: running?.image.announced.contains(provided) ?? false))
            }
        }
        let request = SessionRequest(child: client.name, service: service, label: SessionLabel(label))
        let resolution = config.initConfig.resolve(request, in: state)
        let messages = resolution.messages.map(\.description)
        switch resolution.outcome {
        case let .routed(.parent(service, label)):
            return .parent(service: service, label: label.text)
        case let .routed(.inlineConfig(_, label)):
            return .parent(service: "ROM", label: label.text)
        case let .routed(.child(name, service, label)):
            guard let server = components.values.first(where: { $0.name == name && $0.isRunning }),
                  server.image.announced.contains(service) else { return .pending(label: label.text) }
            return .child(server.id, label: label.text)
        case let .pending(target):
            switch target {
            case let .child(_, _, label), let .parent(_, label), let .inlineConfig(_, label): return .pending(label: label.text)
            }
        case .denied:
            return .denied(messages)
        }
    }
}
