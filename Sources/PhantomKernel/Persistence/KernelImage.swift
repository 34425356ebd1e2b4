import Foundation
import PhantomSpace
import PhantomStore

/// Everything the kernel itself must find again after a restart: the init
/// config, the component tree, sessions, queued requests and replies, reports.
/// Each component's own state (its instance, thread and WASI records) is in
/// the object space already; this names it.
///
/// The kernel keeps these tables in Swift while it runs and writes them into
/// the object space *at the cut* of every snapshot (while the world is
/// stopped), like an engine thread writing back its registers at a safepoint:
/// a snapshot then holds the kernel's tables exactly as they were at the same
/// instant as every component's memory (DESIGN.md invariant 1). The write
/// happens only when a table changed since the last cut, and costs O(tables),
/// never O(space) (invariant 4).
struct KernelImage: Codable, Equatable {
    /// Version 2 added `ComponentImage.pvmHeap` (Phantom VM components) and
    /// the record's checksum (`KernelRecord`); a version 1 image is read as is
    /// and written as version 2 at the next cut.
    static let formatVersion = 2
    var formatVersion = KernelImage.formatVersion
    /// The config the system runs, as its text (XML or HID).
    var configText: String
    var components: [ComponentImage] = []
    var sessions: [SessionImage] = []
    var requests: [RequestImage] = []
    /// Report contents by report label (`report_rom` serves them as ROMs).
    var reports: [String: ReportImage] = [:]
    var nextComponent: UInt64 = 1
    var nextSession: UInt64 = 1
    var nextRequest: UInt64 = 1
    /// Bumped on every config change, for the state report's `version`.
    var configGeneration: UInt64 = 1
}

struct ComponentImage: Codable, Equatable {
    enum State: Codable, Equatable {
        case running
        case exited(code: UInt32)
        case trapped(message: String)
        /// Could not be started (unlinkable module, missing binary); says why.
        case failed(reason: String)

        /// The reason of a child whose environment could not be set up
        /// (Genode's "incomplete"): init tries it again when its routes change.
        static let incompletePrefix = "incomplete: "
        var isIncomplete: Bool {
            if case let .failed(reason) = self { return reason.hasPrefix(Self.incompletePrefix) }
            return false
        }
    }

    var id: UInt64
    var name: String
    var binary: String
    /// The `version` attribute it was started with: a change restarts it.
    var version: String?
    var moduleChecksum: UInt32
    var ramQuota: UInt64
    var capsQuota: UInt64
    /// The inline config as text, and a counter bumped whenever it changes
    /// (the ROM's version; a `poll_oneoff` on `/rom/config` wakes on it).
    var configText: String
    var configVersion: UInt64
    var instance: UInt32
    var thread: UInt32
    var wasiState: UInt64
    var state: State
    /// Services this component announced (`service_announce`).
    var announced: [String] = []
    /// Announced with `PHANTOM_ANNOUNCE_ACK_CLOSE`: its sessions stay
    /// `CLOSE_REQUESTED` until it answers their close events.
    var acknowledgesCloses: Bool?
    /// Output written without a newline yet, per stream (1 stdout, 2 stderr).
    var partialLine: [Int32: [UInt8]] = [:]
    /// Sessions this component opened, for the state report's `requested` list.
    var caps: UInt64 = 0
    /// Set for a component the kernel implements itself (`report_rom`), which
    /// has no engine thread.
    var native: String?
    /// A native report_rom's reports, by the Report session's label.
    var reports: [String: ReportImage]?
    /// The init whose child this is (`Kernel+Scopes.swift`); nil: the root init.
    var parent: UInt64?
    /// A nested init's config as it last applied it, and how often it changed
    /// (its state report's version counts on it).
    var initConfigText: String?
    var initConfigGeneration: UInt64?
    /// A native test-init's progress.
    var testInit: TestInitImage?
    /// The id its init reports for it (Genode counts children per init; a
    /// child of the root init reports its component id, so nil).
    var childID: UInt64?
    /// A nested init's next child id (it counts every start and restart).
    var nextChildID: UInt64?
    /// A pending resource request (`Kernel+ResourceRequest.swift`).
    var requestedRam: UInt64?
    var requestedCaps: UInt64?
    /// Pages of its linear memory it discarded (`Kernel+Yield.swift`).
    var discardedPages: [UInt32]?
    /// The ROM module its binary was read from, as its routes named it
    /// (nil: `binary` itself).
    var binaryROM: String?
    /// Genode's STUCK: running, but a route one of its sessions took no
    /// longer leads anywhere (`Kernel+Dependencies.swift`). Nil: not stuck.
    var stuck: Bool?
    /// For a component whose binary is a Phantom class bundle: the root
    /// object of its Phantom VM heap (`Kernel+PhantomVM.swift`). Nil: a
    /// WebAssembly component (or a native one).
    var pvmHeap: UInt64?
}

