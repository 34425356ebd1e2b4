import Foundation
import Testing
import PhantomSpace
@testable import PhantomWasm

@Suite struct WASIPersistenceTests {
    static let rw = WASIFileTests.rw

    /// One relative clock subscription (what wasi-libc's nanosleep makes) at `at`.
    static func sleepSubscription(_ h: WASIHarness, at: UInt64 = 4000, nanoseconds: UInt64, userdata: UInt64 = 77,
                                  clock: WASIClockID = .monotonic, absolute: Bool = false) {
        try! h.memory.write([UInt8](repeating: 0, count: 48), at: at)
        h.memory.setU64(userdata, at)
        h.memory.setU32(0, at + 8) // tag: clock
        h.memory.setU32(clock.rawValue, at + 16)
        h.memory.setU64(nanoseconds, at + 24)
        h.memory.setU64(0, at + 32)
        h.memory.setU32(absolute ? UInt32(WASISubclockflags.abstime) : 0, at + 40)
    }

    /// An fd_read subscription on stdin (userdata 9) at `at`.
    static func stdinSubscription(_ h: WASIHarness, at: UInt64 = 4000) {
        try! h.memory.write([UInt8](repeating: 0, count: 48), at: at)
        h.memory.setU64(9, at)
        h.memory.setU32(1, at + 8) // tag: fd_read
        h.memory.setU32(0, at + 16) // stdin
    }

    @Test func pollOneoffBlocksWithTheSameDeadlineUntilItPasses() throws {
        let h = try WASIHarness()
        Self.sleepSubscription(h, nanoseconds: 200_000_000)
        let before = UInt64(Date().timeIntervalSince1970 * 1e9)
        let (first, pending) = h.call("poll_oneoff", [4000, 5000, 1, 6000])
        guard case .block(.wallClock(let deadline)) = first else {
            Issue.record("expected a wall-clock block, got \(first)")
            return
        }
        #expect(pending != 0)
        #expect(deadline >= before + 200_000_000 && deadline < before + 1_200_000_000)
        // A re-execution before the deadline blocks again with the same deadline.
        Thread.sleep(forTimeInterval: 0.05)
        let (second, pending2) = h.call("poll_oneoff", [4000, 5000, 1, 6000], pending: pending)
        #expect(second == .block(.wallClock(nanoseconds: deadline)))
        #expect(pending2 == pending)
        // Also after a restart of the whole space (the thread's slot is persistent).
        try h.restart()
        let (third, _) = h.call("poll_oneoff", [4000, 5000, 1, 6000], pending: pending)
        #expect(third == .block(.wallClock(nanoseconds: deadline)))
        while UInt64(Date().timeIntervalSince1970 * 1e9) < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let (done, _) = h.call("poll_oneoff", [4000, 5000, 1, 6000], pending: pending)
        #expect(done == .returned([0]))
        #expect(h.memory.u32(6000) == 1)
        #expect(h.memory.u64(5000) == 77)            // userdata
        #expect(h.memory.u32(5008) & 0xFFFF == 0)    // error
        #expect(try h.memory.read(at: 5010, count: 1) == [0]) // type clock
    }

