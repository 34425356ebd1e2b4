/// Init's state report (Genode's sandbox `state_reporter`): the children with
/// their quotas and sessions, as XML. `phantom ps` shows it; a `report` node
/// in the config selects what goes in.
extension Kernel {
    public struct ReportOptions: Sendable {
        public var childRAM = true
        public var childCaps = true
        public var requested = true
        public var provided = true
        public init() {}
    }

    public func stateReport(_ options: ReportOptions = .init()) -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = "<state version=\"\(image.configGeneration)\">\n"
        for stored in image.components {
            let component = components[stored.id]
            var attributes = "name=\"\(xmlEscape(stored.name))\" binary=\"\(xmlEscape(stored.binary))\" id=\"\(stored.id)\""
            switch stored.state {
            case .running: break
            case let .exited(code): attributes += " exited=\"\(code)\""
            case let .trapped(message): attributes += " trapped=\"\(xmlEscape(message))\""
            case let .failed(reason): attributes += " failed=\"\(xmlEscape(reason))\""
            }
            out += "\t<child \(attributes)>\n"
            if options.childRAM {
                // Donations: what this child gave with its sessions is used;
                // what clients gave it is part of its quota while they last.
                let used = (component?.memoryBytes ?? 0)
                    + image.sessions.filter { $0.client == stored.id }.reduce(UInt64(0)) { $0 + $1.ramQuota }
                let quota = stored.ramQuota + receivedQuota(of: stored.id)
                let avail = quota > used ? quota - used : 0
                out += "\t\t<ram assigned=\"\(NumberOfBytes(stored.ramQuota))\" quota=\"\(NumberOfBytes(quota))\" used=\"\(NumberOfBytes(used))\" avail=\"\(NumberOfBytes(avail))\"/>\n"
            }
            if options.childCaps {
                let used = UInt64(image.sessions.filter { $0.client == stored.id }.count)
                let avail = stored.capsQuota > used ? stored.capsQuota - used : 0
                out += "\t\t<caps assigned=\"\(stored.capsQuota)\" quota=\"\(stored.capsQuota)\" used=\"\(used)\" avail=\"\(avail)\"/>\n"
            }
            if options.requested {
                let requested = image.sessions.filter { $0.client == stored.id }
                if !requested.isEmpty {
                    out += "\t\t<requested>\n"
                    for session in requested {
                        out += "\t\t\t<session service=\"\(xmlEscape(session.service))\" label=\"\(xmlEscape(session.label))\" state=\"\(session.state.rawValue)\"/>\n"
                    }
                    out += "\t\t</requested>\n"
                }
            }
            if options.provided {
                let provided = image.sessions.filter { $0.server == .component(stored.id) }
                if !provided.isEmpty {
                    out += "\t\t<provided>\n"
                    for session in provided {
                        let client = image.components.first { $0.id == session.client }?.name ?? "?"
                        out += "\t\t\t<session service=\"\(xmlEscape(session.service))\" label=\"\(xmlEscape(session.label))\" state=\"\(session.state.rawValue)\" client=\"\(xmlEscape(client))\"/>\n"
                    }
                    out += "\t\t</provided>\n"
                }
            }
            out += "\t</child>\n"
        }
        out += "</state>\n"
        return out
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

