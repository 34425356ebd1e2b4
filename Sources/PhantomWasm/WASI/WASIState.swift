import PhantomSpace

/// The persistent state of one WASI instance, in the object space.
///
/// Everything a program can observe through WASI between two calls is here —
/// arguments, environment, preopens, the descriptor table with file positions,
/// the monotonic clock's anchor — so a snapshot carries it. Host file
/// descriptors are *not* here: they are transient (`WASIHostFiles`), re-opened
/// by path after a restore (DESIGN.md invariant 6).
///
/// Layout, all little-endian, reached from the offset `create` returns (the
/// interpreter keeps it in its instance record):
///
/// ```
/// header (256 bytes)
///   0  magic "WASIST01"                     u64
///   8  version                              u32
///  12  argc                                 u32
///  16  args blob offset, 24 blob length     u64, u64   NUL-terminated strings back to back
///  32  envc                                 u32
///  40  environ blob offset, 48 blob length  u64, u64   "NAME=VALUE\0" back to back
///  56  preopen count                        u32
///  64  preopen table offset                 u64        count × 32 bytes, see below
///  72  fd table offset                      u64        capacity × 64 bytes, see WASIDescriptor
///  80  fd table capacity                    u32
///  88  monotonic: last value handed out     u64        (guest nanoseconds)
///  96  monotonic: realtime when handed out  u64        (ns since 1970)
/// 104  process cputime: last value          u64
///
/// preopen entry (32 bytes)
///   0  host directory string offset u64, 8 length u32
///  16  guest name string offset u64,    24 length u32
/// ```
///
/// Strings are separate allocations (`allocate(max(length, 1))`), freed with
/// the descriptor or never (args, environ, preopens live as long as the instance).
public struct WASIState: Sendable {
    public let space: ObjectSpace
    public let offset: UInt64

    static let magic: UInt64 = 0x3130_5453_4953_4157 // "WASIST01"
    static let version: UInt32 = 1
    static let recordVersion = RecordVersion(record: "the WASI state record", current: UInt64(version))
    static let headerSize = 256
    static let preopenEntrySize: UInt64 = 32
    static let initialDescriptorCapacity: UInt32 = 16
    /// A program cannot have more descriptors open than this (EMFILE / ENFILE).
    public static let maxDescriptors: UInt32 = 4096

    enum Field {
        static let magic: UInt64 = 0, version: UInt64 = 8, argc: UInt64 = 12
        static let argsBlob: UInt64 = 16, argsLength: UInt64 = 24
        static let envc: UInt64 = 32, envBlob: UInt64 = 40, envLength: UInt64 = 48
        static let preopenCount: UInt64 = 56, preopenTable: UInt64 = 64
        static let fdTable: UInt64 = 72, fdCapacity: UInt64 = 80
        static let monoLast: UInt64 = 88, monoLastWall: UInt64 = 96
        static let cpuLast: UInt64 = 104
    }

    /// How the three standard descriptors appear to the program.
    public struct Stdio: Sendable {
        public var filetype: WASIFiletype
        public init(filetype: WASIFiletype = .characterDevice) { self.filetype = filetype }
        public static let standard = Stdio()
    }