struct SessionImage: Codable, Equatable {
    enum State: String, Codable, Equatable {
        /// Waiting for its server to announce the service or to answer.
        case creating = "CREATING"
        case available = "OK"
        case denied = "DENIED"
        case closing = "CLOSING"
    }
    enum Server: Codable, Equatable {
        /// A service the kernel provides (`parent-provides`).
        case builtin(String)
        case component(UInt64)
    }

    var id: UInt64
    var service: String
    /// The label as the server sees it (prefixed by the parent).
    var label: String
    var client: UInt64
    var server: Server
    var state: State
    var ramQuota: UInt64
    /// Kernel-opened environment sessions (PD, CPU, LOG, ROM) are not closed
    /// by the component.
    var environment: Bool = false
    /// The label as the client asked for it (prefixed, before a route
    /// target rewrote it): a new config routes it again from this.
    var requested: String?
}

struct RequestImage: Codable, Equatable {
    enum Kind: UInt32, Codable { case open = 1, call = 2, close = 3, upgrade = 4, yield = 5 }
    var id: UInt64
    var session: UInt64
    var server: UInt64
    var kind: Kind
    var payload: [UInt8]
    /// Handed to the server by `service_next`, waiting for `service_reply`.
    var delivered = false
    var replyStatus: Int32?
    var reply: [UInt8]?
    /// A call nobody waits for (a LOG line written through stdout): its
    /// reply is dropped when it comes.
    var discardReply: Bool?
    /// An upgrade: the bytes the client added to the session.
    var upgradeRam: UInt64?
}

struct ReportImage: Codable, Equatable {
    var content: [UInt8]
    var version: UInt64
}

/// Where the kernel's tables live in the object space: one root slot with a
/// small record pointing at the encoded tables.
///
/// ```
/// 0 magic "PHKERNEL"   8 tables offset   16 tables length   24 format version
/// 32 CRC32C of the tables (version 2 on; a version 1 record is 32 bytes)
/// ```
///
/// The checksum makes a tables blob that was changed under the record — a
/// bit flip inside a number the JSON decoder would take at face value — a
/// refusal instead of a misread.
enum KernelRecord {
    static let rootSlot = 10
    static let magic: UInt64 = 0x4C45_4E52_454B_4850 // "PHKERNEL"
    static let size = 40
    static let version = RecordVersion(record: "the kernel's table record", current: UInt64(KernelImage.formatVersion), oldestReadable: 1)

    static func load(from space: ObjectSpace) throws -> KernelImage? {
        let record = space.root(rootSlot)
        guard record != 0 else { return nil }
        guard space.isAllocated(record, count: 32), space.load(UInt64.self, at: record) == magic else {
            throw KernelError.restore("root \(rootSlot) does not point to the kernel's record")
        }
        let found: UInt64
        do { found = try version.check(space.load(UInt64.self, at: record + 24)) } catch {
            throw KernelError.restore("\(error)")
        }
        guard found < 2 || space.isAllocated(record, count: UInt64(size)) else {
            throw KernelError.restore("the kernel's table record (version \(found)) is cut short")
        }
        let offset = space.load(UInt64.self, at: record + 8), length = space.load(UInt64.self, at: record + 16)
        guard length > 0, length < 1 << 32, space.isAllocated(offset, count: length) else {
            throw KernelError.restore("the kernel's tables (offset \(offset), \(length) bytes) are outside the allocated space")
        }
        let bytes = space.read(at: offset, count: Int(length))
        if found >= 2 {
            let stored = UInt32(truncatingIfNeeded: space.load(UInt64.self, at: record + 32))
            guard CRC32C.checksum(bytes) == stored else {
                throw KernelError.restore("the kernel's tables (\(length) bytes at \(offset)) do not match their checksum")
            }
        }
        var image: KernelImage
        do {
            image = try JSONDecoder().decode(KernelImage.self, from: Data(bytes))
        } catch {
            throw KernelError.restore("the kernel's tables do not decode: \(error)")
        }
        guard UInt64(image.formatVersion) == found else {
            throw KernelError.restore("the kernel's tables say format version \(image.formatVersion), their record \(found)")
        }
        // The upgrade: version 1 tables lack only optional fields, so they
        // decode as they are; from now on they are written as the current version.
        image.formatVersion = KernelImage.formatVersion
        return image
    }

