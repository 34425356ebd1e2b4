import Foundation

/// Genode's heartbeat monitoring (Sandbox `Heartbeat`, `Child::heartbeat`):
/// with a `<heartbeat rate_ms=…/>` node, init sends every child whose start
/// node has `<heartbeat/>` a heartbeat each period and counts those it does
/// not answer; `skipped_heartbeats` shows in the state report, and
/// `<heartbeat restart_after_skipped=N/>` restarts a child after N in a row.
///
/// What answering means for us. A Genode component answers when its
/// entrypoint gets back to waiting for signals: an idle component answers,
/// one stuck in a computation, in `sleep_forever` or blocked in a call does
/// not. A WebAssembly component's event loop is its wait for events —
/// `service_next`, `poll_oneoff` with a subscription other than a clock
/// (a descriptor or a ROM change), or a ROM session call waiting for a new
/// version (Genode's ROM signal). So a component answers a heartbeat when,
/// since the previous one, it entered such a wait or is blocked in one now
/// (`Liveness`). An endless loop, a sleep (`poll_oneoff` on clocks alone),
/// and a call blocked on its reply do not answer.
extension Kernel {
    /// One thread for every init's heartbeats: it sleeps until the next
    /// init's period is due (each init keeps its own `rate_ms`).
    func startHeartbeatMonitor() {
        let thread = Thread { [weak self] in
            var lastBeat: [UInt64: Date] = [:]
            while let self {
                self.lock.lock()
                var rates: [UInt64: UInt64] = [:]
                for scope in [Self.rootScope] + self.nestedInits.map(\.id) {
                    if let rate = self.model(of: scope)?.initConfig.heartbeat?.rateMs { rates[scope] = max(rate, 1) }
                }
                let stopping = self.stopping
                self.lock.unlock()
                if stopping { return }
                let now = Date()
                var due: [UInt64] = []
                var next: Date?
                for (scope, rate) in rates {
                    let period = Double(rate) / 1000
                    guard let last = lastBeat[scope] else { lastBeat[scope] = now; next = min(next ?? .distantFuture, now + period); continue }
                    if now.timeIntervalSince(last) >= period {
                        due.append(scope)
                        lastBeat[scope] = now
                        next = min(next ?? .distantFuture, now + period)
                    } else {
                        next = min(next ?? .distantFuture, last + period)
                    }
                }
                lastBeat = lastBeat.filter { rates[$0.key] != nil }
                for scope in due.sorted() { self.heartbeat(scope: scope) }
                self.heartbeatWake.lock()
                if let next {
                    _ = self.heartbeatWake.wait(until: next)
                } else {
                    self.heartbeatWake.wait() // until a config with a <heartbeat> node, or the stop
                }
                self.heartbeatWake.unlock()
            }
        }
        thread.name = "phantom-heartbeat"
        thread.start()
    }

    /// One heartbeat to every watched child of init `scope`.
    func heartbeat(scope: UInt64 = Kernel.rootScope) {
        lock.lock()
        guard !stopping, let model = model(of: scope), model.initConfig.heartbeat != nil else { lock.unlock(); return }
        let specs = Dictionary(model.starts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var toRestart: [(Component, StartSpec)] = []
        var changed = false
        for component in children(of: scope) where component.isRunning {
            // Genode expects heartbeats only from a child that is alive, not stuck.
            guard let spec = specs[component.name], spec.heartbeat, !component.isStuck else {
                component.skippedHeartbeats = 0
                continue
            }
            let entries = component.liveness.entries.load(ordering: .relaxed)
            let answered = component.liveness.waiting.load(ordering: .relaxed) || entries != component.entriesAtLastHeartbeat
            component.entriesAtLastHeartbeat = entries
            let skipped = answered ? 0 : component.skippedHeartbeats + 1
            if skipped != component.skippedHeartbeats { changed = true }
            component.skippedHeartbeats = skipped
            if spec.restartAfterSkippedHeartbeats > 0 && skipped >= spec.restartAfterSkippedHeartbeats {
                toRestart.append((component, spec))
            }
        }
        for (component, _) in toRestart {
            say("child \"\(component.name)\" skipped \(component.skippedHeartbeats) heartbeats, restarting it", in: scope)
        }
        let signals = takePendingSignals()
        lock.unlock()
        for event in signals { scheduler.signal(event) }
        if changed { scheduler.signal(Events.report("state")) }
        for (component, spec) in toRestart {
            tearDown(component)
            start(spec, in: scope)
        }
    }
}
