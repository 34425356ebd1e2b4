import Foundation
import PhantomSpace
import PhantomStore
import PhantomWasm
import Testing
import WAT
@testable import PhantomKernel

@Suite struct KernelTests {
    static let parentProvides = node("parent-provides", [:], ["LOG", "ROM", "PD", "CPU", "Timer"].map { node("service", ["name": $0]) })
    static let defaultRoute = node("default-route", [:], [node("any-service", [:], [node("parent"), node("any-child")])])

    static func config(_ starts: [ConfigNode]) -> ConfigNode {
        node("config", [:], [parentProvides, defaultRoute] + starts)
    }

    @Test func componentsRunSideBySideAndAnExitIsReported() throws {
        let harness = try KernelHarness(config: Self.config([
            node("start", ["name": "a", "ram": "4M"], [node("binary", ["name": "counter.wasm"])]),
            node("start", ["name": "b", "ram": "4M"], [node("binary", ["name": "counter.wasm"])]),
            node("start", ["name": "sleeper", "ram": "4M"]),
        ]))
        #expect(harness.waitForLine { $0 == "[init -> a] count 20000" } != nil)
        #expect(harness.waitForLine { $0 == "[init -> b] count 20000" } != nil)
        #expect(harness.waitForLine { $0 == "[init] child \"sleeper\" exited with exit value 0" } != nil)
    }

    @Test func theTreeContinuesAfterARestart() throws {
        let config = Self.config([
            node("start", ["name": "a", "ram": "4M"], [node("binary", ["name": "counter.wasm"])]),
        ])
        let harness = try KernelHarness(config: config)
        #expect(harness.waitForLine { $0 == "[init -> a] count 10000" } != nil)
        try harness.restart(config: config)
        let last = harness.log.lines().last { $0.text.hasPrefix("[init -> a] count ") }
        let mark = harness.log.lines().last?.sequence ?? 0
        // After the restart the counter continues from the snapshot: its next
        // line follows one it printed before (no start from 1000 again).
        let next = harness.waitForLine(after: mark) { $0.hasPrefix("[init -> a] count ") }
        #expect(next != nil)
        let before = Int(last?.text.split(separator: " ").last ?? "") ?? 0
        let after = Int(next?.text.split(separator: " ").last ?? "") ?? 0
        #expect(after > 1000 && after <= before + 1000 * 1000)
        #expect(harness.log.lines(after: mark).allSatisfy { $0.text != "[init -> a] count 1000" })
    }
}

/// A component can hurt only itself (DESIGN.md invariants 7 and 8).
@Suite struct IsolationTests {
    static func config(_ starts: [ConfigNode]) -> ConfigNode { KernelTests.config(starts) }
    static let counter = node("start", ["name": "counter", "ram": "4M"], [node("binary", ["name": "counter.wasm"])])
    static let traps = Fixtures.directory("Programs/wasm/traps")

    @Test func aTrapEndsOnlyItsComponent() throws {
        let harness = try KernelHarness(config: Self.config([
            Self.counter, node("start", ["name": "faulty", "ram": "1M"], [node("binary", ["name": "../traps/unreachable.wasm"])]),
        ]))
        // `binary` names a ROM module, never a path: this one is refused.
        #expect(harness.waitForLine { $0.contains("faulty: cannot start: binary \"../traps/unreachable.wasm\" is not a ROM module name") } != nil)
        #expect(harness.waitForLine { $0 == "[init -> counter] count 5000" } != nil)
    }

