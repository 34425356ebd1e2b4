#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The socket's file beside the image: what is there now, and the address to
/// give NIO for it. The socket itself is NIO's; this only looks at names.
enum ControlSocketFile {
    /// What a name refers to, without following a symbolic link.
    enum Status: Equatable {
        case missing
        case socket(device: UInt64, inode: UInt64)
        case symbolicLink
        case other(String)
    }

    /// The longest path a Unix socket address holds (`sun_path` less its NUL).
    static let addressLimit: Int = {
        var address = sockaddr_un()
        return MemoryLayout.size(ofValue: address.sun_path) - 1
    }()

    #if os(Linux)
    /// `O_PATH` (the same on every Linux architecture; Glibc's module hides it).
    static let openPath: Int32 = 0o10000000
    #endif

    static func status(of path: String) -> Status {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? .missing : .other(String(cString: strerror(errno)))
        }
        return status(info)
    }

    static func status(in directory: Int32, name: String) -> Status {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            return errno == ENOENT ? .missing : .other(String(cString: strerror(errno)))
        }
        return status(info)
    }

    private static func status(_ info: stat) -> Status {
        switch info.st_mode & S_IFMT {
        case S_IFSOCK: .socket(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        case S_IFLNK: .symbolicLink
        case S_IFREG: .other("a regular file")
        case S_IFDIR: .other("a directory")
        default: .other("not a socket")
        }
    }

    /// Runs `body` with an address for `path` that fits a socket address: the
    /// path itself, or — when it is too long — on Linux the socket reached
    /// through `/proc/self/fd` of a descriptor that names it without
    /// following a symbolic link.
    static func withConnectableAddress<T>(_ path: String, _ body: (String) throws -> T) throws -> T {
        if path.utf8.count <= addressLimit { return try body(path) }
        #if os(Linux)
        let descriptor = open(path, openPath | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return try body(path) } // NIO reports the length
        defer { close(descriptor) }
        return try body("/proc/self/fd/\(descriptor)")
        #else
        return try body(path)
        #endif
    }

    /// Runs `body` with an address for a new socket named `name` in the
    /// directory `directory` (whose path is `path`), as `withConnectableAddress`.
    static func withBindableAddress<T>(directory: Int32, path: String, name: String, _ body: (String) throws -> T) throws -> T {
        let full = path + "/" + name
        if full.utf8.count <= addressLimit { return try body(full) }
        #if os(Linux)
        return try body("/proc/self/fd/\(directory)/\(name)")
        #else
        return try body(full)
        #endif
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        let url = URL(fileURLWithPath: path)
        return (url.deletingLastPathComponent().path, url.lastPathComponent)
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}
