import Foundation
import Testing
import PhantomSpace
@testable import PhantomWasm

@Suite struct WASIFileTests {
    static let rw = WASIRights.fdRead | WASIRights.fdWrite | WASIRights.fdSeek | WASIRights.fdTell
        | WASIRights.fdFilestatGet | WASIRights.fdFilestatSetSize | WASIRights.fdSync

    @Test func preopens() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/data"), (dir, ".")])
        #expect(h.errno("fd_prestat_get", [3, 100]) == .success)
        #expect(try h.memory.read(at: 100, count: 1) == [0])
        #expect(h.memory.u32(104) == 5)
        #expect(h.errno("fd_prestat_dir_name", [3, 200, 5]) == .success)
        #expect(h.memory.string(at: 200, count: 5) == "/data")
        #expect(h.errno("fd_prestat_dir_name", [3, 200, 4]) == .nametoolong)
        #expect(h.errno("fd_prestat_get", [4, 100]) == .success)
        #expect(h.memory.u32(104) == 1)
        #expect(h.errno("fd_prestat_get", [5, 100]) == .badf)
        #expect(h.errno("fd_fdstat_get", [3, 100]) == .success)
        #expect(try h.memory.read(at: 100, count: 1) == [WASIFiletype.directory.rawValue])
    }

    @Test func openWriteSeekReadCloseRoundTrip() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/data")])
        let (e, fd) = h.open("notes.txt", oflags: WASIOflags.creat, rights: Self.rw)
        #expect(e == .success)
        #expect(fd == 4)
        #expect(h.write(fd, "hello, ") == (.success, 7))
        #expect(h.write(fd, "world") == (.success, 5))
        #expect(fileContents(dir + "/notes.txt") == "hello, world")
        #expect(h.errno("fd_tell", [UInt64(fd), 100]) == .success)
        #expect(h.memory.u64(100) == 12)
        #expect(h.seek(fd, 7, whence: .set) == (.success, 7))
        #expect(h.read(fd, max: 3) == (.success, "wor"))
        #expect(h.seek(fd, -2, whence: .end) == (.success, 10))
        #expect(h.read(fd) == (.success, "ld"))
        #expect(h.read(fd) == (.success, ""))
        #expect(h.seek(fd, -1, whence: .set).0 == .inval)
        // pread/pwrite do not move the position.
        h.memory.put("J", at: 8192)
        h.memory.iovec(at: 2000, buffer: 8192, length: 1)
        #expect(h.errno("fd_pwrite", [UInt64(fd), 2000, 1, 0, 3000]) == .success)
        h.memory.iovec(at: 2000, buffer: 16384, length: 5)
        #expect(h.errno("fd_pread", [UInt64(fd), 2000, 1, 0, 3000]) == .success)
        #expect(h.memory.string(at: 16384, count: Int(h.memory.u32(3000))) == "Jello")
        #expect(h.errno("fd_tell", [UInt64(fd), 100]) == .success && h.memory.u64(100) == 12)
        // filestat, set_size, sync.
        #expect(h.errno("fd_filestat_get", [UInt64(fd), 400]) == .success)
        #expect(h.memory.u64(432) == 12)
        #expect(try h.memory.read(at: 416, count: 1) == [WASIFiletype.regularFile.rawValue])
        #expect(h.errno("fd_filestat_set_size", [UInt64(fd), 5]) == .success)
        #expect(fileContents(dir + "/notes.txt") == "Jello")
        #expect(h.errno("fd_sync", [UInt64(fd)]) == .success)
        #expect(h.errno("fd_datasync", [UInt64(fd)]) == .notcapable, "datasync was not among the rights asked for")
        #expect(h.errno("fd_close", [UInt64(fd)]) == .success)
        #expect(h.errno("fd_close", [UInt64(fd)]) == .badf)
        #expect(h.read(fd).0 == .badf)
        #expect(h.wasi.openHostDescriptorCount == 1, "only the preopen's, which resolved the path")
    }

    @Test func oflagsAndRights() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/")])
        #expect(h.open("missing").0 == .noent)
        let (_, a) = h.open("f", oflags: WASIOflags.creat | WASIOflags.excl, rights: Self.rw)
        #expect(h.write(a, "0123456789").0 == .success)
        #expect(h.open("f", oflags: WASIOflags.creat | WASIOflags.excl).0 == .exist)
        // Read-only: writing is not a right.
        let (e, ro) = h.open("f", rights: WASIRights.fdRead)
        #expect(e == .success)
        #expect(h.write(ro, "x").0 == .notcapable)
        #expect(h.read(ro) == (.success, "0123456789"))
        // O_TRUNC.
        let (_, t) = h.open("f", oflags: WASIOflags.trunc, rights: Self.rw)
        #expect(fileContents(dir + "/f") == "")
        // Append: every write goes to the end, whatever the position.
        let (_, ap) = h.open("f", rights: Self.rw, fdflags: WASIFdflags.append)
        #expect(h.write(t, "abc").0 == .success)
        #expect(h.write(ap, "XYZ").0 == .success)
        #expect(h.write(ap, "!").0 == .success)
        #expect(fileContents(dir + "/f") == "abcXYZ!")
        // O_DIRECTORY on a file, and a directory opened as one.
        #expect(h.open("f", oflags: WASIOflags.directory).0 == .notdir)
        #expect(h.pathCall("path_create_directory", "sub") == .success)
        let (de, d) = h.open("sub", oflags: WASIOflags.directory)
        #expect(de == .success)
        #expect(h.errno("fd_fdstat_get", [UInt64(d), 100]) == .success)
        #expect(try h.memory.read(at: 100, count: 1) == [WASIFiletype.directory.rawValue])
        #expect(h.read(d).0 == .notcapable)
        // Relative to an opened directory.
        let (ne, nested) = h.open("inner.txt", dirfd: d, oflags: WASIOflags.creat, rights: Self.rw)
        #expect(ne == .success)
        #expect(h.write(nested, "deep").0 == .success)
        #expect(fileContents(dir + "/sub/inner.txt") == "deep")
        // path_open on a file descriptor is ENOTDIR.
        #expect(h.open("x", dirfd: nested).0 == .notdir)
        #expect(h.open("x", dirfd: 99).0 == .badf)
    }

    @Test func sandboxEscapesAreRejected() throws {
        let outer = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: outer) }
        let dir = outer + "/jail"
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try "secret".write(toFile: outer + "/secret.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/up", withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(atPath: dir + "/abs", withDestinationPath: outer + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: dir + "/sneaky", withDestinationPath: "sub/../../secret.txt")
        try FileManager.default.createSymbolicLink(atPath: dir + "/fine", withDestinationPath: "sub/../sub")
        try FileManager.default.createSymbolicLink(atPath: dir + "/loop", withDestinationPath: "loop")
        let h = try WASIHarness(preopens: [(dir, "/")])

        #expect(h.open("../secret.txt").0 == .notcapable)
        #expect(h.open("sub/../../secret.txt").0 == .notcapable)
        #expect(h.open("/etc/passwd").0 == .notcapable)
        #expect(h.open(outer + "/secret.txt").0 == .notcapable)
        #expect(h.open("up/secret.txt").0 == .notcapable)
        #expect(h.open("up/jail/sub", oflags: WASIOflags.directory).0 == .notcapable)
        #expect(h.open("abs").0 == .notcapable)
        #expect(h.open("sneaky").0 == .notcapable)
        #expect(h.open("loop").0 == .loop)
        // Without symlink_follow, a link as the last component is not followed: ELOOP from O_NOFOLLOW.
        #expect(h.open("abs", follow: false).0 == .loop)
        #expect(h.pathCall("path_create_directory", "../evil") == .notcapable)
        #expect(h.pathCall("path_unlink_file", "../secret.txt") == .notcapable)
        #expect(h.pathCall("path_create_directory", "up/evil") == .notcapable)
        #expect(!FileManager.default.fileExists(atPath: outer + "/evil"))
        #expect(fileContents(outer + "/secret.txt") == "secret")
        // Inside the jail, .. and links that stay inside are fine.
        #expect(h.open("sub/../sub", oflags: WASIOflags.directory).0 == .success)
        #expect(h.open("fine/./new.txt", oflags: WASIOflags.creat).0 == .success)
        #expect(FileManager.default.fileExists(atPath: dir + "/sub/new.txt"))
        // An opened subdirectory is a capability for its own tree only (as in
        // wasmtime): `..` out of it is refused even where the preopen would allow it.
        let (_, sub) = h.open("sub", oflags: WASIOflags.directory)
        #expect(h.open("../../secret.txt", dirfd: sub).0 == .notcapable)
        #expect(h.open("../fine/new.txt", dirfd: sub).0 == .notcapable)
        #expect(h.open("new.txt", dirfd: sub).0 == .success)
        // Paths with NUL, empty paths.
        #expect(h.open("a\0b").0 == .inval)
        #expect(h.open("").0 == .noent)
    }

    @Test func readdirWithCookies() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["b.txt", "a.txt", "c.txt"] { try name.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        try FileManager.default.createDirectory(atPath: dir + "/d", withIntermediateDirectories: false)
        let h = try WASIHarness(preopens: [(dir, "/")])

        func list(cookie: UInt64, bufferLength: UInt32) -> (names: [String], types: [UInt8], cookies: [UInt64], used: UInt32) {
            #expect(h.errno("fd_readdir", [3, 20000, UInt64(bufferLength), cookie, 3000]) == .success)
            let used = h.memory.u32(3000)
            var names: [String] = [], types: [UInt8] = [], cookies: [UInt64] = []
            var at: UInt64 = 20000
            while at + 24 <= 20000 + UInt64(used) {
                let length = Int(h.memory.u32(at + 16))
                guard at + 24 + UInt64(length) <= 20000 + UInt64(used) else { break }
                cookies.append(h.memory.u64(at))
                types.append(try! h.memory.read(at: at + 20, count: 1)[0])
                names.append(h.memory.string(at: at + 24, count: length))
                at += 24 + UInt64(length)
            }
            return (names, types, cookies, used)
        }
        let all = list(cookie: 0, bufferLength: 4096)
        #expect(all.names == [".", "..", "a.txt", "b.txt", "c.txt", "d"])
        #expect(all.cookies == [1, 2, 3, 4, 5, 6])
        #expect(all.types == [3, 3, 4, 4, 4, 3])
        #expect(all.used < 4096)
        // Small buffers: the buffer fills up (used == length), the caller continues from the last whole entry's cookie.
        var names: [String] = []
        var cookie: UInt64 = 0
        for _ in 0..<20 {
            let part = list(cookie: cookie, bufferLength: 40)
            names += part.names
            if part.used < 40 { break }
            if let last = part.cookies.last { cookie = last }
        }
        #expect(names == all.names)
        #expect(list(cookie: 6, bufferLength: 4096).used == 0)
        #expect(h.errno("fd_readdir", [1, 20000, 100, 0, 3000]) == .notdir)
    }

    @Test func mkdirRenameUnlinkRmdirFilestat() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/")])
        #expect(h.pathCall("path_create_directory", "dump") == .success)
        #expect(h.pathCall("path_create_directory", "dump") == .exist)
        let (_, fd) = h.open("dump/k1", oflags: WASIOflags.creat, rights: Self.rw)
        #expect(h.write(fd, "v1").0 == .success)
        // path_filestat_get
        h.memory.put("dump/k1", at: 1000)
        #expect(h.errno("path_filestat_get", [3, 1, 1000, 7, 400]) == .success)
        #expect(h.memory.u64(432) == 2)
        #expect(try h.memory.read(at: 416, count: 1) == [WASIFiletype.regularFile.rawValue])
        h.memory.put("nothing", at: 1000)
        #expect(h.errno("path_filestat_get", [3, 1, 1000, 7, 400]) == .noent)
        // Rename the open file: its descriptor follows (stored path updated).
        h.memory.put("dump/k1", at: 1000)
        h.memory.put("dump/k2", at: 1100)
        #expect(h.errno("path_rename", [3, 1000, 7, 3, 1100, 7]) == .success)
        #expect(fileContents(dir + "/dump/k2") == "v1")
        #expect(FileManager.default.fileExists(atPath: dir + "/dump/k1") == false)
        #expect(h.pathCall("path_remove_directory", "dump") == .notempty)
        #expect(h.pathCall("path_unlink_file", "dump") == .isdir)
        #expect(h.pathCall("path_unlink_file", "dump/k2") == .success)
        #expect(h.pathCall("path_unlink_file", "dump/k2") == .noent)
        #expect(h.pathCall("path_remove_directory", "dump") == .success)
        #expect(!FileManager.default.fileExists(atPath: dir + "/dump"))
        #expect(h.pathCall("path_remove_directory", ".") == .busy)
    }

    @Test func renumberAndAdvise() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/")])
        let (_, a) = h.open("a", oflags: WASIOflags.creat, rights: Self.rw | WASIRights.fdAdvise | WASIRights.fdAllocate)
        let (_, b) = h.open("b", oflags: WASIOflags.creat, rights: Self.rw)
        #expect(h.write(a, "into a").0 == .success)
        #expect(h.errno("fd_renumber", [UInt64(a), UInt64(b)]) == .success)
        #expect(h.write(b, "!").0 == .success)
        #expect(fileContents(dir + "/a") == "into a!")
        #expect(h.write(a, "x").0 == .badf)
        #expect(h.errno("fd_renumber", [UInt64(a), UInt64(b)]) == .badf)
        #expect(h.errno("fd_advise", [UInt64(b), 0, 10, 2]) == .success)
        #expect(h.errno("fd_advise", [UInt64(b), 0, 10, 9]) == .inval)
        #expect(h.errno("fd_allocate", [UInt64(b), 0, 100]) == .success)
        #expect(h.errno("fd_filestat_get", [UInt64(b), 400]) == .success && h.memory.u64(432) == 100)
        #expect(h.errno("fd_fdstat_set_rights", [UInt64(b), WASIRights.fdRead, 0]) == .success)
        #expect(h.write(b, "x").0 == .notcapable)
        #expect(h.errno("fd_fdstat_set_rights", [UInt64(b), WASIRights.fdRead | WASIRights.fdWrite, 0]) == .notcapable)
    }
}
