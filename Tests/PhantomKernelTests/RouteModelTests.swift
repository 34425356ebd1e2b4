import Testing
@testable import PhantomKernel

/// Routing as Genode's Sandbox does it: `Route_model::resolve`
/// (repos/os/src/lib/sandbox/route_model.h), `service_node_matches`
/// (utils.h) and the targets of `Child::_with_route` (child.cc).
@Suite struct RouteModelTests {
    private let parentOnly = RoutingState(parentServices: ["LOG", "ROM", "PD", "CPU", "Timer"])

    private func request(_ service: String, _ clientLabel: SessionLabel, from child: String = "app") -> SessionRequest {
        SessionRequest(child: child, service: service, clientLabel: clientLabel)
    }

    private func state(children: [(String, String, Bool)], aliases: [String: String] = [:]) -> RoutingState {
        RoutingState(parentServices: ["LOG", "ROM", "PD", "CPU", "Timer"],
                     childServices: children.map { .init(child: $0.0, service: $0.1, announced: $0.2) },
                     aliases: aliases)
    }

    // Route_model::resolve: rules are tried in order, the first matching one decides
    @Test func firstMatchingRuleWins() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "LOG"], [initNode("child", ["name": "log_server"])]),
            initNode("service", ["name": "LOG"], [initNode("parent")]),
            initNode("any-service", [:], [initNode("parent")])))
        let world = state(children: [("log_server", "LOG", true)])
        let result = model.resolve(request("LOG", "out"), in: world)
        #expect(result.outcome == .routed(.child(name: "log_server", service: "LOG", label: "app -> out")))
        #expect(result.messages.isEmpty)
        #expect(model.resolve(request("ROM", "x"), in: world).outcome == .routed(.parent(service: "ROM", label: "app -> x")))
    }

    // service_node_matches: <service> matches by name, <any-service> everything
    @Test func serviceRulesMatchByName() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "Timer"], [initNode("parent", ["label": "timer"])]),
            initNode("any-service", [:], [initNode("parent")])))
        #expect(model.resolve(request("Timer", ""), in: parentOnly).target == .parent(service: "Timer", label: "timer"))
        #expect(model.resolve(request("LOG", ""), in: parentOnly).target == .parent(service: "LOG", label: "app -> "))
    }

    // service_node_matches: label, label_prefix, label_suffix apply to the label without "child -> "
    @Test func scopedLabelAttributesSeeTheChildsOwnLabel() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "ROM", "label": "fonts"], [initNode("parent", ["label": "exact"])]),
            initNode("service", ["name": "ROM", "label_prefix": "lib/"], [initNode("parent", ["label": "prefix"])]),
            initNode("service", ["name": "ROM", "label_suffix": ".so"], [initNode("parent", ["label": "suffix"])]),
            initNode("service", ["name": "ROM"], [initNode("parent", ["label": "any"])])))
        func routedLabel(_ client: SessionLabel) -> SessionLabel? {
            if case let .parent(_, label)? = model.resolve(request("ROM", client), in: parentOnly).target { return label }
            return nil
        }
        #expect(routedLabel("fonts") == "exact")
        #expect(routedLabel("fonts2") == "any")
        #expect(routedLabel("lib/x.so") == "prefix")
        #expect(routedLabel("x.so") == "suffix")
        #expect(routedLabel("app -> fonts") == "any")   // the child cannot add its own name again
    }

    // service_node_matches: the attributes combine; all must fit
    @Test func labelAttributesCombine() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "ROM", "label_prefix": "lib/", "label_suffix": ".so"], [initNode("parent", ["label": "both"])]),
            initNode("service", ["name": "ROM"], [initNode("parent", ["label": "other"])])))
        #expect(model.resolve(request("ROM", "lib/a.so"), in: parentOnly).target == .parent(service: "ROM", label: "both"))
        #expect(model.resolve(request("ROM", "lib/a.o"), in: parentOnly).target == .parent(service: "ROM", label: "other"))
        #expect(model.resolve(request("ROM", "a.so"), in: parentOnly).target == .parent(service: "ROM", label: "other"))
    }

    // service_node_matches: a label-dependent rule never matches a label lacking "child -> "
    @Test func environmentLabelsDoNotMatchScopedRules() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "ROM", "label_prefix": ""], [initNode("parent", ["label": "scoped"])]),
            initNode("service", ["name": "ROM"], [initNode("parent")])))
        let binary = SessionRequest(child: "app", service: "ROM", label: "app")
        #expect(model.resolve(binary, in: parentOnly).target == .parent(service: "ROM", label: "app"))
        #expect(model.resolve(request("ROM", "x"), in: parentOnly).target == .parent(service: "ROM", label: "scoped"))
    }

    // service_node_matches: label_last compares the last element and overrides the scoped attributes
    @Test func labelLastMatchesTheLastElement() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "ROM", "label_last": "app.wasm", "label": "nonsense"], [initNode("parent", ["label": "last"])]),
            initNode("service", ["name": "ROM"], [initNode("parent", ["label": "other"])])))
        #expect(model.resolve(request("ROM", "app.wasm"), in: parentOnly).target == .parent(service: "ROM", label: "last"))
        #expect(model.resolve(request("ROM", "lib -> app.wasm"), in: parentOnly).target == .parent(service: "ROM", label: "last"))
        #expect(model.resolve(SessionRequest(child: "app", service: "ROM", label: "app.wasm"), in: parentOnly).target
            == .parent(service: "ROM", label: "last"))
        #expect(model.resolve(request("ROM", "app.wasm2"), in: parentOnly).target == .parent(service: "ROM", label: "other"))
    }

    // service_node_matches: unscoped_label compares the whole label and wins over scoped attributes, with a warning
    @Test func unscopedLabelComparesTheFullLabel() {
        let rule = initNode("service", ["name": "ROM", "unscoped_label": "app"], [initNode("parent", ["label": "binary"])], line: 7, column: 3)
        let model = RouteModel(route: routeNode(rule, initNode("any-service", [:], [initNode("parent")])))
        let binary = SessionRequest(child: "app", service: "ROM", label: "app")
        #expect(model.resolve(binary, in: parentOnly).target == .parent(service: "ROM", label: "binary"))
        #expect(model.resolve(request("ROM", "app"), in: parentOnly).target == .parent(service: "ROM", label: "app -> app"))

        let both = RouteModel(route: routeNode(
            initNode("service", ["name": "ROM", "unscoped_label": "app -> x", "label": "y"], [initNode("parent")], line: 9, column: 1)))
        let result = both.resolve(request("ROM", "x"), in: parentOnly)
        #expect(result.outcome == .routed(.parent(service: "ROM", label: "app -> x")))
        #expect(result.messages == [.warning("service node contains both scoped and unscoped label attributes",
                                             at: ConfigLocation(line: 9, column: 1))])
    }

    // Route_model::resolve: a <service> rule whose targets all fail denies, silently
    @Test func failingServiceRuleDeniesWithoutFallingThrough() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "Nic"], [initNode("parent"), initNode("child", ["name": "nic_drv"])]),
            initNode("any-service", [:], [initNode("parent")])))
        let result = model.resolve(request("Nic", ""), in: state(children: [("nic_drv", "Block", true)]))
        #expect(result.outcome == .denied)
        #expect(result.messages.isEmpty)
        // a <service> rule without targets denies as well
        let empty = RouteModel(route: routeNode(initNode("service", ["name": "LOG"]), initNode("any-service", [:], [initNode("parent")])))
        #expect(empty.resolve(request("LOG", ""), in: parentOnly).outcome == .denied)
    }

    // Route_model::resolve: an <any-service> rule whose targets all fail lets the next rule decide
    @Test func failingAnyServiceRuleFallsThrough() {
        let model = RouteModel(route: routeNode(
            initNode("any-service", [:], [initNode("parent")]),
            initNode("any-service", [:], [initNode("any-child")])))
        let world = state(children: [("fs", "File_system", true)])
        #expect(model.resolve(request("File_system", ""), in: world).outcome
            == .routed(.child(name: "fs", service: "File_system", label: "app -> ")))
        #expect(model.resolve(request("LOG", ""), in: world).outcome == .routed(.parent(service: "LOG", label: "app -> ")))
        // an <any-service> rule without targets falls through too
        let empty = RouteModel(route: routeNode(initNode("any-service"), initNode("service", ["name": "LOG"], [initNode("parent")])))
        #expect(empty.resolve(request("LOG", ""), in: parentOnly).outcome == .routed(.parent(service: "LOG", label: "app -> ")))
    }

    // Route_model::resolve: the warning after the last rule
    @Test func noMatchingRuleLogsNoRoute() {
        let model = RouteModel(route: routeNode(initNode("service", ["name": "LOG"], [initNode("parent")])))
        let result = model.resolve(request("Gui", "main"), in: parentOnly)
        #expect(result.outcome == .denied)
        #expect(result.messages == [.warning("app: no route to service \"Gui\" (label=\"app -> main\")")])
        #expect(result.messages.first?.description == "Warning: app: no route to service \"Gui\" (label=\"app -> main\")")
        #expect(RouteModel(route: routeNode()).resolve(request("LOG", ""), in: parentOnly).messages
            == [.warning("app: no route to service \"LOG\" (label=\"app -> \")")])
    }

    // resolve_at_target: a parent target without the service in <parent-provides> fails, the next target is tried
    @Test func parentTargetNeedsParentProvides() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "Block"], [initNode("parent"), initNode("child", ["name": "ahci"])])))
        let world = state(children: [("ahci", "Block", true)])
        #expect(model.resolve(request("Block", ""), in: world).outcome == .routed(.child(name: "ahci", service: "Block", label: "app -> ")))
    }

    // A declared service that is not announced yet: the session waits (Routed_service exists from creation)
    @Test func unannouncedChildServiceIsPending() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "File_system"], [initNode("child", ["name": "fs"]), initNode("parent")])))
        let before = state(children: [("fs", "File_system", false)])
        let waiting = model.resolve(request("File_system", "home"), in: before)
        #expect(waiting.outcome == .pending(.child(name: "fs", service: "File_system", label: "app -> home")))
        #expect(waiting.target == .child(name: "fs", service: "File_system", label: "app -> home"))

        var after = before
        #expect(after.announce(child: "fs", service: "File_system") == nil)
        #expect(model.resolve(request("File_system", "home"), in: after).outcome
            == .routed(.child(name: "fs", service: "File_system", label: "app -> home")))
    }

    // Child::announce_service: only <provides> services may be announced
    @Test func announcingAnUndeclaredServiceIsAnError() {
        var world = state(children: [("fs", "File_system", false)])
        #expect(world.announce(child: "fs", service: "Block") == .error("fs: illegal announcement of service \"Block\""))
        #expect(world.announce(child: "other", service: "File_system") == .error("other: illegal announcement of service \"File_system\""))
        #expect(world.childServices == [.init(child: "fs", service: "File_system", announced: false)])
    }

    // resolve_at_target: <child name> needs that child to provide the service
    @Test func childTargetNeedsTheNamedChildsService() {
        let model = RouteModel(route: routeNode(initNode("service", ["name": "Timer"], [initNode("child", ["name": "timer"])])))
        let world = state(children: [("other", "Timer", true), ("timer", "LOG", true)])
        let result = model.resolve(request("Timer", ""), in: world)
        #expect(result.outcome == .denied)
        #expect(result.messages.isEmpty)
    }

    // resolve_at_target: <any-child> takes the only provider
    @Test func anyChildTakesTheOnlyProvider() {
        let model = RouteModel(route: routeNode(initNode("any-service", [:], [initNode("any-child"), initNode("parent")])))
        let world = state(children: [("nitpicker", "Gui", true), ("fs", "File_system", false)])
        #expect(model.resolve(request("Gui", ""), in: world).outcome == .routed(.child(name: "nitpicker", service: "Gui", label: "app -> ")))
        #expect(model.resolve(request("File_system", ""), in: world).outcome == .pending(.child(name: "fs", service: "File_system", label: "app -> ")))
        #expect(model.resolve(request("LOG", ""), in: world).outcome == .routed(.parent(service: "LOG", label: "app -> ")))
    }

    // resolve_at_target: <any-child> with several providers logs Genode's error and fails
    @Test func ambiguousAnyChildIsAnError() {
        let model = RouteModel(route: routeNode(initNode("any-service", [:], [initNode("any-child"), initNode("child", ["name": "b"])])))
        let world = state(children: [("a", "Report", true), ("b", "Report", true)])
        let result = model.resolve(request("Report", "state"), in: world)
        #expect(result.outcome == .routed(.child(name: "b", service: "Report", label: "app -> state")))
        #expect(result.messages == [.error("app: ambiguous routes to service \"Report\"")])
        #expect(result.messages.first?.description == "Error: app: ambiguous routes to service \"Report\"")

        let only = RouteModel(route: routeNode(initNode("service", ["name": "Report"], [initNode("any-child")])))
        let denied = only.resolve(request("Report", "state"), in: world)
        #expect(denied.outcome == .denied)
        #expect(denied.messages == [.error("app: ambiguous routes to service \"Report\"")])
    }

    // is_ambiguous counts every child's services, the requester's own included
    @Test func ambiguityCountsTheRequesterItself() {
        let model = RouteModel(route: routeNode(initNode("any-service", [:], [initNode("any-child")])))
        let world = state(children: [("app", "Report", true), ("report_rom", "Report", true)])
        #expect(model.resolve(request("Report", ""), in: world).outcome == .denied)
    }

    // resolve_at_target: <child name> is dereferenced through <alias>, one level only (Child_registry::deref_alias)
    @Test func childTargetFollowsOneAlias() {
        let model = RouteModel(route: routeNode(initNode("service", ["name": "Gui"], [initNode("child", ["name": "gui"])])))
        let world = state(children: [("nitpicker", "Gui", true)], aliases: ["gui": "nitpicker"])
        #expect(model.resolve(request("Gui", ""), in: world).outcome == .routed(.child(name: "nitpicker", service: "Gui", label: "app -> ")))
        let chained = state(children: [("nitpicker", "Gui", true)], aliases: ["gui": "display", "display": "nitpicker"])
        #expect(model.resolve(request("Gui", ""), in: chained).outcome == .denied)
    }

    // resolve_at_target: the target's label/identity/resource rewrite what the server sees
    @Test func targetsRewriteTheLabel() {
        let model = RouteModel(route: routeNode(
            initNode("service", ["name": "ROM", "label": "config"], [initNode("parent", ["label": "app.config"])]),
            initNode("service", ["name": "File_system"], [initNode("child", ["name": "vfs", "identity": "shared"])])))
        let world = state(children: [("vfs", "File_system", true)])
        #expect(model.resolve(request("ROM", "config"), in: world).target == .parent(service: "ROM", label: "app.config"))
        #expect(model.resolve(request("File_system", "home"), in: world).target == .child(name: "vfs", service: "File_system", label: "shared -> home"))
    }

    // resolve_at_target: target types it does not know (here Genode's <local/>, which we do not model) fail
    @Test func unknownTargetTypesAreSkipped() {
        let model = RouteModel(route: routeNode(initNode("service", ["name": "LOG"], [initNode("local"), initNode("parent")])))
        #expect(model.resolve(request("LOG", ""), in: parentOnly).outcome == .routed(.parent(service: "LOG", label: "app -> ")))
    }

    // utils.h: a <service> node without name compares an empty name
    @Test func serviceRuleWithoutNameMatchesNothingNamed() {
        let model = RouteModel(route: routeNode(initNode("service", [:], [initNode("parent")])))
        #expect(model.resolve(request("LOG", ""), in: parentOnly).outcome == .denied)
    }

    // child.h `_construct_route_model_from_start_node`: the child's <route>, else <default-route>, never merged
    @Test func ownRouteReplacesTheDefaultRoute() {
        let config = InitConfig(parsing: initNode("config", [:], [
            initNode("parent-provides", [:], [initNode("service", ["name": "LOG"]), initNode("service", ["name": "ROM"])]),
            initNode("default-route", [:], [initNode("any-service", [:], [initNode("parent")])]),
            startNode("own", [:], [routeNode(initNode("service", ["name": "ROM"], [initNode("parent")]))]),
            startNode("plain"),
        ]))
        let world = RoutingState(parentServices: config.parentProvides)
        #expect(config.resolve(SessionRequest(child: "plain", service: "LOG", clientLabel: ""), in: world).outcome
            == .routed(.parent(service: "LOG", label: "plain -> ")))
        let own = config.resolve(SessionRequest(child: "own", service: "LOG", clientLabel: ""), in: world)
        #expect(own.outcome == .denied)
        #expect(own.messages == [.warning("own: no route to service \"LOG\" (label=\"own -> \")")])
        #expect(config.resolve(SessionRequest(child: "nobody", service: "LOG", clientLabel: ""), in: world).outcome == .denied)
    }

    // child.cc `_with_route`: no <route> and no <default-route> denies without a message
    @Test func noRoutesAtAllDeniesSilently() {
        let config = InitConfig(parsing: initNode("config", [:], [startNode("app")]))
        let result = config.resolve(SessionRequest(child: "app", service: "LOG", clientLabel: ""), in: parentOnly)
        #expect(result == RouteResolution(.denied))
    }

    // child.cc `_with_route`: a "config" ROM request gets the inline <config>, if there is one
    @Test func configRomComesFromTheInlineConfig() throws {
        let route = routeNode(initNode("any-service", [:], [initNode("parent")]))
        let config = InitConfig(parsing: initNode("config", [:], [
            startNode("app", [:], [initNode("config", ["verbose": "yes"]), route]),
            startNode("bare", [:], [route]),
        ]))
        #expect(config.resolve(SessionRequest(child: "app", service: "ROM", clientLabel: "config"), in: parentOnly).outcome
            == .routed(.inlineConfig(child: "app", label: "app -> config")))
        #expect(config.resolve(SessionRequest(child: "app", service: "ROM", clientLabel: "lib -> config"), in: parentOnly).outcome
            == .routed(.inlineConfig(child: "app", label: "app -> lib -> config")))
        // only ROM, and without inline config the request is routed normally
        #expect(config.resolve(SessionRequest(child: "app", service: "LOG", clientLabel: "config"), in: parentOnly).outcome
            == .routed(.parent(service: "LOG", label: "app -> config")))
        #expect(config.resolve(SessionRequest(child: "bare", service: "ROM", clientLabel: "config"), in: parentOnly).outcome
            == .routed(.parent(service: "ROM", label: "bare -> config")))
    }

    // child.cc `_with_route`: the binary ROM (label = child name) is requested by the binary name
    @Test func binaryRomIsRoutedByTheBinaryName() {
        let route = routeNode(
            initNode("service", ["name": "ROM", "label_last": "app.wasm"], [initNode("parent", ["label": "wasm/app.wasm"])]),
            initNode("any-service", [:], [initNode("parent")]))
        let config = InitConfig(parsing: initNode("config", [:], [
            startNode("app", [:], [initNode("binary", ["name": "app.wasm"]), route]),
            startNode("same", [:], [route]),
        ]))
        let binary = config.resolve(SessionRequest(child: "app", service: "ROM", label: "app"), in: parentOnly)
        #expect(binary.outcome == .routed(.parent(service: "ROM", label: "wasm/app.wasm")))
        let same = config.resolve(SessionRequest(child: "same", service: "ROM", label: "same"), in: parentOnly)
        #expect(same.outcome == .routed(.parent(service: "ROM", label: "same")))
        // a client label that merely ends in the child name is an ordinary request
        #expect(config.resolve(SessionRequest(child: "app", service: "ROM", clientLabel: "app"), in: parentOnly).outcome
            == .routed(.parent(service: "ROM", label: "app -> app")))
    }

    // child.cc `_with_route`: with ld="no" the binary stands in for ld.lib.so
    @Test func withoutLdTheBinaryIsTheDynamicLinker() {
        let route = routeNode(initNode("any-service", [:], [initNode("parent")]))
        let config = InitConfig(parsing: initNode("config", [:], [
            startNode("static", ["ld": "no"], [initNode("binary", ["name": "static.wasm"]), route]),
            startNode("dynamic", [:], [initNode("binary", ["name": "dynamic.wasm"]), route]),
        ]))
        #expect(config.resolve(SessionRequest(child: "static", service: "ROM", label: "ld.lib.so"), in: parentOnly).outcome
            == .routed(.parent(service: "ROM", label: "static.wasm")))
        #expect(config.resolve(SessionRequest(child: "dynamic", service: "ROM", label: "ld.lib.so"), in: parentOnly).outcome
            == .routed(.parent(service: "ROM", label: "ld.lib.so")))
    }
}

