import ArgumentParser
import Foundation
import PhantomKernel

/// Runs a script of Genode's test-init against our init: Genode's own test
/// of init (repos/os/recipes/raw/test-init/test-init.config) or one of ours.
struct TestInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-init",
        abstract: "Run a Genode test-init script against a nested init (Genode's pkg/test-init runtime).",
        discussion: """
            Sets up the runtime of Genode's pkg/test-init — report_rom, test-init with SCRIPT as \
            its config, and the nested init under test — and boots it on --image. test-init runs \
            the script's steps (init_config, expect_log, expect_warning, expect_init_state, \
            message, sleep, nop), printing `step N (type)` as each begins.

            The run is persistent like any system: after kill -9 (or a stop), running the same \
            command on the same image continues the script where the last snapshot left it; the \
            script stored in the image wins over SCRIPT. Use a new image to start over.

            Exit status: 0 once `child "test-init" exited with exit value 0`; 1 when a step was \
            not met within --step-limit (with --keep-going: when any step failed; the failed \
            steps are listed at the end); 64 for a bad argument or a script that does not parse.
            """)

    @OptionGroup var location: ImageLocation
    @Argument(help: "The test-init script (XML or HID; default: $PHANTOM_TEST_INIT_SCRIPT).")
    var script: String?
    @Option(help: "Directory of ROM modules holding the `dummy` component (default: the repository's Programs/wasm/kernel).")
    var roms: String?
    @Option(help: "Fail a step that has not completed after this long (e.g. 60s; 0 for never).",
            transform: Duration.parser(in: Duration(nanoseconds: 0)...Duration.ceiling))
    var stepLimit = Duration.seconds(60)
    @Flag(help: "Go on with the next step when one fails, to learn which steps of a script pass.")
    var keepGoing = false
    @Option(help: "Time between snapshots (10ms to 60s).",
            transform: Duration.parser(in: Duration(nanoseconds: 10_000_000)...Duration.seconds(60)))
    var snapshotEvery = Duration(nanoseconds: 200_000_000)
    @Flag(help: "Report every committed snapshot on stderr.")
    var verbose = false

    static var repositoryROMs: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Programs/wasm/kernel").path
    }

    func validate() throws {
        if script == nil && ProcessInfo.processInfo.environment["PHANTOM_TEST_INIT_SCRIPT"] == nil {
            throw ValidationError("no SCRIPT given and $PHANTOM_TEST_INIT_SCRIPT is not set")
        }
    }

    func run() throws {
        let scriptPath = script ?? ProcessInfo.processInfo.environment["PHANTOM_TEST_INIT_SCRIPT"] ?? ""
        guard let data = FileManager.default.contents(atPath: scriptPath) else {
            throw ValidationError("\(scriptPath): cannot read the script")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(scriptPath): the script is not UTF-8 text")
        }
        let limitMs = stepLimit.nanoseconds / 1_000_000
        let runtime: String
        do {
            runtime = try TestInitSystem.config(script: text, source: scriptPath,
                                                options: .init(stepLimitMs: limitMs == 0 ? nil : limitMs, keepGoing: keepGoing))
        } catch {
            throw ValidationError("\(error)")
        }
        // The runtime config beside the image: `phantom boot` reads it from there.
        let runtimePath = location.path + ".test-init.config"
        do {
            try runtime.write(toFile: runtimePath, atomically: true, encoding: .utf8)
        } catch {
            throw CommandFailure("\(runtimePath): cannot write the runtime config: \(error)")
        }
        var arguments = ["--image", location.path, "--config", runtimePath, "--roms", roms ?? Self.repositoryROMs,
                         "--until-exit", "test-init", "--snapshot-every", "\(snapshotEvery.nanoseconds / 1_000_000)ms"]
        if verbose { arguments.append("--verbose") }
        var boot = try Boot.parse(arguments)
        try boot.run()
    }
}
