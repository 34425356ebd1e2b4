import Foundation
import Testing
@testable import PhantomKernel

/// Every `*.scenario` file of this directory, one test case each.
///
/// Run one: `swift test --skip-build --filter ScenarioTests` and look for the
/// file's name; a failure names the file, the step's line and what was not
/// met. docs/SCENARIOS.md describes the format.
@Suite(.serialized) struct ScenarioTests {
    @Test(arguments: ScenarioCatalog.files())
    func scenario(_ file: String) throws {
        let scenario: Scenario
        do {
            scenario = try Scenario.load(path: ScenarioCatalog.directory + "/" + file,
                                         name: ScenarioCatalog.relativeDirectory + "/" + file)
        } catch {
            // A missing or unreadable scenario fails, expected failure or not.
            Issue.record(Comment(rawValue: error.description))
            return
        }
        let roms = try ScenarioROMs.build()
        defer { try? FileManager.default.removeItem(atPath: roms) }
        if let reason = scenario.expectedFailure {
            // The known gap must show as a failure; once the kernel is fixed
            // the scenario passes and this test fails until the mark is gone.
            // Only an unmet expectation counts: a scenario that breaks before
            // it gets there (a missing fixture, a refused config) fails.
            let runner = ScenarioRunner(scenario: scenario, romDirectory: roms, stepLimit: ScenarioCatalog.expectedFailureStepLimit)
            try withKnownIssue("expected_failure: \(reason)") {
                try runner.run()
            } matching: { issue in
                (issue.error as? ScenarioFailure)?.unmetExpectation == true
            }
        } else {
            let runner = ScenarioRunner(scenario: scenario, romDirectory: roms, stepLimit: ScenarioCatalog.stepLimit)
            do {
                try runner.run()
            } catch {
                Issue.record(Comment(rawValue: error.description))
            }
        }
    }
}

enum ScenarioCatalog {
    /// `PHANTOM_SCENARIO_DIR` runs the scenarios of another directory.
    static let relativeDirectory = ProcessInfo.processInfo.environment["PHANTOM_SCENARIO_DIR"] ?? "Tests/PhantomKernelTests/Scenarios"
    static let directory = relativeDirectory.hasPrefix("/") ? relativeDirectory : Fixtures.directory(relativeDirectory)
    /// How long one step may wait before the scenario counts as hung. Waits
    /// end on events; this only guards against a test that never ends.
    static let stepLimit: TimeInterval = 120
    /// The same for a scenario marked `expected_failure`: its failing step
    /// usually waits for something that never comes. A fixed kernel meets it
    /// in well under this.
    static let expectedFailureStepLimit: TimeInterval = 10

    /// The scenario files, sorted. With none, one entry that fails, so that a
    /// lost directory cannot pass as zero test cases.
    static func files() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let scenarios = names.filter { $0.hasSuffix(".scenario") }.sorted()
        return scenarios.isEmpty ? ["(no .scenario files in \(relativeDirectory))"] : scenarios
    }
}

/// The ROM directory of a scenario: copies of every committed component
/// fixture, built anew for each scenario so nothing one leaves behind
/// reaches the next.
enum ScenarioROMs {
    static let fixtureDirectories = ["Programs/wasm/kernel", "Programs/wasm/c"]

    static func build() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-scenario-roms-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for relative in fixtureDirectories {
            let source = Fixtures.directory(relative)
            let modules = try FileManager.default.contentsOfDirectory(atPath: source).filter { $0.hasSuffix(".wasm") }
            guard !modules.isEmpty else {
                throw ScenarioFailure(description: "no .wasm fixtures in \(relative) (Programs/build.sh builds them)")
            }
            for module in modules {
                let target = directory + "/" + module
                guard !FileManager.default.fileExists(atPath: target) else {
                    throw ScenarioFailure(description: "two fixtures named \(module) (one in \(relative))")
                }
                try FileManager.default.copyItem(atPath: source + "/" + module, toPath: target)
            }
        }
        return directory
    }
}
