import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import PhantomKernel

/// A system that does what it is told, for the control channel's tests.
final class FakeSystem: SystemControl, @unchecked Sendable {
    // @unchecked: everything is reached with `condition` held.
    private let condition = NSCondition()
    private var log: [KernelLog.Line] = []
    private var nextSequence: UInt64 = 1
    private let ringCapacity: Int
    var state = #"<state version="1"><child name="a" binary="a.wasm" id="1"/></state>"#
    var snapshotResult: Result<UInt64, SystemControlError> = .success(42)
    var snapshotDelay: TimeInterval = 0
    var appliedConfigs: [String] = []
    var stopRequests = 0
    var rollbacks: [UInt64] = []
    let retained: [GenerationSummary] = [
        GenerationSummary(generation: 9, timestamp: 1_700_000_000_000_000_000, pages: 12, writtenBytes: 8192, current: true),
        GenerationSummary(generation: 8, timestamp: 1_699_999_999_000_000_000, pages: 11, writtenBytes: 4096, current: false),
    ]

    init(ringCapacity: Int = 1000) { self.ringCapacity = ringCapacity }

    func append(_ text: String) {
        condition.lock()
        log.append(KernelLog.Line(sequence: nextSequence, text: text))
        nextSequence += 1
        if log.count > ringCapacity { log.removeFirst(log.count - ringCapacity) }
        condition.broadcast()
        condition.unlock()
    }

    func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    func stateReport() -> String { locked { state } }

    func logLines(after: UInt64) -> [KernelLog.Line] { locked { log.filter { $0.sequence > after } } }

    func waitForLogLines(after: UInt64, timeout: TimeInterval) -> [KernelLog.Line] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            let lines = log.filter { $0.sequence > after }
            if !lines.isEmpty { return lines }
            if !condition.wait(until: deadline) { return [] }
        }
    }

    func snapshotNow() -> Result<UInt64, SystemControlError> {
        let delay = locked { snapshotDelay }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        return locked { snapshotResult }
    }

    func applyConfig(_ text: String) -> Result<[String], SystemControlError> {
        locked {
            if text.contains("<broken") {
                return .failure(SystemControlError("the new config: line 3, column 7: unclosed element <broken>"))
            }
            appliedConfigs.append(text)
            return .success(text.contains("ram=\"1T\"") ? ["sensor: assigned RAM exceeds available RAM, clamping"] : [])
        }
    }

    func generations() -> [GenerationSummary] { retained }

    func requestStop() { locked { stopRequests += 1 } }

    func rollbackAndStop(to generation: UInt64) -> Result<Void, SystemControlError> {
        locked {
            guard retained.contains(where: { $0.generation == generation }) else {
                return .failure(SystemControlError("generation \(generation) is not retained (retained: 9, 8)"))
            }
            rollbacks.append(generation)
            return .success(())
        }
    }
}

