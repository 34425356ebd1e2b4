import Foundation
import Testing

/// The Terminal service end to end: a component whose routes lead a Terminal
/// session to init reads the console of `phantom boot` (its stdin) as its
/// own stdin; one without such a route reads end of input. After kill -9 the
/// restored component reads the console of the new `phantom boot` and its
/// count continues (invariant 6: the console is reconnected on restore).
@Suite struct TerminalTests {
    static let config = """
        <config>
        \t<parent-provides><service name="ROM"/><service name="LOG"/><service name="PD"/><service name="CPU"/><service name="Terminal"/></parent-provides>
        \t<default-route><any-service><parent/></any-service></default-route>
        \t<default caps="50"/>
        \t<start name="console" ram="1M"/>
        \t<start name="deaf" ram="1M"><binary name="console"/>
        \t\t<route><service name="Terminal"><child name="nobody"/></service><any-service><parent/></any-service></route>
        \t</start>
        </config>
        """

    @Test func aComponentReadsTheConsoleThroughItsTerminalSessionAcrossAKill() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("console.img").path
        let configFile = directory.appendingPathComponent("console.config")
        try Self.config.write(to: configFile, atomically: true, encoding: .utf8)
        let arguments = ["boot", "--image", image, "--config", configFile.path, "--roms", fixture("kernel"), "--snapshot-every", "60s"]

        let firstInput = Pipe()
        let first = try PhantomProcess.Running(arguments, in: directory, standardInput: firstInput)
        #expect(first.waitFor("[init -> console] console: ready"), "\(first.output)")
        // Without a Terminal route, stdin is empty: the component ends at once.
        #expect(first.waitFor("[init -> deaf] console: end of input after 0 lines"), "\(first.output)")
        #expect(first.waitFor("child \"deaf\" exited with exit value 0"), "\(first.output)")
        firstInput.fileHandleForWriting.write(Data("hello\n".utf8))
        #expect(first.waitFor("[init -> console] console: line 1: hello"), "\(first.output)")
        // A generation committed after the line (the readiness signal), then kill -9.
        let snapshot = try PhantomProcess.run(["snapshot", "--image", image])
        #expect(snapshot.status == 0, "\(snapshot.stderr)")
        first.send(SIGKILL)
        let killed = first.finish()
        #expect(killed.killedBySignal && killed.status == SIGKILL)

        let secondInput = Pipe()
        let second = try PhantomProcess.Running(arguments, in: directory, standardInput: secondInput)
        secondInput.fileHandleForWriting.write(Data("world\n".utf8))
        #expect(second.waitFor("[init -> console] console: line 2: world"), "\(second.output)")
        try secondInput.fileHandleForWriting.close()
        #expect(second.waitFor("[init -> console] console: end of input after 2 lines"), "\(second.output)")
        #expect(second.waitFor("child \"console\" exited with exit value 0"), "\(second.output)")
        second.send(SIGTERM)
        let output = second.finish()
        // Restored, not restarted: no second first start, and the deaf one stays exited.
        #expect(!output.stdout.contains("console: ready"), "\(output.stdout)")
        #expect(!output.stdout.contains("[init -> deaf]"), "\(output.stdout)")
        // Stopped by SIGTERM after its final snapshot: 128 + the signal.
        #expect(output.status == 128 + SIGTERM, "\(output.stderr)")
    }
}
