import Foundation
import NIOCore
import NIOPosix

/// Why a command could not talk to a running system.
public enum ControlClientError: Error, Equatable, CustomStringConvertible {
    /// Nothing answers on the image's socket: no file, or one left by a
    /// process that is gone (`stale`).
    case notRunning(image: String, socketPath: String, stale: Bool)
    /// The socket's name is a symbolic link or not a socket: not followed.
    case notASocket(socketPath: String, what: String)
    /// Connecting failed otherwise (permission, path too long).
    case cannotConnect(socketPath: String, reason: String)
    /// No reply within the time allowed.
    case timedOut(socketPath: String, seconds: TimeInterval)
    /// The system closed the connection before replying.
    case closed(socketPath: String)
    /// The system replied with an error.
    case refused(String)
    /// A reply line that is not a reply.
    case badReply(String)

    public var description: String {
        switch self {
        case let .notRunning(image, socketPath, stale):
            let why = stale ? "\(socketPath) is left over from a process that is gone" : "no \(socketPath)"
            return "no system is running on \(image) (\(why)); start one with phantom boot --image \(image)"
        case let .notASocket(socketPath, what):
            return "\(socketPath) is \(what), not a running system's socket; not following it (remove it if it is not yours)"
        case let .cannotConnect(socketPath, reason):
            return "cannot connect to \(socketPath): \(reason)"
        case let .timedOut(socketPath, seconds):
            return "the system on \(socketPath) did not answer within \(seconds) s"
        case let .closed(socketPath):
            return "the system on \(socketPath) closed the connection without answering"
        case let .refused(message):
            return message
        case let .badReply(text):
            return "the system sent something that is not a reply: \(text.prefix(200))"
        }
    }
}

/// A blocking connection to a running system's control socket, for the
/// command line: send a request, wait for its reply (or, following the log,
/// for each reply as it comes).
///
/// It lives in PhantomKernel beside the server so that the wire types stay
/// internal to one module and the tests exercise the very client the commands
/// use. It runs its own event loop (one thread) for as long as it is open.
public final class ControlClient: @unchecked Sendable {
    // @unchecked: `channel` and `group` are set in `init` and only read after;
    // the inbox is locked.
    public let socketPath: String
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    private let inbox: Inbox

    /// The image path a socket path belongs to (`IMAGE.sock` → `IMAGE`).
    static func image(ofSocket path: String) -> String {
        path.hasSuffix(".sock") ? String(path.dropLast(5)) : path
    }

    /// Connects to the system running on `image` (through `IMAGE.sock`).
    public convenience init(image: String, timeout: TimeInterval = 5) throws {
        try self.init(socketPath: ControlServer.socketPath(forImage: image), image: image, timeout: timeout)
    }

