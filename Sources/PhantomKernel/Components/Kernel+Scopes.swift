import Foundation
import PhantomEngine

/// Genode's recursive structure: an init is a component like any other, and a
/// `start` node whose binary is `init` runs a child init with its own config,
/// children, routes and state report (repos/os/src/init, the sandbox library).
///
/// We do not run a second kernel for it. Every init's children live in the one
/// set of tables, each row naming the init it belongs to (`ComponentImage.parent`,
/// nil for the root init); a nested init is a native component (`native ==
/// "init"`) whose config is its inline `<config>` or, without one, its `config`
/// ROM as its routes give it (Genode's test-init runtime serves it from
/// report_rom). "Scope" below is the id of the init a component belongs to: 0
/// for the root, else the nested init's component id. Everything that acts for
/// an init — routing, reconciling, quotas, the state report, heartbeats, init's
/// own log lines — takes the scope it acts for.
extension Kernel {
    /// The root init's scope.
    static let rootScope: UInt64 = 0

    /// The scope `component` belongs to.
    func scope(of component: Component) -> UInt64 { component.image.parent ?? Self.rootScope }

    /// The config of the init `scope`: the root's, or a nested init's once it
    /// has one. Lock held.
    func model(of scope: UInt64) -> InitModel? {
        scope == Self.rootScope ? config : components[scope]?.initModel
    }

    /// The children of init `scope`, in start order. Lock held.
    func children(of scope: UInt64) -> [Component] {
        components.values.filter { ($0.image.parent ?? Self.rootScope) == scope }.sorted { $0.id < $1.id }
    }

    /// The nested inits, parents before their children. Lock held.
    var nestedInits: [Component] {
        components.values.filter { $0.image.native == NativeComponents.initBinary && $0.isRunning }.sorted { $0.id < $1.id }
    }

    /// Init `scope`'s own log line (Genode: init's `log`, `warning`, `error`).
    /// The root's goes to the system log as `[init] text`; a nested init's
    /// goes through its LOG session like any child's output, so that its
    /// parent sees `[init -> NAME] text` — or, in the test-init runtime, the
    /// LOG server test-init sees `[NAME] text`. Lock held.
    func say(_ text: String, in scope: UInt64) {
        guard scope != Self.rootScope else { return say(text) }
        guard components[scope] != nil else { return }
        var signals: [KernelEvent] = []
        componentOutputLocked(scope, descriptor: 1, bytes: Array((text + "\n").utf8), signals: &signals)
        pendingSignals += signals
    }

    /// `say(_:in:)` for a caller that does not hold the lock.
    func sayTakingLock(_ text: String, in scope: UInt64) {
        lock.lock()
        say(text, in: scope)
        let signals = takePendingSignals()
        lock.unlock()
        for event in signals { scheduler.signal(event) }
    }

    /// Signals collected by code that ran with the lock held. Lock held; the
    /// caller signals them after unlocking.
    func takePendingSignals() -> [KernelEvent] {
        let signals = pendingSignals
        pendingSignals.removeAll()
        return signals
    }

    /// The config text a nested init runs: its inline `<config>`, else its
    /// `config` ROM through its routes (nil while there is none). Lock held.
    func nestedConfigText(of initComponent: Component) -> String? {
        if !initComponent.image.configText.isEmpty { return initComponent.image.configText }
        guard let (content, version) = romContent(for: initComponent.id, name: "config"), version > 0, !content.isEmpty else { return nil }
        return String(decoding: content, as: UTF8.self)
    }

    /// Reads every nested init's config again and applies those that changed
    /// (Genode: init's config-ROM signal). A config that does not parse is
    /// reported by that init and changes nothing, as in Genode.
    func updateNestedConfigs() {
        var changed: [UInt64] = []
        space.safepoints.register()
        lock.lock()
        for initComponent in nestedInits {
            guard let text = nestedConfigText(of: initComponent), text != initComponent.image.initConfigText else { continue }
            initComponent.image.initConfigText = text
            initComponent.image.initConfigGeneration = (initComponent.image.initConfigGeneration ?? 0) + 1
            syncImage(initComponent)
            do {
                let model = try InitModel.parse(text, source: "config of \(initComponent.name)")
                initComponent.initModel = model
                // Without our source locations: a nested init logs as Genode's does.
                for message in model.initConfig.messages { say(message.description, in: initComponent.id) }
            } catch {
                say("Error: config is invalid: \(error)", in: initComponent.id)
            }
            changed.append(initComponent.id)
        }
        let signals = takePendingSignals()
        lock.unlock()
        space.safepoints.unregister()
        for event in signals { scheduler.signal(event) }
        for scope in changed { reconcile(scope: scope, configApplied: true) }
        guard !changed.isEmpty else { return }
        // Requests waiting at a nested init's service may find a policy now;
        // sessions it forwarded whose route changed are closed at their
        // server, the client left alone (Genode: Sandbox
        // `Server::apply_updated_policy`).
        space.safepoints.register()
        lock.lock()
        var events: [KernelEvent] = []
        retryPendingSessions(events: &events)
        closeForwardedSessionsRoutedElsewhere(through: Set(changed), events: &events)
        let retried = events + takePendingSignals()
        lock.unlock()
        space.safepoints.unregister()
        for event in retried { scheduler.signal(event) }
        wakeBackgroundThreads()
    }

    /// Closes, at their server, the sessions that one of the nested inits
    /// `changed` served for a client outside it and that its new config
    /// routes elsewhere or not at all. Lock held.
    func closeForwardedSessionsRoutedElsewhere(through changed: Set<UInt64>, events: inout [KernelEvent]) {
        for index in image.sessions.indices.reversed() {
            let session = image.sessions[index]
            guard session.state == .available || session.state == .creating,
                  case let .component(serverID) = session.server, serverID != 0,
                  let server = components[serverID], let client = components[session.client],
                  let requested = session.requested, isInside(server, anyOf: changed), !isInside(client, anyOf: changed)
            else { continue }
            let unchanged: Bool
            switch route(client: client, service: session.service, label: requested) {
            case let .child(id, label): unchanged = id == serverID && label == session.label
            case .pending, .denied, .parent: unchanged = false
            }
            if !unchanged { requestClose(at: index, events: &events) }
        }
    }

    /// Whether `component` is a descendant of one of the inits `scopes`. Lock held.
    private func isInside(_ component: Component, anyOf scopes: Set<UInt64>) -> Bool {
        var scope = scope(of: component)
        var depth = 0
        while scope != Self.rootScope && depth < 16 {
            if scopes.contains(scope) { return true }
            guard let parent = components[scope] else { return false }
            scope = self.scope(of: parent)
            depth += 1
        }
        return false
    }

    /// Starts the thread that applies nested inits' config changes:
    /// woken whenever a report or an inline config changes.
    func startNestedInitMonitor() {
        let thread = Thread { [weak self] in
            while let self {
                self.nestedConfigWake.wait { self.stopRequested.load(ordering: .relaxed) }
                if self.stopRequested.load(ordering: .relaxed) { return }
                self.updateNestedConfigs()
            }
        }
        thread.name = "phantom-nested-init"
        thread.start()
    }

    /// Asks the nested-init monitor to look at the configs again. May be
    /// called with the kernel's lock held.
    func nestedConfigsMayHaveChanged() { nestedConfigWake.signal() }
}
