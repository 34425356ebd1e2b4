/// How init judges its children's dependencies when it reconciles with its
/// config (Genode: Sandbox `Library::apply_config`, library.cc;
/// `Child::apply_config` and `Child::evaluate_dependencies`, child.cc;
/// `Child::_route_valid`, child.h).
///
/// Each session a running child holds is routed again by the config:
/// - it leads where it did: the child runs on;
/// - it leads elsewhere (another server, the parent instead of a child):
///   the child is restarted, under a new id;
/// - it leads nowhere (denied): the child is *stuck*. It is not restarted:
///   it runs on under its id, shown as `state="incomplete"`, and takes no
///   change of its start node but a new `version`. Once every route of its
///   sessions leads somewhere again, it is restarted. A route leading
///   nowhere outweighs one leading elsewhere.
///
/// An incomplete child (one of its environment sessions was denied, so it
/// never ran) whose LOG or binary ROM session was denied is restarted,
/// under a new id, whenever init applies a config — whether its routes now
/// resolve or not — unless a session it did get now leads nowhere (Genode:
/// `Child::apply_config` finds its LOG or binary session missing and makes
/// it stuck; `evaluate_dependencies` then finds its other sessions intact
/// and restarts it). Otherwise, and in a reconcile that applies no new
/// config (after a restore), it is restarted once all its environment
/// routes resolve (Genode retries a denied CPU session in place, under the
/// same id; ours starts the child anew).
///
/// Where ours differs: Genode re-routes a child's sessions only when a
/// server appeared or vanished (a start with `<provides>` was created, a
/// `<provides>` changed) or the child's own route, binary or inline config
/// presence changed; we re-route every running child at every reconcile.
/// It shows for a client whose server alone was removed: Genode leaves it
/// as it is until such a change, ours is stuck at once.
enum DependencyState: Equatable {
    /// Every session's route leads where it did (or to a server that has
    /// not announced its service yet).
    case intact
    /// Some session's route leads to another server.
    case rerouted
    /// Some session's route leads nowhere.
    case unavailable
}

extension Kernel {
    /// Where `component`'s sessions would be routed now. Sessions that were
    /// denied and those still waiting for their server are not looked at.
    /// Lock held.
    func dependencyState(of component: Component) -> DependencyState {
        var rerouted = false
        for session in image.sessions where session.client == component.id && session.state != .denied {
            guard let requested = session.requested else { continue }
            if session.state == .creating && session.server == .component(0) { continue }
            switch route(client: component, service: session.service, label: requested) {
            case let .parent(service, _):
                if session.server != .builtin(service) { rerouted = true }
            case let .child(server, _):
                if session.server != .component(server) { rerouted = true }
            case .pending:
                continue
            case .denied:
                return .unavailable
            }
        }
        return rerouted ? .rerouted : .intact
    }

    /// Applies the rules above to the children of one init: marks those
    /// that get stuck, and returns those to restart with their start
    /// nodes. `stopping` are already being stopped; `configApplied` says
    /// whether init applies a new config now. Lock held.
    func restartsForDependencies(of siblings: [Component], specs: [StartSpec], stopping: [Component],
                                 configApplied: Bool) -> [(Component, StartSpec)] {
        var restarts: [(Component, StartSpec)] = []
        for component in siblings where !stopping.contains(where: { $0 === component }) {
            guard let spec = specs.first(where: { $0.name == component.name }) else { continue }
            if component.image.state.isIncomplete {
                guard dependencyState(of: component) != .unavailable else { continue }
                let missesLogOrBinary = image.sessions.contains {
                    $0.client == component.id && $0.environment && $0.state == .denied && ($0.service == "LOG" || $0.service == "ROM")
                }
                if (configApplied && missesLogOrBinary) || environmentRoutesResolve(for: component) {
                    restarts.append((component, spec))
                }
                continue
            }
            guard component.isRunning else { continue }
            switch dependencyState(of: component) {
            case .unavailable:
                if !component.isStuck {
                    component.image.stuck = true
                    syncImage(component)
                }
            case .rerouted:
                restarts.append((component, spec))
            case .intact:
                if component.isStuck { restarts.append((component, spec)) }
            }
        }
        return restarts
    }
}
