import PhantomSpace

/// WASI preview 1 (`wasi_snapshot_preview1`) as host functions whose state
/// lives in the object space (`WASIState`).
///
/// One `WASI` per instance. It holds only what may be lost: the object space,
/// the offset of the persistent state, the process-local host-fd cache and the
/// stdio plumbing. After a restore, make a new one with the same offset:
///
/// ```swift
/// let state = try WASIState.create(in: space, args: ["prog"], environment: [], preopens: [(dir, "/data")])
/// let wasi = try WASI(space: space, stateOffset: state)       // resolver for the interpreter
/// // … snapshot, restart …
/// let wasi = try WASI(space: restoredSpace, stateOffset: state)
/// ```
///
/// Every function resolves (unknown ones too — they return ENOSYS) so that a
/// program linking against all of WASI preview 1 links. See docs/WASI.md for
/// the per-call re-execution argument (DESIGN.md invariant 5).
public final class WASI: HostModuleResolver, @unchecked Sendable {
    public static let moduleName = "wasi_snapshot_preview1"

    public let space: ObjectSpace
    public let state: WASIState
    public let io: WASIHostIO
    /// The component's ROM modules, served by its ROM sessions (WASIROM.swift).
    /// Transient like every session: a restored instance gets a new one.
    public let rom: WASIROMProvider?
    let hostFiles = WASIHostFiles()
    /// The component's Timer session (WASITimer.swift), asked for at the
    /// first clock call and cached. Transient like every session.
    let timer: WASITimer
    /// Told of every `poll_oneoff` that waits for events (a descriptor or a
    /// ROM, not only clocks), with whether it blocks: the kernel's heartbeat
    /// takes that as the program reaching its event loop.
    let onEventLoop: (@Sendable (_ blocks: Bool) -> Void)?

    /// `rom` serves the ROM directory's files; without one that directory is
    /// empty (every name ENOENT, open ROM descriptors read as empty).
    /// `timer` serves the clocks and the clock subscriptions of
    /// `poll_oneoff`; the default is the process's own clocks (WASI outside
    /// a kernel), the kernel passes the component's Timer session.
    public init(space: ObjectSpace, stateOffset: UInt64, io: WASIHostIO = .standard,
                rom: WASIROMProvider? = nil, timer: WASITimerProvider = .host,
                onEventLoop: (@Sendable (_ blocks: Bool) -> Void)? = nil) throws(WASIStateError) {
        self.space = space
        self.onEventLoop = onEventLoop
        self.state = try WASIState(space: space, offset: stateOffset)
        self.io = io
        self.rom = rom
        self.timer = WASITimer(provider: timer, state: state)
    }

    /// Host fds currently open for this instance (for tests and diagnostics).
    public var openHostDescriptorCount: Int { hostFiles.count }

    /// Forgets every host fd, as a restart would (for tests).
    public func dropHostDescriptors() { hostFiles.closeAll() }

    public func resolve(module: String, name: String) -> HostFunction? {
        guard module == WASI.moduleName else { return nil }
        guard let entry = WASI.table[name] else { return nil }
        let implementation = entry.implementation
        return HostFunction(parameters: entry.parameters, results: entry.results) { [self] context, arguments in
            guard arguments.count == entry.parameters.count else {
                return .trap(Trap("wasi \(name): called with \(arguments.count) arguments, expects \(entry.parameters.count)"))
            }
            do throws(WASIErrno) {
                return try implementation(self, &context, WASIArguments(values: arguments))
            } catch {
                return .returned([RawValue(error.rawValue)])
            }
        }
    }

    /// All names of the module this resolver answers, implemented or ENOSYS.
    public static var functionNames: [String] { table.keys.sorted() }
    /// The names that only return ENOSYS.
    public static let unsupported: Set<String> = ["proc_raise", "sock_accept", "sock_recv", "sock_send"]

    typealias Implementation = @Sendable (WASI, inout HostCallContext, WASIArguments) throws(WASIErrno) -> HostCallOutcome
    struct Entry: Sendable {
        var parameters: [ValueType]
        var results: [ValueType]
        var implementation: Implementation
    }

