import PhantomEngine
import PhantomWasm

/// A component's WASI clocks and sleeps: its Timer session.
///
/// Opened lazily, at the component's first clock call (`clock_time_get`,
/// `clock_res_get`, or a clock subscription of `poll_oneoff`), through its
/// routes — as Genode's libc constructs its `Timer::Connection` only when a
/// time function is first used. So a component that never reads a clock
/// holds no Timer session, needs no Timer route and gets no warning, and the
/// environment sessions stay what Genode opens before a child runs (PD, CPU,
/// LOG, the binary's ROM). Once opened, the session is an environment
/// session of the personality (like LOG and Terminal: the component cannot
/// call or close it through the session ABI, and it takes none of its
/// `caps`), in the tables and so in the state report and `phantom ps`.
///
/// WASI asks the provider once per process and caches the answer
/// (`WASITimer`), so the kernel's lock is taken once, not per `clock_time_get`.
/// After a restore the new provider finds the stored session (or its stored
/// denial) again: nothing is routed anew and nothing is logged twice.
///
/// Only init's built-in Timer serves WASI clocks. A Timer route to a child
/// (one that announces `Timer`) is refused for the personality — WASI would
/// need a protocol for reading time that the session ABI's Timer does not
/// have — with a warning; such a child can still be used through
/// `session_open("Timer")`.
extension Kernel {
    func timerProvider(component id: UInt64) -> WASITimerProvider {
        WASITimerProvider { [weak self] in
            (self?.personalityTimer(component: id) ?? false) ? .host : nil
        }
    }

    /// Finds or opens the component's Timer session for its personality;
    /// true when it has one. A denial is recorded as a session in
    /// `SERVICE_DENIED` (Genode's phase), so that it shows in the state
    /// report and is logged once, not at every restore.
    func personalityTimer(component id: UInt64) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let component = components[id], component.isRunning else { return false }
        if let session = image.sessions.first(where: { $0.client == id && $0.environment && $0.service == "Timer" }) {
            return session.state == .available
        }
        let label = Kernel.prefixed("", by: component.name)
        let sessionID = image.nextSession
        image.nextSession += 1
        dirty = true
        var session = SessionImage(id: sessionID, service: "Timer", label: label, client: id, server: .builtin("Timer"),
                                   state: .denied, ramQuota: 0, environment: true, requested: label)
        switch route(client: component, service: "Timer", label: label) {
        case let .parent(_, rewritten):
            session.label = rewritten
            session.state = .available
        case let .denied(messages):
            // Genode's own words when its route model has any ("no route to
            // service"); a denial it makes silently gets ours.
            if messages.isEmpty {
                say(InitMessage.warning("\(component.name): Timer session denied (label=\"\(label)\"), its clocks and sleeps fail with ENOTCAPABLE").description, in: scope(of: component))
            }
            for message in messages { say(message, in: scope(of: component)) }
        case let .child(server, _):
            let name = components[server]?.name ?? "?"
            say(InitMessage.warning("\(component.name): Timer session routed to child \"\(name)\" (label=\"\(label)\"): WASI clocks use init's Timer only, they fail with ENOTCAPABLE").description, in: scope(of: component))
        case .pending:
            say(InitMessage.warning("\(component.name): Timer session routed to a child that does not serve it (label=\"\(label)\"): WASI clocks use init's Timer only, they fail with ENOTCAPABLE").description, in: scope(of: component))
        }
        image.sessions.append(session)
        return session.state == .available
    }
}
