import Foundation
import Testing
import PhantomSpace
import PhantomStore
import WAT
@testable import PhantomWasm

/// The behaviours the official WASI testsuite (WebAssembly/wasi-testsuite,
/// preview 1) checks on paths, links and times, one test each, with the exact
/// errno Phantom gives on Linux (where the testsuite accepts several, the one
/// the kernel or wasmtime gives). docs/WASI.md maps testsuite cases to these tests.
@Suite struct WASIPathConformanceTests {
    /// A fresh directory preopened as "/" (fd 3).
    static func sandbox() throws -> (WASIHarness, String) {
        let dir = try makeTemporaryDirectory()
        return (try WASIHarness(preopens: [(dir, "/")]), dir)
    }

    static func remove(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

    // MARK: Symbolic links

    @Test func symlinkToAFileIsFollowedWhenAsked() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("target") == .success)
        #expect(h.symlink("target", at: "symlink") == .success)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/symlink") == "target")
        let (e, fd) = h.open("symlink", rights: WASIRights.fdRead | WASIRights.fdFilestatGet, follow: true)
        #expect(e == .success && fd > 3)
        #expect(h.filestat(fd: fd).1?.filetype == WASIFiletype.regularFile.rawValue)
        #expect(h.pathCall("path_unlink_file", "symlink") == .success)
        #expect(h.pathCall("path_unlink_file", "target") == .success)
    }

    @Test func symlinkToADirectoryOpensAsADirectoryWhenFollowed() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "target") == .success)
        #expect(h.symlink("target", at: "symlink") == .success)
        let (e, fd) = h.open("symlink", oflags: WASIOflags.directory, follow: true)
        #expect(e == .success)
        #expect(h.createFile("inside", dirfd: fd) == .success)
        #expect(FileManager.default.fileExists(atPath: dir + "/target/inside"))
        #expect(h.pathCall("path_unlink_file", "symlink") == .success, "unlinks the link, not the directory")
        #expect(h.pathCall("path_remove_directory", "target") == .notempty)
    }

    @Test func absoluteSymlinkTargetIsRefusedWithEPERM() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.symlink("/", at: "symlink") == .perm)
        #expect(h.symlink("/etc/passwd", at: "symlink") == .perm)
        #expect(!FileManager.default.fileExists(atPath: dir + "/symlink"))
    }

    @Test func openingALinkWithoutFollowIsELOOPOrENOTDIR() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "target") == .success)
        #expect(h.symlink("target", at: "symlink") == .success)
        #expect(h.open("symlink", oflags: WASIOflags.directory, rights: 0, follow: false).0 == .notdir)
        #expect(h.open("symlink", rights: 0, follow: false).0 == .loop)
        // The same with a link to a file.
        #expect(h.pathCall("path_unlink_file", "symlink") == .success)
        #expect(h.pathCall("path_remove_directory", "target") == .success)
        #expect(h.createFile("target") == .success)
        #expect(h.symlink("target", at: "symlink") == .success)
        #expect(h.open("symlink", oflags: WASIOflags.directory, rights: 0, follow: false).0 == .notdir)
        #expect(h.open("symlink", rights: 0, follow: false).0 == .loop)
    }

    @Test func linkToAFileOpenedAsADirectoryIsENOTDIR() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("target") == .success)
        #expect(h.symlink("target", at: "symlink") == .success)
        #expect(h.open("symlink", oflags: WASIOflags.directory, rights: 0, follow: true).0 == .notdir)
    }

    @Test func danglingSymlink() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.symlink("target", at: "dangling") == .success)
        #expect(h.open("dangling", oflags: WASIOflags.directory, rights: 0, follow: false).0 == .notdir)
        #expect(h.open("dangling", rights: 0, follow: false).0 == .loop)
        #expect(h.open("dangling", rights: 0, follow: true).0 == .noent)
        #expect(h.filestat("dangling").1?.filetype == WASIFiletype.symbolicLink.rawValue)
        #expect(h.pathCall("path_unlink_file", "dangling") == .success)
    }

    @Test func selfReferencingSymlinkIsELOOP() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.symlink("symlink", at: "symlink") == .success)
        #expect(h.open("symlink", rights: 0, follow: false).0 == .loop)
        #expect(h.open("symlink", rights: 0, follow: true).0 == .loop)
        #expect(h.open("symlink/x", rights: 0).0 == .loop)
        #expect(h.pathCall("path_unlink_file", "symlink") == .success)
    }

    @Test func readlinkWritesAtMostTheBufferAndReturnsTheCount() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("target") == .success)
        #expect(h.symlink("target", at: "symlink") == .success)
        #expect(h.readlink("symlink", capacity: 10) == (.success, Array("target".utf8)))
        #expect(try h.memory.read(at: 16384 + 6, count: 4) == [0, 0, 0, 0], "the rest of the buffer is untouched")
        #expect(h.readlink("symlink", capacity: 4) == (.success, Array("targ".utf8)))
        #expect(try h.memory.read(at: 16384 + 4, count: 1) == [0])
        #expect(h.readlink("target").0 == .inval, "not a link")
        #expect(h.readlink("missing").0 == .noent)
        // The buffer must lie in memory.
        h.memory.put("symlink", at: 1000)
        #expect(h.errno("path_readlink", [3, 1000, 7, 65530, 10, 3000]) == .fault)
    }

    @Test func symlinkDestinationWithTrailingSlash() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.symlink("source", at: "target/") == .noent)
        #expect(h.symlink("source", at: "target") == .success)
        #expect(h.pathCall("path_unlink_file", "target") == .success)
        #expect(h.pathCall("path_create_directory", "target") == .success)
        #expect(h.symlink("source", at: "target/") == .exist)
        #expect(h.symlink("source", at: "target") == .exist)
        #expect(h.pathCall("path_remove_directory", "target") == .success)
        #expect(h.createFile("target") == .success)
        #expect(h.symlink("source", at: "target/") == .exist)
        #expect(h.symlink("source", at: "target") == .exist)
    }

    @Test func followedLinksNeverLeaveTheDirectory() throws {
        let outer = try makeTemporaryDirectory()
        defer { Self.remove(outer) }
        let dir = outer + "/jail"
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try "secret".write(toFile: outer + "/secret.txt", atomically: true, encoding: .utf8)
        let h = try WASIHarness(preopens: [(dir, "/")])
        // A relative target may point anywhere (it is only text) ...
        #expect(h.symlink("../secret.txt", at: "out") == .success)
        #expect(h.symlink("..", at: "up") == .success)
        #expect(h.symlink("../sub", at: "sub/sibling") == .success)
        // ... but following it never leaves the preopen.
        #expect(h.open("out", rights: WASIRights.fdRead).0 == .notcapable)
        #expect(h.open("up/secret.txt", rights: WASIRights.fdRead).0 == .notcapable)
        #expect(h.filestat("out", follow: true).0 == .notcapable)
        #expect(h.setTimes("out", follow: true, flags: WASIFstflags.mtimNow) == .notcapable)
        #expect(h.pathCall("path_create_directory", "up/evil") == .notcapable)
        #expect(!FileManager.default.fileExists(atPath: outer + "/evil"))
        // Not following acts on the link itself, which is inside.
        #expect(h.filestat("out").1?.filetype == WASIFiletype.symbolicLink.rawValue)
        // A link that climbs but stays inside works from the preopen ...
        #expect(h.open("sub/sibling", oflags: WASIOflags.directory).0 == .success)
        // ... and not from a descriptor for `sub`: that one is a capability for `sub`'s tree only.
        let (_, sub) = h.open("sub", oflags: WASIOflags.directory)
        #expect(h.open("sibling", dirfd: sub, oflags: WASIOflags.directory).0 == .notcapable)
        #expect(fileContents(outer + "/secret.txt") == "secret")
    }

    @Test func filestatOfALinkOrWhatItLeadsTo() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "subdir") == .success)
        #expect(h.createFile("subdir/file") == .success)
        #expect(h.symlink("subdir/file", at: "link1") == .success)
        #expect(h.symlink("subdir", at: "link2") == .success)
        #expect(h.filestat("subdir").1?.filetype == WASIFiletype.directory.rawValue)
        #expect(h.filestat("subdir", follow: true).1?.filetype == WASIFiletype.directory.rawValue)
        #expect(h.filestat("link1").1?.filetype == WASIFiletype.symbolicLink.rawValue)
        #expect(h.filestat("link1", follow: true).1?.filetype == WASIFiletype.regularFile.rawValue)
        #expect(h.filestat("link2").1?.filetype == WASIFiletype.symbolicLink.rawValue)
        #expect(h.filestat("link2", follow: true).1?.filetype == WASIFiletype.directory.rawValue)
        #expect(h.filestat("link2/").1?.filetype == WASIFiletype.directory.rawValue, "a trailing slash follows")
        #expect(h.filestat("link1/").0 == .notdir)
        #expect(h.filestat("subdir/file/").0 == .notdir)
    }

    // MARK: Trailing slashes

    @Test func unlinkFileWithTrailingSlashes() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "dir") == .success)
        #expect(h.pathCall("path_unlink_file", "dir") == .isdir)
        #expect(h.pathCall("path_unlink_file", "dir/") == .isdir)
        #expect(h.createFile("file") == .success)
        #expect(h.pathCall("path_unlink_file", "file/") == .notdir)
        #expect(FileManager.default.fileExists(atPath: dir + "/file"))
        #expect(h.pathCall("path_unlink_file", "file") == .success)
    }

    @Test func removeDirectoryWithTrailingSlashes() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "dir/") == .success)
        #expect(h.pathCall("path_remove_directory", "dir/") == .success)
        #expect(h.createFile("file") == .success)
        #expect(h.pathCall("path_remove_directory", "file") == .notdir)
        #expect(h.pathCall("path_remove_directory", "file/") == .notdir)
    }

    @Test func renameWithTrailingSlashes() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "source") == .success)
        #expect(h.rename("source/", "target") == .success)
        #expect(h.rename("target", "source/") == .success)
        #expect(h.rename("source/", "target/") == .success)
        #expect(h.rename("target", "source") == .success)
        #expect(h.createFile("file") == .success)
        #expect(h.rename("file/", "other") == .notdir)
        #expect(h.rename("file", "other/") == .notdir)
        #expect(FileManager.default.fileExists(atPath: dir + "/file"))
    }

    @Test func aLinkBeforeATrailingSlashIsNotActedThrough() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "dir") == .success)
        #expect(h.symlink("dir", at: "link") == .success)
        // Calls on the entry itself never reach the directory behind the link.
        #expect(h.pathCall("path_unlink_file", "link/") == .notdir)
        #expect(h.pathCall("path_remove_directory", "link/") == .notdir)
        #expect(h.rename("link/", "moved") == .notdir)
        #expect(h.pathCall("path_create_directory", "link/") == .exist)
        #expect(h.symlink("x", at: "link/") == .exist)
        #expect(FileManager.default.fileExists(atPath: dir + "/dir"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/link") == "dir")
        // Calls that reach a file follow it, as POSIX resolves a trailing slash.
        #expect(h.open("link/", rights: 0, follow: false).0 == .success)
        #expect(h.filestat("link/").1?.filetype == WASIFiletype.directory.rawValue)
    }

    @Test func openWithTrailingSlashes() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "dir") == .success)
        #expect(h.pathCall("path_create_directory", "dir/nested") == .success)
        #expect(h.createFile("dir/nested/file") == .success)
        #expect(h.open("dir/nested/file/", rights: 0).0 == .notdir)
        #expect(h.open("dir/nested/file///", rights: 0).0 == .notdir)
        #expect(h.open("dir/nested/", rights: 0).0 == .success)
        #expect(h.open("dir/nested///", rights: 0).0 == .success)
        #expect(h.open("new/", oflags: WASIOflags.creat, rights: 0).0 == .isdir)
        #expect(!FileManager.default.fileExists(atPath: dir + "/new"))
    }

    // MARK: Interesting paths

    @Test func dotsAndSlashesInsideTheTreeResolve() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "dir") == .success)
        #expect(h.pathCall("path_create_directory", "dir/nested") == .success)
        #expect(h.createFile("dir/nested/file") == .success)
        #expect(h.open("dir/.//nested/../../dir/nested/../nested///./file", rights: 0).0 == .success)
        #expect(h.open("/dir/nested/file", rights: 0).0 == .notcapable)
        #expect(h.open("dir/nested/file\0", rights: 0).0 == .inval)
        #expect(h.open("dir/nested/file/.", rights: 0).0 == .notdir)
    }

    @Test func dotDotAboveTheDirectoryDescriptorIsENOTCAPABLE() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "scratch") == .success)
        let (_, scratch) = h.open("scratch", oflags: WASIOflags.directory)
        #expect(h.pathCall("path_create_directory", "dir", dirfd: scratch) == .success)
        #expect(h.pathCall("path_create_directory", "dir/nested", dirfd: scratch) == .success)
        #expect(h.createFile("dir/nested/file", dirfd: scratch) == .success)
        #expect(h.open("dir/nested/../../../scratch/dir/nested/file", dirfd: scratch, rights: 0).0 == .notcapable)
        #expect(h.open("dir/nested/../../dir/nested/file", dirfd: scratch, rights: 0).0 == .success)
        #expect(h.open("../scratch/dir", dirfd: 3, rights: 0).0 == .notcapable)
    }

    // MARK: path_open flags and rights

    @Test func directoryOpenedWithWriteRightsIsEISDIR() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.errno("fd_fdstat_get", [3, 100]) == .success)
        #expect(h.open(".", rights: h.memory.u64(108)).0 == .success, "the directory's own rights")
        #expect(h.open(".", rights: 0).0 == .success)
        #expect(h.open(".", oflags: WASIOflags.directory, rights: 0).0 == .success)
        #expect(h.open(".", oflags: WASIOflags.directory, rights: WASIRights.fdRead).0 == .success)
        #expect(h.open(".", oflags: WASIOflags.directory, rights: WASIRights.fdRead | WASIRights.fdWrite).0 == .isdir)
        #expect(h.open(".", rights: WASIRights.fdRead | WASIRights.fdWrite).0 == .isdir)
        #expect(h.createFile("file") == .success)
        #expect(h.open("file", oflags: WASIOflags.directory, rights: WASIRights.fdWrite).0 == .notdir)
    }

    @Test func preopenHasTheRightsProgramsExpect() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.errno("fd_fdstat_get", [3, 100]) == .success)
        let base = h.memory.u64(108), inheriting = h.memory.u64(116)
        let directory: [UInt64] = [WASIRights.pathCreateDirectory, WASIRights.pathCreateFile, WASIRights.pathLinkSource,
                                   WASIRights.pathLinkTarget, WASIRights.pathOpen, WASIRights.fdReaddir,
                                   WASIRights.pathReadlink, WASIRights.pathRenameSource, WASIRights.pathRenameTarget,
                                   WASIRights.pathSymlink, WASIRights.pathRemoveDirectory, WASIRights.pathUnlinkFile,
                                   WASIRights.pathFilestatGet, WASIRights.pathFilestatSetTimes, WASIRights.fdFilestatGet,
                                   WASIRights.fdFilestatSetTimes]
        let file: [UInt64] = [WASIRights.fdDatasync, WASIRights.fdRead, WASIRights.fdSeek, WASIRights.fdFdstatSetFlags,
                              WASIRights.fdSync, WASIRights.fdTell, WASIRights.fdWrite, WASIRights.fdAdvise,
                              WASIRights.fdAllocate, WASIRights.fdFilestatSetSize, WASIRights.pollFdReadwrite]
        for right in directory { #expect(base & right == right, "base \(right)") }
        for right in directory + file { #expect(inheriting & right == right, "inheriting \(right)") }
        #expect(base & (WASIRights.fdWrite | WASIRights.fdRead) == 0, "so opening \".\" with them is not EISDIR")
    }

    @Test func unlinkedNamesCanBeCreatedAgain() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("file") == .success)
        let (_, fd) = h.open("file", rights: 0)
        #expect(h.pathCall("path_unlink_file", "file") == .success)
        #expect(h.createFile("file") == .success)
        #expect(h.errno("fd_close", [UInt64(fd)]) == .success)
        #expect(h.pathCall("path_create_directory", "subdir") == .success)
        let (_, subdir) = h.open("subdir", oflags: WASIOflags.directory, rights: 0)
        #expect(h.pathCall("path_remove_directory", "subdir") == .success)
        #expect(h.pathCall("path_create_directory", "subdir") == .success)
        #expect(h.errno("fd_close", [UInt64(subdir)]) == .success)
    }

    @Test func directoryWithCreateExclOrTruncIsEINVAL() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        for extra in [WASIOflags.creat, WASIOflags.excl, WASIOflags.trunc] {
            #expect(h.open("d", oflags: WASIOflags.directory | extra, rights: 0).0 == .inval)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/d"))
    }

    @Test func readOnlyAndWriteOnlyDescriptors() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("file") == .success)
        let (_, ro) = h.open("file", rights: WASIRights.fdRead)
        #expect(h.write(ro, "x").0 == .notcapable)
        let (_, wo) = h.open("file", rights: WASIRights.fdWrite)
        #expect(h.read(wo).0 == .notcapable)
        #expect(h.write(wo, "written").0 == .success)
        #expect(h.read(ro) == (.success, "written"))
    }

    @Test func truncationNeedsThePathFilestatSetSizeRight() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let (_, fd) = h.open("file", oflags: WASIOflags.creat, rights: WASIRights.fdWrite)
        #expect(h.write(fd, "data").0 == .success)
        #expect(h.open("file", oflags: WASIOflags.trunc, rights: 0).0 == .success)
        #expect(fileContents(dir + "/file") == "")
        #expect(h.errno("fd_fdstat_get", [3, 100]) == .success)
        let base = h.memory.u64(108) & ~WASIRights.pathFilestatSetSize
        #expect(h.errno("fd_fdstat_set_rights", [3, base, h.memory.u64(116)]) == .success)
        #expect(h.open("file", oflags: WASIOflags.trunc, rights: 0).0 == .notcapable)
    }

    @Test func createExistingWithExclIsEEXIST() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("file") == .success)
        #expect(h.open("file", oflags: WASIOflags.creat | WASIOflags.excl, rights: 0).0 == .exist)
        #expect(h.open("missing", rights: 0).0 == .noent)
    }

    // MARK: Times

    @Test func fdFilestatSetTimesHonoursEachFlag() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let rights = WASIRights.fdRead | WASIRights.fdWrite | WASIRights.fdFilestatGet | WASIRights.fdFilestatSetSize
            | WASIRights.fdFilestatSetTimes
        let (_, fd) = h.open("file", oflags: WASIOflags.creat, rights: rights)
        #expect(h.errno("fd_filestat_set_size", [UInt64(fd), 100]) == .success)
        let before = try #require(h.filestat(fd: fd).1)
        #expect(before.size == 100)
        // MTIM alone: mtime set, atime kept.
        #expect(h.setTimes(fd: fd, accessed: 7, modified: before.modified - 100, flags: WASIFstflags.mtim) == .success)
        let afterMtim = try #require(h.filestat(fd: fd).1)
        #expect(afterMtim.modified == before.modified - 100)
        #expect(afterMtim.accessed == before.accessed)
        #expect(afterMtim.size == 100)
        // ATIM alone, to an exact time (nanoseconds kept).
        #expect(h.setTimes(fd: fd, accessed: 1_000_000_123, flags: WASIFstflags.atim) == .success)
        #expect(h.filestat(fd: fd).1?.accessed == 1_000_000_123)
        #expect(h.filestat(fd: fd).1?.modified == before.modified - 100)
        // *_NOW: both move away from the past values just set.
        #expect(h.setTimes(fd: fd, modified: 5_000_000_000, flags: WASIFstflags.mtim) == .success)
        #expect(h.setTimes(fd: fd, flags: WASIFstflags.atimNow | WASIFstflags.mtimNow) == .success)
        let now = try #require(h.filestat(fd: fd).1)
        #expect(now.accessed > 1_000_000_123 && now.modified > 5_000_000_000)
        // No flag: nothing changes.
        #expect(h.setTimes(fd: fd, accessed: 1, modified: 1, flags: 0) == .success)
        #expect(h.filestat(fd: fd).1 == now)
    }

    @Test func conflictingOrUnknownTimeFlagsAreEINVAL() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let (_, fd) = h.open("file", oflags: WASIOflags.creat, rights: WASIRights.fdRead | WASIRights.fdFilestatSetTimes)
        #expect(h.setTimes(fd: fd, accessed: 100, modified: 200, flags: WASIFstflags.mtim | WASIFstflags.mtimNow) == .inval)
        #expect(h.setTimes(fd: fd, accessed: 100, modified: 200, flags: WASIFstflags.atim | WASIFstflags.atimNow) == .inval)
        #expect(h.setTimes(fd: fd, flags: 1 << 4) == .inval)
        let before = try #require(h.filestat("file").1)
        #expect(h.setTimes("file", modified: 200, flags: WASIFstflags.mtim | WASIFstflags.mtimNow) == .inval)
        #expect(h.setTimes("file", flags: WASIFstflags.atim | WASIFstflags.atimNow) == .inval)
        #expect(h.filestat("file").1 == before, "a refused call changes nothing")
    }

    @Test func setTimesNeedsItsRight() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let (_, fd) = h.open("file", oflags: WASIOflags.creat, rights: WASIRights.fdRead)
        #expect(h.setTimes(fd: fd, flags: WASIFstflags.mtimNow) == .notcapable)
        #expect(h.setTimes(fd: 1, flags: WASIFstflags.mtimNow) == .notcapable, "stdio")
        #expect(h.setTimes(fd: 77, flags: WASIFstflags.mtimNow) == .badf)
    }

    @Test func pathFilestatSetTimesOnTheLinkOrWhatItLeadsTo() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("file") == .success)
        let file = try #require(h.filestat("file").1)
        #expect(h.setTimes("file", modified: file.modified - 100, flags: WASIFstflags.mtim) == .success)
        #expect(h.filestat("file").1?.modified == file.modified - 100)
        #expect(h.symlink("file", at: "symlink") == .success)
        let link = try #require(h.filestat("symlink").1)
        #expect(h.setTimes("symlink", modified: link.modified - 200, flags: WASIFstflags.mtim) == .success)
        #expect(h.filestat("symlink").1?.modified == link.modified - 200, "the link's own time")
        #expect(h.filestat("file").1?.modified == file.modified - 100, "the file's is untouched")
        #expect(h.setTimes("symlink", follow: true, modified: 42, flags: WASIFstflags.mtim) == .success)
        #expect(h.filestat("file").1?.modified == 42)
        #expect(h.filestat("symlink", follow: true).1?.modified == 42)
        #expect(h.setTimes("missing", flags: WASIFstflags.mtimNow) == .noent)
    }

    // MARK: Hard links

    @Test func hardLinks() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let rights = WASIRights.fdRead | WASIRights.fdFilestatGet
        let (_, file) = h.open("file", oflags: WASIOflags.creat, rights: rights)
        #expect(h.link("file", "link") == .success)
        let (_, link) = h.open("link", rights: rights)
        let original = try #require(h.filestat(fd: file).1), linked = try #require(h.filestat(fd: link).1)
        #expect(original == linked && original.links == 2)
        #expect(h.pathCall("path_unlink_file", "link") == .success)
        // Into another directory descriptor.
        #expect(h.pathCall("path_create_directory", "subdir") == .success)
        let (_, subdir) = h.open("subdir", oflags: WASIOflags.directory)
        #expect(h.link("file", "link", newDirfd: subdir) == .success)
        #expect(h.filestat("subdir/link").1?.inode == original.inode)
        #expect(h.pathCall("path_unlink_file", "subdir/link") == .success)
    }

    @Test func hardLinkErrors() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("file") == .success)
        #expect(h.createFile("existing") == .success)
        #expect(h.link("file", "existing") == .exist)
        #expect(h.link("file", "file") == .exist)
        #expect(h.pathCall("path_create_directory", "dir") == .success)
        #expect(h.link("file", "dir") == .exist)
        #expect(h.link("dir", "link") == .perm)
        #expect(h.link("file", "link/") == .noent)
        #expect(h.link("missing", "link") == .noent)
        #expect(h.link("file", "../escape") == .notcapable)
        #expect(h.link("file", "/abs") == .notcapable)
    }

    @Test func hardLinksToLinksAndFollowing() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.createFile("file") == .success)
        #expect(h.symlink("target", at: "symlink") == .success)
        #expect(h.link("symlink", "link") == .success, "a dangling link itself can be linked")
        #expect(h.filestat("link").1?.filetype == WASIFiletype.symbolicLink.rawValue)
        #expect(h.pathCall("path_unlink_file", "symlink") == .success)
        #expect(h.pathCall("path_unlink_file", "link") == .success)
        #expect(h.symlink("symlink", at: "symlink") == .success)
        #expect(h.link("symlink", "link") == .success, "so can a loop")
        #expect(h.pathCall("path_unlink_file", "link") == .success)
        #expect(h.link("file", "symlink") == .exist, "the target exists (as a link)")
        #expect(h.link("symlink", "link", follow: true) == .inval, "following is refused, as in wasmtime")
    }

    // MARK: Renames, directories as files, preopens, sockets

    @Test func renameErrors() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "source") == .success)
        #expect(h.pathCall("path_create_directory", "target") == .success)
        #expect(h.rename("source", "target") == .success, "onto an empty directory")
        #expect(h.open("source", oflags: WASIOflags.directory).0 == .noent)
        #expect(h.pathCall("path_create_directory", "source") == .success)
        #expect(h.createFile("target/file") == .success)
        #expect(h.rename("source", "target") == .notempty)
        #expect(h.rename("source", "target/file") == .notdir)
        #expect(h.createFile("file") == .success)
        #expect(h.rename("file", "source") == .isdir)
        #expect(h.createFile("other") == .success)
        #expect(h.rename("file", "other") == .success, "onto an existing file")
        #expect(h.rename("other", "../out") == .notcapable)
    }

    @Test func fileCallsOnADirectoryFail() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let (_, d) = h.open(".", oflags: WASIOflags.directory, rights: WASIRights.fdSeek | WASIRights.fdReaddir)
        #expect(h.errno("fd_fdstat_get", [UInt64(d), 100]) == .success)
        #expect(h.memory.u64(108) & WASIRights.fdSeek == 0, "a directory never gets the seek right")
        #expect(h.read(d).0 == .notcapable)
        #expect(h.write(d, "x").0 == .notcapable)
        #expect(h.seek(d, 0, whence: .cur).0 == .notcapable)
        #expect(h.errno("fd_tell", [UInt64(d), 3000]) == .notcapable)
        // The preopen has no file rights either.
        #expect(h.read(3).0 == .notcapable)
        #expect(h.errno("fd_allocate", [3, 0, 1]) == .notcapable)
        #expect(h.errno("fd_filestat_set_size", [3, 0]) == .notcapable)
    }

    @Test func closingOrRenumberingOverAPreopenKeepsOthersWorking() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let (_, scratch) = h.open(".", oflags: WASIOflags.directory)
        let identity = try #require(h.filestat(fd: scratch).1)
        #expect(h.errno("fd_close", [3]) == .success)
        #expect(h.errno("fd_fdstat_get", [3, 100]) == .badf)
        #expect(h.createFile("still-works", dirfd: scratch) == .success)
        #expect(h.errno("fd_renumber", [UInt64(scratch), 3]) == .badf, "3 is closed now")
        #expect(h.open("..", dirfd: scratch, oflags: WASIOflags.directory).0 == .notcapable)
        let (_, second) = h.open(".", dirfd: scratch, oflags: WASIOflags.directory)
        #expect(h.errno("fd_renumber", [UInt64(second), UInt64(scratch)]) == .success)
        #expect(h.filestat(fd: scratch).1?.inode == identity.inode)
        #expect(h.errno("fd_fdstat_get", [UInt64(second), 100]) == .badf)
    }

    @Test func sockShutdownOnANonSocketIsENOTSOCK() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let (_, fd) = h.open("file", oflags: WASIOflags.creat, rights: WASIRights.fdRead)
        #expect(h.errno("sock_shutdown", [UInt64(fd), UInt64(WASISdflags.rd | WASISdflags.wr)]) == .notsock)
        #expect(h.errno("sock_shutdown", [1, UInt64(WASISdflags.wr)]) == .notsock)
        #expect(h.errno("sock_shutdown", [3, 1]) == .notsock)
        #expect(h.errno("sock_shutdown", [99, 1]) == .badf)
    }

    // MARK: Persistence of descriptors reached through links

    @Test func descriptorOpenedThroughALinkIsReopenedByItsCanonicalPath() throws {
        let (h, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        #expect(h.pathCall("path_create_directory", "data") == .success)
        #expect(h.symlink("data", at: "current") == .success)
        #expect(h.open("current/./x/../log", oflags: WASIOflags.creat).0 == .noent, "x/.. needs x to exist")
        let (e, log) = h.open("current/log", oflags: WASIOflags.creat, rights: WASIFileTests.rw)
        #expect(e == .success)
        #expect(h.wasi.state.descriptor(log).relativePath == "data/log", "stored without the link")
        #expect(h.write(log, "one ").0 == .success)
        try h.restart()
        // Re-pointing the link while down does not move the descriptor.
        #expect(h.pathCall("path_unlink_file", "current") == .success)
        #expect(h.pathCall("path_create_directory", "other") == .success)
        #expect(h.symlink("other", at: "current") == .success)
        #expect(h.write(log, "two").0 == .success)
        #expect(fileContents(dir + "/data/log") == "one two")
    }

    @Test func restoredDescriptorNeverFollowsALinkPlantedWhileDown() throws {
        let outer = try makeTemporaryDirectory()
        defer { Self.remove(outer) }
        let dir = outer + "/jail"
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outer + "/elsewhere", withIntermediateDirectories: true)
        let h = try WASIHarness(preopens: [(dir, "/")])
        let (_, log) = h.open("data/log", oflags: WASIOflags.creat, rights: WASIFileTests.rw)
        #expect(h.write(log, "inside").0 == .success)
        try h.restart()
        // While down, the host replaces `data` by a link leading outside, holding a same-named file.
        try FileManager.default.moveItem(atPath: dir + "/data", toPath: outer + "/moved")
        try FileManager.default.copyItem(atPath: outer + "/moved/log", toPath: outer + "/elsewhere/log")
        try FileManager.default.createSymbolicLink(atPath: dir + "/data", withDestinationPath: outer + "/elsewhere")
        #expect(h.write(log, "!").0 == .notdir)
        #expect(fileContents(outer + "/elsewhere/log") == "inside")
    }

    // MARK: Through the interpreter

    /// The new calls' signatures (i64 timestamps, seven-argument `path_link`)
    /// as a compiled program sees them: `_start` exits with the number of the
    /// first step that got an unexpected errno, or 0.
    static let linkProgram = """
    (module
      (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_readlink" (func $readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_link" (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_filestat_set_times"
        (func $settimes (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "sock_shutdown" (func $shutdown (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "target")
      (data (i32.const 16) "link")
      (data (i32.const 32) "hard")
      (func $expect (param $got i32) (param $want i32) (param $step i32)
        (if (i32.ne (local.get $got) (local.get $want)) (then (call $exit (local.get $step)))))
      (func (export "_start")
        (call $expect (call $symlink (i32.const 0) (i32.const 6) (i32.const 3) (i32.const 16) (i32.const 4))
          (i32.const 0) (i32.const 1))
        (call $expect (call $readlink (i32.const 3) (i32.const 16) (i32.const 4) (i32.const 100) (i32.const 4) (i32.const 200))
          (i32.const 0) (i32.const 2))
        (call $expect (i32.load (i32.const 200)) (i32.const 4) (i32.const 3))
        (call $expect (i32.load (i32.const 100)) (i32.const 0x67726174) (i32.const 4)) ;; "targ"
        (call $expect (call $link (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 4) (i32.const 3) (i32.const 32) (i32.const 4))
          (i32.const 0) (i32.const 5))
        (call $expect (call $settimes (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 4)
                                      (i64.const 0) (i64.const 5000000000) (i32.const 4)) ;; MTIM
          (i32.const 0) (i32.const 6))
        (call $expect (call $stat (i32.const 3) (i32.const 0) (i32.const 32) (i32.const 4) (i32.const 304))
          (i32.const 0) (i32.const 7))
        (call $expect (i32.wrap_i64 (i64.load (i32.const 352))) (i32.const 705032704) (i32.const 8)) ;; 5e9 mod 2^32
        (call $expect (call $settimes (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 4)
                                      (i64.const 0) (i64.const 0) (i32.const 3)) ;; ATIM | ATIM_NOW
          (i32.const 28) (i32.const 9))
        (call $expect (call $shutdown (i32.const 3) (i32.const 3)) (i32.const 57) (i32.const 10))
        (call $exit (i32.const 0))))
    """

    @Test func aCompiledProgramMakesTheNewCalls() throws {
        let (_, dir) = try Self.sandbox()
        defer { Self.remove(dir) }
        let space = try ObjectSpace(store: try Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 64 << 30))
        let state = try WASIState.create(in: space, args: ["links"], environment: [], preopens: [(dir, "/")])
        let wasi = try WASI(space: space, stateOffset: state, io: TestConsole().io)
        let instance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.linkProgram)), in: space, imports: wasi)
        #expect(try instance.makeThread("_start").run() == .exited(0))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/hard") == "target",
                "a hard link to the link itself")
    }
}
