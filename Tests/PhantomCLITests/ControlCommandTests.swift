import Foundation
import Testing

/// The commands that talk to a running system, with none running: a clear
/// error and exit 1, except `generations` and `rollback`, which then work on
/// the image itself. (With a system running they need `phantom boot`.)
@Suite struct ControlCommandTests {
    @Test func withoutARunningSystemTheCommandsSaySoOrUseTheImage() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("idle.img").path
        let expected = "no system is running on \(image) (no \(image).sock); start one with phantom boot --image \(image)"
        let config = directory.appendingPathComponent("new.config").path
        _ = FileManager.default.createFile(atPath: config, contents: Data("<config/>".utf8))
        for arguments in [["ps"], ["ps", "--json"], ["log"], ["log", "-f"], ["snapshot"], ["stop"], ["config", "apply", config]] {
            let output = try PhantomProcess.run(arguments + ["--image", image])
            #expect(output.status == 1, "\(arguments): \(output.stderr)")
            #expect(output.stderr.contains(expected), "\(arguments): \(output.stderr)")
        }

        #expect(try PhantomProcess.run(["image", "create", image]).status == 0)
        let generations = try PhantomProcess.run(["generations", "--image", image])
        #expect(generations.status == 0 && generations.lines.count == 2, "header + generation 0: \(generations.stdout)")
        let rollback = try PhantomProcess.run(["rollback", "0", "--image", image])
        #expect(rollback.status == 0 && rollback.stdout.contains("it is now generation 1"), "\(rollback.stdout)\(rollback.stderr)")
        let unknown = try PhantomProcess.run(["rollback", "77", "--image", image])
        #expect(unknown.status == 1 && unknown.stderr.contains("77"), "\(unknown.stderr)")
    }

    @Test func aSocketLeftByAKilledSystemIsNoSystem() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("killed.img").path
        #expect(try PhantomProcess.run(["image", "create", image]).status == 0)
        try leaveStaleSocket(at: image + ".sock")
        let ps = try PhantomProcess.run(["ps", "--image", image])
        #expect(ps.status == 1)
        #expect(ps.stderr.contains("no system is running on \(image) (\(image).sock is left over from a process that is gone)"), "\(ps.stderr)")
        let generations = try PhantomProcess.run(["generations", "--image", image])
        #expect(generations.status == 0, "\(generations.stderr)")
    }

    @Test func everyControlCommandHasHelp() throws {
        for command in [["ps"], ["log"], ["snapshot"], ["generations"], ["rollback"], ["config", "apply"], ["stop"]] {
            let help = try PhantomProcess.run(command + ["--help"])
            #expect(help.status == 0 && help.stdout.contains("--image"), "\(command): \(help.stdout)")
        }
    }

    /// A socket file nobody listens on, as a killed process leaves it.
    private func leaveStaleSocket(at path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0, "bind \(path): errno \(errno)")
    }
}
