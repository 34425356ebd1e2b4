import Foundation
@testable import PhantomKernel

// Scenarios in the form of Genode's test-init scripts (repos/os/src/test/init),
// run as Genode runs them: in the pkg/test-init runtime (`TestInitSystem`) —
// report_rom, our native test-init with the scenario as its config, and a
// nested init under test — on a kernel over an in-memory image. The steps
// themselves are test-init's (`TestInit/`); this file boots the runtime,
// waits for test-init's exit and turns its log into a failure message.
// docs/SCENARIOS.md describes the format; ScenarioTests runs every
// `*.scenario` file of this directory.

/// What went wrong with a scenario: a file that cannot be read or makes no
/// sense (a scenario error), or a step test-init saw fail.
struct ScenarioFailure: Error, CustomStringConvertible {
    var description: String
    /// True when a step was not met; false when the scenario could not be
    /// run as written (a bad file, a missing fixture). Only the first kind is
    /// an expected failure.
    var unmetExpectation = false
}

/// A scenario file, read and checked.
struct Scenario {
    /// Attributes of the top-level node that are ours (test-init ignores them).
    static let rootAttributes: Set<String> = ["expected_failure"]

    /// How the file is named in messages (relative to the package).
    let name: String
    let text: String
    let script: TestInitScript
    /// Set when the kernel is known to fail this scenario: the reason. The
    /// test then expects a failure, and fails once the scenario passes.
    let expectedFailure: String?

    static func load(path: String, name: String) throws(ScenarioFailure) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioFailure(description: "\(name): the scenario file cannot be read (missing?): \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioFailure(description: "\(name): the scenario file is not UTF-8")
        }
        // A warning is a mistake the parser forgave (a duplicated attribute
        // such as `+ node child | name: x`); in a test it is an error.
        if let document = try? ConfigParser.parse(text, source: name), !document.warnings.isEmpty {
            throw ScenarioFailure(description: document.warnings.joined(separator: "\n"))
        }
        let script: TestInitScript
        do {
            script = try TestInitScript.parse(text, source: name)
        } catch {
            throw ScenarioFailure(description: error.description)
        }
        let root = script.root
        for attribute in root.attributes where !rootAttributes.contains(attribute.name) {
            throw ScenarioFailure(description: "\(name):\(root.location.line): unknown attribute '\(attribute.name)' of the scenario (known: \(rootAttributes.sorted().joined(separator: ", ")))")
        }
        let expectedFailure = root[attribute: "expected_failure"]
        if let expectedFailure, expectedFailure.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ScenarioFailure(description: "\(name):\(root.location.line): expected_failure needs a reason")
        }
        guard script.steps.contains(where: { $0.type == "init_config" }) else {
            throw ScenarioFailure(description: "\(name): no init_config step, so nothing to run")
        }
        if let early = script.steps.prefix(while: { $0.type != "init_config" }).first(where: { $0.type.hasPrefix("expect_") }) {
            throw ScenarioFailure(description: "\(script.place(early)): \(early.type) before the first init_config: there is no system yet")
        }
        return Scenario(name: name, text: text, script: script, expectedFailure: expectedFailure)
    }
}

/// Plays one scenario in the test-init runtime.
final class ScenarioRunner {
    let scenario: Scenario
    let romDirectory: String
    let stepLimit: TimeInterval

    init(scenario: Scenario, romDirectory: String, stepLimit: TimeInterval) {
        self.scenario = scenario
        self.romDirectory = romDirectory
        self.stepLimit = stepLimit
    }

    /// test-init's exit line: the run is over.
    static let exitPrefix = "[init] child \"test-init\" exited with exit value "

    /// Runs the script until test-init exits; throws unless it exits with 0.
    /// With `PHANTOM_SCENARIO_TRACE` set, prints the log when done.
    func run() throws(ScenarioFailure) {
        try checkBinaries()
        let config: String
        do {
            config = try TestInitSystem.config(script: scenario.text, source: scenario.name,
                                               options: .init(stepLimitMs: UInt64(stepLimit * 1000)))
        } catch {
            throw ScenarioFailure(description: "\(error)")
        }
        let harness: KernelHarness
        do {
            harness = try KernelHarness(configText: config, source: "test-init runtime for \(scenario.name)", romDirectory: romDirectory)
        } catch {
            throw ScenarioFailure(description: "\(scenario.name): the test-init runtime did not boot: \(error)")
        }
        // Every step ends within the step limit or fails, so this only
        // guards against a runtime that never gets there.
        let guardTime = stepLimit * Double(scenario.script.steps.count + 1) + 60
        let exit = harness.log.waitForLine(timeout: guardTime) { $0.hasPrefix(Self.exitPrefix) }
        let lines = harness.log.lines().map(\.text)
        if ProcessInfo.processInfo.environment["PHANTOM_SCENARIO_TRACE"] != nil {
            print("=== \(scenario.name)\n" + lines.joined(separator: "\n"))
        }
        guard let exit else {
            throw ScenarioFailure(description: "\(scenario.name): test-init did not exit within \(Int(guardTime)) s. The last lines:\n" + lines.suffix(30).joined(separator: "\n"))
        }
        if exit.text == Self.exitPrefix + "0" { return }
        let failed = lines.last { $0.contains("] Error: ") } ?? exit.text
        var failure = ScenarioFailure(description: "\(scenario.name): \(failed)\n  test-init's log (the last 40 lines):\n" + lines.suffix(40).map { "    " + $0 }.joined(separator: "\n"))
        failure.unmetExpectation = failed.contains("not met within")
        throw failure
    }

    /// Every `start` must find its binary in the ROM directory: a missing
    /// fixture fails here, by name, not as a step that times out.
    private func checkBinaries() throws(ScenarioFailure) {
        for step in scenario.script.steps where step.type == "init_config" {
            for start in step.children(ofType: "start") {
                guard let name = start[attribute: "name"] else { continue }
                let binary = start.child(ofType: "binary")?[attribute: "name"] ?? name
                guard binary != NativeComponents.initBinary else { continue }
                let exists = [binary, binary + ".wasm"].contains { candidate in
                    !candidate.contains("/") && FileManager.default.fileExists(atPath: romDirectory + "/" + candidate)
                }
                if !exists {
                    throw ScenarioFailure(description: "\(scenario.script.place(start)): start \"\(name)\" needs the binary \"\(binary)\", which is not in the ROM directory \(romDirectory)")
                }
            }
        }
    }
}
