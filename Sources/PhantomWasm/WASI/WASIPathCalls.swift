#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `path_*` calls that open, inspect, create and remove entries, all
/// relative to a directory descriptor and confined to the tree below it
/// (`WASIPathResolver`). Links: `WASILinkCalls.swift`; times: `WASITimesCalls.swift`.
///
/// Re-execution: none of them blocks. Their effects are on the host file
/// system, outside the object space, so a program restored from a snapshot
/// taken before one of them returned makes the call again against a file
/// system that already has the effect: `path_open` with O_CREAT|O_EXCL then
/// fails with EEXIST, `path_create_directory` with EEXIST, `path_unlink_file`
/// / `path_remove_directory` / `path_rename` with ENOENT. That is the honest
/// outcome until output commit holds file-system effects back to the
/// generation that made them; programs written for crash safety (kvstore's
/// write-tmp-then-rename) already cope with it.
extension WASI {
    /// A guest path resolved against one of the program's directory descriptors.
    struct ResolvedPath: ~Copyable {
        /// The directory descriptor the path was relative to.
        let directory: WASIDescriptor
        let lookup: WASIPathLookup

        var root: UInt32 { directory.root }
        /// The entry's canonical path relative to the preopen root (what a descriptor stores).
        var relative: String {
            let base = directory.relativePath
            let below = lookup.components.joined(separator: "/")
            return base.isEmpty ? below : below.isEmpty ? base : base + "/" + below
        }
        /// The path names the directory descriptor itself ("." , "a/..").
        var isStartDirectory: Bool { lookup.components.isEmpty }
    }

    /// How a call treats a link in the last component.
    enum FinalLink {
        /// Act on the entry itself (unlink, rename, link, readlink, …).
        case entry
        /// Reach the file behind it when `follow` is set (lookupflags SYMLINK_FOLLOW)
        /// or when the path ends in "/" (POSIX: a trailing slash resolves the link).
        case target(follow: Bool)
    }

    func resolvePath(_ guest: WASIGuest, fd: UInt32, path: UInt64, length: UInt32, final: FinalLink,
                     rights: UInt64) throws(WASIErrno) -> ResolvedPath {
        let d = try descriptor(fd)
        guard d.isDirectory else { throw .notdir }
        try require(d, rights)
        try guest.check(path, UInt64(length))
        let bytes = try guest.read(path, Int(length))
        let followFinal: Bool
        switch final {
        case .entry: followFinal = false
        case .target(let follow): followFinal = follow || bytes.last == UInt8(ascii: "/")
        }
        let start = try host(fd, d)
        return ResolvedPath(directory: d, lookup: try WASIPathResolver.resolve(from: start, path: bytes, followFinal: followFinal))
    }

    /// `path_open`. What the host is asked for follows wasmtime's preview 1
    /// adapter: the access mode comes from the rights asked for (write-like
    /// rights or FDFLAGS_APPEND → writable), O_DIRECTORY is passed on, so a
    /// directory asked for with write rights is EISDIR and a file asked for
    /// as a directory ENOTDIR (the kernel's answers); O_DIRECTORY with
    /// O_CREAT, O_EXCL or O_TRUNC is EINVAL. A link in the last component is
    /// never opened (O_NOFOLLOW: ELOOP, or ENOTDIR with O_DIRECTORY) unless
    /// SYMLINK_FOLLOW resolved it inside the sandbox first.
    func pathOpen(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let dirflags = a.u32(1)
        let oflags = UInt16(truncatingIfNeeded: a.u32(4))
        let fdflags = UInt16(truncatingIfNeeded: a.u32(7))
        let resultPointer = a.pointer(8)
        var needed = WASIRights.pathOpen
        if oflags & WASIOflags.creat != 0 { needed |= WASIRights.pathCreateFile }
        if oflags & WASIOflags.trunc != 0 { needed |= WASIRights.pathFilestatSetSize }
        guard oflags & ~UInt16(0xf) == 0, fdflags & ~UInt16(0x1f) == 0 else { throw .inval }
        let wantsDirectory = oflags & WASIOflags.directory != 0
        if wantsDirectory && oflags & (WASIOflags.creat | WASIOflags.excl | WASIOflags.trunc) != 0 { throw .inval }
        if let d = state.open(a.u32(0)), d.kind == .romDirectory { return try romPathOpen(guest, a, directory: d) }
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(2), length: a.u32(3),
                                   final: .target(follow: dirflags & WASILookupflags.symlinkFollow != 0), rights: needed)
        try guest.check(resultPointer, 4)
        // Rights the new descriptor may have: what was asked, within what the directory passes on.
        let base = a.u64(5) & path.directory.rightsInheriting
        let inheriting = a.u64(6) & path.directory.rightsInheriting