    @Test func pollOneoffSleepMeasuredByTheMonotonicClockAcrossARestart() throws {
        let h = try WASIHarness()
        #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
        let start = h.memory.u64(100)
        Self.sleepSubscription(h, nanoseconds: 100_000_000)
        let (first, pending) = h.call("poll_oneoff", [4000, 5000, 1, 6000])
        guard case .block(.wallClock(let deadline)) = first else { Issue.record("\(first)"); return }
        try h.restart()
        while UInt64(Date().timeIntervalSince1970 * 1e9) < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000], pending: pending).0 == .returned([0]))
        #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
        #expect(h.memory.u64(100) >= start + 100_000_000, "no SHORT_SLEEP")
    }

    @Test func pollOneoffAbsoluteAndImmediate() throws {
        let h = try WASIHarness()
        // A zero timeout is ready at once.
        Self.sleepSubscription(h, nanoseconds: 0)
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 == .returned([0]))
        // An absolute realtime deadline in the past is ready; one in the future blocks with exactly it.
        Self.sleepSubscription(h, nanoseconds: 1000, clock: .realtime, absolute: true)
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 == .returned([0]))
        let future = UInt64(Date().timeIntervalSince1970 * 1e9) + 60_000_000_000
        Self.sleepSubscription(h, nanoseconds: future, clock: .realtime, absolute: true)
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 == .block(.wallClock(nanoseconds: future)))
        // Absolute monotonic: 5 s from the program's monotonic now.
        #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
        Self.sleepSubscription(h, nanoseconds: h.memory.u64(100) + 5_000_000_000, clock: .monotonic, absolute: true)
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        guard case .block(.wallClock(let d)) = h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 else { Issue.record("no block"); return }
        #expect(d > now + 4_000_000_000 && d < now + 6_000_000_000)
        // Two subscriptions: a long sleep and stdout writability: the write is reported at once.
        Self.sleepSubscription(h, at: 4000, nanoseconds: 10_000_000_000)
        try h.memory.write([UInt8](repeating: 0, count: 48), at: 4048)
        h.memory.setU64(5, 4048)
        h.memory.setU32(2, 4056) // fd_write
        h.memory.setU32(1, 4064) // fd 1
        #expect(h.call("poll_oneoff", [4000, 5000, 2, 6000]).0 == .returned([0]))
        #expect(h.memory.u32(6000) == 1 && h.memory.u64(5000) == 5)
        // No subscriptions is EINVAL.
        #expect(h.errno("poll_oneoff", [4000, 5000, 0, 6000]) == .inval)
    }

    @Test func pollOneoffOnStdinAlone() throws {
        let h = try WASIHarness()
        Self.stdinSubscription(h)
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 == .block(.readable(hostDescriptor: 0)))
        h.console.feed("x")
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 == .returned([0]))
        #expect(h.memory.u64(5000) == 9)
        // A bad fd gives an event with EBADF.
        h.memory.setU32(55, 4016)
        #expect(h.call("poll_oneoff", [4000, 5000, 1, 6000]).0 == .returned([0]))
        #expect(h.memory.u32(5008) & 0xFFFF == UInt32(WASIErrno.badf.rawValue))
    }

    /// stdin with a timeout: blocks on whichever comes first, keeps its deadline
    /// across re-executions, and reports the input when it arrives first.
    @Test func pollOneoffOnStdinWithATimeout() throws {
        let h = try WASIHarness()
        Self.stdinSubscription(h)
        Self.sleepSubscription(h, at: 4048, nanoseconds: 5_000_000_000)
        let (first, pending) = h.call("poll_oneoff", [4000, 5000, 2, 6000])
        guard case let .block(.readableUntil(descriptor, deadline)) = first else {
            Issue.record("expected readable-or-deadline, got \(first)")
            return
        }
        #expect(descriptor == 0)
        let (again, _) = h.call("poll_oneoff", [4000, 5000, 2, 6000], pending: pending)
        #expect(again == .block(.readableUntil(hostDescriptor: 0, wallClockNanoseconds: deadline)))
        h.console.feed("x")
        #expect(h.call("poll_oneoff", [4000, 5000, 2, 6000], pending: pending).0 == .returned([0]))
        #expect(h.memory.u32(6000) == 1)
        #expect(h.memory.u64(5000) == 9, "the stdin subscription fired, before the timeout")
    }

    @Test func openFileSurvivesARestartAtItsPosition() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/data")])
        let (e, fd) = h.open("log.txt", oflags: WASIOflags.creat | WASIOflags.trunc, rights: Self.rw)
        #expect(e == .success)
        #expect(h.write(fd, "line 1\nline 2\n").0 == .success)
        #expect(h.seek(fd, 7, whence: .set) == (.success, 7))
        #expect(h.wasi.openHostDescriptorCount == 2, "the file's and the preopen's, which resolved its path")

        try h.restart()
        #expect(h.wasi.openHostDescriptorCount == 0, "host fds are transient")
        // The descriptor is still there, at position 7; the first use re-opens the file
        // (without O_TRUNC or O_CREAT, which took effect at the original open).
        #expect(h.errno("fd_tell", [UInt64(fd), 100]) == .success && h.memory.u64(100) == 7)
        #expect(h.write(fd, "LINE 2\nline 3\n").0 == .success)
        #expect(h.wasi.openHostDescriptorCount == 1)
        #expect(fileContents(dir + "/log.txt") == "line 1\nLINE 2\nline 3\n")
        #expect(h.seek(fd, 0, whence: .set).0 == .success)
        #expect(h.read(fd, max: 6) == (.success, "line 1"))
        // The preopen also still works, and fd numbering continues after the restored table.
        let (e2, fd2) = h.open("other", oflags: WASIOflags.creat, rights: Self.rw)
        #expect(e2 == .success && fd2 == fd + 1)
        #expect(h.errno("fd_prestat_dir_name", [3, 200, 5]) == .success)
        #expect(h.memory.string(at: 200, count: 5) == "/data")
    }

    @Test func fileDeletedWhileDownGivesAnErrnoNotACrash() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/")])
        let (_, fd) = h.open("gone.txt", oflags: WASIOflags.creat, rights: Self.rw)
        #expect(h.write(fd, "data").0 == .success)
        let (_, replaced) = h.open("replaced.txt", oflags: WASIOflags.creat, rights: Self.rw)
        #expect(h.write(replaced, "old").0 == .success)
        try h.restart()
        try FileManager.default.removeItem(atPath: dir + "/gone.txt")
        try FileManager.default.removeItem(atPath: dir + "/replaced.txt")
        try "new file, same name".write(toFile: dir + "/replaced.txt", atomically: false, encoding: .utf8)
        #expect(h.write(fd, "more").0 == .noent)
        #expect(h.read(fd).0 == .noent)
        #expect(h.seek(fd, 0, whence: .end).0 == .noent)
        #expect(h.errno("fd_filestat_get", [UInt64(fd), 400]) == .noent)
        #expect(h.write(replaced, "x").0 == .stale)
        #expect(fileContents(dir + "/replaced.txt") == "new file, same name")
        // The descriptors can still be closed, and the numbers reused.
        #expect(h.errno("fd_close", [UInt64(fd)]) == .success)
        #expect(h.errno("fd_close", [UInt64(replaced)]) == .success)
        #expect(h.open("fresh", oflags: WASIOflags.creat).1 == fd)
    }

    @Test func preopenDirectoryGoneAfterRestart() throws {
        let dir = try makeTemporaryDirectory()
        let h = try WASIHarness(preopens: [(dir, "/")])
        try h.restart()
        try FileManager.default.removeItem(atPath: dir)
        #expect(h.open("x", oflags: WASIOflags.creat).0 == .noent)
        #expect(h.errno("fd_readdir", [3, 20000, 100, 0, 3000]) == .noent)
    }

    @Test func renamedOpenFileIsReopenedByItsNewName() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/")])
        #expect(h.pathCall("path_create_directory", "d") == .success)
        let (_, fd) = h.open("d/f", oflags: WASIOflags.creat, rights: Self.rw)
        #expect(h.write(fd, "abc").0 == .success)
        h.memory.put("d", at: 1000)
        h.memory.put("e", at: 1100)
        #expect(h.errno("path_rename", [3, 1000, 1, 3, 1100, 1]) == .success)
        try h.restart()
        #expect(h.write(fd, "def").0 == .success)
        #expect(fileContents(dir + "/e/f") == "abcdef")
    }

    @Test func descriptorTableGrowsAndPersists() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(preopens: [(dir, "/")])
        var fds: [UInt32] = []
        for index in 0..<40 {
            let (e, fd) = h.open("f\(index)", oflags: WASIOflags.creat, rights: Self.rw)
            #expect(e == .success)
            fds.append(fd)
        }
        #expect(Set(fds).count == 40 && fds.max() == 43)
        try h.restart()
        for (index, fd) in fds.enumerated() { #expect(h.write(fd, "\(index)").0 == .success) }
        #expect(fileContents(dir + "/f39") == "39")
    }

    @Test func restoredStateRejectsABadOffset() throws {
        let h = try WASIHarness()
        #expect(throws: WASIStateError.self) { try WASI(space: h.space, stateOffset: 0) }
        #expect(throws: WASIStateError.self) { try WASI(space: h.space, stateOffset: 8) }
    }
}