/// A directory of its own for each test, removed afterwards.
final class ScratchDirectory {
    let path: String
    init(name: String = "phantom-control-\(UUID().uuidString.prefix(8))") {
        path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    var image: String { path + "/system.img" }
    var socket: String { ControlServer.socketPath(forImage: image) }
}

/// Leaves a socket file that nobody listens on, as a killed process does.
/// (NIO removes the file when it closes a listening socket, so this binds one
/// by hand and closes it.)
func makeStaleSocket(at path: String) throws {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw ControlClientError.refused("socket: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0 else { throw ControlClientError.refused("bind \(path): errno \(errno)") }
    #expect(ControlSocketFile.status(of: path) != .missing)
}

@Suite struct ControlServerTests {
    @Test func everyRequestKindRoundTrips() throws {
        let scratch = ScratchDirectory()
        let system = FakeSystem()
        system.append("[init] one")
        system.append("[init -> a] two")
        system.append("[init -> a] three")
        let server = try ControlServer.start(socketPath: scratch.socket, target: system)
        defer { server.stop() }
        let client = try ControlClient(image: scratch.image)

        let hello = try client.call(.hello)
        #expect(hello.pid == getpid())
        #expect(hello.protocol == 1)

        #expect(try client.call(.state).state == system.state)

        #expect(try client.call(.log()).lines?.map(\.text) == ["[init] one", "[init -> a] two", "[init -> a] three"])
        #expect(try client.call(.log(after: 1)).lines?.map(\.sequence) == [2, 3])
        #expect(try client.call(.log(last: 1)).lines == [ControlLogLine(sequence: 3, text: "[init -> a] three")])

        #expect(try client.call(.snapshot).generation == 42)
        system.locked { system.snapshotResult = .failure(SystemControlError("the disk is full")) }
        let failed = try client.exchange(.snapshot)
        #expect(!failed.ok && failed.error == "the disk is full")

        #expect(try client.call(.generations).generations == system.retained)

        let config = #"<config><start name="sensor" ram="1T"/></config>"#
        #expect(try client.call(.applyConfig(config)).warnings == ["sensor: assigned RAM exceeds available RAM, clamping"])
        #expect(system.locked { system.appliedConfigs } == [config])
        let broken = try client.exchange(.applyConfig("<config>\n\n  <broken"))
        #expect(!broken.ok && broken.error?.contains("line 3, column 7") == true)
        #expect(system.locked { system.appliedConfigs } == [config])

        let unknown = try client.exchange(.rollback(to: 3))
        #expect(!unknown.ok && unknown.error == "generation 3 is not retained (retained: 9, 8)")
        let missingGeneration = try client.exchange(ControlRequest(request: "rollback"))
        #expect(!missingGeneration.ok && missingGeneration.error?.contains("\"generation\"") == true)

        // A rollback and a stop are answered when the system has stopped.
        let rollbackClient = try ControlClient(image: scratch.image)
        try rollbackClient.send(.rollback(to: 8))
        let stopClient = try ControlClient(image: scratch.image)
        try stopClient.send(.stop)
        try waitUntil { system.locked { system.stopRequests == 1 && system.rollbacks == [8] } }
        #expect(throws: ControlClientError.self) { try stopClient.receive(timeout: 0.2) }
        server.stop(finalGeneration: 11, message: "stopped")
        #expect(try stopClient.receive(timeout: 10) == ControlReply(generation: 11, message: "stopped"))
        #expect(try stopClient.receive(timeout: 10) == nil)
        #expect(try rollbackClient.receive(timeout: 10) == ControlReply(generation: 11, message: "stopped"))
        #expect(try client.receive(timeout: 10) == nil)
        #expect(ControlSocketFile.status(of: scratch.socket) == .missing)
    }

    @Test func repliesComeInRequestOrder() throws {
        let scratch = ScratchDirectory()
        let system = FakeSystem()
        system.snapshotDelay = 0.3
        let server = try ControlServer.start(socketPath: scratch.socket, target: system)
        defer { server.stop() }
        let client = try ControlClient(image: scratch.image)
        try client.send(.snapshot)
        try client.send(.hello)
        #expect(try client.receive(timeout: 10)?.generation == 42)
        #expect(try client.receive(timeout: 10)?.pid == getpid())
    }

    @Test func followingTheLogStreamsNewLines() throws {
        let scratch = ScratchDirectory()
        let system = FakeSystem()
        system.append("old 1")
        system.append("old 2")
        let server = try ControlServer.start(socketPath: scratch.socket, target: system)
        defer { server.stop() }
        let follower = try ControlClient(image: scratch.image)
        try follower.send(.log(last: 1, follow: true))
        #expect(try follower.receive(timeout: 10)?.lines?.map(\.text) == ["old 2"])
        let other = try ControlClient(image: scratch.image)
        try other.send(.log(last: 0, follow: true))
        #expect(try other.receive(timeout: 10)?.lines == [])

        for index in 1...50 { system.append("new \(index)") }
        for client in [follower, other] {
            var seen: [String] = []
            while seen.count < 50, let reply = try client.receive(timeout: 10) {
                #expect(reply.ok && reply.dropped == nil)
                seen += reply.lines?.map(\.text) ?? []
            }
            #expect(seen == (1...50).map { "new \($0)" })
        }
        // Other connections are served meanwhile.
        #expect(try ControlClient(image: scratch.image).call(.hello).ok)
        // A stop ends the stream.
        server.stop()
        #expect(try follower.receive(timeout: 10) == nil)
    }

    @Test func readersAreToldWhatTheLogDropped() throws {
        let scratch = ScratchDirectory()
        let system = FakeSystem(ringCapacity: 100)
        let server = try ControlServer.start(socketPath: scratch.socket, target: system)
        defer { server.stop() }
        let follower = try ControlClient(image: scratch.image)
        try follower.send(.log(follow: true))
        #expect(try follower.receive(timeout: 10)?.lines == [])
        // Asking for the lines after line 10 of a log that kept only the last
        // 100 of 300: the reply says how many are gone.
        let late = try ControlClient(image: scratch.image)
        for index in 1...300 { system.append("line \(index)") }
        let reply = try late.call(.log(after: 10))
        #expect(reply.dropped == 190)
        #expect(reply.lines?.first?.sequence == 201)
        var last: UInt64 = 0
        while last < 300, let reply = try follower.receive(timeout: 10) {
            last = reply.lines?.last?.sequence ?? last
        }
        #expect(last == 300)
    }

    @Test func theSocketIsOwnerOnly() throws {
        let scratch = ScratchDirectory()
        let server = try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        defer { server.stop() }
        let attributes = try FileManager.default.attributesOfItem(atPath: scratch.socket)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(attributes[.type] as? FileAttributeType == .typeSocket)
        // Nothing is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["system.img.sock"])
    }

    @Test func aStaleSocketIsReplaced() throws {
        let scratch = ScratchDirectory()
        try makeStaleSocket(at: scratch.socket)
        #expect(throws: ControlClientError.notRunning(image: scratch.image, socketPath: scratch.socket, stale: true)) {
            try ControlClient(image: scratch.image)
        }
        let server = try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        defer { server.stop() }
        #expect(try ControlClient(image: scratch.image).call(.hello).ok)
        let attributes = try FileManager.default.attributesOfItem(atPath: scratch.socket)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aLiveSocketIsNotStolen() throws {
        let scratch = ScratchDirectory()
        let first = try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        defer { first.stop() }
        #expect {
            try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        } throws: { error in
            "\(error)".contains("another process answers on it")
        }
        #expect(try ControlClient(image: scratch.image).call(.state).state == FakeSystem().state)
    }

    @Test func otherFilesAndSymbolicLinksAreNeitherReplacedNorFollowed() throws {
        let scratch = ScratchDirectory()
        let elsewhere = ScratchDirectory()
        let server = try ControlServer.start(socketPath: elsewhere.socket, target: FakeSystem())
        defer { server.stop() }
        try FileManager.default.createSymbolicLink(atPath: scratch.socket, withDestinationPath: elsewhere.socket)
        #expect {
            try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        } throws: { error in
            "\(error)".contains("symbolic link")
        }
        #expect(throws: ControlClientError.notASocket(socketPath: scratch.socket, what: "a symbolic link")) {
            try ControlClient(image: scratch.image)
        }
        try FileManager.default.removeItem(atPath: scratch.socket)
        _ = FileManager.default.createFile(atPath: scratch.socket, contents: Data("precious".utf8))
        #expect {
            try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        } throws: { error in
            "\(error)".contains("not a socket")
        }
        #expect(FileManager.default.contents(atPath: scratch.socket) == Data("precious".utf8))
    }

    @Test func malformedLinesGetAnErrorReplyAndTheServerGoesOn() throws {
        let scratch = ScratchDirectory()
        let server = try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        defer { server.stop() }
        let client = try ControlClient(image: scratch.image)
        try client.sendRaw("this is not json\n")
        let garbage = try #require(try client.receive(timeout: 10))
        #expect(!garbage.ok && garbage.error?.hasPrefix("line 1: not a request (not JSON)") == true)
        try client.sendRaw("\n{\"after\": 3}\r\n")
        #expect(try client.receive(timeout: 10)?.error?.hasPrefix("line 3: not a request (no \"request\")") == true)
        try client.sendRaw("{\"request\": \"reboot\"}\n")
        #expect(try client.receive(timeout: 10)?.error?.hasPrefix("unknown request \"reboot\" (known: hello, state,") == true)
        try client.sendRaw("{\"request\": \"log\", \"after\": \"yesterday\"}\n")
        #expect(try client.receive(timeout: 10)?.error?.contains("\"after\" has the wrong type") == true)
        try client.sendRaw("{\"request\": \"log\", \"last\": -1}\n")
        #expect(try client.receive(timeout: 10)?.error == "\"last\" must be 0 or more, not -1")
        try client.sendRaw(String(repeating: "x", count: ControlWire.maximumRequestBytes + 10) + "\n")
        #expect(try client.receive(timeout: 30)?.error?.contains("longer than the \(ControlWire.maximumRequestBytes) bytes") == true)
        // The same connection, and new ones, still work.
        #expect(try client.call(.hello).ok)
        #expect(try ControlClient(image: scratch.image).call(.hello).ok)
    }

    @Test func aClientThatShutsItsSideIsAnsweredFirst() throws {
        let scratch = ScratchDirectory()
        let system = FakeSystem()
        system.snapshotDelay = 0.2
        let server = try ControlServer.start(socketPath: scratch.socket, target: system)
        defer { server.stop() }
        let client = try ControlClient(image: scratch.image)
        try client.sendRaw("{\"request\":\"snapshot\"}\n{\"request\":\"state\"}")
        try client.finishSending()
        #expect(try client.receive(timeout: 10)?.generation == 42)
        #expect(try client.receive(timeout: 10)?.state == system.state)
        #expect(try client.receive(timeout: 10) == nil)
    }

    @Test func theKernelLogWaitsForLines() {
        let log = KernelLog(writer: nil)
        #expect(log.waitForLines(after: 0, timeout: 0.05) == [])
        log.append("one")
        log.append("two")
        #expect(log.waitForLines(after: 0, timeout: 0.05).map(\.text) == ["one", "two"])
        #expect(log.waitForLines(after: 1, timeout: 0.05).map(\.text) == ["two"])
        #expect(log.waitForLines(after: 2, timeout: 0.05) == [])
    }

    @Test func aClientOfAMissingSocketGetsTheClearError() throws {
        let scratch = ScratchDirectory()
        #expect(throws: ControlClientError.notRunning(image: scratch.image, socketPath: scratch.socket, stale: false)) {
            try ControlClient(image: scratch.image)
        }
        let error = ControlClientError.notRunning(image: "tank.img", socketPath: "tank.img.sock", stale: false)
        #expect(error.description == "no system is running on tank.img (no tank.img.sock); start one with phantom boot --image tank.img")
    }

    @Test func aPathLongerThanASocketAddressWorks() throws {
        let scratch = ScratchDirectory(name: "phantom-control-" + String(repeating: "long-", count: 24) + UUID().uuidString.prefix(8))
        #expect(scratch.socket.utf8.count > ControlSocketFile.addressLimit)
        let server = try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        #expect(try ControlClient(image: scratch.image).call(.hello).ok)
        server.stop()
        #expect(ControlSocketFile.status(of: scratch.socket) == .missing)
    }

    @Test func aStoppedServerIsGoneAndItsNameFree() throws {
        let scratch = ScratchDirectory()
        let server = try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        server.stop()
        server.stop()
        #expect(throws: ControlClientError.notRunning(image: scratch.image, socketPath: scratch.socket, stale: false)) {
            try ControlClient(image: scratch.image)
        }
        let again = try ControlServer.start(socketPath: scratch.socket, target: FakeSystem())
        #expect(try ControlClient(image: scratch.image).call(.hello).ok)
        again.stop()
    }
}

/// Polls `condition`; the 120 s limit only ends a hung test (a readiness wait, not a deadline).
func waitUntil(_ condition: () -> Bool) throws {
    let deadline = Date(timeIntervalSinceNow: 120)
    while !condition() {
        guard Date() < deadline else { throw ControlClientError.refused("condition not met within 120 s") }
        usleep(5_000)
    }
}
