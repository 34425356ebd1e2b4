#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves guest paths against an open host directory, one component at a
/// time, so that a path can never reach outside the directory it is relative to.
///
/// WASI preview 1 makes every directory descriptor a capability for the tree
/// below it (`path_open`, `path_*`: "the path is resolved relative to the
/// directory fd"); `..` is allowed only while it stays inside that tree
/// (wasi-filesystem, "Sandboxing"). So resolution is done the way WASI hosts
/// do it (wasmtime through cap-std, WasmKit's `PathResolution`), not by
/// joining strings and asking the kernel:
///
/// - every intermediate component is opened with `openat(dir, name,
///   O_PATH | O_DIRECTORY | O_NOFOLLOW)` relative to the previous one, so the
///   kernel never follows a link or walks `..` on our behalf;
/// - `..` pops our own stack of opened directories and fails with
///   ENOTCAPABLE when it would pop the starting directory (wasmtime: EPERM;
///   the testsuite accepts both);
/// - a symbolic link met on the way (and the last component when the call
///   follows links) is read with `readlinkat` and its target spliced into the
///   components still to walk, under the same rules: an absolute target is
///   ENOTCAPABLE, more than `maxSymlinks` links is ELOOP;
/// - absolute guest paths are ENOTCAPABLE (a WASI libc resolves absolute
///   paths against the preopens itself, so one reaching the host is an escape).
///
/// Because each step is an `openat` relative to a descriptor we hold, a host
/// process swapping a directory for a link in the middle of a walk cannot
/// redirect it either: the `O_NOFOLLOW` open fails and the link is then read
/// and checked like any other.
///
/// `openat2(RESOLVE_BENEATH)` would confine the kernel's own walk, but it does
/// not tell us the path it walked, and Phantom stores every descriptor by its
/// canonical path (no `.`, `..` or links) to re-open it after a restore
/// (docs/WASI.md, "Transient world"); the walk gives that path for free.
///
/// The result names the last component relative to the directory holding it
/// (`WASIPathLookup`); the call then acts on it with an `*at` function that
/// does not follow a link in that position.
enum WASIPathResolver {
    /// Links followed in one resolution before ELOOP (Linux's MAXSYMLINKS).
    static let maxSymlinks = 40

    /// `O_PATH`: an fd that only names a directory for `*at` calls (no read
    /// permission needed, as with the kernel's own walk). Not exported by the
    /// Glibc module (it is behind `_GNU_SOURCE`); same value on x86_64 and aarch64.
    #if os(Linux)
    static let pathOnly: Int32 = 0o10000000
    #else
    static let pathOnly: Int32 = O_RDONLY
    #endif

    /// Resolves `path` against the directory `start`.
    ///
    /// - Parameters:
    ///   - start: the host fd of the directory the path is relative to (borrowed).
    ///   - path: the guest path bytes.
    ///   - followFinal: resolve a link in the last component too (lookupflags
    ///     SYMLINK_FOLLOW, or a trailing slash on a call that reaches the file
    ///     behind a link: POSIX path resolution follows it).
    static func resolve(from start: Int32, path: [UInt8], followFinal: Bool) throws(WASIErrno) -> WASIPathLookup {
        guard !path.isEmpty else { throw .noent }
        guard !path.contains(0) else { throw .inval }
        guard path.first != UInt8(ascii: "/") else { throw .notcapable }
        guard let text = String(validating: path, as: UTF8.self) else { throw .ilseq }
        var trailingSlash = path.last == UInt8(ascii: "/")
        // Components still to walk, the next one last.
        var pending = text.split(separator: "/").map(String.init).reversed() as [String]
        var opened: [(fd: Int32, name: String)] = []
        var links = 0
        var final: String?
        var succeeded = false
        defer {
            if !succeeded { for entry in opened { _ = closeDescriptor(entry.fd) } }
        }

        func splice(_ target: [UInt8]) throws(WASIErrno) {
            links += 1
            guard links <= maxSymlinks else { throw .loop }
            guard target.first != UInt8(ascii: "/") else { throw .notcapable }
            let text = String(decoding: target, as: UTF8.self)
            if pending.isEmpty && target.last == UInt8(ascii: "/") { trailingSlash = true }
            pending += text.split(separator: "/").map(String.init).reversed()
        }

        while let component = pending.popLast() {
            let current = opened.last?.fd ?? start
            if component == "." { continue }
            if component == ".." {
                guard let top = opened.popLast() else { throw .notcapable }
                _ = closeDescriptor(top.fd)
                continue
            }
            if pending.isEmpty {
                if followFinal, let target = linkTarget(current, component) {
                    try splice(target)
                    continue
                }
                final = component
                break
            }
            let fd = openat(current, component, pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                opened.append((fd, component))
                continue
            }
            let error = errno
            if error == ELOOP || error == ENOTDIR || error == EMLINK, let target = linkTarget(current, component) {
                try splice(target)
                continue
            }
            throw WASIErrno(hostErrno: error)
        }

        for entry in opened.dropLast() { _ = closeDescriptor(entry.fd) }
        succeeded = true
        return WASIPathLookup(directory: opened.last?.fd ?? start, ownsDirectory: !opened.isEmpty,
                              name: final ?? ".",
                              components: opened.map(\.name) + (final.map { [$0] } ?? []),
                              trailingSlash: trailingSlash)
    }

