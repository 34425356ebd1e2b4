import Foundation
import Testing

/// Where the committed WebAssembly fixtures are (Programs/wasm, built by Programs/build.sh).
func fixture(_ path: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Programs/wasm").appendingPathComponent(path).path
}

/// `phantom run` follows wasmtime's conventions: arguments after the module
/// are the program's, its exit code is phantom's, a trap exits non-zero with
/// its message, bad modules are refused with the offset and the reason.
@Suite struct WasmRunTests {
    private func run(_ arguments: [String], in directory: URL) throws -> PhantomProcess.Output {
        try PhantomProcess.run(arguments, in: directory)
    }

    @Test func argumentsEnvironmentAndExitCode() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try run(["run", "--env", "PHANTOM_GREETING=hello", fixture("c/args_env.wasm"), "42", "--not-an-option"], in: directory)
        #expect(output.status == 42)
        #expect(output.lines.contains("argv[0]=args_env.wasm"))
        #expect(output.lines.contains("argv[2]=--not-an-option"), "arguments after the module are the program's")
        #expect(output.stdout.contains("PHANTOM_GREETING=hello"))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("args_env.img").path))

        // The image is the instance: the same command again does not run a finished program twice.
        let again = try run(["run", fixture("c/args_env.wasm"), "42"], in: directory)
        #expect(again.status == 42)
        #expect(again.stdout.isEmpty)
        #expect(again.stderr.contains("already ran to completion (exit 42); --fresh runs it again"))
        let fresh = try run(["run", "--fresh", fixture("c/args_env.wasm"), "7"], in: directory)
        #expect(fresh.status == 7 && fresh.stdout.contains("argv[1]=7"))
    }

    @Test(arguments: [
        ("traps/div_zero.wasm", "integer divide by zero"),
        ("traps/int_overflow.wasm", "integer overflow"),
        ("traps/oob_load.wasm", "out of bounds memory access"),
        ("traps/unreachable.wasm", "unreachable"),
        ("traps/bad_indirect.wasm", "indirect call type mismatch"),
        ("traps/stack_exhaust.wasm", "call stack exhausted"),
    ])
    func trapsEndTheProgramWithTheirMessage(program: String, message: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try run(["run", fixture(program)], in: directory)
        #expect(output.status == 134)
        #expect(output.stderr.contains("trapped: \(message)"), "\(output.stderr)")
    }

    @Test func memoryGrowPastTheLimitReturnsMinusOne() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try run(["run", fixture("traps/grow_limit.wasm")], in: directory)
        #expect(output.status == 0)
        #expect(output.stdout.contains("grow +65536 -> -1"))
    }

    @Test func anEndlessLoopIsPreemptedAndStopsCleanly() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("loop.img").path
        // SIGINT once two generations were committed while it looped: a clean
        // stop despite the loop never reaching a host call.
        let output = try PhantomProcess.runUntil(
            ["run", "--image", image, "--snapshot-every", "20ms", "--verbose", fixture("traps/infinite_loop.wasm")],
            ready: { _, stderr in stderr.contains("generation 2 committed") }, signal: SIGINT)
        #expect(output.status == 130, "\(output.stderr)")
        #expect(output.stderr.contains("stopped by SIGINT; `phantom resume --image"), "\(output.stderr)")
        let resumed = try PhantomProcess.runUntil(
            ["resume", "--image", image, "--snapshot-every", "20ms", "--verbose"],
            ready: { _, stderr in stderr.contains(" committed (") }, signal: SIGTERM)
        #expect(resumed.status == 143, "SIGTERM exits 143 after a final snapshot: \(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming infinite_loop.wasm") && resumed.stderr.contains("stopped by SIGTERM"), "\(resumed.stderr)")
        let hungUp = try PhantomProcess.runUntil(
            ["resume", "--image", image, "--snapshot-every", "20ms", "--verbose"],
            ready: { _, stderr in stderr.contains(" committed (") }, signal: SIGHUP)
        #expect(hungUp.status == 129, "SIGHUP stops like SIGTERM: \(hungUp.stderr)")
        #expect(hungUp.stderr.contains("stopped by SIGHUP"), "\(hungUp.stderr)")
    }

    @Test func badModulesAreRefusedWithOffsetAndReason() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let truncated = directory.appendingPathComponent("truncated.wasm")
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture("c/counter.wasm")))
        try original.prefix(100).write(to: truncated)
        let foreign = directory.appendingPathComponent("notes.wasm")
        try Data("definitely not wasm".utf8).write(to: foreign)
        // A type error: i32.add on an i64 constant.
        let invalid = directory.appendingPathComponent("invalid.wasm")
        try Data([0, 0x61, 0x73, 0x6D, 1, 0, 0, 0,
                  1, 5, 1, 0x60, 0, 1, 0x7F,        // type: [] -> [i32]
                  3, 2, 1, 0,                       // one function of type 0
                  10, 9, 1, 7, 0, 0x42, 1, 0x41, 1, 0x6A, 0x0B]).write(to: invalid) // i64.const 1 i32.const 1 i32.add
        for (file, expected) in [(truncated, "at offset 0x64"), (foreign, "magic header not detected"),
                                 (invalid, "type mismatch")] {
            let output = try run(["run", file.path], in: directory)
            #expect(output.status == 1, "\(file.lastPathComponent)")
            #expect(output.stderr.contains(file.lastPathComponent) && output.stderr.contains(expected), "\(output.stderr)")
        }
        let missing = try run(["run", "nothing-here.wasm"], in: directory)
        #expect(missing.status == 1 && missing.stderr.contains("nothing-here.wasm: no such file"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("USAGE"), "a missing file is not a usage error: \(missing.stderr)")
        let folder = try run(["run", directory.path], in: directory)
        #expect(folder.status == 1 && folder.stderr.contains("is a directory, not a WebAssembly module"), "\(folder.stderr)")
        let emptyDirectory = try run(["run", "--dir", "", fixture("c/args_env.wasm")], in: directory)
        #expect(emptyDirectory.status != 0 && emptyDirectory.stderr.contains("--dir needs a host directory"), "\(emptyDirectory.stderr)")
        // None of the refused modules left an image behind.
        let images = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".img") }
        #expect(images.isEmpty, "\(images)")
        let badEnvironment = try run(["run", "--env", "NOEQUALS", fixture("c/args_env.wasm")], in: directory)
        #expect(badEnvironment.status != 0 && badEnvironment.stderr.contains("--env takes NAME=VALUE"))
        let badDirectory = try run(["run", "--dir", "/no/such/dir", fixture("c/args_env.wasm")], in: directory)
        #expect(badDirectory.status != 0 && badDirectory.stderr.contains("/no/such/dir is not a directory"))
    }

    @Test func anImageHoldingAnotherUnfinishedProgramIsNotOverwritten() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("shared.img").path
        let killed = try PhantomProcess.runAndKillAfterCommit(["run", "--image", image, "--snapshot-every", "20ms", "--verbose", fixture("c/counter.wasm"), "0", "1000"])
        #expect(killed.status == SIGKILL, "\(killed.stderr)")
        let before = FileManager.default.contents(atPath: image)
        let other = try run(["run", "--image", image, fixture("c/args_env.wasm")], in: directory)
        #expect(other.status != 0 && other.stderr.contains("holds an unfinished run of counter.wasm"), "\(other.stderr)")
        #expect(FileManager.default.contents(atPath: image) == before)
        let replaced = try run(["run", "--fresh", "--image", image, fixture("c/args_env.wasm"), "3"], in: directory)
        #expect(replaced.status == 3)
    }
}