    static let table: [String: Entry] = {
        var table: [String: Entry] = [:]
        func add(_ name: String, _ parameters: [ValueType], _ results: [ValueType] = [.i32], _ implementation: @escaping Implementation) {
            table[name] = Entry(parameters: parameters, results: results, implementation: implementation)
        }
        let i = ValueType.i32, l = ValueType.i64
        add("args_get", [i, i]) { w, c, a throws(WASIErrno) in try w.argsGet(c.guest, a) }
        add("args_sizes_get", [i, i]) { w, c, a throws(WASIErrno) in try w.argsSizesGet(c.guest, a) }
        add("environ_get", [i, i]) { w, c, a throws(WASIErrno) in try w.environGet(c.guest, a) }
        add("environ_sizes_get", [i, i]) { w, c, a throws(WASIErrno) in try w.environSizesGet(c.guest, a) }
        add("clock_res_get", [i, i]) { w, c, a throws(WASIErrno) in try w.clockResGet(c.guest, a) }
        add("clock_time_get", [i, l, i]) { w, c, a throws(WASIErrno) in try w.clockTimeGet(c.guest, a) }
        add("random_get", [i, i]) { w, c, a throws(WASIErrno) in try w.randomGet(c.guest, a) }
        add("proc_exit", [i], []) { _, _, a throws(WASIErrno) in .exit(code: a.u32(0)) }
        add("sched_yield", []) { _, c, _ throws(WASIErrno) in
            if c.pendingCallState == 0 {
                c.pendingCallState = 1
                return .block(.yield)
            }
            return .success
        }
        add("poll_oneoff", [i, i, i, i]) { w, c, a throws(WASIErrno) in try w.pollOneoff(&c, a) }

        add("fd_write", [i, i, i, i]) { w, c, a throws(WASIErrno) in try w.fdWrite(c.guest, a, at: nil) }
        add("fd_pwrite", [i, i, i, l, i]) { w, c, a throws(WASIErrno) in try w.fdWrite(c.guest, a, at: a.u64(3)) }
        add("fd_read", [i, i, i, i]) { w, c, a throws(WASIErrno) in try w.fdRead(c.guest, a, at: nil) }
        add("fd_pread", [i, i, i, l, i]) { w, c, a throws(WASIErrno) in try w.fdRead(c.guest, a, at: a.u64(3)) }
        add("fd_seek", [i, l, i, i]) { w, c, a throws(WASIErrno) in try w.fdSeek(c.guest, a) }
        add("fd_tell", [i, i]) { w, c, a throws(WASIErrno) in try w.fdTell(c.guest, a) }
        add("fd_close", [i]) { w, _, a throws(WASIErrno) in try w.fdClose(a) }
        add("fd_sync", [i]) { w, _, a throws(WASIErrno) in try w.fdSync(a, dataOnly: false) }
        add("fd_datasync", [i]) { w, _, a throws(WASIErrno) in try w.fdSync(a, dataOnly: true) }
        add("fd_fdstat_get", [i, i]) { w, c, a throws(WASIErrno) in try w.fdFdstatGet(c.guest, a) }
        add("fd_fdstat_set_flags", [i, i]) { w, _, a throws(WASIErrno) in try w.fdFdstatSetFlags(a) }
        add("fd_fdstat_set_rights", [i, l, l]) { w, _, a throws(WASIErrno) in try w.fdFdstatSetRights(a) }
        add("fd_filestat_get", [i, i]) { w, c, a throws(WASIErrno) in try w.fdFilestatGet(c.guest, a) }
        add("fd_filestat_set_size", [i, l]) { w, _, a throws(WASIErrno) in try w.fdFilestatSetSize(a) }
        add("fd_prestat_get", [i, i]) { w, c, a throws(WASIErrno) in try w.fdPrestatGet(c.guest, a) }
        add("fd_prestat_dir_name", [i, i, i]) { w, c, a throws(WASIErrno) in try w.fdPrestatDirName(c.guest, a) }
        add("fd_readdir", [i, i, i, l, i]) { w, c, a throws(WASIErrno) in try w.fdReaddir(c.guest, a) }
        add("fd_renumber", [i, i]) { w, _, a throws(WASIErrno) in try w.fdRenumber(a) }
        add("fd_advise", [i, l, l, i]) { w, _, a throws(WASIErrno) in try w.fdAdvise(a) }
        add("fd_allocate", [i, l, l]) { w, _, a throws(WASIErrno) in try w.fdAllocate(a) }

        add("path_open", [i, i, i, i, i, l, l, i, i]) { w, c, a throws(WASIErrno) in try w.pathOpen(c.guest, a) }
        add("path_filestat_get", [i, i, i, i, i]) { w, c, a throws(WASIErrno) in try w.pathFilestatGet(c.guest, a) }
        add("path_create_directory", [i, i, i]) { w, c, a throws(WASIErrno) in try w.pathCreateDirectory(c.guest, a) }
        add("path_remove_directory", [i, i, i]) { w, c, a throws(WASIErrno) in try w.pathRemoveDirectory(c.guest, a) }
        add("path_unlink_file", [i, i, i]) { w, c, a throws(WASIErrno) in try w.pathUnlinkFile(c.guest, a) }
        add("path_rename", [i, i, i, i, i, i]) { w, c, a throws(WASIErrno) in try w.pathRename(c.guest, a) }

        add("fd_filestat_set_times", [i, l, l, i]) { w, _, a throws(WASIErrno) in try w.fdFilestatSetTimes(a) }
        add("path_filestat_set_times", [i, i, i, i, l, l, i]) { w, c, a throws(WASIErrno) in
            try w.pathFilestatSetTimes(c.guest, a)
        }
        add("path_link", [i, i, i, i, i, i, i]) { w, c, a throws(WASIErrno) in try w.pathLink(c.guest, a) }
        add("path_readlink", [i, i, i, i, i, i]) { w, c, a throws(WASIErrno) in try w.pathReadlink(c.guest, a) }
        add("path_symlink", [i, i, i, i, i]) { w, c, a throws(WASIErrno) in try w.pathSymlink(c.guest, a) }
        add("sock_shutdown", [i, i]) { w, _, a throws(WASIErrno) in try w.sockShutdown(a) }

        let nosys: Implementation = { _, _, _ throws(WASIErrno) in throw .nosys }
        add("proc_raise", [i], [i], nosys)
        add("sock_accept", [i, i, i], [i], nosys)
        add("sock_recv", [i, i, i, i, i, i], [i], nosys)
        add("sock_send", [i, i, i, i, i], [i], nosys)
        return table
    }()
}

