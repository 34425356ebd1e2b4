import PhantomEngine
import PhantomWasm

/// Session requests, calls and closes, as components make them through the
/// session ABI (`SessionABI`) and as WASI's personality makes them.
///
/// Results are the ABI's: a handle ≥ 1, 0, or a negative `SessionStatus`.
enum SessionStatus: Int32 {
    case denied = -1, invalid = -2, quota = -3, closed = -4, tooBig = -5, timeout = -6
}

/// What a kernel operation on behalf of a component answers.
enum KernelAnswer: Equatable {
    case value(Int32)
    case block(Waitable)
}

extension Kernel {
    /// The label a server sees for a request of `client` labelled `label`
    /// (Genode: the parent prefixes the child's name, so it cannot be forged).
    static func prefixed(_ label: String, by client: String) -> String {
        label.isEmpty ? client : "\(client) -> \(label)"
    }

    /// Genode's children open their PD, CPU, LOG and ROM sessions through
    /// their routes before they run; so do ours, so the state report and
    /// `parent-provides` read as in Genode. Lock held.
    func openEnvironmentSessions(for component: Component) {
        guard component.isRunning else { return }
        // Ours: stdin is a Terminal session, opened only if routed to init's console.
        let terminal = reachesConsole(component.name) ? [("Terminal", "")] : []
        for (service, label) in [("PD", ""), ("CPU", ""), ("LOG", ""), ("ROM", "")] + terminal {
            let full = Kernel.prefixed(label, by: component.name)
            let id = image.nextSession
            image.nextSession += 1
            switch route(client: component, service: service, label: full) {
            case let .parent(_, rewritten):
                image.sessions.append(SessionImage(id: id, service: service, label: rewritten, client: component.id,
                                                   server: .builtin(service), state: .available, ramQuota: 0, environment: true, requested: full))
            case let .denied(messages):
                for message in messages { say(message, in: scope(of: component)) }
                // Genode: the child stays incomplete and never runs.
                image.sessions.append(SessionImage(id: id, service: service, label: full, client: component.id,
                                                   server: .builtin(service), state: .denied, ramQuota: 0, environment: true, requested: full))
                component.image.state = .failed(reason: ComponentImage.State.incompletePrefix + "its \(service) session is denied")
            case let .child(server, rewritten) where components[server]?.image.native != nil:
                image.sessions.append(SessionImage(id: id, service: service, label: rewritten, client: component.id,
                                                   server: .component(server), state: .available, ramQuota: 0, environment: true, requested: full))
            case let .child(server, rewritten):
                // A child serves it (a LOG server): requested like any session.
                image.sessions.append(SessionImage(id: id, service: service, label: rewritten, client: component.id,
                                                   server: .component(server), state: .creating, ramQuota: 0, environment: true, requested: full))
                enqueue(RequestImage(id: nextRequestID(), session: id, server: server, kind: .open, payload: Array(rewritten.utf8)))
                pendingSignals.append(Events.server(server))
            case let .pending(rewritten):
                image.sessions.append(SessionImage(id: id, service: service, label: rewritten, client: component.id,
                                                   server: .component(0), state: .creating, ramQuota: 0, environment: true, requested: full))
            }
        }
        dirty = true
    }

    /// Whether every environment session of `component` would now be routed
    /// (served or waiting for its server), none denied. Lock held.
    func environmentRoutesResolve(for component: Component) -> Bool {
        let terminal = scope(of: component) == Self.rootScope && reachesConsole(component.name) ? ["Terminal"] : []
        for service in ["PD", "CPU", "LOG", "ROM"] + terminal {
            if case .denied = route(client: component, service: service, label: Kernel.prefixed("", by: component.name)) { return false }
        }
        return true
    }

    /// Closes every session a component holds as client, and as server
    /// fails its clients' sessions. Lock held. Returns events to signal.
    func closeSessions(of component: Component) -> [KernelEvent] {
        var events: [KernelEvent] = []
        for index in image.sessions.indices.reversed() {
            let session = image.sessions[index]
            if session.client == component.id {
                guard session.state != .closing else { continue }
                requestClose(at: index, events: &events)
            } else if session.server == .component(component.id) && session.state == .closing {
                // Its close was waiting for this server's answer.
                image.sessions.remove(at: index)
            } else if session.server == .component(component.id) {
                image.sessions[index].state = .closing
                events.append(Events.session(session.id))
            }
        }
        for index in image.requests.indices where image.requests[index].server == component.id {
            image.requests[index].replyStatus = SessionStatus.closed.rawValue
            events.append(Events.reply(image.requests[index].id))
        }
        image.requests.removeAll { $0.server == component.id && ($0.kind == .close || $0.kind == .upgrade || $0.kind == .yield) }
        component.image.announced = []
        dirty = true
        return events
    }

