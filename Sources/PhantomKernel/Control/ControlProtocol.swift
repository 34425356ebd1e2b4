import Foundation
import NIOCore

/// The control channel's wire format (docs/CONTROL.md): one JSON object per
/// line each way, UTF-8, `\n`-terminated. A request names its kind in
/// `request`; a reply says `ok` and carries the fields of its kind, or `error`.
///
/// Fields are flat optionals rather than an enum with payloads, so that the
/// JSON reads the way it is documented and a shell with `socat` can speak it.
public struct ControlRequest: Codable, Sendable, Equatable {
    /// The kinds of request, as their `request` strings.
    public enum Kind: String, Sendable, CaseIterable {
        case hello, state, log, snapshot, generations
        case applyConfig = "apply-config"
        case rollback, stop
    }

    /// The kind, as a string: an unknown kind is answered with an error that
    /// lists the known ones, not refused as undecodable.
    public var request: String
    /// `log`: only lines numbered above this (0: from the oldest kept).
    public var after: UInt64?
    /// `log`: only the last this many of them.
    public var last: Int?
    /// `log`: keep the connection and send each new batch of lines as it comes.
    public var follow: Bool?
    /// `apply-config`: the new config's text (XML or HID).
    public var config: String?
    /// `rollback`: the generation to return to.
    public var generation: UInt64?

    public init(request: String, after: UInt64? = nil, last: Int? = nil, follow: Bool? = nil,
                config: String? = nil, generation: UInt64? = nil) {
        self.request = request
        self.after = after
        self.last = last
        self.follow = follow
        self.config = config
        self.generation = generation
    }

    public var kind: Kind? { Kind(rawValue: request) }

    public static let hello = ControlRequest(request: Kind.hello.rawValue)
    public static let state = ControlRequest(request: Kind.state.rawValue)
    public static let snapshot = ControlRequest(request: Kind.snapshot.rawValue)
    public static let generations = ControlRequest(request: Kind.generations.rawValue)
    public static let stop = ControlRequest(request: Kind.stop.rawValue)
    public static func log(after: UInt64 = 0, last: Int? = nil, follow: Bool = false) -> ControlRequest {
        ControlRequest(request: Kind.log.rawValue, after: after == 0 ? nil : after, last: last, follow: follow ? true : nil)
    }
    public static func applyConfig(_ text: String) -> ControlRequest {
        ControlRequest(request: Kind.applyConfig.rawValue, config: text)
    }
    public static func rollback(to generation: UInt64) -> ControlRequest {
        ControlRequest(request: Kind.rollback.rawValue, generation: generation)
    }
}

/// A reply. `ok` false carries `error`; otherwise the fields of the request's kind:
///
/// | request | reply fields |
/// |---|---|
/// | `hello` | `pid`, `protocol` |
/// | `state` | `state` (Genode's state report, XML) |
/// | `log` | `lines`; with `follow`, more replies with `lines` (and `dropped` after a gap) until either side closes |
/// | `snapshot` | `generation` (committed) |
/// | `generations` | `generations`, newest first |
/// | `apply-config` | `warnings` |
/// | `rollback`, `stop` | sent when the system has stopped: `generation` (the final one) if known, `message` |
public struct ControlReply: Codable, Sendable, Equatable {
    public var ok: Bool
    public var error: String?
    public var pid: Int32?
    /// The protocol version (`hello`).
    public var `protocol`: Int?
    public var state: String?
    public var lines: [ControlLogLine]?
    /// Lines a follower missed because it did not read them before the log dropped them.
    public var dropped: UInt64?
    public var generation: UInt64?
    public var warnings: [String]?
    public var generations: [GenerationSummary]?
    public var message: String?

    public init(ok: Bool = true, error: String? = nil, pid: Int32? = nil, protocol: Int? = nil, state: String? = nil,
                lines: [ControlLogLine]? = nil, dropped: UInt64? = nil, generation: UInt64? = nil,
                warnings: [String]? = nil, generations: [GenerationSummary]? = nil, message: String? = nil) {
        self.ok = ok
        self.error = error
        self.pid = pid
        self.protocol = `protocol`
        self.state = state
        self.lines = lines
        self.dropped = dropped
        self.generation = generation
        self.warnings = warnings
        self.generations = generations
        self.message = message
    }

    public static func failure(_ message: String) -> ControlReply { ControlReply(ok: false, error: message) }
}

/// One log line on the wire (`KernelLog.Line`).
public struct ControlLogLine: Codable, Sendable, Equatable {
    public var sequence: UInt64
    public var text: String
    public init(sequence: UInt64, text: String) {
        self.sequence = sequence
        self.text = text
    }
    public init(_ line: KernelLog.Line) { self.init(sequence: line.sequence, text: line.text) }
}

enum ControlWire {
    static let protocolVersion = 1
    /// Longest request line the server reads (a config of a few MiB fits).
    static let maximumRequestBytes = 16 << 20
    /// Longest reply line the client reads (a state report, a batch of log lines).
    static let maximumReplyBytes = 256 << 20

    /// `value` as one line of JSON with its newline. JSONEncoder escapes
    /// control characters in strings and adds no whitespace, so the line
    /// holds no other newline.
    static func line<Value: Encodable>(_ value: Value, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        var data = (try? encoder.encode(value)) ?? Data(#"{"ok":false,"error":"the reply could not be encoded"}"#.utf8)
        data.append(10)
        var buffer = allocator.buffer(capacity: data.count)
        buffer.writeBytes(data)
        return buffer
    }
}

/// What the line decoder hands on: a line (without its `\n`, and without a
/// `\r` before it), or notice that a line was longer than allowed (its bytes
/// up to the next newline are discarded).
enum LineFrame {
    case line(String)
    case tooLong(limit: Int)
}

/// Splits a byte stream into lines, at most `maximumLength` bytes each.
/// Scans each byte once, however the line arrives in pieces.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame

    let maximumLength: Int
    /// Bytes of the current partial line already scanned for a newline.
    private var scanned = 0
    private var discarding = false

    init(maximumLength: Int) { self.maximumLength = maximumLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let start = view.index(view.startIndex, offsetBy: scanned)
        guard let newline = view[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            if scanned > maximumLength {
                if !discarding {
                    discarding = true
                    context.fireChannelRead(wrapInboundOut(.tooLong(limit: maximumLength)))
                }
                buffer.moveReaderIndex(forwardBy: view.count)
                scanned = 0
            }
            return .needMoreData
        }
        let length = newline - view.startIndex
        scanned = 0
        if discarding || length > maximumLength {
            buffer.moveReaderIndex(forwardBy: length + 1)
            if !discarding { context.fireChannelRead(wrapInboundOut(.tooLong(limit: maximumLength))) }
            discarding = false
            return .continue
        }
        var bytes = buffer.readBytes(length: length) ?? []
        buffer.moveReaderIndex(forwardBy: 1)
        if bytes.last == 13 { bytes.removeLast() }
        context.fireChannelRead(wrapInboundOut(.line(String(decoding: bytes, as: UTF8.self))))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A last line without its newline still counts.
        if buffer.readableBytes > 0 && !discarding {
            var bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            if bytes.last == 13 { bytes.removeLast() }
            context.fireChannelRead(wrapInboundOut(.line(String(decoding: bytes, as: UTF8.self))))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        scanned = 0
        return .needMoreData
    }
}
