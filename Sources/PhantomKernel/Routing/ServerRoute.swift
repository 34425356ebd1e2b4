/// Init acting as a server: a session request from init's parent for a
/// service listed in init's `<service>` nodes is forwarded to a child chosen
/// by the service's policies (Sandbox `Server::Service::resolve_session_request`,
/// repos/os/src/lib/sandbox/server.cc).
///
/// This is how a subsystem exports a service its children implement: the
/// parent routes to init, and init picks the child by the client's label.
public enum ServerRoute {
    public enum Outcome: Sendable, Hashable {
        /// Forward the session to this child's service now.
        case routed(RouteTarget)
        /// The child declared the service but has not announced it yet.
        case pending(RouteTarget)
        /// No such `<service>` node, or its policy names a child that does not
        /// provide the service (Genode's `Service_not_present`): Genode keeps
        /// the request and retries it after the next config change.
        case unavailable
        /// The request is refused: no policy applies, or the policy has no
        /// `<child>` target.
        case denied([InitMessage])
    }

    /// Resolves a request that init's parent sent to init.
    ///
    /// `label` is the label the request arrived with. The policy's `<child>`
    /// may replace it with its `label` attribute; unlike route targets, server
    /// policies know no `identity`/`resource` rewriting and no aliases.
    public static func resolve(service: String, label: SessionLabel, services: [ServiceConfig],
                               in state: RoutingState) -> Outcome {
        guard let serviceNode = services.first(where: { $0.name == service }) else { return .unavailable }
        let policy = SessionPolicy.select(label: label, in: serviceNode.node)
        guard let chosen = policy.node else {
            if case let .denied(message) = policy { return .denied([message]) }
            return .denied([])
        }
        guard let target = chosen.child(ofType: "child") else { return .denied([]) }
        let childName = target[attribute: "name"] ?? ""
        let targetLabel = target[attribute: "label"].map { SessionLabel($0) } ?? label
        guard let provided = state.childServices.first(where: { $0.child == childName && $0.service == service })
        else { return .unavailable }
        let routeTarget = RouteTarget.child(name: childName, service: service, label: targetLabel)
        return provided.announced ? .routed(routeTarget) : .pending(routeTarget)
    }
}
