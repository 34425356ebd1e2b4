import Foundation
import PhantomVM
import Testing
@testable import PhantomKernel

/// Phantom VM components: a start node whose binary is a class bundle boots
/// a Phantom VM, which runs beside WebAssembly components, prints to the
/// LOG, continues after a restart from the same cut, and is held to its RAM
/// quota (`Kernel+PhantomVM.swift`).
@Suite struct PhantomVMComponentTests {
    /// The classes of `Programs/pvm/NAME` assembled into a bundle.
    static func bundle(_ name: String) throws -> [UInt8] {
        let directory = Fixtures.directory("Programs/pvm/\(name)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".pas") }.sorted()
        #expect(!files.isEmpty, "no .pas files in \(directory)")
        return try bundle(texts: files.map { (try String(contentsOfFile: directory + "/" + $0, encoding: .utf8), $0) })
    }

    static func bundle(texts: [(String, String)]) throws -> [UInt8] {
        let entries = try texts.map { text, file in
            let classFile = try Assembler.assemble(text, file: file)
            return ClassBundle.Entry(name: String(classFile.name.dropFirst()), bytes: try classFile.encoded())
        }
        return try ClassBundle(entries: entries, source: "test").encoded()
    }

    static func romDirectory(_ bundles: [String: [UInt8]]) throws -> String {
        let directory = try IsolationTests.romDirectory(with: ["c/counter.wasm"])
        for (name, bytes) in bundles { try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name)) }
        return directory
    }

    @Test func theRegressionProgramRunsAsAComponentBesideWebAssembly() throws {
        let directory = try Self.romDirectory(["regression.bundle": try Self.bundle("regression")])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "pvm", "ram": "8M"], [node("binary", ["name": "regression.bundle"])]), IsolationTests.counter,
        ]), romDirectory: directory)
        #expect(harness.waitForLine { $0 == "[init -> pvm] Finished compiler regression tests" } != nil)
        #expect(harness.waitForLine { $0 == "[init] child \"pvm\" exited with exit value 0" } != nil)
        #expect(harness.waitForLine { $0 == "[init -> counter] count 5000" } != nil)
        let lines = harness.log.lines().map { $0.text }
        #expect(!lines.contains { $0.contains("Exception") || $0.contains("error") }, "\(lines.filter { $0.contains("pvm") })")
    }

    @Test func itContinuesAfterRestartsAndBootsOnce() throws {
        let directory = try Self.romDirectory(["persistence.bundle": try Self.bundle("persistence")])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = KernelTests.config([
            node("start", ["name": "pvm", "ram": "16M"], [node("binary", ["name": "persistence.bundle"])]), IsolationTests.counter,
        ])
        let harness = try KernelHarness(config: config, romDirectory: directory)
        var mark: UInt64 = 0
        for _ in 0..<3 {
            // A count line after the last restart is the readiness signal.
            let line = harness.waitForLine(after: mark) { $0.hasPrefix("[init -> pvm] count ") }
            #expect(line != nil)
            try harness.restart(config: config)
            mark = harness.log.lines().last?.sequence ?? 0
        }
        #expect(harness.waitForLine { $0 == "[init] child \"pvm\" exited with exit value 0" } != nil)
        let lines = harness.log.lines().map { $0.text }
        for done in ["counter done", "recursion done", "rings done"] { #expect(lines.contains("[init -> pvm] \(done)")) }
        #expect(lines.filter { $0 == "[init -> pvm] boot" }.count == 1, "boot ran once")
        #expect(!lines.contains { $0.contains("broken") })
        // Counts never skip ahead: each is the one before plus 20000, or a
        // repetition after a restart of what followed the last snapshot.
        let counts = lines.compactMap { $0.hasPrefix("[init -> pvm] count ") ? Int($0.split(separator: " ").last ?? "") : nil }
        #expect(counts.count >= 10)
        for (previous, next) in zip(counts, counts.dropFirst()) { #expect(next <= previous + 20_000, "\(previous) then \(next)") }
        #expect(counts.last == 180_000)
    }

    @Test func itsObjectsAreHeldToItsRamQuota() throws {
        let hog = """
            class .ru.dz.phantom.system.boot
            objects 1
            methods 16

            method startup ordinal 8
              arg_count 1
              summon_by_name ".internal.container.array"
              new
              os_save8 0
            loop:
              os_load8 0
              sconst_bin "a string kept for ever"
              os_load8 0
              call 12 0                       // size
              call 11 2                       // array[size] = the string
              os_drop
              jmp loop
            method end
            """
        let directory = try Self.romDirectory(["hog.bundle": try Self.bundle(texts: [(hog, "hog.pas")])])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "hog", "ram": "2M"], [node("binary", ["name": "hog.bundle"])]), IsolationTests.counter,
        ]), romDirectory: directory)
        let trapped = harness.waitForLine { $0.hasPrefix("[init] Error: child \"hog\" trapped: ") }
        #expect(trapped?.text.contains("limit of 2097152 bytes is reached") == true, "\(trapped?.text ?? "no trap")")
        let mark = trapped?.sequence ?? 0
        #expect(harness.waitForLine(after: mark) { $0.hasPrefix("[init -> counter] count ") } != nil)
    }

    @Test func aBinaryThatIsNeitherIsRefusedByName() throws {
        let directory = try Self.romDirectory(["junk.bundle": Array("phfr:Cjunk".utf8)])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "junk", "ram": "1M"], [node("binary", ["name": "junk.bundle"])]), IsolationTests.counter,
        ]), romDirectory: directory)
        let line = harness.waitForLine { $0.hasPrefix("[init] Error: junk: cannot start: ") }
        #expect(line?.text.contains("junk.bundle is neither a WebAssembly module (no \\0asm) nor a Phantom class bundle") == true, "\(line?.text ?? "")")
        #expect(harness.waitForLine { $0 == "[init -> counter] count 5000" } != nil)
    }

    @Test func anIdleVMAnswersHeartbeatsAndASpinningOneSkipsThem() throws {
        // Idle: every Phantom thread sleeps (the VM's scheduler waits for
        // time to pass, its event loop). Spinning: one thread never stops.
        let spin = """
            class .ru.dz.phantom.system.boot
            methods 16

            method startup ordinal 8
              arg_count 1
            forever:
              jmp forever
            method end
            """
        let directory = try Self.romDirectory([
            "uptime.bundle": try Self.bundle("uptime"), "spin.bundle": try Self.bundle(texts: [(spin, "spin.pas")]),
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try KernelHarness(config: node("config", [:], [
            KernelTests.parentProvides, KernelTests.defaultRoute,
            node("heartbeat", ["rate_ms": "20"]),
            node("start", ["name": "idle", "ram": "2M"], [node("binary", ["name": "uptime.bundle"]), node("heartbeat")]),
            node("start", ["name": "spinner", "ram": "2M"], [node("binary", ["name": "spin.bundle"]), node("heartbeat")]),
        ]), romDirectory: directory)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> idle] uptime: booted once") } != nil)
        let report = HeartbeatTests().waitForReport(harness) { HeartbeatTests.skipped("spinner", in: $0) >= 5 }
        #expect(report != nil, "\(harness.kernel.stateReport())")
        #expect(HeartbeatTests.skipped("idle", in: report ?? "") == 0, "\(report ?? "")")
    }
}
