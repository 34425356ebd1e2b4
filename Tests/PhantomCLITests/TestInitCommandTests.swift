import Foundation
import PhantomStore
import Testing

/// `phantom test-init`: Genode's test-init runtime (report_rom, test-init,
/// a nested init) on a persistent image, driven by a script.
@Suite struct TestInitCommandTests {
    static let exitLine = "[init] child \"test-init\" exited with exit value 0"
    /// A script of the repository (test-init steps against `dummy` children).
    static var repositoryScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PhantomKernelTests/Scenarios/genode-dummy.scenario").path
    }

    /// A script of two configs and their log lines, in HID.
    static var shortScript: String { shortSteps + "\n-\n" }
    static let shortSteps = """
        config
        + message | string: short
        + init_config | version: one
          + report | ids: yes
          + parent-provides
            + service ROM
            + service CPU
            + service PD
            + service LOG
          + start hello | ram: 2M | caps: 100
            + binary dummy
            + config
              + log | string: hello
            + route
              + any-service
                + parent
        + expect_log | string: [init -> hello] hello
        + expect_init_state
          + attribute version | value: one
          + node child
            + attribute name | value: hello
            + attribute id | value: 1
        """

    @Test func aScriptRunsToTestInitsExit() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("short.config")
        try Self.shortScript.write(to: script, atomically: true, encoding: .utf8)
        let output = try PhantomProcess.run(["test-init", "--image", directory.appendingPathComponent("t.img").path, script.path])
        #expect(output.status == 0, "\(output.stdout)\n\(output.stderr)")
        #expect(output.lines.contains(Self.exitLine))
        // test-init's own lines: each step as it begins, the expected line marked.
        #expect(output.lines.contains("[init -> test-init] step 2 (expect_log)"))
        #expect(output.lines.contains("[init -> test-init] [init -> hello] hello (expected)"))
    }

    @Test func theScriptMayComeFromTheEnvironment() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("from-env.config")
        try Self.shortScript.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = PhantomProcess.executable
        process.arguments = ["test-init", "--image", directory.appendingPathComponent("t.img").path]
        process.environment = ProcessInfo.processInfo.environment.merging(["PHANTOM_TEST_INIT_SCRIPT": script.path]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(String(decoding: data, as: UTF8.self).contains(Self.exitLine))
    }

    @Test func aStepThatIsNotMetFailsTheRunByName() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("failing.config")
        // The second expect_log waits for a line nobody prints; the last
        // step is met, so --keep-going gets there and counts one failure.
        try (Self.shortSteps + "\n+ expect_log | string: [init -> hello] never printed\n+ nop\n-\n")
            .write(to: script, atomically: true, encoding: .utf8)
        let image = directory.appendingPathComponent("t.img").path
        // The limit only decides how long the step that can never be met
        // waits; the steps before it are met in well under it even on a
        // loaded machine (they take milliseconds).
        let failed = try PhantomProcess.run(["test-init", "--image", image, "--step-limit", "10s", script.path])
        #expect(failed.status == 1, "\(failed.stdout)\n\(failed.stderr)")
        #expect(failed.stdout.contains("Error: step 4 (expect_log) at config of test-init:23 \"[init -> hello] never printed\": not met within 10000 ms"), "\(failed.stdout)")
        #expect(failed.lines.contains("[init] child \"test-init\" exited with exit value 1"))

        let keptGoing = try PhantomProcess.run(["test-init", "--image", image + "2", "--step-limit", "10s", "--keep-going", script.path])
        #expect(keptGoing.status == 1)
        #expect(keptGoing.stdout.contains("[init -> test-init] step 5 (nop)"), "\(keptGoing.stdout)")
        #expect(keptGoing.stdout.contains("1 of 6 steps failed:"), "\(keptGoing.stdout)")
    }

    @Test func badScriptsAndArgumentsAreRefusedWithTheirPlace() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("t.img").path
        let unknown = directory.appendingPathComponent("unknown.config")
        try "config\n+ message | string: x\n+ expect_magic | string: y\n-\n".write(to: unknown, atomically: true, encoding: .utf8)
        let refused = try PhantomProcess.run(["test-init", "--image", image, unknown.path])
        #expect(refused.status == 64 && !refused.killedBySignal)
        #expect(refused.stderr.contains("\(unknown.path):3: unknown step 'expect_magic'"), "\(refused.stderr)")

        let malformed = directory.appendingPathComponent("malformed.config")
        try "<config><init_config></config>".write(to: malformed, atomically: true, encoding: .utf8)
        let bad = try PhantomProcess.run(["test-init", "--image", image, malformed.path])
        #expect(bad.status == 64 && !bad.killedBySignal)
        #expect(bad.stderr.contains(malformed.path), "\(bad.stderr)")

        let condition = directory.appendingPathComponent("condition.config")
        try "config\n+ init_config\n+ expect_init_state\n  + attribute name | value: a | higher: 2M\n-\n".write(to: condition, atomically: true, encoding: .utf8)
        let badCondition = try PhantomProcess.run(["test-init", "--image", image, condition.path])
        #expect(badCondition.status == 64)
        #expect(badCondition.stderr.contains("exactly one of value, higher, lower"), "\(badCondition.stderr)")

        let missing = try PhantomProcess.run(["test-init", "--image", image, directory.appendingPathComponent("absent.config").path])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("cannot read the script"), "\(missing.stderr)")
        // Nothing was booted for any of them.
        #expect(!FileManager.default.fileExists(atPath: image))
    }

    /// The whole run is persistent: killed with SIGKILL at steps chosen at
    /// random (each kill waits for its step's line, a readiness signal), the
    /// same command on the same image goes on and still ends in exit value 0.
    @Test func theRunSurvivesKillNine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("t.img").path
        let arguments = ["test-init", "--image", image, "--snapshot-every", "20ms", Self.repositoryScript]
        var generator = SplitMix64(seed: 0x7e57_1417)
        var kills = 0
        var finished: PhantomProcess.Output?
        for round in 0..<6 {
            let step = 2 + Int(generator.next() % 13)
            let output = try PhantomProcess.runUntil(arguments, ready: { stdout, _ in
                stdout.contains("[init -> test-init] step \(step) (") || stdout.contains(Self.exitLine)
            })
            if round > 0 { #expect(output.stderr.contains("phantom: booting \(image) from generation"), "round \(round): \(output.stderr)") }
            if output.killedBySignal {
                kills += 1
                continue
            }
            finished = output
            break
        }
        if finished == nil { finished = try PhantomProcess.run(arguments) }
        #expect(kills >= 1, "no run was killed")
        #expect(finished?.status == 0, "\(finished?.stdout ?? "")\n\(finished?.stderr ?? "")")
        #expect(finished?.lines.contains(Self.exitLine) == true)
    }
}
