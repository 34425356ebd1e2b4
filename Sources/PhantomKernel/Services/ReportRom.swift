import PhantomEngine

/// Components the kernel implements itself, started from a `start` node like
/// any other (their `binary` names them) when the ROM directory has no module
/// of that name.
enum NativeComponents {
    static let names: Set<String> = ["report_rom", initBinary, testInitBinary]
    /// A nested init (`Kernel+Scopes.swift`).
    static let initBinary = "init"
    /// Genode's init test driver (`TestInit/`).
    static let testInitBinary = "test-init"
}

/// Genode's `report_rom` (repos/os/src/server/report_rom): a Report service
/// that keeps each report by its session label, and a ROM service that hands
/// a report to a client whose ROM label selects a `<policy label=… report=…/>`
/// of its config. Its reports live in the kernel's tables, so they survive a
/// restart with everything else.
extension Kernel {
    /// A call on a session served by a native component. Lock held.
    func nativeCall(server id: UInt64, session: SessionImage, payload: [UInt8], pending: inout UInt64) -> (KernelAnswer, reply: [UInt8]?) {
        guard let server = components[id] else { return (.value(SessionStatus.closed.rawValue), nil) }
        switch session.service {
        case "Report":
            publish(report: payload, label: session.label, to: server)
            return (.value(0), [])
        case "LOG":
            nativeLogLine(server: server, label: session.label, text: String(decoding: payload, as: UTF8.self))
            return (.value(0), [])
        case "ROM":
            let (content, version, event) = reportRomModule(server: server, label: session.label)
            // Nothing reported yet: the ROM does not exist, and the call waits
            // for it (versions a client sees start at 1).
            if version == 0, let event { return (.block(.event(event)), nil) }
            if payload.count == 4 {
                let known = UInt64(payload[0]) | UInt64(payload[1]) << 8 | UInt64(payload[2]) << 16 | UInt64(payload[3]) << 24
                if known == version, let event { return (.block(.event(event)), nil) }
            }
            return (.value(Int32(truncatingIfNeeded: version)), content)
        default:
            return (.value(SessionStatus.invalid.rawValue), nil)
        }
    }

    /// Stores a report in a native report_rom and wakes its readers: ROM
    /// clients, and nested inits whose config may be this report. Lock held.
    func publish(report content: [UInt8], label: String, to server: Component) {
        var reports = server.image.reports ?? [:]
        let version = (reports[label]?.version ?? 0) + 1
        reports[label] = ReportImage(content: content, version: version)
        server.image.reports = reports
        syncImage(server)
        scheduler.signal(Events.report(Self.reportKey(server: server.id, label: label)))
        nestedConfigsMayHaveChanged()
        reportPublished(to: server)
    }

    /// A line written to a LOG session a native component serves. Lock held.
    func nativeLogLine(server: Component, label: String, text: String) {
        var text = text
        if text.hasSuffix("\n") { text.removeLast() }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            switch server.image.native {
            case NativeComponents.testInitBinary?:
                testInitReceived(line: String(line), label: label, server: server)
            default:
                log.append("[init -> \(server.name)] [\(label)] \(line)")
            }
        }
    }

    /// The report a ROM label selects by the server's policies: its content,
    /// version (0 while nothing was reported) and the event its change
    /// signals (nil when no policy selects one). Lock held.
    func reportRomModule(server: Component, label: String) -> (content: [UInt8], version: UInt64, event: KernelEvent?) {
        let policies = model(of: scope(of: server))?.starts.first { $0.name == server.name }?.node.child(ofType: "config") ?? ConfigNode(type: "config")
        let policy: ConfigNode
        switch SessionPolicy.select(label: SessionLabel(label), in: policies) {
        case let .policy(_, node): policy = node
        case let .defaultPolicy(node): policy = node
        case .denied: return ([], 0, nil)
        }
        guard let reportLabel = policy[attribute: "report"] else { return ([], 0, nil) }
        let report = server.image.reports?[reportLabel]
        return (report?.content ?? [], report?.version ?? 0, Events.report(Self.reportKey(server: server.id, label: reportLabel)))
    }

    static func reportKey(server: UInt64, label: String) -> String { "report_rom \(server): \(label)" }
}
