import Foundation
@testable import PhantomKernel

// Scenarios in the style of Genode's test-init (repos/os/src/test/init), as
// data: a file holds a sequence of steps — init configs to apply, log lines
// and state-report conditions to wait for — and this runner plays them
// against a kernel on an in-memory image. docs/SCENARIOS.md describes the
// format; ScenarioTests runs every `*.scenario` file of this directory.

/// What went wrong with a scenario: a file that cannot be read or makes no
/// sense (a scenario error), or an expectation the kernel did not meet.
struct ScenarioFailure: Error, CustomStringConvertible {
    var description: String
    /// True when an `expect_…` step was not met; false when the scenario
    /// could not be run as written (a bad file, a missing fixture, a config
    /// the kernel refused). Only the first kind is an expected failure.
    var unmetExpectation = false
}

/// A scenario file, read and checked: its steps in order.
struct Scenario {
    /// Step types, Genode's vocabulary (test-init's `main.cc`).
    static let stepTypes: Set<String> = ["init_config", "expect_log", "expect_warning", "expect_init_state",
                                         "message", "sleep", "nop"]
    /// Attributes of the top-level node.
    static let rootAttributes: Set<String> = ["expected_failure"]

    /// How the file is named in messages (relative to the package).
    let name: String
    let syntax: ConfigSyntax
    let steps: [ConfigNode]
    /// Set when the kernel is known to fail this scenario: the reason. The
    /// test then expects a failure, and fails once the scenario passes.
    let expectedFailure: String?

    /// Reads and checks `path`; `name` is what messages call it.
    static func load(path: String, name: String) throws(ScenarioFailure) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioFailure(description: "\(name): the scenario file cannot be read (missing?): \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioFailure(description: "\(name): the scenario file is not UTF-8")
        }
        let document: ConfigDocument
        do {
            document = try ConfigParser.parse(text, source: name)
        } catch {
            throw ScenarioFailure(description: "\(error)")
        }
        // A warning is a mistake the parser forgave (a duplicated attribute
        // such as `+ node child | name: x`); in a test it is an error.
        if !document.warnings.isEmpty {
            throw ScenarioFailure(description: document.warnings.joined(separator: "\n"))
        }
        let root = document.root
        for attribute in root.attributes where !rootAttributes.contains(attribute.name) {
            throw ScenarioFailure(description: "\(name):\(root.location.line): unknown attribute '\(attribute.name)' of the scenario (known: \(rootAttributes.sorted().joined(separator: ", ")))")
        }
        let expectedFailure = root[attribute: "expected_failure"]
        if let expectedFailure, expectedFailure.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ScenarioFailure(description: "\(name):\(root.location.line): expected_failure needs a reason")
        }
        let scenario = Scenario(name: name, syntax: document.syntax, steps: root.children, expectedFailure: expectedFailure)
        try scenario.check()
        return scenario
    }

    /// Where a node is, for messages: `file:line`.
    func place(_ node: ConfigNode) -> String { "\(name):\(node.location.line)" }

    /// Refuses what the runner could only find out halfway through: unknown
    /// step types, missing attributes, malformed conditions, no init config.
    private func check() throws(ScenarioFailure) {
        guard steps.contains(where: { $0.type == "init_config" }) else {
            throw ScenarioFailure(description: "\(name): no init_config step, so nothing to run")
        }
        var booted = false
        for step in steps {
            guard Self.stepTypes.contains(step.type) else {
                throw ScenarioFailure(description: "\(place(step)): unknown step '\(step.type)' (steps: \(Self.stepTypes.sorted().joined(separator: ", ")))")
            }
            switch step.type {
            case "init_config":
                booted = true
            case "expect_log", "expect_warning":
                guard step[attribute: "string"] != nil else {
                    throw ScenarioFailure(description: "\(place(step)): \(step.type) needs a string")
                }
            case "expect_init_state":
                do {
                    try StateCondition.check(step)
                } catch {
                    throw ScenarioFailure(description: "\(name):\(error.line): \(error.message)")
                }
            case "sleep":
                if let ms = step[attribute: "ms"], UInt64(ms) == nil {
                    throw ScenarioFailure(description: "\(place(step)): sleep ms '\(ms)' is not a number of milliseconds")
                }
            default:
                break
            }
            if step.type.hasPrefix("expect_") && !booted {
                throw ScenarioFailure(description: "\(place(step)): \(step.type) before the first init_config: there is no system yet")
            }
        }
    }
}

/// Plays one scenario against a kernel.
///
/// Waiting follows Genode's test-init: an `expect_log` waits for a line that
/// arrives after the previous step finished; an `expect_init_state` is checked
/// against the state report as it is and re-checked whenever the report
/// changes; lines that arrive while a state condition or a sleep is still
/// pending are not looked at by a later `expect_log` (test-init only listens
/// while it expects a line). Nothing waits for a fixed time except `sleep`;
/// `stepLimit` only ends a step that hangs.
final class ScenarioRunner {
    let scenario: Scenario
    let romDirectory: String
    let stepLimit: TimeInterval
    private var harness: KernelHarness?
    /// Log lines up to this sequence number are no candidates for `expect_log`.
    private var cursor: UInt64 = 0
    /// What happened so far, step by step, for a failure's message.
    private var transcript: [String] = []

