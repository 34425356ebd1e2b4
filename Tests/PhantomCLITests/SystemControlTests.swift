import Foundation
import Testing

/// A running `phantom boot` reconfigured and inspected through its control
/// socket: config updates with and without restarts, a bad config that
/// changes nothing, new and removed start nodes, and a clean stop.
@Suite struct SystemControlTests {
    static let roms = fixture("kernel")

    static func config(watcher greeting: String, tickerVersion: String = "1", extra: String = "") -> String {
        """
        <config>
        \t<parent-provides><service name="ROM"/><service name="LOG"/><service name="PD"/><service name="CPU"/><service name="Timer"/></parent-provides>
        \t<default-route><any-service><parent/><any-child/></any-service></default-route>
        \t<default caps="50"/>
        \t<start name="watcher" ram="1M"><binary name="rom_watcher"/><config greeting="\(greeting)"/></start>
        \t<start name="ticker" ram="1M" version="\(tickerVersion)"/>
        \(extra)
        </config>
        """
    }

    @Test func aRunningSystemIsReconfiguredInspectedAndStopped() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("s.img").path
        let configFile = directory.appendingPathComponent("s.config")
        try Self.config(watcher: "one").write(to: configFile, atomically: true, encoding: .utf8)
        let system = try PhantomProcess.Running(["boot", "--image", image, "--config", configFile.path, "--roms", Self.roms, "--verbose"], in: directory)
        defer { if system.isRunning { system.stop(SIGKILL) } }
        #expect(system.waitFor("[init -> watcher] config 1: <config greeting=\"one\"/>"), "\(system.output)")
        #expect(system.waitFor("[init -> ticker] tick 3"))

        let ps = try PhantomProcess.run(["ps", "--image", image])
        #expect(ps.status == 0 && ps.stdout.contains("watcher") && ps.stdout.contains("ticker"), "\(ps.stdout)\(ps.stderr)")
        let xml = try PhantomProcess.run(["ps", "--xml", "--image", image])
        #expect(xml.stdout.contains("<child name=\"ticker\" binary=\"ticker\""), "\(xml.stdout)")

        // A new inline config reaches the running child as a new ROM version, without a restart.
        func apply(_ text: String) throws -> PhantomProcess.Output {
            let file = directory.appendingPathComponent("next.config")
            try text.write(to: file, atomically: true, encoding: .utf8)
            return try PhantomProcess.run(["config", "apply", "--image", image, file.path])
        }
        #expect(try apply(Self.config(watcher: "two")).status == 0)
        #expect(system.waitFor("[init -> watcher] config 2: <config greeting=\"two\"/>"), "\(system.output)")
        #expect(!system.output.stdout.contains("rom_watcher: /rom/config 29 bytes\n[init -> watcher] <config greeting=\"two\"/>"))

        // A config that does not parse is refused with its line and column; the system goes on.
        let bad = try apply("<config>\n\t<start name=\"x\">\n</config>\n")
        #expect(bad.status != 0 && bad.stderr.contains("next.config") && bad.stderr.contains(":3:"), "\(bad.stderr)")
        let mark = system.output.stdout.count
        #expect(system.waitUntil({ stdout, _ in stdout.dropFirst(mark).contains("[init -> ticker] tick ") }, safetyLimit: 300))

        // A new start node starts; a changed version restarts (ticks from 1 again); removal tears down.
        #expect(try apply(Self.config(watcher: "two", tickerVersion: "2", extra: "<start name=\"second\" ram=\"1M\"><binary name=\"ticker\"/></start>")).status == 0)
        #expect(system.waitFor("[init -> second] tick 2"), "\(system.output)")
        let restarted = system.output.stdout.components(separatedBy: "[init -> ticker] tick 1\n").count - 1
        #expect(restarted >= 2, "\(system.output.stdout.suffix(2000))")
        #expect(try apply(Self.config(watcher: "two", tickerVersion: "2")).status == 0)
        let after = try PhantomProcess.run(["ps", "--image", image])
        #expect(!after.stdout.contains("second"), "\(after.stdout)")

        let stop = try PhantomProcess.run(["stop", "--image", image])
        #expect(stop.status == 0 && stop.stdout.contains("generation"), "\(stop.stdout)\(stop.stderr)")
        let ended = system.finish()
        #expect(ended.status == 0 && ended.stderr.contains("phantom: stopped; generation"), "\(ended.stderr)")
        let gone = try PhantomProcess.run(["ps", "--image", image])
        #expect(gone.status != 0 && gone.stderr.contains("no system is running on"), "\(gone.stderr)")
    }
}

/// `phantom boot` with a config that does not parse: a message naming the
/// file, line and column, exit 1, and no image created.
@Suite struct BootConfigErrorTests {
    @Test(arguments: [
        ("bad.xml", "<config>\n\t<start name=\"a\">\n</config>\n", "bad.xml:3:"),
        ("bad.hid", "config\n+ start a\n  ram: 1M\n", "bad.hid:"),
        ("empty.config", "   \n", "empty.config:1:1: empty config"),
    ])
    func aConfigThatDoesNotParseIsRefusedBeforeTheImage(name: String, text: String, message: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        let image = directory.appendingPathComponent("x.img").path
        let output = try PhantomProcess.run(["boot", "--image", image, "--config", file.path])
        #expect(!output.killedBySignal && output.status == 1, "\(output.status) \(output.stderr)")
        #expect(output.stderr.contains(message), "\(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: image), "no image was created")
    }

    @Test func aMissingConfigIsNamed() throws {
        let output = try PhantomProcess.run(["boot", "--image", "/tmp/never-created.img", "--config", "/nonexistent/system.config"])
        #expect(output.status == 1 && output.stderr.contains("/nonexistent/system.config: cannot read the config"), "\(output.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-created.img"))
    }
}
