#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `path_symlink`, `path_readlink` and `path_link`: links inside a directory
/// descriptor's tree.
///
/// A symbolic link's target is only text until something follows it, and
/// every follow goes through `WASIPathResolver`, which refuses absolute
/// targets and `..` above the directory the path was relative to. So a
/// relative target that points outside may be created (POSIX allows a link
/// to anything, also a dangling one) but never leads outside when followed.
/// An absolute target is refused at creation already with EPERM, as wasmtime
/// (cap-std) does: it could never be followed.
///
/// Re-execution: `path_symlink` and `path_link` act on the host file system
/// (outside the object space); a repeat after a restore finds the link made
/// and gets EEXIST, like `path_create_directory`. `path_readlink` only reads.
extension WASI {
    /// `path_symlink(old_path, old_path_len, fd, new_path, new_path_len)`:
    /// a link at `new_path` (relative to `fd`, not followed) whose target is `old_path`.
    func pathSymlink(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        try guest.check(a.pointer(0), UInt64(a.u32(1)))
        let target = try guest.read(a.pointer(0), Int(a.u32(1)))
        guard !target.contains(0) else { throw .inval }
        guard let text = String(validating: target, as: UTF8.self) else { throw .ilseq }
        guard target.first != UInt8(ascii: "/") else { throw .perm }
        let path = try resolvePath(guest, fd: a.u32(2), path: a.pointer(3), length: a.u32(4),
                                   final: .entry, rights: WASIRights.pathSymlink)
        guard symlinkat(text, path.lookup.directory, try path.lookup.hostName(ifLink: .exist)) == 0 else {
            throw WASIErrno(hostErrno: errno)
        }
        return .success
    }

    /// `path_readlink(fd, path, path_len, buf, buf_len) -> size`: the first
    /// `buf_len` bytes of the target (no NUL is added; the rest of the buffer
    /// is left alone), and how many were written — as wasmtime does, a target
    /// longer than the buffer is truncated, not an error.
    func pathReadlink(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let buffer = a.pointer(3), capacity = Int(a.u32(4)), resultPointer = a.pointer(5)
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(1), length: a.u32(2),
                                   final: .entry, rights: WASIRights.pathReadlink)
        try guest.check(buffer, UInt64(capacity))
        try guest.check(resultPointer, 4)
        let target = try WASIPathResolver.readLink(path.lookup.directory, try path.lookup.hostName())
        let written = Array(target.prefix(capacity))
        try guest.write(written, buffer)
        try guest.store32(UInt32(written.count), resultPointer)
        return .success
    }

    /// `path_link(old_fd, old_flags, old_path, old_path_len, new_fd, new_path, new_path_len)`:
    /// a hard link. With `old_flags` SYMLINK_FOLLOW it is EINVAL, as in
    /// wasmtime (following would hand `linkat` a path the sandbox did not
    /// resolve); without, a link names the link itself (`linkat` without
    /// AT_SYMLINK_FOLLOW), so even a dangling or looping link can be linked.
    /// The kernel answers the rest: a directory source EPERM, an existing
    /// target EEXIST, `new/` ENOENT.
    func pathLink(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        guard a.u32(1) & WASILookupflags.symlinkFollow == 0 else { throw .inval }
        let old = try resolvePath(guest, fd: a.u32(0), path: a.pointer(2), length: a.u32(3),
                                  final: .entry, rights: WASIRights.pathLinkSource)
        let new = try resolvePath(guest, fd: a.u32(4), path: a.pointer(5), length: a.u32(6),
                                  final: .entry, rights: WASIRights.pathLinkTarget)
        guard linkat(old.lookup.directory, try old.lookup.hostName(),
                     new.lookup.directory, try new.lookup.hostName(ifLink: .exist), 0) == 0 else {
            throw WASIErrno(hostErrno: errno)
        }
        return .success
    }
}