    init(scenario: Scenario, romDirectory: String, stepLimit: TimeInterval) {
        self.scenario = scenario
        self.romDirectory = romDirectory
        self.stepLimit = stepLimit
    }

    /// Runs every step; throws at the first one that fails. With
    /// `PHANTOM_SCENARIO_TRACE` set in the environment, prints the steps, the
    /// log and the last state report when done (for writing a scenario).
    func run() throws(ScenarioFailure) {
        defer {
            if ProcessInfo.processInfo.environment["PHANTOM_SCENARIO_TRACE"] != nil { printTrace() }
            harness = nil
        }
        for (index, step) in scenario.steps.enumerated() {
            let started = Date()
            let summary = try perform(step, number: index + 1)
            let ms = Int(Date().timeIntervalSince(started) * 1000)
            transcript.append("  step \(index + 1) \(scenario.place(step)) \(step.type)\(summary.isEmpty ? "" : " " + summary): ok after \(ms) ms")
        }
    }

    private func printTrace() {
        print("=== \(scenario.name)\n\(steps)")
        guard let harness else { return }
        print("--- log\n" + harness.log.lines().map(\.text).joined(separator: "\n"))
        print("--- state report\n" + harness.kernel.stateReport())
    }

    /// The transcript so far (the steps that passed).
    var steps: String { transcript.joined(separator: "\n") }

    private func perform(_ step: ConfigNode, number: Int) throws(ScenarioFailure) -> String {
        switch step.type {
        case "init_config":
            try applyConfig(step, number: number)
            return step[attribute: "version"].map { "version \"\($0)\"" } ?? ""
        case "expect_log":
            let expected = step[attribute: "string"] ?? ""
            try expectLine(step, number: number) { $0 == expected }
            return "\"\(expected)\""
        case "expect_warning":
            // test-init matches `string` followed by the colored `colored`
            // part; we print no colors. HID cuts the blank at the end of
            // `string: [init] `, so a blank between the two parts is optional.
            let string = step[attribute: "string"] ?? ""
            let colored = step[attribute: "colored"] ?? ""
            let expected = string + colored
            let spaced = colored.isEmpty || string.hasSuffix(" ") ? expected : string + " " + colored
            try expectLine(step, number: number) { $0 == expected || $0 == spaced }
            return "\"\(spaced)\""
        case "expect_init_state":
            try expectState(step, number: number)
            return ""
        case "message":
            return "--- \(step[attribute: "string"] ?? "") ---"
        case "sleep":
            let ms = UInt64(step[attribute: "ms"] ?? "") ?? 250
            Thread.sleep(forTimeInterval: Double(ms) / 1000)
            if let log = harness?.log { cursor = max(cursor, lastSequence(of: log)) }
            return "\(ms) ms"
        default:  // nop
            return ""
        }
    }

    // MARK: - init_config

    /// The step's node as init's config (test-init publishes it as `<config>`
    /// with the step's `version`): boots the system on the first, applies the
    /// later ones at run time.
    private func applyConfig(_ step: ConfigNode, number: Int) throws(ScenarioFailure) {
        var config = step
        config.type = "config"
        let text: String
        do {
            text = try ConfigRenderer.render(config, as: scenario.syntax)
        } catch {
            throw failure(step, number: number, "the init config cannot be rendered: \(error)")
        }
        try checkBinaries(in: step, number: number)
        let source = "init_config at \(scenario.place(step))"
        if let harness {
            do {
                try harness.kernel.apply(configText: text, source: source)
            } catch {
                throw failure(step, number: number, "the kernel refused the config: \(error)\n\(text)")
            }
        } else {
            do {
                harness = try KernelHarness(configText: text, source: source, romDirectory: romDirectory)
            } catch {
                throw failure(step, number: number, "the kernel did not boot: \(error)\n\(text)")
            }
        }
    }

    /// Every `start` must find its binary in the ROM directory: a missing
    /// fixture fails here, by name, not as an expectation that times out.
    private func checkBinaries(in step: ConfigNode, number: Int) throws(ScenarioFailure) {
        for start in step.children(ofType: "start") {
            guard let name = start[attribute: "name"] else { continue }
            let binary = start.child(ofType: "binary")?[attribute: "name"] ?? name
            let exists = [binary, binary + ".wasm"].contains { candidate in
                !candidate.contains("/") && FileManager.default.fileExists(atPath: romDirectory + "/" + candidate)
            }
            if !exists {
                throw failure(step, number: number, "start \"\(name)\" (line \(start.location.line)) needs the binary \"\(binary)\", which is not in the ROM directory \(romDirectory)")
            }
        }
    }