    /// Ends a session at its server: a component server gets a close event;
    /// one that acknowledges closes keeps the session `CLOSE_REQUESTED`
    /// until it answers (`serviceReply`), else the session goes at once.
    /// Lock held.
    func requestClose(at index: Int, events: inout [KernelEvent]) {
        let session = image.sessions[index]
        dirty = true
        if case let .component(server) = session.server, server != 0, let serving = components[server], serving.image.native == nil {
            events.append(Events.server(server))
            enqueue(RequestImage(id: nextRequestID(), session: session.id, server: server, kind: .close, payload: []))
            if serving.image.acknowledgesCloses == true {
                image.sessions[index].state = .closing
                return
            }
        }
        image.sessions.remove(at: index)
    }

    /// RAM clients donated to a server with their open sessions (Genode's
    /// session quota transfer), derived from the sessions so that a close
    /// returns it by itself. Lock held.
    func receivedQuota(of server: UInt64) -> UInt64 {
        image.sessions.filter { $0.server == .component(server) && $0.state == .available }.reduce(0) { $0 + $1.ramQuota }
    }

    func nextRequestID() -> UInt64 {
        let id = image.nextRequest
        image.nextRequest += 1
        return id
    }

    func enqueue(_ request: RequestImage) {
        image.requests.append(request)
        dirty = true
    }

    /// Runs `body` with the kernel's lock held; the events it collects, and
    /// those other lock-held code left in `pendingSignals`, are signalled once
    /// the lock is released.
    func withLockSignalling<T, E: Error>(_ body: (inout [KernelEvent]) throws(E) -> T) throws(E) -> T {
        lock.lock()
        var events: [KernelEvent] = []
        defer {
            let all = events + takePendingSignals()
            lock.unlock()
            for event in all { scheduler.signal(event) }
        }
        return try body(&events)
    }

    // MARK: - Client side

    /// `session_open`: routes the request; a session served by a child waits
    /// (`pending` = the session id, in the call's persistent scratch slot)
    /// until the child accepts or denies it.
    func sessionOpen(client id: UInt64, service: String, label: String, ram: UInt64, pending: inout UInt64) -> KernelAnswer {
        withLockSignalling { (events: inout [KernelEvent]) -> KernelAnswer in
            guard let client = components[id] else { return .value(SessionStatus.invalid.rawValue) }
            if pending != 0 {
                guard let index = image.sessions.firstIndex(where: { $0.id == pending && $0.client == id }) else {
                    pending = 0
                    return .value(SessionStatus.denied.rawValue)
                }
                switch image.sessions[index].state {
                case .available:
                    let handle = image.sessions[index].id
                    pending = 0
                    return .value(Int32(truncatingIfNeeded: handle))
                case .denied, .closing:
                    image.sessions.remove(at: index)
                    dirty = true
                    pending = 0
                    return .value(SessionStatus.denied.rawValue)
                case .creating:
                    if tryDeliverPendingOpen(at: index, events: &events) { return .block(.event(Events.session(pending))) }
                    return .block(.event(Events.session(pending)))
                }
            }
            let full = Kernel.prefixed(label, by: client.name)
            let used = image.sessions.filter { $0.client == id && !$0.environment }.count
            if client.image.capsQuota > 0 && UInt64(used) >= capsQuota(of: id) {
                say("Warning: \(client.name): out of caps for session \(service) (label=\"\(full)\")", in: scope(of: client))
                return .value(SessionStatus.quota.rawValue)
            }
            if ram > 0 {
                if ramUsed(by: id) + ram > ramQuota(of: id) {
                    return .value(SessionStatus.quota.rawValue)
                }
            }
            let sessionID = image.nextSession
            image.nextSession += 1
            dirty = true
            switch route(client: client, service: service, label: full) {
            case let .denied(messages):
                for message in messages { say(message, in: scope(of: client)) }
                return .value(SessionStatus.denied.rawValue)
            case let .parent(service, rewritten):
                image.sessions.append(SessionImage(id: sessionID, service: service, label: rewritten, client: id,
                                                   server: .builtin(service), state: .available, ramQuota: ram, requested: full))
                return .value(Int32(truncatingIfNeeded: sessionID))
            case let .child(server, rewritten) where components[server]?.image.native != nil:
                image.sessions.append(SessionImage(id: sessionID, service: service, label: rewritten, client: id,
                                                   server: .component(server), state: .available, ramQuota: ram, requested: full))
                return .value(Int32(truncatingIfNeeded: sessionID))
            case let .child(server, rewritten):
                image.sessions.append(SessionImage(id: sessionID, service: service, label: rewritten, client: id,
                                                   server: .component(server), state: .creating, ramQuota: ram, requested: full))
                enqueue(RequestImage(id: nextRequestID(), session: sessionID, server: server, kind: .open, payload: Array(rewritten.utf8)))
                events.append(Events.server(server))
            case let .pending(rewritten):
                image.sessions.append(SessionImage(id: sessionID, service: service, label: rewritten, client: id,
                                                   server: .component(0), state: .creating, ramQuota: ram, requested: full))
            }
            pending = sessionID
            return .block(.event(Events.session(sessionID)))
        }
    }

