import Foundation
import PhantomEngine

extension Kernel {
    /// Genode's state reporter, for every init: with a `<report>` node, an
    /// init's state report is looked at every `delay_ms` and published when
    /// it changed — the root's as the ROM `state` its children may read
    /// (whoever waits on it is woken), a nested init's through a Report
    /// session labelled `state` that its routes lead to a report_rom (so the
    /// test-init runtime's policy `init -> state` finds it). Without any
    /// `<report>` node, the thread sleeps until a config brings one.
    func startStateReporter() {
        let thread = Thread { [weak self] in
            var last: [UInt64: UInt64] = [:]
            while let self {
                self.space.safepoints.register()
                self.lock.lock()
                var delay: UInt64?
                var changedRoot = false
                for scope in [Self.rootScope] + self.nestedInits.map(\.id) {
                    guard let report = self.model(of: scope)?.initConfig.report else { last[scope] = nil; continue }
                    delay = min(delay ?? .max, max(report.delayMs, 10))
                    let text = Array(self.stateReportLocked(ReportOptions(report), scope: scope).utf8)
                    let version = Kernel.contentVersion(text)
                    guard version != last[scope] else { continue }
                    last[scope] = version
                    if scope == Self.rootScope {
                        changedRoot = true
                    } else if let initComponent = self.components[scope] {
                        self.publishStateReport(text, of: initComponent)
                    }
                }
                let stopping = self.stopping
                let signals = self.takePendingSignals()
                self.lock.unlock()
                self.space.safepoints.unregister()
                if stopping { return }
                for event in signals { self.scheduler.signal(event) }
                if changedRoot { self.scheduler.signal(Events.report("state")) }
                self.reporterWake.lock()
                if let delay {
                    _ = self.reporterWake.wait(until: Date(timeIntervalSinceNow: Double(delay) / 1000))
                } else {
                    self.reporterWake.wait() // until a config with a <report> node, or the stop
                }
                self.reporterWake.unlock()
            }
        }
        thread.name = "phantom-state-reporter"
        thread.start()
    }

    /// A nested init's state report, through its Report session `state`.
    /// Lock held (and a registered mutator: the report lands in the tables).
    func publishStateReport(_ text: [UInt8], of initComponent: Component) {
        _ = publishReport(text, by: initComponent, label: "state")
    }

    /// A report a native component publishes through its Report route: to
    /// a report_rom child, or to init's own Report service. Nil when it was
    /// published, else why not. Lock held, as a registered mutator.
    func publishReport(_ content: [UInt8], by client: Component, label: String) -> String? {
        switch route(client: client, service: "Report", label: Kernel.prefixed(label, by: client.name)) {
        case let .child(server, rewritten):
            guard let server = components[server], server.image.native == "report_rom" else {
                return "its Report route leads to a component that is no report_rom"
            }
            publish(report: content, label: rewritten, to: server)
        case let .parent(_, rewritten):
            let version = (image.reports[rewritten]?.version ?? 0) + 1
            image.reports[rewritten] = ReportImage(content: content, version: version)
            dirty = true
            pendingSignals.append(Events.report(rewritten))
            nestedConfigsMayHaveChanged()
        case .pending:
            return "its Report session waits for a server that is not there"
        case .denied:
            return "its Report session is denied"
        }
        return nil
    }
}
