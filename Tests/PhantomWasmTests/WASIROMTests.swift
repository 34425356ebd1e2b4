import Foundation
import Testing
import PhantomEngine
import PhantomSpace
import PhantomStore
import WAT
@testable import PhantomWasm

/// ROM modules as a kernel's ROM sessions serve them: a content per name, a
/// version that changes with every `set`, and one change event per name.
final class TestROMs: @unchecked Sendable {
    private let lock = NSLock()
    private var modules: [String: (content: [UInt8], version: UInt64)] = [:]
    private var nextVersion: UInt64
    private let withEvents: Bool

    init(_ initial: [String: String] = [:], firstVersion: UInt64 = 1, events: Bool = true) {
        nextVersion = firstVersion
        withEvents = events
        for (name, text) in initial.sorted(by: { $0.key < $1.key }) { set(name, text) }
    }

    func set(_ name: String, _ text: String) {
        lock.withLock {
            modules[name] = (Array(text.utf8), nextVersion)
            nextVersion += 1
        }
    }

    func remove(_ name: String) { _ = lock.withLock { modules.removeValue(forKey: name) } }

    func event(_ name: String) -> KernelEvent {
        KernelEvent(name.utf8.reduce(1000) { $0 &* 31 &+ UInt64($1) })
    }

    var provider: WASIROMProvider {
        WASIROMProvider(read: { [self] name in lock.withLock { modules[name] } },
                        changeEvent: { [self] name in withEvents ? event(name) : nil })
    }
}

@Suite struct WASIROMTests {
    /// What wasi-libc asks for on `open(O_RDONLY)`: everything but the write-like rights.
    static let readOnly = WASIRights.all & ~(WASIRights.fdWrite | WASIRights.fdAllocate
        | WASIRights.fdFilestatSetSize | WASIRights.fdDatasync)

    /// A harness whose fd 3 is the ROM preopen "/rom".
    static func harness(_ roms: TestROMs?) throws -> WASIHarness {
        try WASIHarness(romDirectory: WASIState.defaultROMDirectory, rom: roms?.provider)
    }

    static func openROM(_ h: WASIHarness, _ name: String, rights: UInt64 = readOnly, oflags: UInt16 = 0,
                        fdflags: UInt16 = 0, dirfd: UInt32 = 3) -> (WASIErrno, UInt32) {
        h.open(name, dirfd: dirfd, oflags: oflags, rights: rights, fdflags: fdflags)
    }

    /// An fd_read subscription on `fd` at `at`.
    static func readSubscription(_ h: WASIHarness, fd: UInt32, at: UInt64 = 4000, userdata: UInt64 = 21) {
        try! h.memory.write([UInt8](repeating: 0, count: 48), at: at)
        h.memory.setU64(userdata, at)
        h.memory.setU32(1, at + 8) // tag: fd_read
        h.memory.setU32(fd, at + 16)
    }

    static func poll(_ h: WASIHarness, count: UInt64 = 1, pending: UInt64 = 0) -> (HostCallOutcome, UInt64) {
        h.call("poll_oneoff", [4000, 5000, count, 6000], pending: pending)
    }

    static func pread(_ h: WASIHarness, _ fd: UInt32, at offset: UInt64, max: UInt32) -> (WASIErrno, String) {
        h.memory.iovec(at: 2000, buffer: 16384, length: max)
        let e = h.errno("fd_pread", [UInt64(fd), 2000, 1, offset, 3000])
        return (e, e == .success ? h.memory.string(at: 16384, count: Int(h.memory.u32(3000))) : "")
    }

    static func readdirNames(_ h: WASIHarness, fd: UInt32) -> (WASIErrno, [String]) {
        let e = h.errno("fd_readdir", [UInt64(fd), 16384, 4096, 0, 3000])
        guard e == .success else { return (e, []) }
        var names: [String] = [], at: UInt64 = 16384
        let end = at + UInt64(h.memory.u32(3000))
        while at + 24 <= end {
            let length = Int(h.memory.u32(at + 16))
            names.append(h.memory.string(at: at + 24, count: length))
            at += 24 + UInt64(length)
        }
        return (e, names)
    }

