import PhantomEngine
import PhantomWasm

/// Calls on sessions that init serves itself, in the session ABI's payload
/// protocols (docs/SESSION-ABI.md): LOG takes text, Report takes a report's
/// new content, ROM answers its content (optionally after waiting for a new
/// version), Timer answers after a delay.
extension Kernel {
    /// Lock held.
    func builtinCall(client id: UInt64, service: String, session: SessionImage, payload: [UInt8],
                     pending: inout UInt64) -> (KernelAnswer, reply: [UInt8]?) {
        switch service {
        case "LOG":
            var text = String(decoding: payload, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                log.append("[init -> \(session.label)] \(line)")
            }
            return (.value(0), [])
        case "Report":
            let label = session.label
            let version = (image.reports[label]?.version ?? 0) + 1
            image.reports[label] = ReportImage(content: payload, version: version)
            dirty = true
            // Readers wait on the report by its label or its last element (the
            // scheduler's lock is independent of ours, so signalling here is safe).
            scheduler.signal(Events.report(label))
            scheduler.signal(Events.report(SessionLabelText.last(of: label)))
            return (.value(0), [])
        case "ROM":
            let name = SessionLabelText.last(of: session.label)
            guard let (content, version) = romContent(for: id, name: name) else {
                return (.value(SessionStatus.denied.rawValue), nil)
            }
            if payload.count == 4 {
                // A wait for a new version: Genode's ROM signal, so the
                // component's event loop (the heartbeat counts it).
                let known = UInt64(payload[0]) | UInt64(payload[1]) << 8 | UInt64(payload[2]) << 16 | UInt64(payload[3]) << 24
                components[id]?.liveness.eventLoop(blocks: known == version)
                if known == version {
                    return (.block(.event(romEventLocked(for: id, name: name))), nil)
                }
            }
            return (.value(Int32(truncatingIfNeeded: version)), content)
        case "Timer":
            guard payload.count == 8 else { return (.value(SessionStatus.invalid.rawValue), nil) }
            let now = wallClockNow()
            if pending == 0 {
                var delay: UInt64 = 0
                for (index, byte) in payload.enumerated() { delay |= UInt64(byte) << (8 * UInt64(index)) }
                pending = now &+ min(delay, 1 << 62)
            }
            if now >= pending {
                pending = 0
                return (.value(0), [])
            }
            return (.block(.wallClock(nanoseconds: pending)), nil)
        default:
            return (.value(SessionStatus.invalid.rawValue), nil)
        }
    }

    /// A component's ROM `name` as its routes give it: its inline config,
    /// init's state report, a report of a native report_rom, or from init's
    /// ROM service (reports published to init, files of the ROM directory).
    /// Lock held.
    func romContent(for id: UInt64, name: String) -> (content: [UInt8], version: UInt64)? {
        guard let component = components[id] else { return nil }
        // Genode: the inline config answers "config"; without one, the request is routed.
        if name == "config" && !component.image.configText.isEmpty {
            return (Array(component.image.configText.utf8), component.image.configVersion)
        }
        switch route(client: component, service: "ROM", label: Kernel.prefixed(name, by: component.name)) {
        case let .child(server, label):
            guard let server = components[server], server.image.native != nil else { return nil }
            let module = reportRomModule(server: server, label: label)
            return (module.content, module.version)
        case .parent:
            break
        case .pending, .denied:
            return nil
        }
        if name == "state", let report = config.initConfig.report {
            // Init's own state report (`<report>`); its version is a hash of its
            // text, so it stays comparable across restores.
            let text = Array(stateReportLocked(ReportOptions(report)).utf8)
            return (text, Self.contentVersion(text))
        }
        if let report = image.reports[name] ?? image.reports.first(where: { SessionLabelText.last(of: $0.key) == name })?.value {
            return (report.content, report.version)
        }
        return services.romFile(named: name).map { ($0, 1) }
    }

    /// A nonzero version derived from content (FNV-1a).
    static func contentVersion(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return max(hash >> 1, 1)
    }

    /// What a change of the component's ROM `name` signals.
    func romEvent(for id: UInt64, name: String) -> KernelEvent {
        lock.lock()
        defer { lock.unlock() }
        return romEventLocked(for: id, name: name)
    }

    /// Lock held.
    func romEventLocked(for id: UInt64, name: String) -> KernelEvent {
        if name == "config" && components[id]?.image.configText.isEmpty == false { return Events.rom(component: id, name: name) }
        if let component = components[id],
           case let .child(server, label) = route(client: component, service: "ROM", label: Kernel.prefixed(name, by: component.name)),
           let server = components[server], server.image.native != nil,
           let event = reportRomModule(server: server, label: label).event {
            return event
        }
        return Events.report(name)
    }
}

/// Genode's session label notation: elements joined by " -> ".
enum SessionLabelText {
    static func last(of label: String) -> String {
        guard let range = label.range(of: " -> ", options: .backwards) else { return label }
        return String(label[range.upperBound...])
    }
}
