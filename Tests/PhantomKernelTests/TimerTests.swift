import Foundation
import Testing
@testable import PhantomKernel

/// WASI clocks and sleeps as a personality over the component's Timer
/// session: opened through its routes at the first clock call, shown in the
/// state report, ENOTCAPABLE with one warning when not routed, and a sleep
/// in progress surviving a restore (DESIGN.md invariants 5, 6, 7).
@Suite struct TimerTests {
    static let programs = SessionTests.kernelPrograms

    static func timerClient(_ name: String, sleeps: Int, ms: Int, route: ConfigNode? = nil) -> ConfigNode {
        var start = node("start", ["name": name, "ram": "2M"], [
            node("binary", ["name": "timer_client.wasm"]),
            node("config", [:], [node("arg", ["value": "timer_client"]), node("arg", ["value": "\(sleeps)"]), node("arg", ["value": "\(ms)"])]),
        ])
        if let route { start.children.append(route) }
        return start
    }

    static let ticker = node("start", ["name": "ticker", "ram": "2M"], [node("binary", ["name": "ticker.wasm"])])

    /// The component's personality Timer sessions, as the kernel's tables hold them.
    static func timerSessions(_ kernel: Kernel, of name: String) -> [SessionImage] {
        kernel.lock.lock()
        defer { kernel.lock.unlock() }
        guard let id = kernel.components.values.first(where: { $0.name == name })?.id else { return [] }
        return kernel.image.sessions.filter { $0.client == id && $0.service == "Timer" }
    }