    /// Lays out a new WASI state: fds 0–2 are stdio, fds 3… the preopens in order.
    /// `preopens.host` is a host directory (absolute, or relative to the
    /// process's working directory at the time of every later open — give an
    /// absolute one), `guest` the name the program sees (`"/"`, `"."`, `"/data"`).
    /// `romDirectory`, if given, is the guest name of one more preopen, after
    /// the others: a read-only directory whose files are the component's ROM
    /// modules (WASIROM.swift; usually `defaultROMDirectory`).
    public static func create(in space: ObjectSpace, args: [String], environment: [String],
                              preopens: [(host: String, guest: String)] = [],
                              romDirectory: String? = nil,
                              stdio: Stdio = .standard) throws -> UInt64 {
        let header = try space.allocate(headerSize)
        space.store(magic, at: header + Field.magic)
        space.store(version, at: header + Field.version)

        func blob(_ strings: [String]) throws -> (UInt64, UInt64) {
            var bytes: [UInt8] = []
            for string in strings { bytes += Array(string.utf8) + [0] }
            return (try storeString(bytes, in: space), UInt64(bytes.count))
        }
        let (argsBlob, argsLength) = try blob(args)
        space.store(UInt32(args.count), at: header + Field.argc)
        space.store(argsBlob, at: header + Field.argsBlob)
        space.store(argsLength, at: header + Field.argsLength)
        let (envBlob, envLength) = try blob(environment)
        space.store(UInt32(environment.count), at: header + Field.envc)
        space.store(envBlob, at: header + Field.envBlob)
        space.store(envLength, at: header + Field.envLength)

        let table = try space.allocate(max(1, preopens.count) * Int(preopenEntrySize))
        for (index, preopen) in preopens.enumerated() {
            let entry = table + UInt64(index) * preopenEntrySize
            let host = Array(preopen.host.utf8), guest = Array(preopen.guest.utf8)
            space.store(try storeString(host, in: space), at: entry)
            space.store(UInt32(host.count), at: entry + 8)
            space.store(try storeString(guest, in: space), at: entry + 16)
            space.store(UInt32(guest.count), at: entry + 24)
        }
        space.store(UInt32(preopens.count), at: header + Field.preopenCount)
        space.store(table, at: header + Field.preopenTable)

        let capacity = max(initialDescriptorCapacity, UInt32(3 + preopens.count + (romDirectory == nil ? 0 : 1)))
        let fds = try space.allocate(Int(capacity) * WASIDescriptor.size)
        space.store(fds, at: header + Field.fdTable)
        space.store(capacity, at: header + Field.fdCapacity)

        let state = WASIState(unchecked: space, offset: header)
        for fd in UInt32(0)..<3 {
            let d = state.descriptor(fd)
            d.kind = .stdio
            d.filetype = stdio.filetype.rawValue
            d.rightsBase = WASIRights.stdio
            d.rightsInheriting = 0
            d.stdioHostDescriptor = UInt8(fd)
        }
        for index in preopens.indices {
            let d = state.descriptor(UInt32(3 + index))
            d.kind = .preopenDirectory
            d.filetype = WASIFiletype.directory.rawValue
            d.rightsBase = WASIRights.directory
            d.rightsInheriting = WASIRights.all
            d.root = UInt32(index)
        }
        if let romDirectory {
            let d = state.descriptor(UInt32(3 + preopens.count))
            d.kind = .romDirectory
            d.filetype = WASIFiletype.directory.rawValue
            d.rightsBase = WASIRights.romDirectory
            // Files below may be *asked* for write rights, so that such an open is
            // told EROFS instead of silently getting less (see `romPathOpen`).
            d.rightsInheriting = WASIRights.regularFile | WASIRights.romDirectory
            d.isROMPreopen = true
            try d.setRelativePath(romDirectory)
        }
        return header
    }

    /// Attaches to a state made by `create` (also after a restore).
    public init(space: ObjectSpace, offset: UInt64) throws(WASIStateError) {
        guard offset != 0, offset < space.limitBytes - UInt64(WASIState.headerSize) else {
            throw WASIStateError.notAWASIState(offset: offset)
        }
        guard space.load(UInt64.self, at: offset + Field.magic) == WASIState.magic else {
            throw WASIStateError.notAWASIState(offset: offset)
        }
        let version = space.load(UInt32.self, at: offset + Field.version)
        guard (try? WASIState.recordVersion.check(UInt64(version))) != nil else { throw WASIStateError.unsupportedVersion(version) }
        self.space = space
        self.offset = offset
    }

    private init(unchecked space: ObjectSpace, offset: UInt64) {
        self.space = space
        self.offset = offset
    }

    // MARK: - Strings

    static func storeString(_ bytes: [UInt8], in space: ObjectSpace) throws -> UInt64 {
        let at = try space.allocate(max(bytes.count, 1))
        space.write(bytes, at: at)
        return at
    }

    func loadString(at: UInt64, count: Int) -> [UInt8] {
        count == 0 ? [] : space.read(at: at, count: count)
    }

    // MARK: - Arguments and environment