/// The raw argument bits of one call.
struct WASIArguments {
    let values: [RawValue]
    func u32(_ index: Int) -> UInt32 { UInt32(truncatingIfNeeded: values[index]) }
    func u64(_ index: Int) -> UInt64 { values[index] }
    /// A guest address (i32, zero-extended).
    func pointer(_ index: Int) -> UInt64 { UInt64(u32(index)) }
}

extension HostCallOutcome {
    static let success = HostCallOutcome.returned([0])
}

extension HostCallContext {
    var guest: WASIGuest { WASIGuest(memory: memory) }
}

/// Guest memory access for WASI: every failure is EFAULT, never a trap or a crash.
struct WASIGuest {
    let memory: GuestMemory?

    private func checked() throws(WASIErrno) -> GuestMemory {
        guard let memory else { throw .fault }
        return memory
    }

    /// Fails with EFAULT unless `[address, address + count)` is inside memory.
    func check(_ address: UInt64, _ count: UInt64) throws(WASIErrno) {
        let memory = try checked()
        guard address <= memory.byteCount, count <= memory.byteCount - address else { throw .fault }
    }

    func read(_ address: UInt64, _ count: Int) throws(WASIErrno) -> [UInt8] {
        do { return try checked().read(at: address, count: count) } catch { throw .fault }
    }
    func write(_ bytes: [UInt8], _ address: UInt64) throws(WASIErrno) {
        do { try checked().write(bytes, at: address) } catch { throw .fault }
    }
    func u32(_ address: UInt64) throws(WASIErrno) -> UInt32 {
        do { return try checked().loadUInt32(at: address) } catch { throw .fault }
    }
    func u64(_ address: UInt64) throws(WASIErrno) -> UInt64 {
        do { return try checked().loadUInt64(at: address) } catch { throw .fault }
    }
    func store32(_ value: UInt32, _ address: UInt64) throws(WASIErrno) {
        do { try checked().storeUInt32(value, at: address) } catch { throw .fault }
    }
    func store64(_ value: UInt64, _ address: UInt64) throws(WASIErrno) {
        do { try checked().storeUInt64(value, at: address) } catch { throw .fault }
    }

    /// The (buf, len) pairs of an iovec array, checked to lie in memory.
    func iovecs(_ address: UInt64, _ count: UInt32) throws(WASIErrno) -> [(UInt64, UInt64)] {
        try check(address, UInt64(count) * WASILayout.iovecSize)
        var result: [(UInt64, UInt64)] = []
        result.reserveCapacity(Int(count))
        for index in 0..<UInt64(count) {
            let base = UInt64(try u32(address + index * 8)), length = UInt64(try u32(address + index * 8 + 4))
            try check(base, length)
            result.append((base, length))
        }
        return result
    }
}
