/// Init's state report (Genode's sandbox `State_reporter` and
/// `Child::report_state`): the children with their quotas and sessions, as
/// XML in Genode's schema. A `<report>` node in the config selects the
/// details and makes init publish it as its "state" report (which
/// components read as the ROM `state`); `phantom ps` asks for everything.
extension Kernel {
    public struct ReportOptions: Sendable {
        public var ids = true
        public var childRAM = true
        public var childCaps = true
        public var initRAM = true
        public var initCaps = true
        public var requested = true
        public var provided = true
        public init() {}

        /// The details a config's `<report>` node asks for.
        init(_ config: ReportConfig) {
            ids = config.ids
            childRAM = config.childRam
            childCaps = config.childCaps
            initRAM = config.initRam
            initCaps = config.initCaps
            requested = config.requested
            provided = config.provided
        }
    }

    public func stateReport(_ options: ReportOptions = .init()) -> String {
        lock.lock()
        defer { lock.unlock() }
        return stateReportLocked(options)
    }

    /// The report of init `scope` (the root, or a nested init). Lock held.
    func stateReportLocked(_ options: ReportOptions, scope: UInt64 = Kernel.rootScope) -> String {
        let model = model(of: scope)
        var out = "<state version=\"\(xmlEscape(model?.initConfig.version ?? ""))\">\n"
        let running = children(of: scope).filter(\.isRunning)
        // Init's own PD as Genode reports it (`Ram_info::from_pd`): what it
        // keeps back by `resource … preserve` is part of its avail.
        if options.initRAM {
            let quota = ownRam(of: scope)
            let assigned = running.reduce(UInt64(0)) { $0 + $1.image.ramQuota }
            out += "\t<ram quota=\"\(NumberOfBytes(quota))\" used=\"\(NumberOfBytes(assigned))\" avail=\"\(NumberOfBytes(quota > assigned ? quota - assigned : 0))\"/>\n"
        }
        if options.initCaps {
            let assigned = running.reduce(UInt64(0)) { $0 + $1.image.capsQuota }
            if capsAvailable(in: scope) != nil {
                let quota = capsQuota(of: scope)
                out += "\t<caps quota=\"\(quota)\" used=\"\(assigned)\" avail=\"\(quota > assigned ? quota - assigned : 0)\"/>\n"
            } else {
                out += "\t<caps used=\"\(assigned)\"/>\n"
            }
        }
        for stored in image.components where (stored.parent ?? Self.rootScope) == scope {
            let component = components[stored.id]
            var attributes = "name=\"\(xmlEscape(stored.name))\" binary=\"\(xmlEscape(stored.binary))\""
            if let version = stored.version { attributes += " version=\"\(xmlEscape(version))\"" }
            if options.ids { attributes += " id=\"\(stored.childID ?? stored.id)\"" }
            switch stored.state {
            case .running:
                // Genode: a stuck child shows as incomplete (`Kernel+Dependencies.swift`).
                if stored.stuck == true { attributes += " state=\"incomplete\"" }
                // Genode: only while heartbeats are expected and some were skipped.
                if let component, component.skippedHeartbeats > 0 {
                    attributes += " skipped_heartbeats=\"\(component.skippedHeartbeats)\""
                }
            case let .exited(code): attributes += " exited=\"\(Int32(bitPattern: code))\""
            // Ours: Genode has no traps; a trapped child ended, with this message.
            case let .trapped(message): attributes += " state=\"trapped\" trapped=\"\(xmlEscape(message))\""
            // Genode's word for a child whose environment could not be set up.
            case let .failed(reason): attributes += " state=\"incomplete\" failed=\"\(xmlEscape(reason))\""
            }
            out += "\t<child \(attributes)>\n"
            if options.childRAM {
                // Donations: what this child gave with its sessions is used;
                // what clients gave it is part of its quota while they last.
                let used = ramUsed(by: stored.id)
                let quota = ramQuota(of: stored.id)
                let avail = quota > used ? quota - used : 0
                let requested = stored.requestedRam.map { " requested=\"\(NumberOfBytes($0))\"" } ?? ""
                out += "\t\t<ram assigned=\"\(NumberOfBytes(stored.ramQuota))\" quota=\"\(NumberOfBytes(quota))\" used=\"\(NumberOfBytes(used))\" avail=\"\(NumberOfBytes(avail))\"\(requested)/>\n"
            }
            if options.childCaps {
                let used = capsUsed(by: stored.id)
                let quota = capsQuota(of: stored.id)
                let avail = quota > used ? quota - used : 0
                let requested = stored.requestedCaps.map { " requested=\"\($0)\"" } ?? ""
                out += "\t\t<caps assigned=\"\(stored.capsQuota)\" quota=\"\(quota)\" used=\"\(used)\" avail=\"\(avail)\"\(requested)/>\n"
            }
            if options.requested {
                let requested = image.sessions.filter { $0.client == stored.id }
                out += requested.isEmpty ? "\t\t<requested/>\n" : "\t\t<requested>\n"
                for session in requested { out += "\t\t\t<session \(sessionAttributes(session))/>\n" }
                if !requested.isEmpty { out += "\t\t</requested>\n" }
            }
            if options.provided {
                let provided = image.sessions.filter { $0.server == .component(stored.id) }
                out += provided.isEmpty ? "\t\t<provided/>\n" : "\t\t<provided>\n"
                for session in provided { out += "\t\t\t<session \(sessionAttributes(session))/>\n" }
                if !provided.isEmpty { out += "\t\t</provided>\n" }
            }
            out += "\t</child>\n"
        }
        out += "</state>\n"
        return out
    }

    /// Genode's `Session_state::generate_client_side_info`. A nested init's
    /// child's session shows the label its own init gave it (the session's
    /// `label` is what the server at the end of the route sees).
    private func sessionAttributes(_ session: SessionImage) -> String {
        var label = session.label
        if let client = components[session.client], scope(of: client) != Self.rootScope, let requested = session.requested,
           let local = localLabel(client: client, service: session.service, label: requested) {
            label = local
        }
        return "service=\"\(xmlEscape(session.service))\" label=\"\(xmlEscape(label))\" state=\"\(Self.genodePhase(session.state))\" ram=\"\(NumberOfBytes(session.ramQuota))\" caps=\"\(session.environment ? 0 : 1)\""
    }

    /// Genode's session phases for ours.
    static func genodePhase(_ state: SessionImage.State) -> String {
        switch state {
        case .creating: "CREATE_REQUESTED"
        case .available: "CAP_HANDED_OUT"
        case .denied: "SERVICE_DENIED"
        case .closing: "CLOSE_REQUESTED"
        }
    }

    /// The reports components published (Report sessions), by label.
    public func reports() -> [(label: String, content: String)] {
        lock.lock()
        defer { lock.unlock() }
        return image.reports.sorted { $0.key < $1.key }.map { ($0.key, String(decoding: $0.value.content, as: UTF8.self)) }
    }
}

func xmlEscape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