    /// A session still waiting for its server to exist: route it again (the
    /// server may have announced since). Lock held. True if it is now queued.
    private func tryDeliverPendingOpen(at index: Int, events: inout [KernelEvent]) -> Bool {
        let session = image.sessions[index]
        guard session.server == .component(0), let client = components[session.client] else { return false }
        // Route with the label the client asked for (its prefix is already in).
        switch route(client: client, service: session.service, label: session.label) {
        case let .child(server, rewritten) where components[server]?.image.native != nil:
            image.sessions[index].server = .component(server)
            image.sessions[index].label = rewritten
            image.sessions[index].state = .available
            events.append(Events.session(session.id))
            return true
        case let .child(server, rewritten):
            image.sessions[index].server = .component(server)
            image.sessions[index].label = rewritten
            // The open goes before anything queued on the session meanwhile.
            let waiting = image.requests.filter { $0.session == session.id && $0.server == 0 }
            image.requests.removeAll { $0.session == session.id && $0.server == 0 }
            enqueue(RequestImage(id: nextRequestID(), session: session.id, server: server, kind: .open, payload: Array(rewritten.utf8)))
            for var request in waiting {
                request.server = server
                enqueue(request)
            }
            events.append(Events.server(server))
            return true
        case .parent(let service, let rewritten):
            image.sessions[index].server = .builtin(service)
            image.sessions[index].label = rewritten
            image.sessions[index].state = .available
            events.append(Events.session(session.id))
            return true
        case let .denied(messages):
            for message in messages { say(message, in: scope(of: client)) }
            image.sessions[index].state = .denied
            events.append(Events.session(session.id))
            return true
        case .pending:
            return false
        }
    }

    /// Re-routes every waiting session after a child announced a service.
    /// Lock held.
    func retryPendingSessions(events: inout [KernelEvent]) {
        for index in image.sessions.indices where image.sessions[index].state == .creating && image.sessions[index].server == .component(0) {
            if tryDeliverPendingOpen(at: index, events: &events) { events.append(Events.session(image.sessions[index].id)) }
        }
    }

    /// `session_close`.
    func sessionClose(client id: UInt64, handle: UInt64) -> Int32 {
        withLockSignalling { (events: inout [KernelEvent]) -> Int32 in
            guard let index = image.sessions.firstIndex(where: { $0.id == handle && $0.client == id && !$0.environment && $0.state != .closing }) else {
                return SessionStatus.invalid.rawValue
            }
            requestClose(at: index, events: &events)
            return 0
        }
    }

    /// `session_upgrade`: Genode's `Parent::upgrade` of a session's RAM
    /// quota. The client's quota must cover it; the session's donation grows
    /// (so the server's quota does, and a close returns it), and a server
    /// that is a component gets an upgrade event behind the session's
    /// earlier requests.
    func sessionUpgrade(client id: UInt64, handle: UInt64, ram: UInt64) -> Int32 {
        withLockSignalling { (events: inout [KernelEvent]) -> Int32 in
            guard let index = image.sessions.firstIndex(where: { $0.id == handle && $0.client == id && !$0.environment }) else {
                return SessionStatus.invalid.rawValue
            }
            let session = image.sessions[index]
            guard session.state == .available || session.state == .creating else { return SessionStatus.closed.rawValue }
            let used = ramUsed(by: id)
            guard ram <= UInt64(Int64.max), used + ram <= ramQuota(of: id) else { return SessionStatus.quota.rawValue }
            image.sessions[index].ramQuota += ram
            dirty = true
            if case let .component(server) = session.server, server != 0, components[server]?.image.native == nil {
                var request = RequestImage(id: nextRequestID(), session: session.id, server: server, kind: .upgrade, payload: [])
                request.upgradeRam = ram
                enqueue(request)
                events.append(Events.server(server))
            }
            return 0
        }
    }

