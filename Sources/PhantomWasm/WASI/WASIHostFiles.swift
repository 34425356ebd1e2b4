import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The transient half of the descriptor table: WASI fd → host fd, for this
/// process only. Never stored in the object space; empty after a restore.
///
/// A descriptor's host fd is opened lazily on first use from what the
/// persistent slot records (its canonical path relative to its preopen, its
/// open mode, directory or file) and kept until `fd_close`. The path is walked
/// from the preopen root without following links (`WASIPathResolver`), so a
/// tree changed while the system was down cannot lead a restored descriptor
/// outside its preopen. Re-opening never
/// creates, truncates or requires exclusivity — those `oflags` took effect
/// when the program opened the file. Reads and writes use `pread`/`pwrite` at
/// the slot's stored position, so the host fd's own offset never matters and
/// nothing about it has to survive.
///
/// When re-opening fails, the call that needed the fd returns:
/// - ENOENT when the path no longer exists (the file was deleted or renamed
///   behind the program's back while the system was down, or unlinked by the
///   program while open — POSIX would have kept it alive, a restore cannot);
/// - ESTALE when the path now names a different file (device/inode differ
///   from when it was opened: replaced, or the tree was copied elsewhere);
/// - the translated host errno otherwise (EACCES, ENOTDIR, ELOOP, …).
/// The WASI descriptor stays open, so the program can still `fd_close` it.
final class WASIHostFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var open: [UInt32: Int32] = [:]

    deinit {
        for host in open.values { _ = closeHostDescriptor(host) }
    }

    var count: Int { lock.withLock { open.count } }

    func cached(_ fd: UInt32) -> Int32? { lock.withLock { open[fd] } }

    func hostDescriptor(for fd: UInt32, _ descriptor: WASIDescriptor, rootHost: String) throws(WASIErrno) -> Int32 {
        if let host = cached(fd) { return host }
        var flags: Int32 = 0
        if descriptor.isDirectory {
            flags |= O_RDONLY | O_DIRECTORY
        } else {
            switch descriptor.openMode {
            case 2: flags |= O_WRONLY
            case 3: flags |= O_RDWR
            default: flags |= O_RDONLY
            }
        }
        // The preopen root by its host path (the operator's configuration);
        // everything below it by its stored canonical path, one component at
        // a time and following no link (`WASIPathResolver.openCanonical`).
        let root = openHostPath(rootHost, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw WASIErrno(hostErrno: errno) }
        let host: Int32
        if descriptor.kind == .preopenDirectory {
            host = root
        } else {
            defer { _ = closeHostDescriptor(root) }
            let components = descriptor.relativePath.split(separator: "/").map(String.init)
            host = try WASIPathResolver.openCanonical(from: root, components: components, flags: flags)
        }
        var info = stat()
        guard fstat(host, &info) == 0 else {
            let error = WASIErrno(hostErrno: errno)
            _ = closeHostDescriptor(host)
            throw error
        }
        let identity = descriptor.identity
        if descriptor.kind != .preopenDirectory,
           identity != (UInt64(info.st_dev), UInt64(info.st_ino)) {
            _ = closeHostDescriptor(host)
            throw .stale
        }
        lock.withLock { open[fd] = host }
        return host
    }

    /// Remembers a host fd just opened by `path_open`.
    func adopt(_ host: Int32, for fd: UInt32) {
        let old = lock.withLock { open.updateValue(host, forKey: fd) }
        if let old { _ = closeHostDescriptor(old) }
    }

    /// Closes the host fd of `fd`, if one is open.
    func close(_ fd: UInt32) {
        if let host = lock.withLock({ open.removeValue(forKey: fd) }) { _ = closeHostDescriptor(host) }
    }

    /// `fd_renumber`: `to` takes over `from`'s host fd.
    func renumber(from: UInt32, to: UInt32) {
        close(to)
        lock.withLock {
            if let host = open.removeValue(forKey: from) { open[to] = host }
        }
    }

    /// Drops every cached host fd (what a restart does; for tests).
    func closeAll() {
        let all = lock.withLock { () -> [Int32] in
            defer { open.removeAll() }
            return Array(open.values)
        }
        for host in all { _ = closeHostDescriptor(host) }
    }
}

// Free functions, so the class's own `close(_:)` does not shadow the C calls.
private func closeHostDescriptor(_ descriptor: Int32) -> Int32 { close(descriptor) }
private func openHostPath(_ path: String, _ flags: Int32) -> Int32 { open(path, flags) }