@Suite struct WASIProgramFlowTests {
    /// What Programs/c/appender.c does on start after a kill: open O_RDWR|O_CREAT (as wasi-libc
    /// asks for it), seek to the end, read the tail, drop a torn line, continue appending.
    @Test func appenderResumesAfterATornLine() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let h = try WASIHarness(args: ["appender", "/data/log"], preopens: [(dir, "/data")])
        let libcReadWrite = WASIRights.all & ~WASIRights.fdReaddir
        let (e, fd) = h.open("log", oflags: WASIOflags.creat, rights: libcReadWrite)
        #expect(e == .success)
        #expect(h.write(fd, "line 1\n").0 == .success)
        #expect(h.write(fd, "line 2\n").0 == .success)
        try h.restart()
        // The dead process got half a line out after the snapshot.
        let handle = FileHandle(forWritingAtPath: dir + "/log")!
        handle.seekToEndOfFile()
        handle.write("li".data(using: .utf8)!)
        handle.closeFile()
        #expect(h.seek(fd, 0, whence: .end) == (.success, 16))
        #expect(h.seek(fd, -9, whence: .end) == (.success, 7))
        #expect(h.read(fd, max: 64) == (.success, "line 2\nli"))
        #expect(h.errno("fd_filestat_set_size", [UInt64(fd), 14]) == .success)
        #expect(h.seek(fd, 0, whence: .end) == (.success, 14))
        #expect(h.write(fd, "line 3\n").0 == .success)
        #expect(h.errno("fd_sync", [UInt64(fd)]) == .success)
        #expect(h.errno("fd_close", [UInt64(fd)]) == .success)
        #expect(fileContents(dir + "/log") == "line 1\nline 2\nline 3\n")
    }

    /// kvstore's atomic update: write kv.db.tmp, fsync, close, rename over kv.db.
    @Test func kvstoreReplaceByRename() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "old".write(toFile: dir + "/kv.db", atomically: false, encoding: .utf8)
        let h = try WASIHarness(preopens: [(dir, "/data")])
        let (_, fd) = h.open("kv.db.tmp", oflags: WASIOflags.creat | WASIOflags.trunc,
                             rights: WASIRights.fdWrite | WASIRights.fdSync)
        #expect(h.write(fd, "new").0 == .success)
        #expect(h.errno("fd_sync", [UInt64(fd)]) == .success)
        #expect(h.errno("fd_close", [UInt64(fd)]) == .success)
        h.memory.put("kv.db.tmp", at: 1000)
        h.memory.put("kv.db", at: 1100)
        #expect(h.errno("path_rename", [3, 1000, 9, 3, 1100, 5]) == .success)
        #expect(fileContents(dir + "/kv.db") == "new")
        #expect(!FileManager.default.fileExists(atPath: dir + "/kv.db.tmp"))
    }
}