    /// Opens a stored canonical path (components relative to `root`, no `.`,
    /// `..` or links) with `flags`, refusing to follow a link anywhere: after
    /// a restore, a link where a directory or file was means the tree changed
    /// (ELOOP or ENOTDIR), never a way out.
    static func openCanonical(from root: Int32, components: [String], flags: Int32) throws(WASIErrno) -> Int32 {
        var current = root
        defer { if current != root { _ = closeDescriptor(current) } }
        for name in components.dropLast() {
            let next = openat(current, name, pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { throw WASIErrno(hostErrno: errno) }
            if current != root { _ = closeDescriptor(current) }
            current = next
        }
        let fd = openat(current, components.last ?? ".", flags | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw WASIErrno(hostErrno: errno) }
        return fd
    }

    /// The target of `name` in `directory` if it is a symbolic link, else nil.
    static func linkTarget(_ directory: Int32, _ name: String) -> [UInt8]? {
        try? readLink(directory, name)
    }

    /// `readlinkat`: the whole target of the link `name` in `directory`.
    static func readLink(_ directory: Int32, _ name: String) throws(WASIErrno) -> [UInt8] {
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = buffer.withUnsafeMutableBytes { raw in
                readlinkat(directory, name, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
            }
            guard count >= 0 else { throw WASIErrno(hostErrno: errno) }
            if count < capacity { return Array(buffer[..<count]) }
            guard capacity < 1 << 16 else { throw .nametoolong }
            capacity *= 4
        }
    }
}

/// A resolved path: the last component, relative to the host directory that
/// holds it. Owns that directory's fd when the walk had to open it (closed
/// when the lookup goes away).
struct WASIPathLookup: ~Copyable {
    /// The directory holding the last component.
    let directory: Int32
    let ownsDirectory: Bool
    /// The last component; "." when the path names the starting directory itself.
    let name: String
    /// The canonical path from the starting directory to the entry ([] for itself).
    let components: [String]
    /// The path ended in "/" (or in a link whose target did): the entry must be a directory.
    let trailingSlash: Bool

    deinit {
        if ownsDirectory { _ = closeDescriptor(directory) }
    }

    /// The name to hand to an `*at` call that acts on the entry itself.
    ///
    /// A trailing slash is kept, so the kernel gives POSIX's answers for a
    /// path that must name a directory (`file/` → ENOTDIR, `new/` with
    /// O_CREAT → EISDIR, `dir/` works). The kernel follows a link before a
    /// trailing slash, so a link there is refused with `ifLink` instead of
    /// being handed over (calls that reach the file behind a link resolved it
    /// already, with `followFinal`).
    func hostName(ifLink: WASIErrno = .notdir) throws(WASIErrno) -> String {
        guard trailingSlash, name != "." else { return name }
        var info = stat()
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFLNK { throw ifLink }
        return name + "/"
    }

    /// Metadata of the entry itself (never of a link's target).
    func status() throws(WASIErrno) -> stat {
        var info = stat()
        guard fstatat(directory, try hostName(), &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw WASIErrno(hostErrno: errno) }
        return info
    }
}

// A free function, so that types with a `close` method do not shadow the C call.
func closeDescriptor(_ descriptor: Int32) -> Int32 { close(descriptor) }
