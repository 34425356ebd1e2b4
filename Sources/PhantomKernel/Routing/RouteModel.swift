/// A session request as init's routing sees it: which child asks, for which
/// service, under which label. The label is already prefixed with the child's
/// name, so the child cannot choose where its request appears to come from.
public struct SessionRequest: Sendable, Hashable {
    public var child: String
    public var service: String
    public var label: SessionLabel

    /// A request whose label is used as given — already prefixed, or one of a
    /// child's environment sessions, which Genode labels with the bare child
    /// name (the binary ROM, `ld.lib.so`).
    public init(child: String, service: String, label: SessionLabel) {
        self.child = child
        self.service = service
        self.label = label
    }

    /// A request as the child wrote it, labelled the way the parent passes it
    /// on: `child -> clientLabel`.
    public init(child: String, service: String, clientLabel: SessionLabel) {
        self.init(child: child, service: service, label: .prefixed(child, clientLabel))
    }
}

/// What exists when a request is routed: the services the parent offers
/// (`<parent-provides>`) and the services the children declared in their
/// `<provides>` nodes, each either announced yet or not.
///
/// In Genode a child's declared services are registered as soon as the child
/// is created; a session routed to one that the child has not announced yet
/// waits until it does. Services of children that are being restarted or
/// removed (Genode's "abandoned" services) must be left out by the caller:
/// routing treats them as absent.
public struct RoutingState: Sendable, Hashable {
    public struct ChildService: Sendable, Hashable {
        public var child: String
        public var service: String
        public var announced: Bool

        public init(child: String, service: String, announced: Bool) {
            self.child = child
            self.service = service
            self.announced = announced
        }
    }

    public var parentServices: [String]
    public var childServices: [ChildService]
    /// `<alias name=… child=…/>`: a name routes may use instead of the child's.
    public var aliases: [String: String]

    public init(parentServices: [String] = [], childServices: [ChildService] = [], aliases: [String: String] = [:]) {
        self.parentServices = parentServices
        self.childServices = childServices
        self.aliases = aliases
    }

    /// The child an alias stands for. One level only, as Genode's
    /// `Child_registry::deref_alias`: an alias naming another alias is not
    /// followed.
    public func dereferencingAlias(_ name: String) -> String {
        aliases[name] ?? name
    }

    /// Records that `child` announced `service` (Sandbox
    /// `Child::announce_service`). A child may announce only what its
    /// `<provides>` declares; anything else is refused with Genode's error.
    public mutating func announce(child: String, service: String) -> InitMessage? {
        guard let index = childServices.firstIndex(where: { $0.child == child && $0.service == service }) else {
            return .error("\(child): illegal announcement of service \"\(service)\"")
        }
        childServices[index].announced = true
        return nil
    }
}

/// Where a routed session goes.
public enum RouteTarget: Sendable, Hashable {
    /// To init's parent (for Phantom's root init: the kernel's built-in
    /// services), with the label the parent's server will see.
    case parent(service: String, label: SessionLabel)
    /// To the service a child provides.
    case child(name: String, service: String, label: SessionLabel)
    /// The requesting child's own inline `<config>` node, served as its
    /// `config` ROM without any routing rule.
    case inlineConfig(child: String, label: SessionLabel)
}

/// The outcome of routing one request, with the lines Genode's init would log
/// on the way (also on success: a first target may report an ambiguity before
/// a later one succeeds).
public struct RouteResolution: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// The session can be created now.
        case routed(RouteTarget)
        /// The route leads to a service its child declared but has not
        /// announced yet: the request waits for the announcement.
        case pending(RouteTarget)
        /// The session is refused (Genode's `Service_denied`).
        case denied
    }

    public var outcome: Outcome
    public var messages: [InitMessage]

    public init(_ outcome: Outcome, messages: [InitMessage] = []) {
        self.outcome = outcome
        self.messages = messages
    }

    /// The target of a routed or pending request.
    public var target: RouteTarget? {
        switch outcome {
        case let .routed(target), let .pending(target): target
        case .denied: nil
        }
    }
}

/// A child's routing rules: the sub nodes of its `<route>` (or, when it has
/// none, of init's `<default-route>` — the two are never merged), in document
/// order (Sandbox `Route_model`, repos/os/src/lib/sandbox/route_model.h).
///
/// The first rule that matches the request decides. Its targets are tried in
/// order and the first that can take the session wins. When none can, a
/// `<service>` rule denies the session outright, while an `<any-service>`
/// rule lets the search continue with the next rule — so a wildcard can say
/// "from the parent, if it has it" without shadowing the rules after it.
public struct RouteModel: Sendable, Hashable {
    public struct Rule: Sendable, Hashable {
        /// The `<service>` or `<any-service>` node (other types never match).
        public var node: ConfigNode
        /// Targets in document order: `<parent>`, `<child name=…>`,
        /// `<any-child>`; other types never accept a session.
        public var targets: [ConfigNode] { node.children }
        /// A `<service>` rule, whose failure is final.
        public var isSpecificService: Bool { node.type == "service" }

        public init(node: ConfigNode) {
            self.node = node
        }

        /// Whether the rule selects the request, and the warning Genode logs
        /// while deciding.
        public func matches(_ request: SessionRequest) -> (matches: Bool, message: InitMessage?) {
            RouteModel.serviceNodeMatches(node, request)
        }
    }

    public let rules: [Rule]

    /// The rules of a `<route>` or `<default-route>` node.
    public init(route: ConfigNode) {
        rules = route.children.map(Rule.init(node:))
    }