    @Test func aComponentWithATimerRouteReadsTheClockAndSleeps() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            Self.timerClient("timer", sleeps: 2, ms: 50),
            Self.ticker,
            // Never reads a clock: holds no Timer session (it is opened lazily).
            node("start", ["name": "server", "ram": "2M"], [
                node("binary", ["name": "echo_server.wasm"]), node("provides", [:], [node("service", ["name": "Echo"])]),
            ]),
        ]), romDirectory: Self.programs)
        #expect(harness.waitForLine { $0 == "[init] child \"timer\" exited with exit value 0" } != nil,
                "\(harness.log.lines().map(\.text))")
        let lines = harness.log.lines().map(\.text)
        for expected in ["[init -> timer] clock_res_get: 0 (success)",
                         "[init -> timer] clock_time_get monotonic: 0 (success)",
                         "[init -> timer] clock_time_get realtime: 0 (success)",
                         "[init -> timer] poll_oneoff clock: 0 (success) nevents=1 event_error: 0 (success) type=0",
                         "[init -> timer] done"] {
            #expect(lines.contains(expected), "\(expected) in \(lines)")
        }
        #expect(lines.contains { $0.hasPrefix("[init -> timer] woke 1 slept_ms=") && $0.hasSuffix(" ok") })
        #expect(lines.contains { $0.hasPrefix("[init -> timer] woke 2 slept_ms=") && $0.hasSuffix(" ok") })
        #expect(!lines.contains { $0.contains("Timer") }, "no warning: \(lines)")

        // The ticker sleeps through its Timer session, which the state report shows.
        #expect(harness.waitForLine { $0 == "[init -> ticker] tick 2" } != nil)
        let report = harness.kernel.stateReport()
        #expect(report.contains("<session service=\"Timer\" label=\"ticker\" state=\"CAP_HANDED_OUT\" ram=\"0\" caps=\"0\"/>"), "\(report)")
        #expect(report.components(separatedBy: "service=\"Timer\"").count == 2, "one Timer session (the ticker's): \(report)")
        #expect(Self.timerSessions(harness.kernel, of: "server").isEmpty)
        #expect(Self.timerSessions(harness.kernel, of: "ticker").count == 1)
    }

    @Test func withoutATimerRouteClocksAreNotCapableWithOneWarningAndTheOthersRunOn() throws {
        // Routes for everything but Timer: Genode's "no route" warning.
        let noTimer = node("route", [:], ["LOG", "ROM", "PD", "CPU"].map { node("service", ["name": $0], [node("parent")]) })
        // Timer to a child that does not exist: denied by a <service> rule, silently in
        // Genode; the personality says so itself.
        let nowhere = node("route", [:], [
            node("service", ["name": "Timer"], [node("child", ["name": "nobody"])]),
            node("any-service", [:], [node("parent")]),
        ])
        let harness = try KernelHarness(config: KernelTests.config([
            Self.ticker,
            Self.timerClient("unrouted", sleeps: 2, ms: 50, route: noTimer),
            Self.timerClient("silent", sleeps: 2, ms: 50, route: nowhere),
        ]), romDirectory: Self.programs)
        let first = harness.waitForLine { $0 == "[init] child \"unrouted\" exited with exit value 3" }
        let second = harness.waitForLine { $0 == "[init] child \"silent\" exited with exit value 3" }
        #expect(first != nil && second != nil, "\(harness.log.lines().map(\.text))")
        let lines = harness.log.lines().map(\.text)
        for name in ["unrouted", "silent"] {
            for expected in ["clock_res_get: 76 (notcapable)", "clock_time_get monotonic: 76 (notcapable)",
                             "clock_time_get realtime: 76 (notcapable)",
                             "poll_oneoff clock: 0 (success) nevents=1 event_error: 76 (notcapable) type=0",
                             "sleep 1 failed: 76 76 76", "sleep 2 failed: 76 76 76", "done"] {
                #expect(lines.contains("[init -> \(name)] \(expected)"), "\(name): \(expected) in \(lines)")
            }
        }
        // One warning each, naming the component, for its many clock calls
        // (in whichever order the two reach their first clock call).
        let warnings = lines.filter { $0.contains("Timer") && $0.hasPrefix("[init] ") }
        #expect(warnings.sorted() == [
            "[init] Warning: silent: Timer session denied (label=\"silent\"), its clocks and sleeps fail with ENOTCAPABLE",
            "[init] Warning: unrouted: no route to service \"Timer\" (label=\"unrouted\")",
        ], "\(warnings)")
        // The ticker, routed, sleeps on.
        let mark = max(first?.sequence ?? 0, second?.sequence ?? 0)
        #expect(harness.waitForLine(after: mark) { $0.hasPrefix("[init -> ticker] tick ") } != nil)
    }

    @Test func aDeniedTimerShowsInTheStateReportAndIsNotAskedForAgainAfterARestore() throws {
        // Sleeps forever; without a Timer every sleep fails at once and it
        // waits 100 ms by other means before the next round: it runs on.
        let noTimer = node("route", [:], ["LOG", "ROM", "PD", "CPU"].map { node("service", ["name": $0], [node("parent")]) })
        let config = KernelTests.config([Self.timerClient("unrouted", sleeps: 0, ms: 50, route: noTimer)])
        let harness = try KernelHarness(config: config, romDirectory: Self.programs)
        #expect(harness.waitForLine { $0 == "[init] Warning: unrouted: no route to service \"Timer\" (label=\"unrouted\")" } != nil)
        #expect(harness.waitForLine { $0 == "[init -> unrouted] sleep 3 failed: 76 76 76" } != nil)
        let report = harness.kernel.stateReport()
        #expect(report.contains("<session service=\"Timer\" label=\"unrouted\" state=\"SERVICE_DENIED\" ram=\"0\" caps=\"0\"/>"), "\(report)")
        let denied = Self.timerSessions(harness.kernel, of: "unrouted")
        #expect(denied.map(\.state) == [.denied])
        try harness.restart(config: config)
        let mark = harness.log.lines().last?.sequence ?? 0
        let next = harness.waitForLine(after: mark) { $0.hasPrefix("[init -> unrouted] sleep ") }
        #expect(next != nil)
        #expect(harness.waitForLine(after: next?.sequence ?? 0) { $0.hasPrefix("[init -> unrouted] sleep ") && $0.hasSuffix(" failed: 76 76 76") } != nil)
        #expect(!harness.log.lines(after: mark).contains { $0.text.contains("Timer") }, "no second warning after the restore")
        #expect(Self.timerSessions(harness.kernel, of: "unrouted") == denied)
    }

    @Test func aSleepInProgressSurvivesARestore() throws {
        let config = KernelTests.config([Self.ticker, Self.timerClient("sleeper", sleeps: 1, ms: 1500)])
        let harness = try KernelHarness(config: config, romDirectory: Self.programs)
        #expect(harness.waitForLine { $0 == "[init -> sleeper] sleeping 1 ms=1500" } != nil)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> ticker] tick ") } != nil)
        let before = Self.timerSessions(harness.kernel, of: "ticker").map(\.id)
        #expect(before.count == 1)
        // The snapshot catches the sleeper in its sleep (1.5 s long).
        try harness.restart(config: config)
        let mark = harness.log.lines().last?.sequence ?? 0
        let woke = harness.waitForLine(after: mark) { $0.hasPrefix("[init -> sleeper] woke 1 slept_ms=") }
        #expect(woke?.text.hasSuffix(" ok") == true, "slept its whole length by the monotonic clock: \(woke?.text ?? "none")")
        #expect(harness.waitForLine(after: mark) { $0 == "[init] child \"sleeper\" exited with exit value 0" } != nil)
        let after = harness.log.lines(after: mark).map(\.text)
        #expect(!after.contains { $0.hasPrefix("[init -> sleeper] sleeping") || $0.hasPrefix("[init -> sleeper] clock_") },
                "continued inside its sleep, not started again: \(after)")
        #expect(!after.contains { $0.contains("Timer") })
        // The restored components found their Timer sessions in the tables: none opened again.
        #expect(harness.waitForLine(after: mark) { $0.hasPrefix("[init -> ticker] tick ") } != nil)
        #expect(Self.timerSessions(harness.kernel, of: "ticker").map(\.id) == before)
        #expect(harness.kernel.stateReport().components(separatedBy: "service=\"Timer\"").count == 2)
    }

    /// The shipped system and the one-child system of `phantom run` give
    /// every child its Timer from init (their clocks and sleeps would fail
    /// with ENOTCAPABLE otherwise).
    @Test(arguments: ["system/default.config", "phantom run"])
    func shippedConfigsRouteTimerToInitForEveryChild(_ which: String) throws {
        let text = which == "phantom run"
            ? Kernel.singleProgramConfig(name: "sleeper.wasm", binary: "sleeper.wasm", arguments: ["3"], environment: [], ram: 64 << 20)
            : try String(contentsOfFile: Fixtures.directory(which), encoding: .utf8)
        let model = try InitModel.parse(text, source: which)
        let state = RoutingState(parentServices: model.parentProvides, aliases: model.initConfig.aliasTable)
        #expect(!model.initConfig.starts.isEmpty)
        for start in model.initConfig.starts {
            let request = SessionRequest(child: start.name, service: "Timer", label: SessionLabel(start.name))
            #expect(model.initConfig.resolve(request, in: state).outcome == .routed(.parent(service: "Timer", label: SessionLabel(start.name))),
                    "\(which): \(start.name)")
        }
    }
}