    // MARK: - The directory

    @Test func theROMPreopenComesAfterTheOthersAndLooksLikeADirectory() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let roms = TestROMs(["config": "<config/>"])
        let h = try WASIHarness(preopens: [(dir, "/data")], romDirectory: "/rom", rom: roms.provider)
        #expect(h.errno("fd_prestat_get", [3, 100]) == .success)
        #expect(h.memory.u32(104) == 5, "the host preopen keeps fd 3")
        #expect(h.errno("fd_prestat_get", [4, 100]) == .success)
        #expect(try h.memory.read(at: 100, count: 1) == [0], "tag: directory")
        #expect(h.memory.u32(104) == 4)
        #expect(h.errno("fd_prestat_dir_name", [4, 200, 3]) == .nametoolong)
        #expect(h.errno("fd_prestat_dir_name", [4, 200, 4]) == .success)
        #expect(h.memory.string(at: 200, count: 4) == "/rom")
        #expect(h.errno("fd_prestat_get", [5, 100]) == .badf, "nothing after the ROM preopen")

        #expect(h.errno("fd_fdstat_get", [4, 100]) == .success)
        #expect(try h.memory.read(at: 100, count: 1) == [WASIFiletype.directory.rawValue])
        #expect(h.memory.u64(108) == WASIRights.romDirectory)
        #expect(h.filestat(fd: 4).1?.filetype == WASIFiletype.directory.rawValue)
        #expect(h.filestat(".", dirfd: 4).1?.filetype == WASIFiletype.directory.rawValue)
        #expect(Self.readdirNames(h, fd: 4) == (.success, [".", ".."]), "ROMs are not listed")

