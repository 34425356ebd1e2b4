#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `path_*` calls, all relative to a directory descriptor and confined to
/// its preopen (`WASISandbox`).
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
    struct ResolvedPath {
        var directory: WASIDescriptor
        var root: UInt32
        var rootHost: String
        var relative: String
        var host: String
    }

    func resolvePath(_ guest: WASIGuest, fd: UInt32, path: UInt64, length: UInt32, follow: Bool,
                     rights: UInt64) throws(WASIErrno) -> ResolvedPath {
        let d = try descriptor(fd)
        guard d.isDirectory else { throw .notdir }
        try require(d, rights)
        try guest.check(path, UInt64(length))
        let bytes = try guest.read(path, Int(length))
        let rootHost = try rootHost(d)
        let relative = try WASISandbox.resolve(rootHost: rootHost, base: d.relativePath, path: bytes, followFinal: follow)
        return ResolvedPath(directory: d, root: d.root, rootHost: rootHost, relative: relative,
                            host: WASISandbox.hostPath(rootHost: rootHost, relative: relative))
    }

    func pathOpen(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let dirflags = a.u32(1)
        let oflags = UInt16(truncatingIfNeeded: a.u32(4))
        let fdflags = UInt16(truncatingIfNeeded: a.u32(7))
        let resultPointer = a.pointer(8)
        var needed = WASIRights.pathOpen
        if oflags & WASIOflags.creat != 0 { needed |= WASIRights.pathCreateFile }
        if oflags & WASIOflags.trunc != 0 { needed |= WASIRights.pathFilestatSetSize }
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(2), length: a.u32(3),
                                   follow: dirflags & WASILookupflags.symlinkFollow != 0, rights: needed)
        try guest.check(resultPointer, 4)
        guard oflags & ~UInt16(0xf) == 0, fdflags & ~UInt16(0x1f) == 0 else { throw .inval }
        // Rights the new descriptor may have: what was asked, within what the directory passes on.
        let base = a.u64(5) & path.directory.rightsInheriting
        let inheriting = a.u64(6) & path.directory.rightsInheriting

        let wantsDirectory = oflags & WASIOflags.directory != 0
        let canRead = base & (WASIRights.fdRead | WASIRights.fdReaddir) != 0
        let canWrite = base & (WASIRights.fdWrite | WASIRights.fdAllocate | WASIRights.fdFilestatSetSize) != 0
            || fdflags & WASIFdflags.append != 0
        var flags: Int32 = O_CLOEXEC
        var mode: UInt8 = 1
        if wantsDirectory {
            flags |= O_RDONLY | O_DIRECTORY
        } else if canWrite {
            flags |= canRead ? O_RDWR : O_WRONLY
            mode = canRead ? 3 : 2
        } else {
            flags |= O_RDONLY
        }
        if oflags & WASIOflags.creat != 0 { flags |= O_CREAT }
        if oflags & WASIOflags.excl != 0 { flags |= O_EXCL }
        if oflags & WASIOflags.trunc != 0 { flags |= O_TRUNC }
        if dirflags & WASILookupflags.symlinkFollow == 0 { flags |= O_NOFOLLOW }
        if path.relative.isEmpty && oflags & (WASIOflags.creat | WASIOflags.excl) == WASIOflags.creat | WASIOflags.excl {
            throw .exist
        }

        var host = open(path.host, flags, 0o666)
        if host < 0 && errno == EISDIR && !canWrite {
            host = open(path.host, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
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
        let follow = a.u32(1) & WASILookupflags.symlinkFollow != 0
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(2), length: a.u32(3),
                                   follow: follow, rights: WASIRights.pathFilestatGet)
        try guest.check(a.pointer(4), UInt64(WASILayout.filestatSize))
        var info = stat()
        guard (follow ? stat(path.host, &info) : lstat(path.host, &info)) == 0 else { throw WASIErrno(hostErrno: errno) }
        try guest.write(WASI.filestat(info), a.pointer(4))
        return .success
    }

    func pathCreateDirectory(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                   follow: false, rights: WASIRights.pathCreateDirectory)
        guard !path.relative.isEmpty else { throw .exist }
        guard mkdir(path.host, 0o777) == 0 else { throw WASIErrno(hostErrno: errno) }
        return .success
    }

    func pathRemoveDirectory(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                   follow: false, rights: WASIRights.pathRemoveDirectory)
        guard !path.relative.isEmpty else { throw .busy } // the preopen itself
        guard rmdir(path.host) == 0 else { throw WASIErrno(hostErrno: errno) }
        return .success
    }

    func pathUnlinkFile(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                   follow: false, rights: WASIRights.pathUnlinkFile)
        guard !path.relative.isEmpty else { throw .isdir }
        guard unlink(path.host) == 0 else { throw WASIErrno(hostErrno: errno) }
        return .success
    }

    /// Also moves the stored paths of descriptors open at or below the old
    /// name, so that they re-open the renamed file after a restore.
    func pathRename(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let old = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                  follow: false, rights: WASIRights.pathRenameSource)
        let new = try resolvePath(guest, fd: a.u32(3), path: a.pointer(4), length: a.u32(5),
                                  follow: false, rights: WASIRights.pathRenameTarget)
        guard !old.relative.isEmpty, !new.relative.isEmpty else { throw .busy }
        guard rename(old.host, new.host) == 0 else { throw WASIErrno(hostErrno: errno) }
        for fd in UInt32(0)..<state.descriptorCapacity {
            let d = state.descriptor(fd)
            guard d.kind == .file || d.kind == .directory, let rootHost = try? rootHost(d) else { continue }
            let host = WASISandbox.hostPath(rootHost: rootHost, relative: d.relativePath)
            let suffix: String
            if host == old.host { suffix = "" }
            else if host.hasPrefix(old.host + "/") { suffix = String(host.dropFirst(old.host.count)) }
            else { continue }
            try? d.setRelativePath(new.relative + suffix)
            d.root = new.root
        }
        return .success
    }
}