/// Init as a server: `Server::Service::resolve_session_request`
/// (repos/os/src/lib/sandbox/server.cc).
@Suite struct ServerRouteTests {
    private let services = [
        ServiceConfig(name: "LOG", node: initNode("service", ["name": "LOG"], [
            initNode("policy", ["label_prefix": "parent -> fb"], [initNode("child", ["name": "fb_log"])]),
            initNode("policy", ["label": "parent -> raw"], [initNode("child", ["name": "log", "label": "raw"])]),
            initNode("policy", ["label": "parent -> none"]),
            initNode("default-policy", [:], [initNode("child", ["name": "log"])]),
        ])),
        ServiceConfig(name: "Report", node: initNode("service", ["name": "Report"], [
            initNode("policy", ["label": "parent -> state"], [initNode("child", ["name": "report_rom"])]),
        ])),
    ]

    private func world(_ entries: (String, String, Bool)...) -> RoutingState {
        RoutingState(childServices: entries.map { .init(child: $0.0, service: $0.1, announced: $0.2) })
    }

    @Test func policyChoosesTheChildAndKeepsTheLabel() {
        let children = world(("log", "LOG", true), ("fb_log", "LOG", true))
        #expect(ServerRoute.resolve(service: "LOG", label: "parent -> fb -> 1", services: services, in: children)
            == .routed(.child(name: "fb_log", service: "LOG", label: "parent -> fb -> 1")))
        #expect(ServerRoute.resolve(service: "LOG", label: "parent -> other", services: services, in: children)
            == .routed(.child(name: "log", service: "LOG", label: "parent -> other")))
    }

    @Test func childTargetLabelReplacesTheLabel() {
        #expect(ServerRoute.resolve(service: "LOG", label: "parent -> raw", services: services, in: world(("log", "LOG", true)))
            == .routed(.child(name: "log", service: "LOG", label: "raw")))
    }

    // Service_not_present: no such <service>, or its child does not provide it
    @Test func missingServiceOrServerIsUnavailable() {
        #expect(ServerRoute.resolve(service: "Gui", label: "parent", services: services, in: world()) == .unavailable)
        #expect(ServerRoute.resolve(service: "LOG", label: "parent -> x", services: services, in: world(("log", "Block", true)))
            == .unavailable)
    }

    @Test func unannouncedServerIsPending() {
        #expect(ServerRoute.resolve(service: "Report", label: "parent -> state", services: services, in: world(("report_rom", "Report", false)))
            == .pending(.child(name: "report_rom", service: "Report", label: "parent -> state")))
    }

    // no policy (and no default) denies; so does a policy without <child>
    @Test func noPolicyOrNoChildDenies() {
        let children = world(("report_rom", "Report", true), ("log", "LOG", true))
        #expect(ServerRoute.resolve(service: "Report", label: "parent -> other", services: services, in: children)
            == .denied([.warning("no policy defined for label 'parent -> other'")]))
        #expect(ServerRoute.resolve(service: "LOG", label: "parent -> none", services: services, in: children) == .denied([]))
    }
}
