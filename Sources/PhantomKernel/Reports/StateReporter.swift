import Foundation

extension Kernel {
    /// Genode's state reporter: with a `<report>` node, init's state report is
    /// looked at every `delay_ms` and whoever waits on the ROM `state` is woken
    /// when it changed. Without one, no thread runs.
    func startStateReporter() {
        let thread = Thread { [weak self] in
            var last: UInt64 = 0
            while let self {
                self.lock.lock()
                let report = self.config.initConfig.report
                let stopping = self.stopping
                let text = report.map { Array(self.stateReportLocked(ReportOptions($0)).utf8) }
                self.lock.unlock()
                if stopping { return }
                if let text {
                    let version = Kernel.contentVersion(text)
                    if version != last {
                        last = version
                        self.scheduler.signal(Events.report("state"))
                    }
                }
                self.reporterWake.lock()
                if let report {
                    _ = self.reporterWake.wait(until: Date(timeIntervalSinceNow: Double(max(report.delayMs, 10)) / 1000))
                } else {
                    self.reporterWake.wait() // until a config with a <report> node, or the stop
                }
                self.reporterWake.unlock()
            }
        }
        thread.name = "phantom-state-reporter"
        thread.start()
    }
}
