#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves guest paths inside a preopened directory without ever leaving it.
///
/// Resolution is done component by component on the host path *relative to
/// the preopen root*: `.` is skipped, `..` pops a component and is refused
/// (ENOTCAPABLE) if it would pop the root, absolute guest paths are refused
/// (ENOTCAPABLE: a WASI libc resolves absolute paths against the preopens
/// itself, so an absolute path reaching the host is an escape attempt), and
/// every symbolic link met on the way (and the last component when the call
/// follows links) is read and spliced in: a relative target continues the
/// walk from the link's directory under the same rules, an absolute target is
/// refused (ENOTCAPABLE), more than 40 links is ELOOP. The result is a
/// normalized relative path with no `.`/`..`/links before its last component;
/// the last one, when not followed, is opened with O_NOFOLLOW.
///
/// Limitation (documented in docs/WASI.md): the walk and the later host call
/// are separate, so a *host* process racing to swap a directory for a symlink
/// between the two could redirect one call. Guest programs cannot do that
/// (they can only create links through `path_symlink`, which is ENOSYS).
enum WASISandbox {
    static let maxSymlinks = 40

    /// - Parameters:
    ///   - rootHost: the preopen's host directory.
    ///   - base: the directory the path is relative to, relative to the root.
    ///   - path: the guest path bytes.
    ///   - followFinal: resolve a symlink in the last component too.
    static func resolve(rootHost: String, base: String, path: [UInt8], followFinal: Bool) throws(WASIErrno) -> String {
        guard !path.isEmpty else { throw .noent }
        guard !path.contains(0) else { throw .inval }
        guard path.first != UInt8(ascii: "/") else { throw .notcapable }
        guard let text = String(validating: path, as: UTF8.self) else { throw .ilseqOrInval }
        var stack = base.isEmpty ? [] : base.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var pending = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // A trailing slash names a directory: follow a link there, as POSIX does.
        let follow = followFinal || path.last == UInt8(ascii: "/")
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." { continue }
            if component == ".." {
                guard !stack.isEmpty else { throw .notcapable }
                stack.removeLast()
                continue
            }
            let isLast = pending.allSatisfy { $0 == "." }
            if !isLast || follow {
                let candidate = hostPath(rootHost: rootHost, relative: (stack + [component]).joined(separator: "/"))
                if let target = symlinkTarget(candidate) {
                    links += 1
                    guard links <= maxSymlinks else { throw .loop }
                    guard target.first != "/" else { throw .notcapable }
                    pending = target.split(separator: "/", omittingEmptySubsequences: true).map(String.init) + pending
                    if target.hasSuffix("/") && pending.isEmpty { pending = ["."] }
                    continue
                }
            }
            stack.append(component)
        }
        return stack.joined(separator: "/")
    }

    static func hostPath(rootHost: String, relative: String) -> String {
        relative.isEmpty ? rootHost : (rootHost.hasSuffix("/") ? rootHost + relative : rootHost + "/" + relative)
    }

    /// The target of `path` if it is a symbolic link.
    static func symlinkTarget(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return nil }
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buffer.withUnsafeMutableBufferPointer { readlink(path, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count - 1) }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }
}

extension WASIErrno {
    /// A guest path that is not valid UTF-8 (the host file system is assumed to use UTF-8 names).
    static let ilseqOrInval = WASIErrno(rawValue: 25) // EILSEQ
}
