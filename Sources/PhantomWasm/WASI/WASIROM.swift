import PhantomEngine

/// Where a component's read-only modules come from: its ROM sessions.
///
/// In Genode a component gets its `config` and every other read-only input
/// through a ROM session: the parent routes the request, the server hands out
/// the module's content and signals when it changed, and the client re-reads
/// (DESIGN.md, "Components"). WASI preview 1 is a personality over those
/// sessions, so a program reaches its ROMs as files of a read-only preopened
/// directory ("/rom" by convention, `WASIState.defaultROMDirectory`) — no host
/// file is ever involved, and which ROMs exist is decided by the routing
/// alone (invariant 7). The kernel builds one provider per component over its
/// ROM sessions; WASI only asks it.
///
/// The provider is transient, like every session (invariant 6): after a
/// restore the kernel hands the new `WASI` a new provider, and ROM
/// descriptors keep working from what their slots store (the module's name,
/// the position, the version last seen) — there is no host path to re-open.
public struct WASIROMProvider: Sendable {
    /// The module's current content and version, or nil when this component
    /// has no such ROM (not routed, or not available yet). The version must
    /// change whenever the content does, also across restores (the slot
    /// compares it with the version it stored before the restore).
    public var read: @Sendable (String) -> (content: [UInt8], version: UInt64)?
    /// What the kernel signals when the module changes (Genode's ROM session
    /// signal handler), or nil if it never changes: `poll_oneoff` blocks on it.
    public var changeEvent: @Sendable (String) -> KernelEvent?

    public init(read: @escaping @Sendable (String) -> (content: [UInt8], version: UInt64)?,
                changeEvent: @escaping @Sendable (String) -> KernelEvent?) {
        self.read = read
        self.changeEvent = changeEvent
    }
}

extension WASIState {
    /// The guest path ROM directories are usually given.
    public static let defaultROMDirectory = "/rom"
}

extension WASIRights {
    /// What the ROM directory itself allows: opening and inspecting, nothing
    /// that would change it (those calls are ENOTCAPABLE, as for any
    /// descriptor lacking the right).
    public static let romDirectory: UInt64 = pathOpen | fdReaddir | pathFilestatGet | fdFilestatGet
    /// What a ROM descriptor can have: reading, positioning, waiting for a change.
    public static let romFile: UInt64 = fdRead | fdSeek | fdTell | fdFdstatSetFlags | fdFilestatGet | pollFdReadwrite
}

/// The ROM directory's calls (docs/WASI.md, "The ROM directory").
///
/// Re-execution (invariant 5): nothing here blocks except `poll_oneoff`
/// (WASIPoll.swift), and nothing has an effect outside the slot, so a call
/// repeated after a restore reads the module as it is then — what a later
/// call would have read.
extension WASI {
    /// What a path below the ROM directory names.
    enum ROMPath: Equatable {
        /// The directory itself ("." or "./").
        case directory
        /// A module (not checked to exist).
        case module(String)
    }