    /// Writes `image` into the space and points the root at it; frees the
    /// previous copy. Runs at the cut (world stopped) or before any thread runs.
    static func store(_ image: KernelImage, in space: ObjectSpace, cache: KernelTableCache? = nil) throws {
        let bytes: [UInt8]
        if let cache {
            bytes = try cache.encode(image)
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            bytes = Array(try encoder.encode(image))
        }
        let old = space.root(rootSlot)
        var record = old
        if old == 0 || !space.isAllocated(old, count: UInt64(size)) || space.load(UInt64.self, at: old + 24) < 2 {
            // A version 1 record is smaller: the upgrade gets a new one,
            // taking over its tables so that they are freed below. The old
            // record stays allocated (it may be forged or shared; 32 bytes).
            record = try space.allocate(size)
            if old != 0, space.isAllocated(old, count: 32), space.load(UInt64.self, at: old) == magic {
                space.store(space.load(UInt64.self, at: old + 8), at: record + 8)
                space.store(space.load(UInt64.self, at: old + 16), at: record + 16)
            }
        }
        space.store(magic, at: record)
        space.store(UInt64(KernelImage.formatVersion), at: record + 24)
        space.store(UInt64(CRC32C.checksum(bytes)), at: record + 32)
        let offset = try space.allocate(bytes.count)
        space.write(bytes, at: offset)
        let previous = (space.load(UInt64.self, at: record + 8), space.load(UInt64.self, at: record + 16))
        space.store(offset, at: record + 8)
        space.store(UInt64(bytes.count), at: record + 16)
        space.setRoot(rootSlot, record)
        // The previous copy is freed only if it is one (a forged record is left alone).
        if previous.0 != 0, previous.1 > 0, previous.1 < 1 << 32, space.isAllocated(previous.0, count: previous.1) {
            space.free(previous.0, byteCount: Int(previous.1))
        }
    }
}

public enum KernelError: Error, CustomStringConvertible, Equatable {
    case restore(String)
    case config(String)
    case start(String)

    public var description: String {
        switch self {
        case let .restore(message): "cannot restore the system: \(message)"
        case let .config(message): message
        case let .start(message): message
        }
    }
}

/// The kernel's tables as JSON, byte for byte what `JSONEncoder` (sorted
/// keys) makes of the whole `KernelImage`, but re-encoding only the rows that
/// changed since the last cut: every row (component, session, request) keeps
/// its encoded bytes next to its value, and an unchanged row — compared with
/// `==`, which is cheap where the encoder is not (~10 µs per row) — is copied.
/// The rest of the image (config text, reports, counters) is one more cached
/// fragment. Reached only with the kernel's lock held.
final class KernelTableCache {
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
    private var components: [(ComponentImage, [UInt8])] = []
    private var sessions: [(SessionImage, [UInt8])] = []
    private var requests: [(RequestImage, [UInt8])] = []
    private var head: (KernelImage, [UInt8])?

    func encode(_ image: KernelImage) throws -> [UInt8] {
        var rest = image
        rest.components = []
        rest.sessions = []
        rest.requests = []
        let headBytes: [UInt8]
        if let head, head.0 == rest {
            headBytes = head.1
        } else {
            headBytes = Array(try encoder.encode(rest))
            head = (rest, headBytes)
        }
        let parts: [(key: String, rows: [UInt8])] = [
            ("\"components\":[]", try rows(image.components, cache: &components)),
            ("\"requests\":[]", try rows(image.requests, cache: &requests)),
            ("\"sessions\":[]", try rows(image.sessions, cache: &sessions)),
        ]
        // Splice each table's rows into its empty array. Quotes inside string
        // values are escaped, so `"components":[]` occurs once, as the key.
        var output: [UInt8] = []
        output.reserveCapacity(headBytes.count + parts.reduce(0) { $0 + $1.rows.count })
        var position = 0
        for part in parts {
            let key = Array(part.key.utf8)
            guard let found = Self.find(key, in: headBytes, from: position) else {
                throw KernelError.restore("cannot place the table \(part.key) in the kernel's record")
            }
            output += headBytes[position..<(found + key.count - 1)]
            output += part.rows
            position = found + key.count - 1
        }
        output += headBytes[position...]
        return output
    }

    private func rows<Row: Encodable & Equatable>(_ values: [Row], cache: inout [(Row, [UInt8])]) throws -> [UInt8] {
        var output: [UInt8] = []
        var fresh: [(Row, [UInt8])] = []
        fresh.reserveCapacity(values.count)
        // Rows are appended and removed, rarely reordered: match by position,
        // then by the next cached row (one removal ahead).
        var cursor = 0
        for (index, value) in values.enumerated() {
            let bytes: [UInt8]
            if cursor < cache.count, cache[cursor].0 == value {
                bytes = cache[cursor].1
                cursor += 1
            } else if cursor + 1 < cache.count, cache[cursor + 1].0 == value {
                bytes = cache[cursor + 1].1
                cursor += 2
            } else {
                bytes = Array(try encoder.encode(value))
            }
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output += bytes
            fresh.append((value, bytes))
        }
        cache = fresh
        return output
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
