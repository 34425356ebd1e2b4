// PhantomSession.swift - Embedded Swift binding of Phantom's session ABI,
// version 1 (import module "phantom_session"; reference: docs/SESSION-ABI.md,
// C binding: Programs/include/phantom_session.h).
//
// No allocation, no String: names and labels are StaticStrings or byte
// buffers, payloads are raw buffers the caller owns. Errors are thrown as the
// typed PhantomError, so this works in Embedded Swift (no existentials).
// Needs `-enable-experimental-feature Extern` for the @_extern imports.
//
// Blocking and restarts: open, call and next block the component (never the
// system); all of a component's state, these structs included, lives in its
// linear memory, and a call pending when the system stopped is re-executed
// after the restart with the same arguments, so a Session or a Request id
// stays valid across restarts.

// ---- raw imports ----------------------------------------------------------------

@_extern(wasm, module: "phantom_session", name: "session_open")
@_extern(c)
func phantom_session_open(_ service: UnsafeRawPointer?, _ serviceLength: UInt32,
                          _ label: UnsafeRawPointer?, _ labelLength: UInt32,
                          _ ramQuota: UInt64) -> Int32

@_extern(wasm, module: "phantom_session", name: "session_call")
@_extern(c)
func phantom_session_call(_ handle: Int32,
                          _ request: UnsafeRawPointer?, _ requestLength: UInt32,
                          _ reply: UnsafeMutableRawPointer?, _ replyCapacity: UInt32,
                          _ replyLength: UnsafeMutablePointer<UInt32>) -> Int32

@_extern(wasm, module: "phantom_session", name: "session_close")
@_extern(c)
func phantom_session_close(_ handle: Int32) -> Int32

@_extern(wasm, module: "phantom_session", name: "service_announce")
@_extern(c)
func phantom_service_announce(_ service: UnsafeRawPointer?, _ length: UInt32) -> Int32

/// `info` points to the 24-byte phantom_request_t (see `Request`).
@_extern(wasm, module: "phantom_session", name: "service_next")
@_extern(c)
func phantom_service_next(_ buffer: UnsafeMutableRawPointer?, _ capacity: UInt32,
                          _ info: UnsafeMutableRawPointer, _ timeoutNanoseconds: Int64) -> Int32

@_extern(wasm, module: "phantom_session", name: "service_reply")
@_extern(c)
func phantom_service_reply(_ request: UInt32, _ status: Int32,
                           _ data: UnsafeRawPointer?, _ length: UInt32) -> Int32

// ---- errors --------------------------------------------------------------------------

/// The ABI's negative results.
public enum PhantomError: Error {
    /// -1: no route, no policy, or the server refused.
    case denied
    /// -2: bad handle, id, pointer or argument.
    case invalid
    /// -3: not enough RAM quota or capabilities.
    case quota
    /// -4: the server is gone or the session was closed; open a new session.
    case closed
    /// -5: the reply (call) or the event's data (next) needs `needed` bytes.
    case tooBig(needed: UInt32)
    /// -6: `Service.next` saw no event within its timeout.
    case timeout
    /// any other negative code
    case other(Int32)

    init(code: Int32, length: UInt32 = 0) {
        switch code {
        case -1: self = .denied
        case -2: self = .invalid
        case -3: self = .quota
        case -4: self = .closed
        case -5: self = .tooBig(needed: length)
        case -6: self = .timeout
        default: self = .other(code)
        }
    }

    /// The ABI's number for this error.
    public var code: Int32 {
        switch self {
        case .denied: return -1
        case .invalid: return -2
        case .quota: return -3
        case .closed: return -4
        case .tooBig: return -5
        case .timeout: return -6
        case .other(let c): return c
        }
    }

    public var name: StaticString {
        switch self {
        case .denied: return "denied"
        case .invalid: return "invalid"
        case .quota: return "quota"
        case .closed: return "closed"
        case .tooBig: return "too big"
        case .timeout: return "timeout"
        case .other: return "unknown error"
        }
    }
}

/// An empty buffer (no request or reply data).
@inline(__always)
public func emptyBytes() -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

// ---- client ------------------------------------------------------------------------------

/// What a call returned: the server's status (>= 0) and the reply's length
/// (its bytes are in the buffer passed to `call`).
public struct Reply {
    public var status: Int32
    public var length: Int
}

/// A client session (a handle >= 1).
public struct Session {
    public let handle: Int32

    public init(handle: Int32) { self.handle = handle }

    /// Opens a session to `service` with `label` (the server sees
    /// "<this component> -> label"), donating `ramQuota` bytes. Blocks while
    /// the request is pending (the server has not announced yet, or has not
    /// answered the open). Throws .denied, .quota, .invalid.
    public static func open(service: UnsafeRawBufferPointer, label: UnsafeRawBufferPointer,
                            ramQuota: UInt64 = 0) throws(PhantomError) -> Session {
        let h = phantom_session_open(service.baseAddress, UInt32(service.count),
                                     label.baseAddress, UInt32(label.count), ramQuota)
        if h < 0 { throw PhantomError(code: h) }
        return Session(handle: h)
    }

    public static func open(_ service: StaticString, label: StaticString = "",
                            ramQuota: UInt64 = 0) throws(PhantomError) -> Session {
        return try open(service: bytes(service), label: bytes(label), ramQuota: ramQuota)
    }

