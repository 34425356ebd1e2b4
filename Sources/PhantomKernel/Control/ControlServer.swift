#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import NIOPosix

/// Why the control server could not start.
public struct ControlServerError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Serves a running system's `SystemControl` on a Unix-domain socket beside
/// its image (`IMAGE.sock`), for `phantom ps`, `log`, `snapshot`,
/// `generations`, `rollback`, `config apply` and `stop` (docs/CONTROL.md).
///
/// ```swift
/// let server = try ControlServer.start(socketPath: ControlServer.socketPath(forImage: path), target: system)
/// …                                          // the system runs
/// server.stop(finalGeneration: generation)   // after the final snapshot
/// ```
///
/// - Only its owner may connect: the socket is bound inside a new directory
///   of mode 0700 next to the image, made 0600, and only then linked (or
///   renamed) to its name, so there is no moment at which anyone else could
///   connect, and no process-wide `umask` is changed under running threads.
/// - An existing name is replaced only if it is a socket that nobody answers
///   on (left by a killed process); a live socket, a symbolic link or any
///   other file is refused with an error.
/// - Threads: one event loop, two workers for the target's (blocking) calls,
///   and while anyone follows the log, one thread that waits for new lines.
/// - A request is handled after the previous one on its connection, so
///   replies come in request order; connections are independent.
public final class ControlServer: @unchecked Sendable {
    // @unchecked: `serverChannel` is set in `listen` before the server is
    // shared; everything under "guarded" is reached with `condition` held.

    /// The socket's path.
    public let socketPath: String
    let target: any SystemControl
    let group: MultiThreadedEventLoopGroup
    let pool: NIOThreadPool
    private var serverChannel: Channel?
    /// The socket's directory, held open so that `stop` removes the very name
    /// it created even if the working directory changed.
    private var directory: Int32 = -1
    /// The private directory the socket was bound in (removed; see `listen`).
    private var bindDirectory: Int32 = -1
    private let name: String
    private var identity: ControlSocketFile.Status = .missing

    private let condition = NSCondition()
    // guarded:
    private var connections: [ObjectIdentifier: Channel] = [:]
    private var followers: [ObjectIdentifier: Follower] = [:]
    private var waiters: [ObjectIdentifier: Channel] = [:]
    private var stopped = false
    private var followerThreadRunning = false

    struct Follower {
        var channel: Channel
        var cursor: UInt64
    }

    /// The socket beside an image: `IMAGE.sock`.
    public static func socketPath(forImage image: String) -> String { image + ".sock" }

    /// Starts serving `target` on `socketPath`. Throws when the path is taken
    /// by a live socket, a symbolic link or another file, or cannot be made.
    public static func start(socketPath: String, target: any SystemControl) throws -> ControlServer {
        let server = ControlServer(socketPath: socketPath, target: target)
        do {
            try server.listen()
        } catch {
            server.shutDownThreads()
            throw error
        }
        return server
    }

    private init(socketPath: String, target: any SystemControl) {
        self.socketPath = socketPath
        self.target = target
        name = ControlSocketFile.split(socketPath).name
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
    }

    /// Stops serving: no new connections; every `stop` and `rollback`
    /// requester is answered (with `finalGeneration` and `message`, when
    /// given); every connection is closed; the socket file is removed (if it
    /// is still the one this server made). Call it once the system has
    /// stopped, after its final snapshot; calling it again does nothing.
    /// Waits for target calls in progress to return.
    public func stop(finalGeneration: UInt64? = nil, message: String? = nil) {
        condition.lock()
        if stopped {
            condition.unlock()
            return
        }
        stopped = true
        let waiting = Array(waiters.values)
        let open = Array(connections.values)
        waiters.removeAll()
        followers.removeAll()
        condition.broadcast()
        condition.unlock()

        _ = try? serverChannel?.close().wait()
        removeSocketFile()
        // The answer is flushed into the socket before the close (both run on
        // the loop, in this order), so it arrives even though the close does
        // not wait for the peer to read it; a peer that reads nothing cannot
        // hold the stop up.
        let reply = ControlWire.line(ControlReply(generation: finalGeneration, message: message))
        for channel in waiting {
            channel.writeAndFlush(reply, promise: nil)
        }
        for channel in open {
            channel.close(promise: nil)
        }
        for channel in open {
            _ = try? channel.closeFuture.wait()
        }
        condition.lock()
        while followerThreadRunning { condition.wait() }
        condition.unlock()
        if Thread.current.threadDictionary[Self.workerKey] != nil {
            // Called from a target call on one of our own workers: they cannot
            // join themselves; let another thread finish.
            let server = self
            Thread.detachNewThread { server.shutDownThreads() }
        } else {
            shutDownThreads()
        }
    }