    /// ROMs are a flat name space: one component, no subdirectories (a
    /// module name with "/" in it cannot be reached). Errors follow
    /// `WASIPathResolver` and POSIX: empty → ENOENT, NUL → EINVAL, absolute
    /// or above the directory → ENOTCAPABLE, invalid UTF-8 → EILSEQ, a module
    /// used as a directory (`config/`, `config/x`) → ENOTDIR, and a missing
    /// one → ENOENT.
    func romPath(_ bytes: [UInt8]) throws(WASIErrno) -> ROMPath {
        guard !bytes.isEmpty else { throw .noent }
        guard !bytes.contains(0) else { throw .inval }
        guard bytes.first != UInt8(ascii: "/") else { throw .notcapable }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .ilseq }
        let components = text.split(separator: "/")
        guard let first = components.firstIndex(where: { $0 != "." }) else { return .directory }
        let name = String(components[first])
        guard name != ".." else { throw .notcapable }
        // Anything after the name (`config/`, `config/.`, `config/x`) uses it as a directory.
        if first + 1 < components.count || bytes.last == UInt8(ascii: "/") {
            throw romContent(name) == nil ? .noent : .notdir
        }
        return .module(name)
    }

    /// Asked afresh on every call: the module may change between any two
    /// (Genode's ROM content is replaced under the client, which re-reads).
    func romContent(_ name: String) -> (content: [UInt8], version: UInt64)? {
        rom?.read(name)
    }

    /// A ROM descriptor's module as it is now. A module that went away while
    /// open (its session closed, or absent after a restore) reads as empty,
    /// as Genode's ROM clients see an invalid module until it is back.
    func romCurrent(_ d: WASIDescriptor) -> (content: [UInt8], version: UInt64?) {
        guard let current = romContent(d.relativePath) else { return ([], nil) }
        return (current.content, current.version)
    }

    /// `path_open` below the ROM directory, answering as POSIX `open` does
    /// on a read-only file system: write access (a write-like right or
    /// FDFLAGS_APPEND) or O_TRUNC → EROFS, O_CREAT of a missing name → EROFS,
    /// O_CREAT|O_EXCL of an existing one → EEXIST, O_CREAT alone on an
    /// existing one opens it. Write intent is read from the rights asked for
    /// within the directory's inheriting rights — which therefore include the
    /// write rights (wasi-libc masks what it asks for with them, so without
    /// them `open(O_RDWR)` would silently get a read-only descriptor); the
    /// new descriptor gets only `WASIRights.romFile`.
    func romPathOpen(_ guest: WASIGuest, _ a: WASIArguments, directory: WASIDescriptor) throws(WASIErrno) -> HostCallOutcome {
        let oflags = UInt16(truncatingIfNeeded: a.u32(4))
        let fdflags = UInt16(truncatingIfNeeded: a.u32(7))
        let resultPointer = a.pointer(8)
        try require(directory, WASIRights.pathOpen)
        try guest.check(a.pointer(2), UInt64(a.u32(3)))
        let path = try romPath(try guest.read(a.pointer(2), Int(a.u32(3))))
        try guest.check(resultPointer, 4)
        let base = a.u64(5) & directory.rightsInheriting
        let inheriting = a.u64(6) & directory.rightsInheriting
        let wantsWrite = base & (WASIRights.fdWrite | WASIRights.fdAllocate | WASIRights.fdFilestatSetSize) != 0
            || fdflags & WASIFdflags.append != 0
        let create = oflags & WASIOflags.creat != 0, exclusive = create && oflags & WASIOflags.excl != 0
        let truncate = oflags & WASIOflags.trunc != 0

        let fd: UInt32
        switch path {
        case .directory:
            if exclusive { throw .exist }
            if create || truncate || wantsWrite { throw .isdir }
            fd = try state.allocateDescriptor()
            let d = state.descriptor(fd)
            d.clear()
            d.kind = .romDirectory
            d.filetype = WASIFiletype.directory.rawValue
            d.rightsBase = base & WASIRights.romDirectory
        case .module(let name):
            guard let current = romContent(name) else { throw create ? .rofs : .noent }
            if oflags & WASIOflags.directory != 0 { throw .notdir }
            if exclusive { throw .exist }
            if truncate || wantsWrite { throw .rofs }
            fd = try state.allocateDescriptor()
            let d = state.descriptor(fd)
            d.clear()
            try d.setRelativePath(name)
            d.kind = .rom
            d.filetype = WASIFiletype.regularFile.rawValue
            d.rightsBase = base & WASIRights.romFile
            d.romVersionSeen = current.version
        }
        let d = state.descriptor(fd)
        d.fdflags = fdflags
        d.oflags = oflags
        d.openMode = 1
        d.rightsInheriting = inheriting
        try guest.store32(fd, resultPointer)
        return .success
    }

    /// `path_filestat_get` below the ROM directory (links do not exist here,
    /// so SYMLINK_FOLLOW changes nothing).
    func romPathFilestatGet(_ guest: WASIGuest, _ a: WASIArguments, directory: WASIDescriptor) throws(WASIErrno) -> HostCallOutcome {
        try require(directory, WASIRights.pathFilestatGet)
        try guest.check(a.pointer(2), UInt64(a.u32(3)))
        let path = try romPath(try guest.read(a.pointer(2), Int(a.u32(3))))
        try guest.check(a.pointer(4), UInt64(WASILayout.filestatSize))
        switch path {
        case .directory:
            try guest.write(WASI.romFilestat(.directory, size: 0), a.pointer(4))
        case .module(let name):
            guard let current = romContent(name) else { throw .noent }
            try guest.write(WASI.romFilestat(.regularFile, size: UInt64(current.content.count)), a.pointer(4))
        }
        return .success
    }

    /// A ROM has no inode, owner or times: device, inode and times are 0,
    /// one link; the size is the current content's.
    static func romFilestat(_ type: WASIFiletype, size: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: WASILayout.filestatSize)
        bytes[16] = type.rawValue
        put(1, into: &bytes, at: 24)
        put(size, into: &bytes, at: 32)
        return bytes
    }

    /// `fd_readdir` on a ROM directory lists only "." and "..": a ROM
    /// session names one module, the provider cannot enumerate them, and
    /// which modules exist is the routing's business (invariant 7). A program
    /// opens its ROMs by the names it was told.
    static let romDirectoryEntries = [
        DirectoryEntry(name: [46], inode: 0, type: .directory),
        DirectoryEntry(name: [46, 46], inode: 0, type: .directory),
    ]

    /// Reads the content as it is now, not as it was at open: the position
    /// is all a ROM descriptor keeps, so a changed module is read on from
    /// there (a program that wants a consistent copy rewinds after the change).
    func romRead(_ d: WASIDescriptor, at position: UInt64, max: Int) -> [UInt8] {
        let content = romCurrent(d).content
        guard position < UInt64(content.count) else { return [] }
        let start = Int(position)
        return Array(content[start..<start + min(max, content.count - start)])
    }
}