    /// Sends `request` and blocks until the server replies. The reply's data
    /// goes to `reply`. Throws .closed (server gone: open again), .tooBig
    /// (the reply needs `needed` bytes; nothing was written), .invalid.
    /// A call pending at a snapshot is re-executed after a restart and
    /// matched to the same request: the server sees it once.
    @discardableResult
    public func call(_ request: UnsafeRawBufferPointer,
                     reply: UnsafeMutableRawBufferPointer) throws(PhantomError) -> Reply {
        var length: UInt32 = 0
        let r = phantom_session_call(handle, request.baseAddress, UInt32(request.count),
                                     reply.baseAddress, UInt32(reply.count), &length)
        if r < 0 { throw PhantomError(code: r, length: length) }
        return Reply(status: r, length: Int(length))
    }

    /// A call without reply data (LOG, Report, or any call whose reply is
    /// empty). Returns the server's status.
    @discardableResult
    public func send(_ request: UnsafeRawBufferPointer) throws(PhantomError) -> Int32 {
        return try call(request, reply: UnsafeMutableRawBufferPointer(start: nil, count: 0)).status
    }

    @discardableResult
    public func send(_ text: StaticString) throws(PhantomError) -> Int32 {
        return try send(bytes(text))
    }

    /// Closes the session (the server sees a close event). Never blocks.
    public func close() { _ = phantom_session_close(handle) }

    // -- built-in services --

    /// Timer session: blocks for `nanoseconds`.
    public func sleep(nanoseconds: UInt64) throws(PhantomError) {
        var request = nanoseconds.littleEndian
        let r = withUnsafeBytes(of: &request) { (bytes: UnsafeRawBufferPointer) -> Int32 in
            var length: UInt32 = 0
            return phantom_session_call(handle, bytes.baseAddress, 8, nil, 0, &length)
        }
        if r < 0 { throw PhantomError(code: r) }
    }

    /// ROM session: reads the content into `buffer`. With knownVersion 0 it
    /// returns at once; otherwise it blocks until the ROM's version differs
    /// from knownVersion. Returns the version (>= 1) and the length.
    public func readROM(knownVersion: UInt32 = 0,
                        into buffer: UnsafeMutableRawBufferPointer) throws(PhantomError) -> (version: UInt32, length: Int) {
        var request = knownVersion.littleEndian
        var length: UInt32 = 0
        let r = withUnsafeBytes(of: &request) { (bytes: UnsafeRawBufferPointer) -> Int32 in
            phantom_session_call(handle, bytes.baseAddress, knownVersion == 0 ? 0 : 4,
                                 buffer.baseAddress, UInt32(buffer.count), &length)
        }
        if r < 0 { throw PhantomError(code: r, length: length) }
        return (UInt32(r), Int(length))
    }
}

// ---- server -------------------------------------------------------------------------------

/// One event from `Service.next` (phantom_request_t: kind, session,
/// request, length as u32, ram_quota as u64; 24 bytes, little-endian).
public struct Request {
    public enum Kind: UInt32 {
        case open = 1    // data = the client's label, as prefixed by the parent
        case call = 2    // data = the request payload
        case close = 3   // no data
    }
    public var kind: Kind
    /// Server-side session id: the same for an open, its calls and its close.
    public var session: UInt32
    /// The id to reply with (open and call).
    public var id: UInt32
    /// Bytes of label/payload in the buffer.
    public var length: Int
    /// Open: the RAM the client donated.
    public var ramQuota: UInt64
}

public enum Service {
    /// Announces `name`; clients blocked in an open are released.
    public static func announce(_ name: StaticString) throws(PhantomError) {
        let r = phantom_service_announce(name.utf8Start, UInt32(name.utf8CodeUnitCount))
        if r < 0 { throw PhantomError(code: r) }
    }

    /// Waits for the next event of this component's services; the label or
    /// payload goes to `buffer`. timeout: < 0 forever (default), 0 poll,
    /// > 0 at most that many nanoseconds. Throws .timeout, .tooBig(needed)
    /// (the event stays queued: call again with a buffer that big), .invalid.
    public static func next(into buffer: UnsafeMutableRawBufferPointer,
                            timeout: Int64 = -1) throws(PhantomError) -> Request {
        // 24 bytes, 8-byte aligned (the tuple's UInt64s)
        var info: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &info) { (raw: UnsafeMutableRawBufferPointer) throws(PhantomError) -> Request in
            let r = phantom_service_next(buffer.baseAddress, UInt32(buffer.count), raw.baseAddress!, timeout)
            let kind = UInt32(littleEndian: raw.load(fromByteOffset: 0, as: UInt32.self))
            let length = UInt32(littleEndian: raw.load(fromByteOffset: 12, as: UInt32.self))
            if r < 0 { throw PhantomError(code: r, length: length) }
            guard let k = Request.Kind(rawValue: kind) else { throw PhantomError.invalid }
            return Request(kind: k,
                           session: UInt32(littleEndian: raw.load(fromByteOffset: 4, as: UInt32.self)),
                           id: UInt32(littleEndian: raw.load(fromByteOffset: 8, as: UInt32.self)),
                           length: Int(length),
                           ramQuota: UInt64(littleEndian: raw.load(fromByteOffset: 16, as: UInt64.self)))
        }
    }

    /// Answers an open (status 0 accepts, negative denies) or a call (status
    /// and data go back to the caller).
    public static func reply(to request: Request, status: Int32 = 0,
                             data: UnsafeRawBufferPointer = emptyBytes()) throws(PhantomError) {
        let r = phantom_service_reply(request.id, status, data.baseAddress, UInt32(data.count))
        if r < 0 { throw PhantomError(code: r) }
    }
}

// ---- helpers ------------------------------------------------------------------------------

/// The UTF-8 bytes of a StaticString as a raw buffer.
@inline(__always)
public func bytes(_ s: StaticString) -> UnsafeRawBufferPointer {
    return UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
}
