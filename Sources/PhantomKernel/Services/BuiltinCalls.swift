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
            let event = Events.report(label)
            // Signalled after the lock is released by the caller's defer would be
            // cleaner; the scheduler's lock is independent of ours, so this is safe.
            scheduler.signal(event)
            return (.value(0), [])
        case "ROM":
            let name = SessionLabelText.last(of: session.label)
            guard let (content, version) = romContent(for: id, name: name) else {
                return (.value(SessionStatus.denied.rawValue), nil)
            }
            if payload.count == 4 {
                let known = UInt64(payload[0]) | UInt64(payload[1]) << 8 | UInt64(payload[2]) << 16 | UInt64(payload[3]) << 24
                if known == version {
                    return (.block(.event(romEvent(for: id, name: name))), nil)
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

    /// A component's ROM `name`: its inline config, a report of that name, or
    /// a file from the ROM directory. Lock held.
    func romContent(for id: UInt64, name: String) -> (content: [UInt8], version: UInt64)? {
        guard let component = components[id] else { return nil }
        if name == "config" { return (Array(component.image.configText.utf8), component.image.configVersion) }
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

    func romEvent(for id: UInt64, name: String) -> KernelEvent {
        name == "config" ? Events.rom(component: id, name: name) : Events.report(name)
    }
}

/// Genode's session label notation: elements joined by " -> ".
enum SessionLabelText {
    static func last(of label: String) -> String {
        guard let range = label.range(of: " -> ", options: .backwards) else { return label }
        return String(label[range.upperBound...])
    }
}