    /// Connects to `socketPath`. `image` only names the image in errors.
    public init(socketPath: String, image: String? = nil, timeout: TimeInterval = 5) throws {
        self.socketPath = socketPath
        let image = image ?? Self.image(ofSocket: socketPath)
        switch ControlSocketFile.status(of: socketPath) {
        case .missing:
            throw ControlClientError.notRunning(image: image, socketPath: socketPath, stale: false)
        case .symbolicLink:
            throw ControlClientError.notASocket(socketPath: socketPath, what: "a symbolic link")
        case let .other(what):
            throw ControlClientError.notASocket(socketPath: socketPath, what: what)
        case .socket:
            break
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let inbox = Inbox()
        do {
            channel = try Self.connect(socketPath: socketPath, image: image, group: group, timeout: timeout) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LineFrameDecoder(maximumLength: ControlWire.maximumReplyBytes)),
                        ReplyCollector(inbox: inbox),
                    ])
                }
            }
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.inbox = inbox
    }

    deinit {
        channel.close(promise: nil)
        try? group.syncShutdownGracefully()
    }

    /// Sends `request` and waits for its reply; an error reply is thrown
    /// (`ControlClientError.refused`). `timeout` nil waits as long as it takes.
    @discardableResult
    public func call(_ request: ControlRequest, timeout: TimeInterval? = 60) throws -> ControlReply {
        let reply = try exchange(request, timeout: timeout)
        guard reply.ok else { throw ControlClientError.refused(reply.error ?? "the system refused the request") }
        return reply
    }

    /// Sends `request` and waits for its first reply, error replies included.
    public func exchange(_ request: ControlRequest, timeout: TimeInterval? = 60) throws -> ControlReply {
        try send(request)
        guard let reply = try receive(timeout: timeout) else { throw ControlClientError.closed(socketPath: socketPath) }
        return reply
    }

    /// Sends one request line.
    public func send(_ request: ControlRequest) throws {
        do {
            try channel.writeAndFlush(ControlWire.line(request)).wait()
        } catch {
            throw ControlClientError.closed(socketPath: socketPath)
        }
    }

    /// Sends raw bytes (tests: malformed lines).
    public func sendRaw(_ text: String) throws {
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        do {
            try channel.writeAndFlush(buffer).wait()
        } catch {
            throw ControlClientError.closed(socketPath: socketPath)
        }
    }

    /// Shuts the sending side, as `socat` does at the end of its input: the
    /// system answers what it was sent, then closes.
    func finishSending() throws {
        try channel.close(mode: .output).wait()
    }

    /// The next reply; nil once the system closed the connection (and every
    /// reply before that was taken). Throws `timedOut` after `timeout` seconds.
    public func receive(timeout: TimeInterval?) throws -> ControlReply? {
        switch inbox.take(timeout: timeout) {
        case let .reply(reply): return reply
        case let .bad(text): throw ControlClientError.badReply(text)
        case .closed: return nil
        case .timedOut: throw ControlClientError.timedOut(socketPath: socketPath, seconds: timeout ?? 0)
        }
    }

    /// Closes the connection (a follower ends its `log -f` this way).
    public func close() {
        _ = try? channel.close().wait()
    }

    /// Whether anything answers on `socketPath` (a system, or a process that
    /// is still starting one): `.answers`; `.stale` when the file is a socket
    /// nobody listens on; `.missing`; otherwise `.unknown` with why.
    enum Probe: Equatable {
        case missing, stale, answers
        case unknown(String)
    }

    static func probe(socketPath: String, group: EventLoopGroup) -> Probe {
        do {
            let channel = try connect(socketPath: socketPath, image: image(ofSocket: socketPath), group: group, timeout: 2) { $0.eventLoop.makeSucceededVoidFuture() }
            channel.close(promise: nil)
            return .answers
        } catch let ControlClientError.notRunning(_, _, stale) {
            return stale ? .stale : .missing
        } catch {
            return .unknown("\(error)")
        }
    }

    private static func connect(socketPath: String, image: String, group: EventLoopGroup, timeout: TimeInterval,
                                initializer: @escaping @Sendable (Channel) -> EventLoopFuture<Void>) throws -> Channel {
        do {
            return try ControlSocketFile.withConnectableAddress(socketPath) { address in
                try ClientBootstrap(group: group)
                    .connectTimeout(.milliseconds(Int64(timeout * 1000)))
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    .channelInitializer(initializer)
                    .connect(unixDomainSocketPath: address)
                    .wait()
            }
        } catch let error as IOError where error.errnoCode == ECONNREFUSED {
            throw ControlClientError.notRunning(image: image, socketPath: socketPath, stale: true)
        } catch let error as IOError where error.errnoCode == ENOENT {
            throw ControlClientError.notRunning(image: image, socketPath: socketPath, stale: false)
        } catch let error as IOError where error.errnoCode == EACCES {
            throw ControlClientError.cannotConnect(socketPath: socketPath, reason: "permission denied (the system runs as another user)")
        } catch let error as IOError where error.errnoCode == ENOTSOCK {
            throw ControlClientError.notASocket(socketPath: socketPath, what: "not a socket")
        } catch SocketAddressError.unixDomainSocketPathTooLong {
            throw ControlClientError.cannotConnect(socketPath: socketPath, reason: "the path is longer than the \(ControlSocketFile.addressLimit) bytes a Unix socket address holds")
        } catch is ChannelError {
            throw ControlClientError.timedOut(socketPath: socketPath, seconds: timeout)
        } catch {
            throw ControlClientError.cannotConnect(socketPath: socketPath, reason: "\(error)")
        }
    }
}

/// Replies as they arrive, for a blocking reader.
private final class Inbox: @unchecked Sendable {
    // @unchecked: everything is reached with `condition` held.
    enum Item { case reply(ControlReply), bad(String), closed, timedOut }
    private let condition = NSCondition()
    private var items: [Item] = []
    private var closed = false

    func put(_ item: Item) {
        condition.lock()
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    func take(timeout: TimeInterval?) -> Item {
        let deadline = timeout.map { Date(timeIntervalSinceNow: $0) }
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed {
            if let deadline {
                if !condition.wait(until: deadline) && items.isEmpty && !closed { return .timedOut }
            } else {
                condition.wait()
            }
        }
        return items.isEmpty ? .closed : items.removeFirst()
    }
}

/// Decodes reply lines into the inbox.
private final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = LineFrame
    private let inbox: Inbox
    private let decoder = JSONDecoder()

    init(inbox: Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .line(text):
            guard !text.isEmpty else { return }
            if let reply = try? decoder.decode(ControlReply.self, from: Data(text.utf8)) {
                inbox.put(.reply(reply))
            } else {
                inbox.put(.bad(text))
            }
        case let .tooLong(limit):
            inbox.put(.bad("a reply longer than \(limit) bytes"))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event as? ChannelEvent ?? .outputClosed {
            inbox.close()
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.close()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        inbox.close()
        context.close(promise: nil)
    }
}