    private func shutDownThreads() {
        try? pool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
        for descriptor in [directory, bindDirectory] where descriptor >= 0 { close(descriptor) }
        directory = -1
        bindDirectory = -1
    }

    // MARK: - Listening

    private func listen() throws {
        let (directoryPath, name) = ControlSocketFile.split(socketPath)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw ControlServerError("\(socketPath): not a name for a socket")
        }
        directory = open(directoryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            throw ControlServerError("\(socketPath): cannot open its directory: \(ControlSocketFile.errorText(errno))")
        }
        var replace = try checkExisting()

        // A private directory beside the socket's name: the socket is bound
        // there (mode 0700: only we can reach it), made 0600, then given its name.
        var template = Array((directoryPath + "/.phantom-control-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ControlServerError("\(socketPath): cannot create a temporary directory beside it: \(ControlSocketFile.errorText(errno))")
        }
        let temporaryPath = String(cString: made)
        let temporary = open(temporaryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        // The directory goes once the socket has its name; its descriptor stays
        // open while the socket does: NIO removes the socket's bound path when
        // it closes, and a `/proc/self/fd/N/s` path must not meet a reused N.
        bindDirectory = temporary
        defer {
            if temporary >= 0 { unlinkat(temporary, "s", 0) }
            rmdir(temporaryPath)
        }
        guard temporary >= 0 else {
            throw ControlServerError("\(socketPath): cannot open \(temporaryPath): \(ControlSocketFile.errorText(errno))")
        }
        let channel: Channel
        do {
            channel = try ControlSocketFile.withBindableAddress(directory: temporary, path: temporaryPath, name: "s") { address in
                try ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 64)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.allowRemoteHalfClosure, value: true)
                    .childChannelInitializer { [self] channel in accept(channel) }
                    .bind(unixDomainSocketPath: address)
                    .wait()
            }
        } catch {
            throw ControlServerError("\(socketPath): cannot listen: \(error)")
        }
        serverChannel = channel
        do {
            guard fchmodat(temporary, "s", 0o600, 0) == 0 else {
                throw ControlServerError("\(socketPath): cannot make it owner-only: \(ControlSocketFile.errorText(errno))")
            }
            identity = ControlSocketFile.status(in: temporary, name: "s")
            while true {
                if replace {
                    guard renameat(temporary, "s", directory, name) == 0 else {
                        throw ControlServerError("\(socketPath): cannot replace the stale socket: \(ControlSocketFile.errorText(errno))")
                    }
                    break
                }
                if linkat(temporary, "s", directory, name, 0) == 0 { break }
                guard errno == EEXIST else {
                    throw ControlServerError("\(socketPath): cannot create it: \(ControlSocketFile.errorText(errno))")
                }
                // Appeared meanwhile: look at it again.
                replace = try checkExisting()
                guard replace else { continue }
            }
        } catch {
            _ = try? channel.close().wait()
            throw error
        }
    }

    /// Whether an existing file at the socket's name may be replaced: nothing
    /// there (false), a socket nobody answers on (true); anything else throws.
    private func checkExisting() throws -> Bool {
        switch ControlSocketFile.status(in: directory, name: name) {
        case .missing:
            return false
        case .symbolicLink:
            throw ControlServerError("\(socketPath) is a symbolic link; not following or replacing it (remove it if it is not yours)")
        case let .other(what):
            throw ControlServerError("\(socketPath) exists and is \(what), not a socket; not replacing it")
        case .socket:
            switch ControlClient.probe(socketPath: socketPath, group: group) {
            case .missing: return false
            case .stale: return true
            case .answers:
                throw ControlServerError("\(socketPath): another process answers on it (a system already running on this image?); not replacing it")
            case let .unknown(why):
                throw ControlServerError("\(socketPath): cannot tell whether another process serves it (\(why)); not replacing it")
            }
        }
    }

    /// Removes the socket's name if it is still the socket this server made.
    private func removeSocketFile() {
        guard directory >= 0, case .socket = identity,
              ControlSocketFile.status(in: directory, name: name) == identity else { return }
        unlinkat(directory, name, 0)
    }

    // MARK: - Connections

    private func accept(_ channel: Channel) -> EventLoopFuture<Void> {
        let id = ObjectIdentifier(channel)
        condition.lock()
        let refused = stopped
        if !refused { connections[id] = channel }
        condition.unlock()
        if refused { return channel.close() }
        channel.closeFuture.whenComplete { [self] _ in
            condition.lock()
            connections[id] = nil
            followers[id] = nil
            waiters[id] = nil
            condition.unlock()
        }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(LineFrameDecoder(maximumLength: ControlWire.maximumRequestBytes)),
                ControlConnectionHandler(server: self),
            ])
        }
    }

    /// Whether `channel` follows the log or waits for the stop: it takes no
    /// further requests.
    func isDedicated(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        condition.lock()
        defer { condition.unlock() }
        return followers[id] != nil || waiters[id] != nil
    }

    static let workerKey = "phantom.control.worker"

    /// Runs `body` on a worker and sends its reply (if it returns one).
    private func onWorker(_ channel: Channel, _ body: @escaping @Sendable () -> ControlReply?) -> EventLoopFuture<Void> {
        pool.runIfActive(eventLoop: channel.eventLoop) { () -> ControlReply? in
            Thread.current.threadDictionary[Self.workerKey] = true
            return body()
        }
        .recover { _ -> ControlReply? in ControlReply.failure("the system is stopping") }
        .flatMap { (reply: ControlReply?) -> EventLoopFuture<Void> in
            guard let reply else { return channel.eventLoop.makeSucceededVoidFuture() }
            return channel.writeAndFlush(ControlWire.line(reply, allocator: channel.allocator))
        }
        .recover { _ in }
    }

    private func reply(_ channel: Channel, _ reply: ControlReply) -> EventLoopFuture<Void> {
        channel.writeAndFlush(ControlWire.line(reply, allocator: channel.allocator)).recover { _ in }
    }

    /// Handles one request; the future completes when its reply is sent.
    func perform(_ request: ControlRequest, on channel: Channel) -> EventLoopFuture<Void> {
        if isDedicated(channel) { return channel.eventLoop.makeSucceededVoidFuture() }
        let target = self.target
        guard let kind = request.kind else {
            let known = ControlRequest.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            return reply(channel, .failure("unknown request \"\(request.request)\" (known: \(known))"))
        }
        switch kind {
        case .hello:
            return reply(channel, ControlReply(pid: getpid(), protocol: ControlWire.protocolVersion))
        case .state:
            return onWorker(channel) { ControlReply(state: target.stateReport()) }
        case .log:
            if let last = request.last, last < 0 {
                return reply(channel, .failure("\"last\" must be 0 or more, not \(last)"))
            }
            let after = request.after ?? 0
            return onWorker(channel) { [self] in
                var lines = target.logLines(after: after)
                let gap = (lines.first?.sequence).map { $0 > after + 1 && after > 0 ? $0 - after - 1 : 0 } ?? 0
                let newest = lines.last?.sequence ?? after
                if let last = request.last { lines = Array(lines.suffix(last)) }
                let reply = ControlReply(lines: lines.map(ControlLogLine.init), dropped: gap > 0 ? gap : nil)
                guard request.follow == true else { return reply }
                // The backlog first, then the follower's batches (writes from
                // one thread, then another, keep their order on the loop).
                channel.writeAndFlush(ControlWire.line(reply, allocator: channel.allocator), promise: nil)
                follow(channel, from: newest)
                return nil
            }
        case .snapshot:
            return onWorker(channel) {
                switch target.snapshotNow() {
                case let .success(generation): ControlReply(generation: generation)
                case let .failure(error): .failure(error.message)
                }
            }
        case .generations:
            return onWorker(channel) { ControlReply(generations: target.generations()) }
        case .applyConfig:
            guard let text = request.config else {
                return reply(channel, .failure("apply-config needs \"config\": the new config's text"))
            }
            return onWorker(channel) {
                switch target.applyConfig(text) {
                case let .success(warnings): ControlReply(warnings: warnings)
                case let .failure(error): .failure(error.message)
                }
            }
        case .rollback:
            guard let generation = request.generation else {
                return reply(channel, .failure("rollback needs \"generation\": the generation to return to"))
            }
            return onWorker(channel) { [self] in
                switch target.rollbackAndStop(to: generation) {
                case let .failure(error): return .failure(error.message)
                case .success: return wait(channel)
                }
            }
        case .stop:
            return onWorker(channel) { [self] in
                target.requestStop()
                return wait(channel)
            }
        }
    }

    /// Keeps `channel` until `stop` answers it; nil, or the answer now if the
    /// server is stopping already.
    private func wait(_ channel: Channel) -> ControlReply? {
        condition.lock()
        defer { condition.unlock() }
        if stopped { return ControlReply(message: "the system is stopping") }
        waiters[ObjectIdentifier(channel)] = channel
        return nil
    }

    // MARK: - Following the log

    private func follow(_ channel: Channel, from cursor: UInt64) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped, channel.isActive else { return }
        followers[ObjectIdentifier(channel)] = Follower(channel: channel, cursor: cursor)
        if !followerThreadRunning {
            followerThreadRunning = true
            let thread = Thread { [self] in followLoop() }
            thread.name = "phantom-control-follow"
            thread.start()
        }
        condition.broadcast()
    }

    /// Waits for lines after the slowest follower that can take them, and
    /// sends each follower the ones it has not had. A follower that does not
    /// read (its socket buffer full) is skipped until it does; lines the log
    /// dropped meanwhile are counted in `dropped`. Ends when nobody follows.
    private func followLoop() {
        while true {
            condition.lock()
            if stopped || followers.isEmpty {
                followerThreadRunning = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let cursor = followers.values.filter { $0.channel.isWritable }.map(\.cursor).min()
            if cursor == nil { _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1)) }
            condition.unlock()
            guard let cursor else { continue }
            let lines = target.waitForLogLines(after: cursor, timeout: 0.25)
            guard !lines.isEmpty else { continue }
            condition.lock()
            for (id, follower) in followers where follower.channel.isWritable {
                let mine = lines.filter { $0.sequence > follower.cursor }
                guard let first = mine.first, let last = mine.last else { continue }
                let dropped = first.sequence > follower.cursor + 1 ? first.sequence - follower.cursor - 1 : 0
                followers[id]?.cursor = last.sequence
                let reply = ControlReply(lines: mine.map(ControlLogLine.init), dropped: dropped > 0 ? dropped : nil)
                follower.channel.writeAndFlush(ControlWire.line(reply, allocator: follower.channel.allocator), promise: nil)
            }
            condition.unlock()
        }
    }
}