    /// Routes a request by these rules. Denial after all rules is logged with
    /// Genode's "no route" warning; denial by a `<service>` rule whose targets
    /// all failed is not (Genode rethrows without a message).
    public func resolve(_ request: SessionRequest, in state: RoutingState) -> RouteResolution {
        var messages: [InitMessage] = []
        for rule in rules {
            let (matches, message) = rule.matches(request)
            if let message { messages.append(message) }
            guard matches else { continue }
            for target in rule.targets {
                if let outcome = Self.resolve(request, at: target, in: state, messages: &messages) {
                    return RouteResolution(outcome, messages: messages)
                }
            }
            if rule.isSpecificService { return RouteResolution(.denied, messages: messages) }
        }
        messages.append(.warning("\(request.child): no route to service \"\(request.service)\" (label=\"\(request.label.text)\")"))
        return RouteResolution(.denied, messages: messages)
    }

    /// Sandbox `service_node_matches` (repos/os/src/lib/sandbox/utils.h).
    ///
    /// - `unscoped_label` compares the full label, child name included, and
    ///   overrides every other label attribute (with a warning if any is given).
    /// - `label_last` compares the last label element and overrides `label`,
    ///   `label_prefix` and `label_suffix`.
    /// - `label`, `label_prefix`, `label_suffix` apply together to the label
    ///   with `child -> ` removed; a label not starting that way matches none.
    public static func serviceNodeMatches(_ node: ConfigNode, _ request: SessionRequest) -> (matches: Bool, message: InitMessage?) {
        let serviceMatches = node.type == "any-service"
            || (node.type == "service" && (node[attribute: "name"] ?? "") == request.service)
        guard serviceMatches else { return (false, nil) }

        let dependsOnChildLabel = node.has(attribute: "label") || node.has(attribute: "label_prefix")
            || node.has(attribute: "label_suffix") || node.has(attribute: "label_last")

        if let unscoped = node[attribute: "unscoped_label"] {
            let message: InitMessage? = dependsOnChildLabel
                ? .warning("service node contains both scoped and unscoped label attributes", at: node.location)
                : nil
            return (request.label.text == unscoped, message)
        }
        if let last = node[attribute: "label_last"] {
            return (request.label.lastElement.text == last, nil)
        }
        guard dependsOnChildLabel else { return (true, nil) }
        guard let scoped = request.label.scoped(to: request.child) else { return (false, nil) }
        return (!LabelScore(node: node, label: scoped).conflict, nil)
    }

    /// One target of a matching rule (the `resolve_at_target` lambda of
    /// Sandbox `Child::_with_route`); nil when the target cannot take the
    /// session and the next one is to be tried.
    static func resolve(_ request: SessionRequest, at target: ConfigNode, in state: RoutingState,
                        messages: inout [InitMessage]) -> RouteResolution.Outcome? {
        let label = request.label.rewritten(by: target)
        switch target.type {
        case "parent":
            guard state.parentServices.contains(request.service) else { return nil }
            return .routed(.parent(service: request.service, label: label))
        case "child":
            let server = state.dereferencingAlias(target[attribute: "name"] ?? "")
            guard let provided = state.childServices.first(where: { $0.child == server && $0.service == request.service })
            else { return nil }
            return outcome(provided, label: label)
        case "any-child":
            let providers = state.childServices.filter { $0.service == request.service }
            if providers.count > 1 {
                messages.append(.error("\(request.child): ambiguous routes to service \"\(request.service)\""))
                return nil
            }
            guard let provided = providers.first else { return nil }
            return outcome(provided, label: label)
        default:
            return nil
        }
    }

    private static func outcome(_ provided: RoutingState.ChildService, label: SessionLabel) -> RouteResolution.Outcome {
        let target = RouteTarget.child(name: provided.child, service: provided.service, label: label)
        return provided.announced ? .routed(target) : .pending(target)
    }
}

extension RouteModel {
    /// Routes a request of the child started by `start`, with init's special
    /// cases ahead of the rules (Sandbox `Child::_with_route`):
    ///
    /// 1. A ROM request whose last label element is `config` gets the child's
    ///    inline `<config>` when it has one; otherwise it is routed normally.
    /// 2. The binary ROM (label = the child's name) is routed with the binary
    ///    name as label when `<binary name=…>` differs from the child's name.
    /// 3. With `ld="no"`, a request for `ld.lib.so` gets the binary instead.
    ///
    /// The rules are the child's `<route>`, else `defaultRoute`; with neither,
    /// the request is denied without a message, as in Genode.
    public static func resolve(_ request: SessionRequest, for start: StartConfig, defaultRoute: RouteModel?,
                               in state: RoutingState) -> RouteResolution {
        let rom = request.service == "ROM"
        if rom, request.label.lastElement.text == "config", start.config != nil {
            return RouteResolution(.routed(.inlineConfig(child: start.name, label: request.label)))
        }
        if rom, request.label.text == start.name, start.name != start.binary {
            return resolve(SessionRequest(child: request.child, service: request.service, label: SessionLabel(start.binary)),
                           for: start, defaultRoute: defaultRoute, in: state)
        }
        if rom, !start.ld, request.label.text == "ld.lib.so" {
            return resolve(SessionRequest(child: request.child, service: request.service, label: SessionLabel(start.binary)),
                           for: start, defaultRoute: defaultRoute, in: state)
        }
        guard let model = start.route ?? defaultRoute else { return RouteResolution(.denied) }
        return model.resolve(request, in: state)
    }
}
