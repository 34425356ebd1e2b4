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
    func startHeartbeatMonitor() {
        let thread = Thread { [weak self] in
            while let self {
                self.lock.lock()
                let rate = self.config.initConfig.heartbeat?.rateMs
                let stopping = self.stopping
                self.lock.unlock()
                if stopping { return }
                self.heartbeatWake.lock()
                if let rate {
                    _ = self.heartbeatWake.wait(until: Date(timeIntervalSinceNow: Double(max(rate, 1)) / 1000))
                } else {
                    self.heartbeatWake.wait() // until a config with a <heartbeat> node, or the stop
                }
                self.heartbeatWake.unlock()
                if rate != nil { self.heartbeat() }
            }
        }
        thread.name = "phantom-heartbeat"
        thread.start()
    }

    /// One heartbeat to every watched child.
    func heartbeat() {
        lock.lock()
        guard !stopping, config.initConfig.heartbeat != nil else { lock.unlock(); return }
        let specs = Dictionary(config.starts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var toRestart: [(Component, StartSpec)] = []
        var changed = false
        for component in components.values where component.isRunning {
            guard let spec = specs[component.name], spec.heartbeat else {
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
        lock.unlock()
        if changed { scheduler.signal(Events.report("state")) }
        for (component, spec) in toRestart {
            say("child \"\(component.name)\" skipped \(component.skippedHeartbeats) heartbeats, restarting it")
            tearDown(component)
            start(spec)
        }
    }
}
