import Foundation
import PhantomEngine

/// Genode's test-init as a component the kernel implements (`binary
/// "test-init"`): it runs the script its config ROM holds against a nested
/// init, as in Genode's `pkg/test-init` runtime (`TestInitRuntime.swift`
/// builds one). It provides the LOG service the nested init and its children
/// log to, publishes each `init_config` step as its report `init.config`,
/// and reads the nested init's state report as its ROM `state`.
///
/// Its progress is in the tables (`TestInitImage`) and changes under the
/// kernel's lock together with what caused it, so after kill -9 a restored
/// test-init goes on with the step the snapshot holds, against children
/// restored at the same instant. One host thread drives every test-init:
/// it runs steps until one has to wait — for a log line (matched as it
/// arrives, `testInitReceived`), a new state report, or a sleep's end.
extension Kernel {
    /// Starts the driver; it sleeps while there is nothing to do.
    func startTestInitDriver() {
        let thread = Thread { [weak self] in
            while let self {
                if self.stopRequested.load(ordering: .relaxed) { return }
                let deadline = self.runTestInits()
                self.testInitWake.wait(until: deadline) { self.stopRequested.load(ordering: .relaxed) }
            }
        }
        thread.name = "phantom-test-init"
        thread.start()
    }

    /// Makes the driver look at every test-init again. May be called with
    /// the kernel's lock held.
    func wakeTestInits() { testInitWake.signal() }

    /// A report changed: a test-init waiting for a state may go on. Lock held.
    func reportPublished(to server: Component) {
        wakeTestInits()
    }

    /// Runs every test-init's steps until each waits; returns when the
    /// earliest of them wants to be looked at again (a sleep's end or a
    /// step's limit), nil for "when woken".
    private func runTestInits() -> Date? {
        var finished: [(Component, UInt32)] = []
        var deadline: Date?
        space.safepoints.register()
        lock.lock()
        for component in components.values.sorted(by: { $0.id < $1.id })
        where component.image.native == NativeComponents.testInitBinary && component.isRunning && !stopping {
            switch runSteps(of: component) {
            case let .waiting(until):
                if let until { deadline = min(deadline ?? until, until) }
            case let .finished(code):
                finished.append((component, code))
            }
        }
        let signals = takePendingSignals()
        lock.unlock()
        space.safepoints.unregister()
        for event in signals { scheduler.signal(event) }
        for (component, code) in finished { endNative(component, exitCode: code) }
        return deadline
    }

    private enum StepProgress {
        case waiting(until: Date?)
        case finished(exitCode: UInt32)
    }

    /// Runs `component`'s steps from the current one. Lock held.
    private func runSteps(of component: Component) -> StepProgress {
        guard let runtime = testInitRuntime(of: component) else { return .finished(exitCode: 2) }
        let script = runtime.script
        var progress = component.image.testInit ?? TestInitImage()
        defer {
            if component.image.testInit != progress {
                component.image.testInit = progress
                syncImage(component)
            }
        }
        while true {
            guard progress.step < script.steps.count else {
                if !progress.failures.isEmpty {
                    testInitSay("\(progress.failures.count) of \(script.steps.count) steps failed:", component)
                    for failure in progress.failures { testInitSay("  \(failure)", component) }
                }
                return .finished(exitCode: progress.failures.isEmpty ? 0 : 1)
            }
            let step = script.steps[progress.step]
            if runtime.announcedStep != progress.step {
                runtime.announcedStep = progress.step
                runtime.stepStarted = Date()
                runtime.lastRejectedState = []
                testInitSay("step \(progress.step) (\(step.type))", component)
            }
            var waitUntil: Date?
            switch step.type {
            case "message":
                testInitSay("--- \(step[attribute: "string"] ?? "") ---", component)
                progress.step += 1
                continue
            case "nop":
                progress.step += 1
                continue
            case "init_config":
                do {
                    let text = try script.initConfigText(step)
                    try publishInitConfig(text, by: component)
                } catch {
                    testInitSay("Error: step \(progress.step) (init_config) at \(script.place(step)): \(error)", component)
                    return .finished(exitCode: 1)
                }
                progress.step += 1
                continue
            case "sleep":
                let now = wallClockNow()
                if progress.sleepUntil == nil {
                    let ms = step[attribute: "ms"].flatMap { UInt64($0) } ?? TestInitScript.defaultSleepMs
                    progress.sleepUntil = now + ms * 1_000_000
                }
                if let until = progress.sleepUntil, now < until {
                    return .waiting(until: Date(timeIntervalSinceNow: Double(until - now) / 1e9))
                }
                progress.sleepUntil = nil
                progress.step += 1
                continue
            case "expect_init_state":
                let state = romContent(for: component.id, name: "state")?.content ?? []
                if let mismatch = stateMismatch(step, in: state) {
                    if state != runtime.lastRejectedState {
                        runtime.lastRejectedState = state
                        testInitSay("init state does not match: \(mismatch)", component)
                    }
                } else {
                    progress.step += 1
                    continue
                }
            default:  // expect_log, expect_warning: `testInitReceived` advances
                break
            }
            // The step waits; its limit, if the script sets one, ends the wait.
            if let limit = script.stepLimitMs {
                let end = runtime.stepStarted.addingTimeInterval(Double(limit) / 1000)
                if Date() >= end {
                    let failure = "step \(progress.step) (\(step.type)) at \(script.place(step))\(describeExpectation(step)): not met within \(limit) ms"
                    testInitSay("Error: \(failure)", component)
                    guard script.keepGoing else { return .finished(exitCode: 1) }
                    progress.failures.append(failure)
                    progress.step += 1
                    continue
                }
                waitUntil = end
            }
            return .waiting(until: waitUntil)
        }
    }