    @Test func aTrappingComponentIsReportedAndTheOthersRunOn() throws {
        let directory = try Self.romDirectory(with: ["traps/unreachable.wasm", "traps/infinite_loop.wasm", "c/counter.wasm"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try KernelHarness(config: Self.config([
            Self.counter,
            node("start", ["name": "faulty", "ram": "1M"], [node("binary", ["name": "unreachable.wasm"])]),
            node("start", ["name": "spinner", "ram": "1M"], [node("binary", ["name": "infinite_loop.wasm"])]),
        ]), romDirectory: directory)
        let trapped = harness.waitForLine { $0.hasPrefix("[init] Error: child \"faulty\" trapped: ") }
        #expect(trapped != nil)
        // The counter goes on past the trap, beside an endless loop that never yields by itself.
        let mark = trapped?.sequence ?? 0
        #expect(harness.waitForLine(after: mark) { $0.hasPrefix("[init -> counter] count ") } != nil)
        #expect(harness.waitForLine { $0 == "[init -> counter] count 30000" } != nil)
        let report = harness.kernel.stateReport()
        #expect(report.contains("<child name=\"faulty\" binary=\"unreachable.wasm\" id=\"2\" state=\"trapped\" trapped="))
        #expect(report.contains("<child name=\"spinner\" binary=\"infinite_loop.wasm\" id=\"3\">"))
    }

    @Test func aMemoryBombHitsItsQuotaAndNothingElse() throws {
        let directory = try Self.romDirectory(with: ["c/memgrow.wasm", "c/counter.wasm"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try KernelHarness(config: Self.config([
            Self.counter, node("start", ["name": "bomb", "ram": "2M"], [node("binary", ["name": "memgrow.wasm"])]),
        ]), romDirectory: directory)
        let ended = harness.waitForLine { $0.hasPrefix("[init] child \"bomb\" exited with exit value ") || $0.hasPrefix("[init] Error: child \"bomb\" trapped") }
        #expect(ended != nil)
        // Its memory never passed its 2 MiB quota (32 pages).
        let pages = harness.log.lines().compactMap { line -> Int? in
            guard line.text.hasPrefix("[init -> bomb] grow "), let field = line.text.split(separator: " ").first(where: { $0.hasPrefix("pages=") }) else { return nil }
            return Int(field.dropFirst(6))
        }
        #expect(!pages.isEmpty && pages.allSatisfy { $0 <= 32 })
        #expect(harness.waitForLine(after: ended?.sequence ?? 0) { $0.hasPrefix("[init -> counter] count ") } != nil)
    }

    /// A ROM directory holding copies of some fixtures under their file names.
    /// A table bomb: grows its table by 4096 elements until `table.grow`
    /// fails, then exits with the number of grows that succeeded.
    static let tableBomb = #"""
        (module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (table 0 funcref)
          (memory (export "memory") 1)
          (func (export "_start") (local $grows i32)
            (block $full
              (loop $grow
                (br_if $full (i32.eq (table.grow (ref.null func) (i32.const 4096)) (i32.const -1)))
                (local.set $grows (i32.add (local.get $grows) (i32.const 1)))
                (br $grow)))
            (call $exit (local.get $grows))))
        """#

    @Test func aTableBombHitsItsShareOfTheRamQuota() throws {
        let directory = try Self.romDirectory(with: ["c/counter.wasm"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data(try wat2wasm(Self.tableBomb)).write(to: URL(fileURLWithPath: directory + "/table_bomb.wasm"))
        let harness = try KernelHarness(config: Self.config([
            Self.counter, node("start", ["name": "bomb", "ram": "2M"], [node("binary", ["name": "table_bomb.wasm"])]),
        ]), romDirectory: directory)
        // 2 MiB of RAM: a table may hold 2 MiB / 64 = 32768 elements (an eighth of
        // the quota in references), so 8 grows of 4096 succeed.
        let ended = harness.waitForLine { $0.hasPrefix("[init] child \"bomb\" exited with exit value ") }
        #expect(ended?.text == "[init] child \"bomb\" exited with exit value 8")
        #expect(harness.waitForLine(after: ended?.sequence ?? 0) { $0.hasPrefix("[init -> counter] count ") } != nil)
    }

    static func romDirectory(with fixtures: [String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-roms-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for fixture in fixtures {
            let source = Fixtures.directory("Programs/wasm/\(fixture)")
            try FileManager.default.copyItem(atPath: source, toPath: directory + "/" + (fixture as NSString).lastPathComponent)
        }
        return directory
    }
}

/// Sessions between components through the session ABI.
@Suite struct SessionTests {
    static let kernelPrograms = Fixtures.directory("Programs/wasm/kernel")

    @Test func aClientWaitsForTheAnnounceAndTheServerSeesItsPrefixedLabel() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            // The client comes first: its open waits until the server announced "Echo".
            node("start", ["name": "client", "ram": "2M"], [
                node("binary", ["name": "echo_client.wasm"]), node("config", [:], [node("arg", ["value": "echo_client"]), node("arg", ["value": "3"])]),
            ]),
            node("start", ["name": "server", "ram": "2M"], [
                node("binary", ["name": "echo_server.wasm"]), node("provides", [:], [node("service", ["name": "Echo"])]),
            ]),
        ]), romDirectory: Self.kernelPrograms)
        #expect(harness.waitForLine { $0 == "[init -> client] reply 3 status=3: client -> test: hello 3" } != nil)
        #expect(harness.waitForLine { $0 == "[init] child \"client\" exited with exit value 0" } != nil)
        let lines = harness.log.lines().map(\.text)
        #expect(lines.contains("[init -> client] reply 1 status=1: client -> test: hello 1"))
    }

    @Test func anUnroutedServiceIsDeniedWithGenodesWarning() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "opener", "ram": "2M"], [
                node("binary", ["name": "opener.wasm"]), node("config", [:], [node("arg", ["value": "opener"]), node("arg", ["value": "Secret"]), node("arg", ["value": "key"])]),
            ]),
        ]), romDirectory: Self.kernelPrograms)
        #expect(harness.waitForLine { $0 == "[init] Warning: opener: no route to service \"Secret\" (label=\"opener -> key\")" } != nil)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> opener] open Secret: -1") } != nil)
        #expect(harness.waitForLine { $0 == "[init] child \"opener\" exited with exit value 1" } != nil)
    }
}

/// Kernel tables read back from an image are checked before use: a forged or
/// damaged image is refused with a message, never a crash (invariant 8).
@Suite struct ForgedKernelTablesTests {
    @Test func badTablesAreRefused() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "a", "ram": "4M"], [node("binary", ["name": "counter.wasm"])]),
        ]))
        #expect(harness.waitForLine { $0.hasPrefix("[init -> a] count ") } != nil)
        try harness.snapshot()
        harness.kernel.stop()
        let space = harness.space
        let record = space.root(KernelRecord.rootSlot)
        let good = try #require(try KernelRecord.load(from: space))

        func refusal(_ forge: () throws -> Void) throws -> String? {
            try forge()
            try space.snapshot()
            defer { try? KernelRecord.store(good, in: space) }
            do {
                let reopened = try ObjectSpace(store: Store.open(harness.device), options: .init(limitBytes: 1 << 30))
                defer { (try? WasmEngine.shared(for: reopened))?.close() }
                let stored = try KernelRecord.load(from: reopened)
                let model = try InitModel(root: KernelTests.config([]), syntax: .xml, source: "test")
                let kernel = try Kernel.boot(space: reopened, model: model, text: "", stored: stored,
                                             options: .init(romDirectory: harness.romDirectory, fileSystemRoot: harness.fileSystemRoot),
                                             log: KernelLog(writer: nil))
                kernel.stop()
                return nil
            } catch {
                return "\(error)"
            }
        }
        var forged = good
        forged.components[0].instance = 77
        let instanceRefusal = try refusal { try KernelRecord.store(forged, in: space) }
        #expect(instanceRefusal?.contains("host function wasi_snapshot_preview1.") == true, "\(instanceRefusal ?? "accepted")")
        forged = good
        forged.components[0].thread = 99
        #expect(try refusal { try KernelRecord.store(forged, in: space) }?.contains("thread 99") == true)
        forged = good
        forged.components[0].wasiState = 1 << 40
        #expect(try refusal { try KernelRecord.store(forged, in: space) } != nil)
        #expect(try refusal { space.store(UInt64(1) << 45, at: record + 8) }?.contains("outside the allocated space") == true)
        #expect(try refusal { space.store(UInt64(0), at: record) }?.contains("does not point to the kernel's record") == true)
        #expect(try refusal {
            let offset = space.load(UInt64.self, at: record + 8)
            space.write(Array("{not json".utf8), at: offset)
        }?.contains("do not match their checksum") == true)
        #expect(try refusal {} == nil, "every forgery was put back")
    }
}

/// Bad input in a config or a ROM gets a clear message; the rest of the
/// system runs on (DESIGN.md invariant 8).
@Suite struct BadConfigTests {
    static let counter = node("start", ["name": "counter", "ram": "4M"], [node("binary", ["name": "counter.wasm"])])

    @Test func aBinaryThatIsNotAModuleFailsAloneAndIsReported() throws {
        let directory = try IsolationTests.romDirectory(with: ["c/counter.wasm"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("this is a text file, not WebAssembly\n".utf8).write(to: URL(fileURLWithPath: directory + "/notes"))
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "broken", "ram": "1M"], [node("binary", ["name": "notes"])]), Self.counter,
        ]), romDirectory: directory)
        #expect(harness.waitForLine { $0.hasPrefix("[init] Error: broken: cannot start: ") } != nil)
        #expect(harness.waitForLine { $0 == "[init -> counter] count 5000" } != nil)
        #expect(harness.kernel.stateReport().contains("<child name=\"broken\" binary=\"notes\" id=\"1\" state=\"incomplete\" failed="))
    }

    @Test func aMissingBinaryIsNamed() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "ghost", "ram": "1M"]), Self.counter,
        ]))
        #expect(harness.waitForLine { $0.hasPrefix("[init] Error: ghost: cannot start: ROM module \"ghost\" not found in ") } != nil)
        #expect(harness.waitForLine { $0 == "[init -> counter] count 5000" } != nil)
    }

    @Test func aNamelessStartAndUnknownNodesAreSkippedWithGenodesWords() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["ram": "1M"], [node("binary", ["name": "counter.wasm"])]),
            node("frobnicate"),
            Self.counter,
        ]))
        #expect(harness.waitForLine { $0 == "[init] Warning: missing 'name' attribute in '<start>' entry" } != nil)
        #expect(harness.waitForLine { $0 == "[init] Error: unknown config element type <frobnicate>" } != nil)
        #expect(harness.waitForLine { $0 == "[init -> counter] count 5000" } != nil)
        #expect(harness.kernel.componentSummaries.map(\.name) == ["counter"])
    }

    @Test func aRouteToAMissingChildIsDenied() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "opener", "ram": "2M"], [
                node("binary", ["name": "opener.wasm"]),
                node("config", [:], [node("arg", ["value": "opener"]), node("arg", ["value": "Echo"])]),
                node("route", [:], [
                    node("service", ["name": "Echo"], [node("child", ["name": "nobody"])]),
                    node("any-service", [:], [node("parent")]),
                ]),
            ]),
        ]), romDirectory: SessionTests.kernelPrograms)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> opener] open Echo: -1") } != nil)
        #expect(harness.waitForLine { $0 == "[init] child \"opener\" exited with exit value 1" } != nil)
    }
}

/// Genode's session quota transfer: RAM a client gives with a session is
/// charged to it and added to the server's quota while the session lives.
@Suite struct SessionQuotaTests {
    @Test func aSessionsRamGoesToTheServerAndComesBackOnClose() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "server", "ram": "2M"], [
                node("binary", ["name": "echo_server.wasm"]), node("provides", [:], [node("service", ["name": "Echo"])]),
            ]),
            node("start", ["name": "client", "ram": "2M"], [node("binary", ["name": "ticker.wasm"])]),
        ]), romDirectory: SessionTests.kernelPrograms)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> client] tick 1") } != nil)
        let kernel = harness.kernel
        let client = try #require(kernel.componentSummaries.firstIndex { $0.name == "client" }).advanced(by: 1)
        func ram(of name: String) -> String? {
            let report = kernel.stateReport()
            guard let child = report.range(of: "<child name=\"\(name)\""), let ram = report[child.upperBound...].range(of: "<ram ") else { return nil }
            return String(report[ram.lowerBound...].prefix { $0 != "\n" })
        }
        // More than the client has is refused.
        var pending: UInt64 = 0
        #expect(kernel.sessionOpen(client: UInt64(client), service: "Echo", label: "big", ram: 3 << 20, pending: &pending) == .value(SessionStatus.quota.rawValue))
        // 512K: waits for the server's answer, then the server's quota has grown by it.
        var answer = kernel.sessionOpen(client: UInt64(client), service: "Echo", label: "quota", ram: 512 << 10, pending: &pending)
        #expect(harness.waitForLine { $0 == "[init -> server] echo: open client -> quota" } != nil)
        while case .block = answer { answer = kernel.sessionOpen(client: UInt64(client), service: "Echo", label: "quota", ram: 512 << 10, pending: &pending) }
        guard case let .value(handle) = answer, handle > 0 else { Issue.record("open failed: \(answer)"); return }
        #expect(ram(of: "server")?.contains("assigned=\"2M\" quota=\"2528K\"") == true, "\(ram(of: "server") ?? "")")
        // 2M less 8K for each of its five environment sessions (its clock opened a Timer session).
        #expect(ram(of: "client")?.contains("quota=\"2008K\"") == true, "\(ram(of: "client") ?? "")")
        #expect(kernel.sessionClose(client: UInt64(client), handle: UInt64(handle)) == 0)
        #expect(ram(of: "server")?.contains("assigned=\"2M\" quota=\"2016K\"") == true, "\(ram(of: "server") ?? "")")
    }
}

/// `<report>` selects what init's state report holds, and components read it
/// as the ROM `state` (Genode publishes it as init's "state" report).
@Suite struct StateReportTests {
    @Test func theReportNodeSelectsTheDetails() throws {
        var config = KernelTests.config([
            node("start", ["name": "a", "ram": "4M", "version": "7"], [node("binary", ["name": "counter.wasm"])]),
        ])
        config.children.append(node("report", ["child_ram": "yes", "requested": "yes"]))
        let harness = try KernelHarness(config: config)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> a] count ") } != nil)
        harness.kernel.lock.lock()
        let state = harness.kernel.romContent(for: 1, name: "state").map { String(decoding: $0.content, as: UTF8.self) }
        harness.kernel.lock.unlock()
        let report = try #require(state)
        #expect(report.contains("<child name=\"a\" binary=\"counter.wasm\" version=\"7\">"), "\(report)")
        #expect(report.contains("<ram assigned=\"4M\" quota=\"4064K\""), "\(report)")
        #expect(report.contains("<session service=\"PD\" label=\"a\" state=\"CAP_HANDED_OUT\" ram=\"0\" caps=\"0\"/>"), "\(report)")
        #expect(!report.contains("<caps") && !report.contains("<provided") && !report.contains(" id=\""))
        // `phantom ps` asks for everything.
        #expect(harness.kernel.stateReport().contains("<child name=\"a\" binary=\"counter.wasm\" version=\"7\" id=\"1\">"))
    }
}

/// WASI's stdout is the component's LOG session, wherever it is routed.
@Suite struct LogRoutingTests {
    /// Server first, or client first (its LOG session then waits for the
    /// announce, and what it wrote meanwhile follows the open).
    @Test(arguments: [false, true])
    func stdoutGoesThroughAChildsLogService(clientFirst: Bool) throws {
        let server = node("start", ["name": "log_server", "ram": "2M"], [
            node("binary", ["name": "log_server.wasm"]), node("provides", [:], [node("service", ["name": "LOG"])]),
            node("route", [:], [node("any-service", [:], [node("parent")])]),
        ])
        let client = node("start", ["name": "ticker", "ram": "2M"], [
            node("binary", ["name": "ticker.wasm"]),
            node("route", [:], [
                node("service", ["name": "LOG"], [node("child", ["name": "log_server"])]),
                node("any-service", [:], [node("parent")]),
            ]),
        ])
        let harness = try KernelHarness(config: KernelTests.config(clientFirst ? [client, server] : [server, client]),
                                        romDirectory: SessionTests.kernelPrograms)
        #expect(harness.waitForLine { $0 == "[init -> log_server] [ticker] tick 1" } != nil)
        #expect(harness.waitForLine { $0 == "[init -> log_server] [ticker] tick 3" } != nil)
        #expect(!harness.log.lines().contains { $0.text.hasPrefix("[init -> ticker] tick") })
        let report = harness.kernel.stateReport()
        #expect(report.contains("<session service=\"LOG\" label=\"ticker\" state=\"CAP_HANDED_OUT\""), "\(report)")
    }
}

/// Reconfiguration: a child whose route moves to another server restarts.
@Suite struct RouteChangeTests {
    static func config(logTo server: String) -> ConfigNode {
        func logServer(_ name: String) -> ConfigNode {
            node("start", ["name": name, "ram": "2M"], [
                node("binary", ["name": "log_server.wasm"]), node("provides", [:], [node("service", ["name": "LOG"])]),
                node("route", [:], [node("any-service", [:], [node("parent")])]),
            ])
        }
        return KernelTests.config([
            logServer("first"), logServer("second"),
            node("start", ["name": "ticker", "ram": "2M"], [
                node("binary", ["name": "ticker.wasm"]),
                node("route", [:], [
                    node("service", ["name": "LOG"], [node("child", ["name": server])]),
                    node("any-service", [:], [node("parent")]),
                ]),
            ]),
        ])
    }

    @Test func aChildWhoseRouteMovesToAnotherServerRestarts() throws {
        let harness = try KernelHarness(config: Self.config(logTo: "first"), romDirectory: SessionTests.kernelPrograms)
        #expect(harness.waitForLine { $0 == "[init -> first] [ticker] tick 2" } != nil)
        let text = try ConfigRenderer.render(Self.config(logTo: "second"), as: .xml)
        try harness.kernel.apply(configText: text)
        // Restarted: a new instance counts from 1 again, through the new server.
        #expect(harness.waitForLine { $0 == "[init -> second] [ticker] tick 1" } != nil)
        // Unchanged routes leave a child alone: applying the same config again restarts nothing.
        let mark = harness.log.lines().last?.sequence ?? 0
        try harness.kernel.apply(configText: text)
        #expect(harness.waitForLine(after: mark) { $0.hasPrefix("[init -> second] [ticker] tick ") } != nil)
        #expect(!harness.log.lines(after: mark).contains { $0.text == "[init -> second] [ticker] tick 1" })
    }
}

/// stdin is a Terminal session, and only a child routed to init's console has one.
@Suite struct TerminalTests {
    @Test func onlyAChildRoutedToTheConsoleGetsATerminal() throws {
        var config = KernelTests.config([
            node("start", ["name": "reader", "ram": "2M"], [node("binary", ["name": "counter.wasm"])]),
            node("start", ["name": "other", "ram": "2M"], [
                node("binary", ["name": "counter.wasm"]),
                node("route", [:], [node("service", ["name": "Terminal"], [node("child", ["name": "reader"])]), node("any-service", [:], [node("parent")])]),
            ]),
        ])
        config.children[0].children.append(node("service", ["name": "Terminal"]))
        let harness = try KernelHarness(config: config)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> other] count ") } != nil)
        let report = harness.kernel.stateReport()
        #expect(report.contains("<session service=\"Terminal\" label=\"reader\" state=\"CAP_HANDED_OUT\""), "\(report)")
        #expect(!report.contains("label=\"other\" state=\"CAP_HANDED_OUT\" ram=\"0\" caps=\"0\"/>\n\t\t\t<session service=\"Terminal\""))
        #expect(report.components(separatedBy: "service=\"Terminal\"").count == 2, "one Terminal session: \(report)")
    }
}

/// report_rom, served by the kernel: reports by label, handed out as ROMs by policy.
@Suite struct ReportRomTests {
    @Test func aReportReachesTheRomItsPolicySelectsAndWakesItsReader() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "report_rom", "ram": "1M"], [
                node("provides", [:], [node("service", ["name": "Report"]), node("service", ["name": "ROM"])]),
                node("config", [:], [node("policy", ["label": "watcher -> config", "report": "reporter -> status"])]),
            ]),
            node("start", ["name": "reporter", "ram": "1M"], [
                node("binary", ["name": "ticker.wasm"]),
                node("route", [:], [node("service", ["name": "Report"], [node("child", ["name": "report_rom"])]),
                                    node("any-service", [:], [node("parent")])]),
            ]),
            node("start", ["name": "watcher", "ram": "1M"], [
                node("binary", ["name": "rom_watcher.wasm"]),
                node("route", [:], [node("service", ["name": "ROM", "label_last": "config"], [node("child", ["name": "report_rom"])]),
                                    node("any-service", [:], [node("parent")])]),
            ]),
        ]), romDirectory: SessionTests.kernelPrograms)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> reporter] tick 1") } != nil)
        let kernel = harness.kernel
        var pending: UInt64 = 0
        guard case let .value(handle) = kernel.sessionOpen(client: 2, service: "Report", label: "status", ram: 0, pending: &pending), handle > 0 else {
            Issue.record("the Report session was not opened"); return
        }
        for text in ["first report", "second report"] {
            let (answer, _) = try kernel.sessionCall(client: 2, handle: UInt64(handle), payload: { Array(text.utf8) }, pending: &pending)
            #expect(answer == .value(0))
            #expect(harness.waitForLine { $0.hasPrefix("[init -> watcher] config ") && $0.hasSuffix(": \(text)") } != nil, "\(harness.log.lines().map(\.text).suffix(10))")
        }
        let report = kernel.stateReport()
        #expect(report.contains("<session service=\"Report\" label=\"reporter -&gt; status\" state=\"CAP_HANDED_OUT\""), "\(report)")
    }
}

/// A session handle is a number, but only its owner can use it: another
/// component naming it gets PHANTOM_INVALID, whatever it guesses.
@Suite struct HandleIsolationTests {
    @Test func aComponentCannotUseAnothersSession() throws {
        let harness = try KernelHarness(config: KernelTests.config([
            node("start", ["name": "server", "ram": "2M"], [
                node("binary", ["name": "echo_server.wasm"]), node("provides", [:], [node("service", ["name": "Echo"])]),
            ]),
            node("start", ["name": "owner", "ram": "2M"], [node("binary", ["name": "ticker.wasm"])]),
            node("start", ["name": "thief", "ram": "2M"], [node("binary", ["name": "ticker.wasm"])]),
        ]), romDirectory: SessionTests.kernelPrograms)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> thief] tick 1") } != nil)
        let kernel = harness.kernel
        var pending: UInt64 = 0
        var answer = kernel.sessionOpen(client: 2, service: "Echo", label: "mine", ram: 0, pending: &pending)
        while case .block = answer { answer = kernel.sessionOpen(client: 2, service: "Echo", label: "mine", ram: 0, pending: &pending) }
        guard case let .value(handle) = answer, handle > 0 else { Issue.record("open failed: \(answer)"); return }
        // Every handle the thief could guess, the owner's among them, is refused.
        for guess in UInt64(1)...UInt64(handle) + 5 {
            var slot: UInt64 = 0
            let (result, reply) = try kernel.sessionCall(client: 3, handle: guess, payload: { Array("steal".utf8) }, pending: &slot)
            #expect(result == .value(SessionStatus.invalid.rawValue) && reply == nil, "handle \(guess)")
            #expect(kernel.sessionClose(client: 3, handle: guess) == SessionStatus.invalid.rawValue)
        }
        // The owner's session still works.
        let (result, reply) = try kernel.sessionCall(client: 2, handle: UInt64(handle), payload: { Array("hi".utf8) }, pending: &pending)
        if case .block = result {
            #expect(harness.waitForLine { $0.hasPrefix("[init -> server] echo: open owner -> mine") } != nil)
        } else {
            #expect(result == .value(1) && reply.map { String(decoding: $0, as: UTF8.self) } == "owner -> mine: hi")
        }
    }
}

/// The cut re-encodes only the table rows that changed; what it writes must be
/// exactly what encoding the whole tables gives, after any sequence of changes.
@Suite struct KernelTableCacheTests {
    @Test func cachedEncodingEqualsAFullEncodingAfterEveryChange() throws {
        let cache = KernelTableCache()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var image = KernelImage(configText: "<config>\"components\":[] \\ quoted </config>")
        var generator = SplitMix64(seed: 0x7AB1E)
        for step in 0..<400 {
            switch generator.next() % 7 {
            case 0, 1:
                image.components.append(ComponentImage(
                    id: image.nextComponent, name: "c\(step) \"x\"", binary: "b", version: nil, moduleChecksum: UInt32(step),
                    ramQuota: 1 << 20, capsQuota: 10, configText: "\"sessions\":[]", configVersion: 1,
                    instance: UInt32(step), thread: UInt32(step), wasiState: 4096, state: .running))
                image.nextComponent += 1
            case 2:
                image.sessions.append(SessionImage(id: image.nextSession, service: "LOG", label: "c -> \(step)", client: 1,
                                                   server: .builtin("LOG"), state: .available, ramQuota: 0))
                image.nextSession += 1
            case 3:
                image.requests.append(RequestImage(id: image.nextRequest, session: 1, server: 2, kind: .call, payload: [UInt8(step & 255)]))
                image.nextRequest += 1
            case 4:
                if !image.sessions.isEmpty { image.sessions.remove(at: Int(generator.next() % UInt64(image.sessions.count))) }
            case 5:
                if !image.components.isEmpty {
                    let index = Int(generator.next() % UInt64(image.components.count))
                    image.components[index].state = .exited(code: UInt32(step))
                }
            default:
                if !image.requests.isEmpty { image.requests.removeFirst() }
                image.reports["r\(step % 3)"] = ReportImage(content: Array("\(step)".utf8), version: UInt64(step))
            }
            let cached = try cache.encode(image)
            #expect(cached == Array(try encoder.encode(image)), "step \(step)")
            #expect(try JSONDecoder().decode(KernelImage.self, from: Data(cached)) == image)
        }
    }
}

/// Ended and removed components give their engine state back: the image
/// does not grow with every restart, and an image holding ended components
/// restores (their host imports are no longer looked for).
@Suite struct RetiredComponentTests {
    static func config(version: Int) -> String {
        """
        <config>
        \t<parent-provides><service name="LOG"/><service name="ROM"/><service name="PD"/><service name="CPU"/><service name="Timer"/></parent-provides>
        \t<default-route><any-service><parent/></any-service></default-route>
        \t<start name="counter" ram="4M"><binary name="counter.wasm"/></start>
        \t<start name="once" ram="4M" version="\(version)"><binary name="args_env.wasm"/></start>
        </config>
        """
    }

    @Test func restartsDoNotGrowTheSpaceAndEndedComponentsRestore() throws {
        let harness = try KernelHarness(configText: Self.config(version: 0), source: "test", romDirectory: Fixtures.directory("Programs/wasm/c"))
        var mark: UInt64 = 0
        var liveAfterExit: [UInt64] = []
        for version in 0..<8 {
            if version > 0 { try harness.kernel.apply(configText: Self.config(version: version), source: "test") }
            let exit = harness.waitForLine(after: mark) { $0 == "[init] child \"once\" exited with exit value 0" }
            #expect(exit != nil, "version \(version)")
            mark = exit?.sequence ?? mark
            // The exit line is logged in the same mutator section that frees
            // the component: a snapshot's world stop waits for its end.
            try harness.snapshot()
            liveAfterExit.append(harness.space.liveBytes)
        }
        // The counter's own growth aside (it runs all along), every restart
        // frees what the previous run held: no step grows by a reservation.
        let steps = zip(liveAfterExit, liveAfterExit.dropFirst()).map { Int64($1) - Int64($0) }
        #expect(steps.allSatisfy { $0 < 64 << 10 }, "live bytes after each exit: \(liveAfterExit)")
        #expect(harness.kernel.componentSummaries.first { $0.name == "once" }?.state == .exited(code: 0))

        // Kill and boot again with the ended component in the tables.
        try harness.restart(configText: Self.config(version: 7))
        let next = harness.waitForLine(after: harness.log.lines().last?.sequence ?? 0) { $0.hasPrefix("[init -> counter] count ") }
        #expect(next != nil)
        #expect(harness.kernel.componentSummaries.first { $0.name == "once" }?.state == .exited(code: 0))
        #expect(!harness.log.lines().contains { $0.text.contains("restore failed") || $0.text.contains("engine state is kept") })
    }
}

/// Genode's RAM-quota adjustments of a running child (Sandbox
/// `Child::apply_upgrade`, `apply_downgrade`): the child keeps running, its
/// memory limit follows its quota, and its memory's contents survive the move
/// (counter.wasm checks two copies of its count against each other).
@Suite struct RamAdjustmentTests {
    static func config(ram: String) -> String {
        """
        <config>
        \t<parent-provides><service name="LOG"/><service name="ROM"/><service name="PD"/><service name="CPU"/><service name="Timer"/></parent-provides>
        \t<default-route><any-service><parent/></any-service></default-route>
        \t<start name="counter" ram="\(ram)"><binary name="counter.wasm"/></start>
        </config>
        """
    }

    func count(_ line: String) -> Int? {
        guard line.hasPrefix("[init -> counter] count ") else { return nil }
        return Int(line.split(separator: " ").last ?? "")
    }

    static func config(caps: Int) -> String {
        config(ram: "2M").replacingOccurrences(of: "<start name=\"counter\" ram=\"2M\">", with: "<start name=\"counter\" ram=\"2M\" caps=\"\(caps)\">")
    }

    @Test func aRunningChildsCapsFollowTheConfigDownToWhatItHolds() throws {
        let harness = try KernelHarness(configText: Self.config(caps: 100), source: "test", romDirectory: Fixtures.directory("Programs/wasm/c"))
        var mark = harness.waitForLine { count($0) != nil }?.sequence ?? 0
        // Up to 400, down to 200; then down to 2, which it cannot give: it
        // holds its environment sessions (PD, CPU, LOG, ROM), plus the slack of 5.
        let held = harness.kernel.lock.withLock { harness.kernel.image.sessions.count { $0.client == 1 } }
        for (caps, expected) in [(400, 400), (200, 200), (2, held + 5)] {
            try harness.kernel.apply(configText: Self.config(caps: caps), source: "test")
            let next = harness.waitForLine(after: mark) { count($0) != nil }
            #expect(next != nil)
            mark = next?.sequence ?? mark
            #expect(harness.kernel.stateReport().contains("<caps assigned=\"\(expected)\""), "caps=\(caps): \(harness.kernel.stateReport())")
        }
        #expect(!harness.log.lines().contains { $0.text.contains("exited") })
    }

    @Test func aRunningChildsQuotaGrowsAndShrinksWithoutARestart() throws {
        let harness = try KernelHarness(configText: Self.config(ram: "2M"), source: "test", romDirectory: Fixtures.directory("Programs/wasm/c"))
        var mark = harness.waitForLine { count($0) != nil }?.sequence ?? 0
        #expect(harness.kernel.stateReport().contains("<ram assigned=\"2M\""))

        for ram in ["8M", "1M", "3M"] {
            try harness.kernel.apply(configText: Self.config(ram: ram), source: "test")
            // Two more lines after the change: it runs on, and from where it was.
            let first = harness.waitForLine(after: mark) { count($0) != nil }
            let second = harness.waitForLine(after: first?.sequence ?? mark) { count($0) != nil }
            #expect(first != nil && second != nil, "after ram=\(ram)")
            mark = second?.sequence ?? mark
            #expect(harness.kernel.stateReport().contains("<ram assigned=\"\(ram)\""), "\(harness.kernel.stateReport())")
            let limit = harness.kernel.lock.withLock { harness.kernel.components.values.first { $0.name == "counter" }?.instance?.memoryLimitPages }
            #expect(limit == Kernel.memoryPages(forQuota: NumberOfBytes(parsing: ram)!.value), "ram=\(ram)")
        }
        let lines = harness.log.lines().map(\.text)
        let counts = lines.compactMap(count)
        #expect(zip(counts, counts.dropFirst()).allSatisfy { $0 < $1 }, "\(counts)")
        #expect(!lines.contains { $0.contains("MISMATCH") || $0.contains("exited") || $0.contains("trapped") })
        #expect(lines.filter { $0 == "[init -> counter] count 1000" }.count <= 1, "not restarted")
    }
}

/// Genode's heartbeat monitoring with our meaning of answering
/// (`Kernel+Heartbeat.swift`): a component waiting in its event loop answers,
/// an endless loop does not; `restart_after_skipped` restarts it.
@Suite struct HeartbeatTests {
    static func config(restartAfter: Int?) -> ConfigNode {
        let heartbeat = restartAfter.map { node("heartbeat", ["restart_after_skipped": "\($0)"]) } ?? node("heartbeat")
        return node("config", [:], [
            KernelTests.parentProvides, KernelTests.defaultRoute,
            node("heartbeat", ["rate_ms": "20"]),
            node("start", ["name": "server", "ram": "2M"], [
                node("binary", ["name": "echo_server.wasm"]), node("provides", [:], [node("service", ["name": "Echo"])]), node("heartbeat"),
            ]),
            node("start", ["name": "client", "ram": "2M"], [
                node("binary", ["name": "echo_client.wasm"]), node("config", [:], [node("arg", ["value": "echo_client"]), node("arg", ["value": "1"])]),
            ]),
            node("start", ["name": "spinner", "ram": "1M"], [node("binary", ["name": "spinner.wasm"]), heartbeat]),
            // Waits for config changes in poll_oneoff: its event loop.
            node("start", ["name": "watcher", "ram": "1M"], [
                node("binary", ["name": "rom_watcher.wasm"]), node("config", ["greeting": "hi"]), node("heartbeat"),
            ]),
            // Genode's dummy: idle in poll_oneoff on /rom/config, or in sleep_forever.
            node("start", ["name": "idle", "ram": "1M"], [
                node("binary", ["name": "dummy.wasm"]), node("config", ["version": "one"]), node("heartbeat"),
            ]),
            node("start", ["name": "sleeper", "ram": "1M"], [
                node("binary", ["name": "dummy.wasm"]), node("config", ["version": "two"], [node("sleep_forever")]), node("heartbeat"),
            ]),
        ])
    }

    /// Waits until `condition` holds for the state report (re-read on every
    /// log line and at least every 20 ms; the limit only ends a hung test).
    func waitForReport(_ harness: KernelHarness, _ condition: (String) -> Bool) -> String? {
        let deadline = Date(timeIntervalSinceNow: 120)
        var mark: UInt64 = 0
        while Date() < deadline {
            let report = harness.kernel.stateReport()
            if condition(report) { return report }
            mark = harness.log.waitForLine(after: mark, timeout: 0.02) { _ in true }?.sequence ?? mark
        }
        return nil
    }

    static func skipped(_ name: String, in report: String) -> Int {
        guard let start = report.range(of: "<child name=\"\(name)\""),
              let end = report[start.upperBound...].range(of: ">"),
              let attribute = report[start.upperBound..<end.lowerBound].range(of: "skipped_heartbeats=\"") else { return 0 }
        return Int(report[attribute.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    @Test func anEndlessLoopSkipsHeartbeatsAndAnIdleServerAnswersThem() throws {
        let harness = try KernelHarness(config: Self.config(restartAfter: nil), romDirectory: SessionTests.kernelPrograms)
        // The server reached its event loop once it served the client, the
        // watcher once it printed its config.
        #expect(harness.waitForLine { $0 == "[init] child \"client\" exited with exit value 0" } != nil)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> watcher] config 1:") } != nil)
        #expect(harness.waitForLine { $0 == "[init -> idle] config 1: one" } != nil)
        let report = waitForReport(harness) { Self.skipped("spinner", in: $0) >= 5 && Self.skipped("sleeper", in: $0) >= 5 }
        #expect(report != nil, "\(harness.kernel.stateReport())")
        // Blocked in service_next since, it answered every heartbeat; so
        // did the watcher, blocked in poll_oneoff on its config ROM.
        #expect(Self.skipped("server", in: report ?? "") == 0, "\(report ?? "")")
        #expect(Self.skipped("watcher", in: report ?? "") == 0, "\(report ?? "")")
        #expect(Self.skipped("idle", in: report ?? "") == 0, "\(report ?? "")")
    }

    @Test func restartAfterSkippedRestartsTheChild() throws {
        let harness = try KernelHarness(config: Self.config(restartAfter: 3), romDirectory: SessionTests.kernelPrograms)
        let first = harness.waitForLine { $0 == "[init] child \"spinner\" skipped 3 heartbeats, restarting it" }
        #expect(first != nil)
        // It comes back (a new id) and is restarted again, the others untouched.
        let second = harness.waitForLine(after: first?.sequence ?? 0) { $0 == "[init] child \"spinner\" skipped 3 heartbeats, restarting it" }
        #expect(second != nil)
        #expect(!harness.log.lines().contains { $0.text.contains("\"server\" skipped") })
    }
}