        let canRead = base & (WASIRights.fdRead | WASIRights.fdReaddir) != 0
        let canWrite = base & (WASIRights.fdWrite | WASIRights.fdAllocate | WASIRights.fdFilestatSetSize) != 0
            || fdflags & WASIFdflags.append != 0
        var flags: Int32 = O_CLOEXEC | O_NOFOLLOW
        var mode: UInt8 = 1
        if canWrite {
            flags |= canRead ? O_RDWR : O_WRONLY
            mode = canRead ? 3 : 2
        } else {
            flags |= O_RDONLY
        }
        if wantsDirectory { flags |= O_DIRECTORY }
        if oflags & WASIOflags.creat != 0 { flags |= O_CREAT }
        if oflags & WASIOflags.excl != 0 { flags |= O_EXCL }
        if oflags & WASIOflags.trunc != 0 { flags |= O_TRUNC }

        let host = openat(path.lookup.directory, try path.lookup.hostName(), flags, 0o666)
        guard host >= 0 else { throw WASIErrno(hostErrno: errno) }
        var info = stat()
        guard fstat(host, &info) == 0 else {
            let error = WASIErrno(hostErrno: errno)
            close(host)
            throw error
        }
        let type = WASI.filetype(mode: info.st_mode)
        let fd: UInt32
        do { fd = try state.allocateDescriptor() } catch {
            close(host)
            throw error
        }
        let d = state.descriptor(fd)
        d.clear()
        do { try d.setRelativePath(path.relative) } catch {
            close(host)
            throw error
        }
        d.kind = type == .directory ? .directory : .file
        d.filetype = type.rawValue
        d.fdflags = fdflags
        d.oflags = oflags
        d.openMode = type == .directory ? 1 : mode
        d.rightsBase = type == .directory ? base & WASIRights.directory : base & WASIRights.regularFile
        d.rightsInheriting = inheriting
        d.position = 0
        d.root = path.root
        d.identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        hostFiles.adopt(host, for: fd)
        try guest.store32(fd, resultPointer)
        return .success
    }

    func pathFilestatGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        if let d = state.open(a.u32(0)), d.kind == .romDirectory { return try romPathFilestatGet(guest, a, directory: d) }
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(2), length: a.u32(3),
                                   final: .target(follow: a.u32(1) & WASILookupflags.symlinkFollow != 0),
                                   rights: WASIRights.pathFilestatGet)
        try guest.check(a.pointer(4), UInt64(WASILayout.filestatSize))
        try guest.write(WASI.filestat(try path.lookup.status()), a.pointer(4))
        return .success
    }

    func pathCreateDirectory(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                   final: .entry, rights: WASIRights.pathCreateDirectory)
        guard mkdirat(path.lookup.directory, try path.lookup.hostName(ifLink: .exist), 0o777) == 0 else {
            throw WASIErrno(hostErrno: errno)
        }
        return .success
    }

    func pathRemoveDirectory(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                   final: .entry, rights: WASIRights.pathRemoveDirectory)
        guard !path.isStartDirectory else { throw .busy } // the directory descriptor itself
        guard unlinkat(path.lookup.directory, try path.lookup.hostName(), AT_REMOVEDIR) == 0 else {
            throw WASIErrno(hostErrno: errno)
        }
        return .success
    }

    /// `unlinkat` gives POSIX's answers: a directory is EISDIR, `file/` ENOTDIR.
    func pathUnlinkFile(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                   final: .entry, rights: WASIRights.pathUnlinkFile)
        guard unlinkat(path.lookup.directory, try path.lookup.hostName(), 0) == 0 else { throw WASIErrno(hostErrno: errno) }
        return .success
    }

    /// Also moves the stored paths of descriptors open at or below the old
    /// name, so that they re-open the renamed file after a restore. A
    /// trailing slash on either name requires a directory (`renameat` checks it).
    func pathRename(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let old = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                  final: .entry, rights: WASIRights.pathRenameSource)
        let new = try resolvePath(guest, fd: a.u32(3), path: a.pointer(4), length: a.u32(5),
                                  final: .entry, rights: WASIRights.pathRenameTarget)
        guard !old.isStartDirectory, !new.isStartDirectory else { throw .busy }
        guard renameat(old.lookup.directory, try old.lookup.hostName(),
                       new.lookup.directory, try new.lookup.hostName()) == 0 else { throw WASIErrno(hostErrno: errno) }
        let oldRelative = old.relative, newRelative = new.relative
        for fd in UInt32(0)..<state.descriptorCapacity {
            let d = state.descriptor(fd)
            guard d.kind == .file || d.kind == .directory, d.root == old.root else { continue }
            let path = d.relativePath
            let suffix: String
            if path == oldRelative { suffix = "" }
            else if path.hasPrefix(oldRelative + "/") { suffix = String(path.dropFirst(oldRelative.count)) }
            else { continue }
            try? d.setRelativePath(newRelative + suffix)
            d.root = new.root
        }
        return .success
    }
}