    private func describeExpectation(_ step: ConfigNode) -> String {
        guard let string = step[attribute: "string"] else { return "" }
        return " \"\(string)\(step[attribute: "colored"].map { " " + $0 } ?? "")\""
    }

    /// Why the state report `state` does not meet the step's condition; nil
    /// when it does. No report yet is a mismatch.
    private func stateMismatch(_ step: ConfigNode, in state: [UInt8]) -> String? {
        guard !state.isEmpty else { return "no state report yet" }
        do {
            let root = try ConfigParser.parse(String(decoding: state, as: UTF8.self), source: "state report").root
            return try StateCondition.mismatch(step, in: root)
        } catch {
            return "the state report cannot be read: \(error)"
        }
    }

    /// The script and timers of a test-init, read from its config ROM on
    /// first use (and after a restore). A script that cannot be read ends
    /// the test-init with exit value 2. Lock held.
    private func testInitRuntime(of component: Component) -> TestInitRuntime? {
        if let runtime = component.testInit { return runtime }
        guard let (content, _) = romContent(for: component.id, name: "config"), !content.isEmpty else {
            testInitSay("Error: no config ROM: test-init's config is its script", component)
            return nil
        }
        do {
            let script = try TestInitScript.parse(String(decoding: content, as: UTF8.self), source: "config of \(component.name)")
            let runtime = TestInitRuntime(script: script)
            component.testInit = runtime
            return runtime
        } catch {
            testInitSay("Error: \(error)", component)
            return nil
        }
    }

    /// Publishes an `init_config` step as the report `init.config`, through
    /// test-init's Report route. Lock held.
    private func publishInitConfig(_ text: String, by component: Component) throws(TestInitScript.Problem) {
        if let problem = publishReport(Array(text.utf8), by: component, label: "init.config") {
            throw TestInitScript.Problem(description: problem)
        }
    }

    /// A line on test-init's LOG service, from the session labelled `label`:
    /// test-init prints it with the verdict and, when it is the line the
    /// current step expects, goes on with the next step. Lock held.
    func testInitReceived(line: String, label: String, server: Component) {
        let message = "[\(label)] \(TestInitScript.withoutColours(line))"
        var verdict = "ignored"
        // After a restore a line may come before the driver looked at the
        // script: read it now, so that the line is not lost.
        if server.isRunning, let runtime = testInitRuntime(of: server), var progress = server.image.testInit,
           progress.step < runtime.script.steps.count {
            let step = runtime.script.steps[progress.step]
            if step.type == "expect_log" || step.type == "expect_warning", TestInitScript.matcher(for: step)(message) {
                verdict = "expected"
                progress.step += 1
                server.image.testInit = progress
                syncImage(server)
                wakeTestInits()
            }
        }
        testInitSay("\(message) (\(verdict))", server)
    }

    /// test-init's own log line, through its LOG session. Lock held.
    private func testInitSay(_ text: String, _ component: Component) {
        var signals: [KernelEvent] = []
        componentOutputLocked(component.id, descriptor: 1, bytes: Array((text + "\n").utf8), signals: &signals)
        pendingSignals += signals
    }

    /// A native component ends with `exitCode` (test-init's `parent().exit`):
    /// reported by its init, its sessions closed, like a WebAssembly
    /// component's exit.
    func endNative(_ component: Component, exitCode: UInt32) {
        space.safepoints.register()
        lock.lock()
        guard component.isRunning, !stopping else {
            lock.unlock()
            space.safepoints.unregister()
            return
        }
        component.image.state = .exited(code: exitCode)
        say("child \"\(component.name)\" exited with exit value \(exitCode)", in: scope(of: component))
        let events = closeSessions(of: component) + takePendingSignals()
        syncImage(component)
        lock.unlock()
        space.safepoints.unregister()
        for event in events { scheduler.signal(event) }
        ends.lock()
        ends.broadcast()
        ends.unlock()
    }
}