/// One connection: request lines in, replies out, in order.
private final class ControlConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = LineFrame
    private let server: ControlServer
    /// Completes when the last request's reply is sent.
    private var previous: EventLoopFuture<Void>?
    private var lineNumber = 0
    private let decoder = JSONDecoder()

    init(server: ControlServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lineNumber += 1
        let channel = context.channel
        let request: ControlRequest
        switch unwrapInboundIn(data) {
        case let .tooLong(limit):
            enqueue(channel, .failure("line \(lineNumber): longer than the \(limit) bytes a request may be; ignored"))
            return
        case let .line(text):
            if text.allSatisfy({ $0 == " " || $0 == "\t" }) { return }
            do {
                request = try decoder.decode(ControlRequest.self, from: Data(text.utf8))
            } catch {
                enqueue(channel, .failure("line \(lineNumber): not a request (\(Self.reason(error))); send one JSON object per line, such as {\"request\":\"state\"}"))
                return
            }
        }
        let server = self.server
        previous = (previous ?? channel.eventLoop.makeSucceededVoidFuture()).flatMap {
            server.perform(request, on: channel)
        }
    }

    private func enqueue(_ channel: Channel, _ reply: ControlReply) {
        previous = (previous ?? channel.eventLoop.makeSucceededVoidFuture()).flatMap {
            channel.writeAndFlush(ControlWire.line(reply, allocator: channel.allocator)).recover { _ in }
        }
    }

    /// The client shut its side: answer what it asked, then close (unless it
    /// follows the log or waits for the stop).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            let channel = context.channel
            let server = self.server
            (previous ?? channel.eventLoop.makeSucceededVoidFuture()).whenComplete { _ in
                if !server.isDedicated(channel) { channel.close(promise: nil) }
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private static func reason(_ error: Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted?: "not JSON"
        case let .keyNotFound(key, _)?: "no \"\(key.stringValue)\""
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
            "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        default: "\(error)"
        }
    }
}