        // opendir("/rom"): "." opens another ROM directory, which is no preopen but opens ROMs too.
        let (e, sub) = h.open(".", dirfd: 4, oflags: WASIOflags.directory, rights: WASIRights.directory)
        #expect(e == .success && sub == 5)
        #expect(h.errno("fd_prestat_get", [UInt64(sub), 100]) == .badf)
        #expect(Self.readdirNames(h, fd: sub) == (.success, [".", ".."]))
        let (opened, fd) = Self.openROM(h, "config", dirfd: sub)
        #expect(opened == .success && fd == 6)
        #expect(h.read(fd) == (.success, "<config/>"))
        // The ROM directory is no host directory: nothing of it reaches the host.
        #expect(h.wasi.openHostDescriptorCount == 0)
        #expect(h.pathCall("path_create_directory", "sub", dirfd: 4) == .notcapable)
        #expect(h.pathCall("path_unlink_file", "config", dirfd: 4) == .notcapable)
    }

    @Test func readsTheCurrentContentAtThePosition() throws {
        let roms = TestROMs(["config": "<config verbose=\"yes\"/>"])
        let h = try Self.harness(roms)
        let (e, fd) = Self.openROM(h, "config")
        #expect(e == .success && fd == 4)
        #expect(h.read(fd, max: 8) == (.success, "<config "))
        #expect(h.read(fd) == (.success, "verbose=\"yes\"/>"), "a short read at the end")
        #expect(h.read(fd) == (.success, ""), "then end of file")
        #expect(Self.pread(h, fd, at: 1, max: 6) == (.success, "config"))
        #expect(Self.pread(h, fd, at: 100, max: 6) == (.success, ""))
        #expect(h.errno("fd_tell", [UInt64(fd), 100]) == .success)
        #expect(h.memory.u64(100) == 23, "pread moved nothing")
        #expect(h.errno("fd_fdstat_get", [UInt64(fd), 100]) == .success)
        #expect(try h.memory.read(at: 100, count: 1) == [WASIFiletype.regularFile.rawValue])
        #expect(h.memory.u64(108) == Self.readOnly & WASIRights.romFile)
        // Dots resolve; closing frees the slot for the next open.
        let (again, second) = Self.openROM(h, "./config")
        #expect(again == .success && second == 5)
        #expect(h.errno("fd_close", [UInt64(fd)]) == .success)
        #expect(h.read(fd).0 == .badf)
        #expect(Self.openROM(h, "config") == (.success, fd))
        #expect(h.read(fd, max: 8) == (.success, "<config "), "a new descriptor starts at 0")
    }

    @Test func missingNamesAndSubdirectoriesAreENOENTOrENOTDIR() throws {
        let roms = TestROMs(["config": "x"])
        let h = try Self.harness(roms)
        #expect(Self.openROM(h, "missing").0 == .noent)
        #expect(Self.openROM(h, "").0 == .noent)
        #expect(Self.openROM(h, "missing/config").0 == .noent)
        #expect(Self.openROM(h, "config/").0 == .notdir)
        #expect(Self.openROM(h, "config/x").0 == .notdir)
        #expect(Self.openROM(h, "config/.").0 == .notdir)
        #expect(Self.openROM(h, "././/config").1 == 4, "dots and empty components before the name resolve")
        #expect(Self.openROM(h, "../config").0 == .notcapable)
        #expect(Self.openROM(h, "/config").0 == .notcapable)
        #expect(Self.openROM(h, "con\0fig").0 == .inval)
        #expect(h.filestat("missing").0 == .noent)
        roms.remove("config")
        #expect(Self.openROM(h, "config").0 == .noent, "what exists is the provider's answer now")

        // A ROM directory without a provider is empty.
        let bare = try Self.harness(nil)
        #expect(Self.openROM(bare, "config").0 == .noent)
        #expect(bare.errno("fd_prestat_get", [3, 100]) == .success)
        #expect(Self.readdirNames(bare, fd: 3) == (.success, [".", ".."]))
    }

    @Test func openingForWritingIsEROFSAsOnAReadOnlyFileSystem() throws {
        let roms = TestROMs(["config": "keep"])
        let h = try Self.harness(roms)
        #expect(Self.openROM(h, "config", rights: WASIRights.fdRead | WASIRights.fdWrite).0 == .rofs)
        #expect(Self.openROM(h, "config", rights: WASIRights.all).0 == .rofs, "what open(O_RDWR) asks for")
        #expect(Self.openROM(h, "config", rights: WASIRights.fdFilestatSetSize).0 == .rofs)
        #expect(Self.openROM(h, "config", fdflags: WASIFdflags.append).0 == .rofs)
        #expect(Self.openROM(h, "config", oflags: WASIOflags.trunc).0 == .rofs)
        #expect(Self.openROM(h, "new", oflags: WASIOflags.creat).0 == .rofs)
        #expect(Self.openROM(h, "config", oflags: WASIOflags.creat | WASIOflags.excl).0 == .exist)
        #expect(Self.openROM(h, "config", rights: WASIRights.directory, oflags: WASIOflags.directory).0 == .notdir)
        #expect(Self.openROM(h, ".", rights: WASIRights.fdWrite).0 == .isdir)
        // O_CREAT of an existing name without O_EXCL opens it, as POSIX says.
        let (e, fd) = Self.openROM(h, "config", oflags: WASIOflags.creat)
        #expect(e == .success)
        #expect(h.write(fd, "x").0 == .badf)
        #expect(h.errno("fd_pwrite", [UInt64(fd), 2000, 1, 0, 3000]) == .badf)
        #expect(h.errno("fd_filestat_set_size", [UInt64(fd), 0]) == .notcapable)
        #expect(h.errno("fd_fdstat_set_rights", [UInt64(fd), WASIRights.romFile | WASIRights.fdWrite, 0]) == .notcapable)
        #expect(h.read(fd) == (.success, "keep"))
    }

    @Test func seekAndRereadAfterTheContentChanged() throws {
        let roms = TestROMs(["config": "first"])
        let h = try Self.harness(roms)
        let (_, fd) = Self.openROM(h, "config")
        #expect(h.read(fd) == (.success, "first"))
        roms.set("config", "second version")
        #expect(h.read(fd) == (.success, "d version"), "reading goes on at the position, in the current content")
        #expect(h.seek(fd, -7, whence: .end) == (.success, 7), "SEEK_END is the current size")
        #expect(h.read(fd) == (.success, "version"))
        #expect(h.seek(fd, 0, whence: .set) == (.success, 0))
        #expect(h.read(fd) == (.success, "second version"))
        #expect(h.seek(fd, -1, whence: .set).0 == .inval)
        roms.set("config", "3")
        #expect(h.read(fd) == (.success, ""), "past the end of a shrunk module is end of file")
        #expect(h.seek(fd, 0, whence: .end) == (.success, 1))
    }

    @Test func fstatReportsTheCurrentSize() throws {
        let roms = TestROMs(["config": "12345"])
        let h = try Self.harness(roms)
        let (_, fd) = Self.openROM(h, "config")
        let (e, stat) = h.filestat(fd: fd)
        #expect(e == .success)
        #expect(stat?.filetype == WASIFiletype.regularFile.rawValue && stat?.size == 5 && stat?.links == 1)
        roms.set("config", "123456789012")
        #expect(h.filestat(fd: fd).1?.size == 12)
        #expect(h.filestat("config").1?.size == 12)
        #expect(h.filestat("config").1?.filetype == WASIFiletype.regularFile.rawValue)
        #expect(h.filestat("config", follow: true).1?.size == 12)
        roms.remove("config")
        #expect(h.filestat(fd: fd).1?.size == 0, "a module that went away is empty")
        #expect(h.read(fd) == (.success, ""))
        #expect(h.filestat("config").0 == .noent)
    }

    // MARK: - Waiting for a change

    @Test func pollBlocksOnTheChangeEventUntilTheVersionChanges() throws {
        let roms = TestROMs(["config": "a=1"])
        let h = try Self.harness(roms)
        let (_, fd) = Self.openROM(h, "config")
        let changed = roms.event("config")
        Self.readSubscription(h, fd: fd)
        #expect(Self.poll(h).0 == .returned([0]), "unread bytes: ready")
        #expect(h.memory.u32(6000) == 1 && h.memory.u64(5000) == 21)
        #expect(h.memory.u64(5016) == 3, "nbytes: what is left to read")

        #expect(h.read(fd) == (.success, "a=1"))
        let (blocked, pending) = Self.poll(h)
        #expect(blocked == .block(.event(changed)))
        #expect(Self.poll(h, pending: pending).0 == .block(.event(changed)), "a re-execution waits again")

        // With a timeout as well: whichever comes first.
        WASIPersistenceTests.sleepSubscription(h, at: 4048, nanoseconds: 5_000_000_000)
        let before = UInt64(Date().timeIntervalSince1970 * 1e9)
        guard case .block(.eventUntil(let event, let deadline)) = Self.poll(h, count: 2).0 else {
            Issue.record("expected an event with a deadline")
            return
        }
        #expect(event == changed)
        #expect(deadline >= before + 5_000_000_000 && deadline < before + 6_000_000_000)

        // A new version with the same content still counts as a change.
        roms.set("config", "a=1")
        #expect(Self.poll(h).0 == .returned([0]))
        #expect(h.memory.u32(6000) == 1 && h.memory.u64(5016) == 0)
        #expect(h.memory.u32(5008) & 0xFFFF == 0)
        #expect(try h.memory.read(at: 5010, count: 1) == [WASIEventType.fdRead.rawValue])
        #expect(Self.poll(h).0 == .returned([0]), "ready until the program catches up")
        #expect(h.seek(fd, 0, whence: .cur) == (.success, 3))
        #expect(Self.poll(h).0 == .returned([0]), "asking where it is does not catch up")
        #expect(h.seek(fd, 0, whence: .set) == (.success, 0))
        #expect(h.read(fd) == (.success, "a=1"))
        #expect(Self.poll(h).0 == .block(.event(changed)), "rewinding did")
    }

    @Test func aROMThatNeverChangesIsReadyAtItsEnd() throws {
        let roms = TestROMs(["config": "fixed"], events: false)
        let h = try Self.harness(roms)
        let (_, fd) = Self.openROM(h, "config")
        #expect(h.read(fd) == (.success, "fixed"))
        Self.readSubscription(h, fd: fd)
        #expect(Self.poll(h).0 == .returned([0]))
        #expect(h.memory.u32(6000) == 1 && h.memory.u64(5016) == 0)
    }

    /// One waitable names one event: with two ROMs (or a ROM and stdin) the
    /// call waits on the first and looks again soon.
    @Test func waitingOnSeveralThingsLooksAgainSoon() throws {
        let roms = TestROMs(["config": "c", "other": "o"])
        let h = try Self.harness(roms)
        let (_, config) = Self.openROM(h, "config")
        let (_, other) = Self.openROM(h, "other")
        #expect(h.read(config).1 == "c" && h.read(other).1 == "o")
        Self.readSubscription(h, fd: config, at: 4000)
        Self.readSubscription(h, fd: other, at: 4048)
        let before = UInt64(Date().timeIntervalSince1970 * 1e9)
        guard case .block(.eventUntil(let event, let recheck)) = Self.poll(h, count: 2).0 else {
            Issue.record("expected a bounded wait")
            return
        }
        #expect(event == roms.event("config"))
        #expect(recheck >= before + WASI.romRecheckInterval && recheck < before + 1_000_000_000)
        // The same ROM twice is one event: no need to look again.
        Self.readSubscription(h, fd: config, at: 4048)
        #expect(Self.poll(h, count: 2).0 == .block(.event(roms.event("config"))))
        // A ROM and stdin.
        WASIPersistenceTests.stdinSubscription(h, at: 4048)
        guard case .block(.readableUntil(let descriptor, let stdinRecheck)) = Self.poll(h, count: 2).0 else {
            Issue.record("expected a bounded wait on stdin")
            return
        }
        #expect(descriptor == 0 && stdinRecheck < before + 1_000_000_000)
        roms.set("other", "o2")
        Self.readSubscription(h, fd: other, at: 4048, userdata: 22)
        #expect(Self.poll(h, count: 2).0 == .returned([0]))
        #expect(h.memory.u32(6000) == 1 && h.memory.u64(5000) == 22, "only the changed one is reported")
    }

    // MARK: - Restore

    @Test func romDescriptorsSurviveARestoreWithANewProvider() throws {
        let h = try Self.harness(TestROMs(["config": "0123456789"]))
        let (_, fd) = Self.openROM(h, "config")
        #expect(h.read(fd, max: 4) == (.success, "0123"))

        // The kernel after a restart: a new provider over the same modules and versions.
        h.rom = TestROMs(["config": "0123456789"]).provider
        try h.restart()
        #expect(h.read(fd) == (.success, "456789"), "the position survived; no host file was involved")
        #expect(h.wasi.openHostDescriptorCount == 0)
        #expect(h.errno("fd_prestat_dir_name", [3, 200, 4]) == .success && h.memory.string(at: 200, count: 4) == "/rom")
        Self.readSubscription(h, fd: fd)
        #expect(Self.poll(h).0 == .block(.event(TestROMs().event("config"))), "the version seen survived too")

        // The config changed while the system was down.
        let changed = TestROMs(["config": "new"], firstVersion: 2)
        h.rom = changed.provider
        try h.restart()
        #expect(Self.poll(h).0 == .returned([0]))
        #expect(h.read(fd) == (.success, ""))
        #expect(h.seek(fd, 0, whence: .set) == (.success, 0))
        #expect(h.read(fd) == (.success, "new"))
        #expect(Self.poll(h).0 == .block(.event(changed.event("config"))))

        // Restored without a provider: the descriptor stays open and reads as empty.
        h.rom = nil
        try h.restart()
        #expect(h.seek(fd, 0, whence: .set) == (.success, 0))
        #expect(h.read(fd) == (.success, ""))
        #expect(h.filestat(fd: fd).1?.size == 0)
        #expect(Self.openROM(h, "config").0 == .noent)
        #expect(h.errno("fd_close", [UInt64(fd)]) == .success)
    }

    /// A compiled program opens /rom/config, prints it, sleeps in
    /// `poll_oneoff` until it changes, then rewinds and prints it again —
    /// with a snapshot and restore (and a new provider) while it sleeps.
    static let watcher = """
    (module
      (import "wasi_snapshot_preview1" "path_open"
        (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "config")
      ;; 100 fd, 104 nread, 108 nwritten, 200 iovec, 300 subscription, 400 event, 440 nevents, 448 offset, 1024 buffer
      (func $check (param i32)
        (if (local.get 0) (then (call $exit (i32.add (i32.const 100) (local.get 0))))))
      (func $print
        (i32.store (i32.const 200) (i32.const 1024))
        (i32.store (i32.const 204) (i32.const 512))
        (call $check (call $fd_read (i32.load (i32.const 100)) (i32.const 200) (i32.const 1) (i32.const 104)))
        (i32.store (i32.const 204) (i32.load (i32.const 104)))
        (call $check (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 108))))
      (func (export "_start")
        (call $check (call $path_open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 6) (i32.const 0)
          (i64.const \(WASIRights.romFile)) (i64.const 0) (i32.const 0) (i32.const 100)))
        (call $print)
        (i64.store (i32.const 300) (i64.const 1))
        (i32.store8 (i32.const 308) (i32.const 1))
        (i32.store (i32.const 316) (i32.load (i32.const 100)))
        (call $check (call $poll (i32.const 300) (i32.const 400) (i32.const 1) (i32.const 440)))
        (call $check (call $fd_seek (i32.load (i32.const 100)) (i64.const 0) (i32.const 0) (i32.const 448)))
        (call $print)
        (call $exit (i32.const 0))))
    """

    static func runUntilItStops(_ thread: WasmThread) -> RunResult {
        while true {
            let result = thread.run(fuel: 10_000)
            if case .yielded = result { continue }
            return result
        }
    }

    @Test func aProgramSleepsUntilItsConfigChangesAcrossARestore() throws {
        let device = MemoryBlockDevice()
        let options = ObjectSpace.Options(limitBytes: 16 << 30)
        let space = try ObjectSpace(store: try Store.create(on: device), options: options)
        let roms = TestROMs(["config": "<config v=\"1\"/>\n"])
        let console = TestConsole()
        let state = try WASIState.create(in: space, args: ["watcher"], environment: [], romDirectory: "/rom")
        space.setRoot(WASIHarness.stateRoot, state)
        let wasi = try WASI(space: space, stateOffset: state, io: console.io, rom: roms.provider)
        let instance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(Self.watcher)), in: space, imports: wasi)
        let thread = try instance.makeThread("_start")
        #expect(Self.runUntilItStops(thread) == .blocked(.event(roms.event("config"))))
        #expect(console.stdout == "<config v=\"1\"/>\n")
        #expect(Self.runUntilItStops(thread) == .blocked(.event(roms.event("config"))), "woken for nothing, it sleeps again")
        try space.snapshot()

        // Restored by a kernel whose ROM changed meanwhile.
        let restoredSpace = try ObjectSpace(store: try Store.open(device), options: options)
        let newROMs = TestROMs(["config": "<config v=\"2\"/>\n"], firstVersion: 2)
        let newConsole = TestConsole()
        let restoredWASI = try WASI(space: restoredSpace, stateOffset: restoredSpace.root(WASIHarness.stateRoot),
                                    io: newConsole.io, rom: newROMs.provider)
        let engine = try WasmEngine.restore(restoredSpace, imports: restoredWASI)
        let restored = try #require(try WasmThread.restore(engine, id: thread.id))
        #expect(Self.runUntilItStops(restored) == .exited(0))
        #expect(newConsole.stdout == "<config v=\"2\"/>\n")
        #expect(restoredWASI.openHostDescriptorCount == 0)
    }
}