    /// `session_call` to a child's service: queues the request once (its id
    /// in the call's scratch slot) and waits for the reply; a re-executed call
    /// after a restore finds the same request.
    func sessionCall(client id: UInt64, handle: UInt64, payload: () throws(Trap) -> [UInt8], pending: inout UInt64) throws(Trap) -> (KernelAnswer, reply: [UInt8]?) {
        try withLockSignalling { (events: inout [KernelEvent]) throws(Trap) -> (KernelAnswer, reply: [UInt8]?) in
            // Only sessions it opened itself: environment sessions are the kernel's
            // (its personality uses them), never handed to the component.
            guard let session = image.sessions.first(where: { $0.id == handle && $0.client == id && !$0.environment }) else {
                pending = 0
                return (.value(SessionStatus.invalid.rawValue), nil)
            }
            if pending != 0 {
                guard let index = image.requests.firstIndex(where: { $0.id == pending }) else {
                    pending = 0
                    return (.value(SessionStatus.closed.rawValue), nil)
                }
                let request = image.requests[index]
                guard let status = request.replyStatus else { return (.block(.event(Events.reply(pending))), nil) }
                image.requests.remove(at: index)
                dirty = true
                pending = 0
                return (.value(status), request.reply ?? [])
            }
            guard session.state == .available else { return (.value(SessionStatus.closed.rawValue), nil) }
            switch session.server {
            case let .builtin(service):
                return try builtinCall(client: id, service: service, session: session, payload: payload(), pending: &pending)
            case let .component(server) where components[server]?.image.native != nil:
                return nativeCall(server: server, session: session, payload: try payload(), pending: &pending)
            case let .component(server):
                let requestID = nextRequestID()
                enqueue(RequestImage(id: requestID, session: session.id, server: server, kind: .call, payload: try payload()))
                events.append(Events.server(server))
                pending = requestID
                return (.block(.event(Events.reply(requestID))), nil)
            }
        }
    }

    // MARK: - Server side

    /// `service_announce`: requests waiting for this service are routed now.
    func serviceAnnounce(server id: UInt64, service: String, acknowledgesCloses: Bool = false) -> Int32 {
        withLockSignalling { (events: inout [KernelEvent]) -> Int32 in
            guard let component = components[id], !service.isEmpty else { return SessionStatus.invalid.rawValue }
            // Genode: a child may announce only what its start node `provides`.
            guard model(of: scope(of: component))?.initConfig.start(named: component.name)?.provides.contains(service) == true else {
                say("Error: \(component.name): illegal announcement of service \"\(service)\"", in: scope(of: component))
                return SessionStatus.denied.rawValue
            }
            if !component.image.announced.contains(service) {
                component.image.announced.append(service)
            }
            if acknowledgesCloses { component.image.acknowledgesCloses = true }
            syncImage(component)
            retryPendingSessions(events: &events)
            return 0
        }
    }

    /// `service_next`: the oldest request for this server not handed out yet.
    func serviceNext(server id: UInt64, capacity: Int) -> (request: RequestImage, label: String?)? {
        lock.lock()
        defer { lock.unlock() }
        guard let index = image.requests.firstIndex(where: { $0.server == id && !$0.delivered }) else { return nil }
        let request = image.requests[index]
        if request.payload.count > capacity { return (request, nil) }
        let acknowledged = request.kind == .close && components[id]?.image.acknowledgesCloses == true
        if (request.kind == .close && !acknowledged) || request.kind == .upgrade {
            image.requests.remove(at: index)
        } else {
            image.requests[index].delivered = true
        }
        dirty = true
        return (request, image.sessions.first { $0.id == request.session }?.label)
    }

    /// `service_reply`: completes an open (accept/deny) or a call.
    func serviceReply(server id: UInt64, request requestID: UInt64, status: Int32, data: [UInt8]) -> Int32 {
        withLockSignalling { (events: inout [KernelEvent]) -> Int32 in
            // A request still queued may be answered too: a server that cannot
            // take an event (too big for any buffer it can have) refuses it so.
            guard let index = image.requests.firstIndex(where: { $0.id == requestID && $0.server == id && $0.replyStatus == nil && $0.kind != .upgrade && ($0.kind != .close || $0.delivered) }) else {
                return SessionStatus.invalid.rawValue
            }
            let request = image.requests[index]
            dirty = true
            switch request.kind {
            case .open:
                image.requests.remove(at: index)
                if let session = image.sessions.firstIndex(where: { $0.id == request.session }) {
                    image.sessions[session].state = status >= 0 ? .available : .denied
                    events.append(Events.session(request.session))
                }
            case .call where request.discardReply == true:
                image.requests.remove(at: index)
            case .call:
                image.requests[index].replyStatus = status
                image.requests[index].reply = data
                events.append(Events.reply(requestID))
            case .close:
                // An acknowledged close: the session is gone now.
                image.requests.remove(at: index)
                image.sessions.removeAll { $0.id == request.session && $0.state == .closing }
            case .upgrade:
                image.requests.remove(at: index)
            case .yield:
                image.requests.remove(at: index)
                yieldAnswered(by: id)
            }
            return 0
        }
    }
}