    var argc: UInt32 { space.load(UInt32.self, at: offset + Field.argc) }
    var argsBlob: [UInt8] {
        loadString(at: space.load(UInt64.self, at: offset + Field.argsBlob),
                   count: Int(space.load(UInt64.self, at: offset + Field.argsLength)))
    }
    var envc: UInt32 { space.load(UInt32.self, at: offset + Field.envc) }
    var envBlob: [UInt8] {
        loadString(at: space.load(UInt64.self, at: offset + Field.envBlob),
                   count: Int(space.load(UInt64.self, at: offset + Field.envLength)))
    }

    // MARK: - Preopens

    var preopenCount: UInt32 { space.load(UInt32.self, at: offset + Field.preopenCount) }

    func preopen(_ index: UInt32) -> (host: String, guest: [UInt8])? {
        guard index < preopenCount else { return nil }
        let entry = space.load(UInt64.self, at: offset + Field.preopenTable) + UInt64(index) * WASIState.preopenEntrySize
        let host = loadString(at: space.load(UInt64.self, at: entry), count: Int(space.load(UInt32.self, at: entry + 8)))
        let guest = loadString(at: space.load(UInt64.self, at: entry + 16), count: Int(space.load(UInt32.self, at: entry + 24)))
        return (String(decoding: host, as: UTF8.self), guest)
    }

    // MARK: - Descriptor table

    var descriptorCapacity: UInt32 { space.load(UInt32.self, at: offset + Field.fdCapacity) }

    /// The slot of `fd` (which must be below the capacity).
    func descriptor(_ fd: UInt32) -> WASIDescriptor {
        precondition(fd < descriptorCapacity)
        let table = space.load(UInt64.self, at: offset + Field.fdTable)
        return WASIDescriptor(space: space, offset: table + UInt64(fd) * UInt64(WASIDescriptor.size))
    }

    /// The open descriptor `fd`, or nil (EBADF).
    func open(_ fd: UInt32) -> WASIDescriptor? {
        guard fd < descriptorCapacity else { return nil }
        let d = descriptor(fd)
        return d.kind == .free ? nil : d
    }

    /// The lowest free descriptor number, growing the table if needed.
    func allocateDescriptor() throws(WASIErrno) -> UInt32 {
        let capacity = descriptorCapacity
        for fd in UInt32(0)..<capacity where descriptor(fd).kind == .free { return fd }
        guard capacity < WASIState.maxDescriptors else { throw .mfile }
        try growTable(to: min(capacity * 2, WASIState.maxDescriptors))
        return capacity
    }

    func growTable(to newCapacity: UInt32) throws(WASIErrno) {
        let capacity = descriptorCapacity
        guard newCapacity > capacity else { return }
        let old = space.load(UInt64.self, at: offset + Field.fdTable)
        let new: UInt64
        do { new = try space.allocate(Int(newCapacity) * WASIDescriptor.size) } catch { throw .nomem }
        space.write(space.read(at: old, count: Int(capacity) * WASIDescriptor.size), at: new)
        space.store(new, at: offset + Field.fdTable)
        space.store(newCapacity, at: offset + Field.fdCapacity)
        space.free(old, byteCount: Int(capacity) * WASIDescriptor.size)
    }

    // MARK: - Clock anchors

    var monotonicLast: (value: UInt64, wall: UInt64) {
        get { (space.load(UInt64.self, at: offset + Field.monoLast), space.load(UInt64.self, at: offset + Field.monoLastWall)) }
        nonmutating set {
            space.store(newValue.value, at: offset + Field.monoLast)
            space.store(newValue.wall, at: offset + Field.monoLastWall)
        }
    }

    var cputimeLast: UInt64 {
        get { space.load(UInt64.self, at: offset + Field.cpuLast) }
        nonmutating set { space.store(newValue, at: offset + Field.cpuLast) }
    }
}

public enum WASIStateError: Error, Equatable, CustomStringConvertible {
    case notAWASIState(offset: UInt64)
    case unsupportedVersion(UInt32)

    public var description: String {
        switch self {
        case .notAWASIState(let offset): "no WASI state at object-space offset \(offset)"
        case .unsupportedVersion(let version): "\(RecordVersionError(version: WASIState.recordVersion, found: UInt64(version)))"
        }
    }
}