    // MARK: - expect_log, expect_warning

    private func expectLine(_ step: ConfigNode, number: Int, _ matches: @escaping (String) -> Bool) throws(ScenarioFailure) {
        guard let log = harness?.log else { throw failure(step, number: number, "no system is running") }
        if let line = log.waitForLine(after: cursor, timeout: stepLimit, matches) {
            cursor = line.sequence
            return
        }
        throw failure(step, number: number, "not seen within \(Int(stepLimit)) s. \(seenLines(log, like: step[attribute: "string"] ?? ""))")
    }

    /// The lines after the cursor a reader of a failure wants: those from the
    /// same component as the expected line, init's own, and the last few.
    private func seenLines(_ log: KernelLog, like expected: String) -> String {
        let candidates = log.lines(after: cursor)
        guard !candidates.isEmpty else { return "No log line came after the previous step." }
        var parts: [String] = []
        if let first = candidates.first, first.sequence > cursor + 1 {
            parts.append("(\(first.sequence - cursor - 1) lines fell out of the log's ring before they were read)")
        }
        func section(_ title: String, _ lines: ArraySlice<KernelLog.Line>) {
            guard !lines.isEmpty else { return }
            parts.append(title + ":\n" + lines.map { "    \($0.text)" }.joined(separator: "\n"))
        }
        if let end = expected.firstIndex(of: "]"), expected.hasPrefix("[init -> ") {
            let prefix = String(expected[...end])
            section("Lines of \(prefix) since the previous step (the last 20)", candidates.filter { $0.text.hasPrefix(prefix) }.suffix(20))
        }
        section("Lines of [init] since the previous step (the last 20)", candidates.filter { $0.text.hasPrefix("[init] ") }.suffix(20))
        section("The last 10 lines", candidates.suffix(10))
        return parts.joined(separator: "\n  ")
    }

    // MARK: - expect_init_state

    /// Checks the condition against the state report, and again whenever the
    /// report changes. The kernel has no notification of state changes: the
    /// report is re-read when a log line arrives and at least every 20 ms.
    private func expectState(_ step: ConfigNode, number: Int) throws(ScenarioFailure) {
        guard let harness else { throw failure(step, number: number, "no system is running") }
        let deadline = Date(timeIntervalSinceNow: stepLimit)
        var lastReport = ""
        var lastMismatch = ""
        var skipTo: UInt64?
        var seen = lastSequence(of: harness.log)
        while true {
            let mark = lastSequence(of: harness.log)
            let report = harness.kernel.stateReport()
            if report != lastReport {
                lastReport = report
                let state: ConfigNode
                do {
                    state = try ConfigParser.parse(report, source: "state report").root
                } catch {
                    throw failure(step, number: number, "the state report does not parse: \(error)\n\(report)")
                }
                let mismatch: String?
                do {
                    mismatch = try StateCondition.mismatch(step, in: state)
                } catch {
                    throw failure(step, number: number, "line \(error.line): \(error.message)")
                }
                guard let mismatch else {
                    if let skipTo { cursor = max(cursor, skipTo) }
                    return
                }
                lastMismatch = mismatch
            }
            // The condition does not hold as of `mark`: test-init would not
            // have looked at the lines that came until then.
            skipTo = mark
            if Date() >= deadline {
                throw failure(step, number: number, "the state report did not match within \(Int(stepLimit)) s: \(lastMismatch)\n  last state report:\n\(lastReport)")
            }
            if let line = harness.log.waitForLine(after: seen, timeout: 0.02, { _ in true }) {
                seen = lastSequence(of: harness.log, atLeast: line.sequence)
            }
        }
    }

    // MARK: - Helpers

    /// The sequence number of the log's newest line. `known` is one the
    /// caller has seen (all numbers up to the cursor exist), so only the
    /// lines after it are copied.
    private func lastSequence(of log: KernelLog, atLeast known: UInt64 = 0) -> UInt64 {
        let base = max(cursor, known)
        return log.lines(after: base).last?.sequence ?? base
    }

    private func failure(_ step: ConfigNode, number: Int, _ what: String) -> ScenarioFailure {
        var failure = describe(step, number: number, what)
        failure.unmetExpectation = step.type.hasPrefix("expect_")
        return failure
    }

    private func describe(_ step: ConfigNode, number: Int, _ what: String) -> ScenarioFailure {
        var text = "\(scenario.place(step)): step \(number) (\(step.type))"
        if let string = step[attribute: "string"] { text += " \"\(string)\(step[attribute: "colored"].map { " " + $0 } ?? "")\"" }
        text += ": \(what)"
        if !transcript.isEmpty { text += "\n  steps that passed:\n\(steps)" }
        return ScenarioFailure(description: text)
    }
}
