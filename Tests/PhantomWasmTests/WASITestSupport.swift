import Foundation
import PhantomSpace
import PhantomStore
@testable import PhantomWasm

/// A plain byte array as the caller's linear memory.
final class TestMemory: GuestMemory {
    var bytes: [UInt8]
    init(size: Int = 65536) { bytes = [UInt8](repeating: 0, count: size) }

    var byteCount: UInt64 { UInt64(bytes.count) }
    private func check(_ address: UInt64, _ count: Int) throws(Trap) {
        guard address <= byteCount, UInt64(count) <= byteCount - address else { throw Trap("out of bounds memory access") }
    }
    func read(at address: UInt64, count: Int) throws(Trap) -> [UInt8] {
        try check(address, count)
        return Array(bytes[Int(address)..<Int(address) + count])
    }
    func write(_ data: [UInt8], at address: UInt64) throws(Trap) {
        try check(address, data.count)
        bytes.replaceSubrange(Int(address)..<Int(address) + data.count, with: data)
    }
    func loadUInt32(at address: UInt64) throws(Trap) -> UInt32 {
        try read(at: address, count: 4).enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }
    func loadUInt64(at address: UInt64) throws(Trap) -> UInt64 {
        try read(at: address, count: 8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
    func storeUInt32(_ value: UInt32, at address: UInt64) throws(Trap) {
        try write((0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }, at: address)
    }
    func storeUInt64(_ value: UInt64, at address: UInt64) throws(Trap) {
        try write((0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }, at: address)
    }

    // Conveniences for tests (addresses known to be in range).
    func put(_ text: String, at address: UInt64) { try! write(Array(text.utf8), at: address) }
    func string(at address: UInt64, count: Int) -> String { String(decoding: try! read(at: address, count: count), as: UTF8.self) }
    func u32(_ address: UInt64) -> UInt32 { try! loadUInt32(at: address) }
    func u64(_ address: UInt64) -> UInt64 { try! loadUInt64(at: address) }
    func setU32(_ value: UInt32, _ address: UInt64) { try! storeUInt32(value, at: address) }
    func setU64(_ value: UInt64, _ address: UInt64) { try! storeUInt64(value, at: address) }
    /// One iovec at `at` pointing to `buffer`/`length`.
    func iovec(at: UInt64, buffer: UInt64, length: UInt32) {
        setU32(UInt32(buffer), at)
        setU32(length, at + 4)
    }
}

/// What the program wrote to stdout/stderr, and what stdin holds.
final class TestConsole: @unchecked Sendable {
    private let lock = NSLock()
    private var out: [UInt8] = [], err: [UInt8] = []
    private var pendingInput: [UInt8] = []
    private var inputClosed = false

    var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
    func feed(_ text: String) { lock.withLock { pendingInput += Array(text.utf8) } }
    func closeInput() { lock.withLock { inputClosed = true } }

    var io: WASIHostIO {
        WASIHostIO(
            output: { [self] descriptor, bytes in
                lock.withLock { if descriptor == 1 { out += bytes } else { err += bytes } }
                return .success
            },
            input: { [self] maxBytes in
                lock.withLock {
                    if pendingInput.isEmpty { return inputClosed ? .endOfFile : .wouldBlock }
                    let chunk = Array(pendingInput.prefix(maxBytes))
                    pendingInput.removeFirst(chunk.count)
                    return .data(chunk)
                }
            },
            inputReady: { [self] in lock.withLock { !pendingInput.isEmpty || inputClosed } },
            stdinDescriptor: 0)
    }
}

/// A space, a WASI state in it, a memory and a console: a program's view.
final class WASIHarness {
    static let stateRoot = 7
    let device = MemoryBlockDevice()
    var space: ObjectSpace
    var wasi: WASI
    let memory = TestMemory()
    let console = TestConsole()
    /// The ROM provider the next `restart` hands the new WASI (as the kernel would).
    var rom: WASIROMProvider?
    /// The Timer provider the next `restart` hands the new WASI (default: the host's clocks).
    var timer: WASITimerProvider

    init(args: [String] = ["prog"], environment: [String] = [], preopens: [(host: String, guest: String)] = [],
         romDirectory: String? = nil, rom: WASIROMProvider? = nil, timer: WASITimerProvider = .host) throws {
        space = try ObjectSpace(store: try Store.create(on: device), options: .init(limitBytes: 1 << 30))
        let state = try WASIState.create(in: space, args: args, environment: environment, preopens: preopens,
                                         romDirectory: romDirectory)
        space.setRoot(WASIHarness.stateRoot, state)
        self.rom = rom
        self.timer = timer
        wasi = try WASI(space: space, stateOffset: state, io: console.io, rom: rom, timer: timer)
    }

    /// Snapshot, "kill" this process's view (host fds gone), reopen the space
    /// from the device and reattach WASI with an empty host-fd cache.
    func restart() throws {
        try space.snapshot()
        wasi.dropHostDescriptors()
        space = try ObjectSpace(store: try Store.open(device), options: .init(limitBytes: 1 << 30))
        wasi = try WASI(space: space, stateOffset: space.root(WASIHarness.stateRoot), io: console.io, rom: rom, timer: timer)
    }

    func function(_ name: String) -> HostFunction {
        guard let function = wasi.resolve(module: WASI.moduleName, name: name) else { fatalError("\(name) does not resolve") }
        return function
    }

    /// Calls `name` with raw argument bits; returns the outcome and the pending-call slot it left.
    @discardableResult
    func call(_ name: String, _ arguments: [UInt64], pending: UInt64 = 0) -> (HostCallOutcome, UInt64) {
        var context = HostCallContext(memory: memory, pendingCallState: pending)
        let outcome = function(name).call(&context, arguments)
        return (outcome, context.pendingCallState)
    }

    /// Calls `name` and returns its errno (traps and blocks are test failures, reported as 0xFFFF).
    func errno(_ name: String, _ arguments: [UInt64]) -> WASIErrno {
        guard case .returned(let results) = call(name, arguments).0, results.count == 1 else {
            return WASIErrno(rawValue: 0xFFFF)
        }
        return WASIErrno(rawValue: UInt16(results[0]))
    }

    // MARK: Program-like helpers (scratch memory: paths at 1000, iovecs at 2000, results at 3000, data at 8192+)

    /// `rights` defaults to everything a file may have, or to a directory's
    /// rights with O_DIRECTORY (asking for write rights on a directory is EISDIR).
    func open(_ path: String, dirfd: UInt32 = 3, oflags: UInt16 = 0, rights: UInt64? = nil,
              fdflags: UInt16 = 0, follow: Bool = true) -> (WASIErrno, UInt32) {
        let rights = rights ?? (oflags & WASIOflags.directory != 0 ? WASIRights.directory : WASIRights.all)
        memory.put(path, at: 1000)
        let e = errno("path_open", [UInt64(dirfd), follow ? 1 : 0, 1000, UInt64(path.utf8.count), UInt64(oflags),
                                    rights, WASIRights.all, UInt64(fdflags), 3000])
        return (e, memory.u32(3000))
    }

    func write(_ fd: UInt32, _ text: String) -> (WASIErrno, UInt32) {
        memory.put(text, at: 8192)
        memory.iovec(at: 2000, buffer: 8192, length: UInt32(text.utf8.count))
        let e = errno("fd_write", [UInt64(fd), 2000, 1, 3000])
        return (e, memory.u32(3000))
    }

    func read(_ fd: UInt32, max: UInt32 = 256) -> (WASIErrno, String) {
        memory.iovec(at: 2000, buffer: 16384, length: max)
        let e = errno("fd_read", [UInt64(fd), 2000, 1, 3000])
        return (e, e == .success ? memory.string(at: 16384, count: Int(memory.u32(3000))) : "")
    }

    func seek(_ fd: UInt32, _ offset: Int64, whence: WASIWhence) -> (WASIErrno, UInt64) {
        let e = errno("fd_seek", [UInt64(fd), UInt64(bitPattern: offset), UInt64(whence.rawValue), 3000])
        return (e, memory.u64(3000))
    }

    func pathCall(_ name: String, _ path: String, dirfd: UInt32 = 3) -> WASIErrno {
        memory.put(path, at: 1000)
        return errno(name, [UInt64(dirfd), 1000, UInt64(path.utf8.count)])
    }
}

/// A fresh temporary directory, removed by `cleanup`.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "phantom-wasi-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func fileContents(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}

/// What `fd_filestat_get` / `path_filestat_get` wrote (the `filestat` struct).
struct TestFilestat: Equatable {
    var device: UInt64, inode: UInt64, filetype: UInt8, links: UInt64, size: UInt64
    var accessed: UInt64, modified: UInt64
}

// MARK: Link, times and stat calls (scratch memory: path at 1000, second path at 1100, buffers at 16384, filestat at 400)

extension WASIHarness {
    func symlink(_ target: String, at path: String, dirfd: UInt32 = 3) -> WASIErrno {
        memory.put(target, at: 1100)
        memory.put(path, at: 1000)
        return errno("path_symlink", [1100, UInt64(target.utf8.count), UInt64(dirfd), 1000, UInt64(path.utf8.count)])
    }

    /// `path_readlink` into a buffer of `capacity` bytes at 16384 (zeroed first).
    func readlink(_ path: String, dirfd: UInt32 = 3, capacity: UInt32 = 64) -> (WASIErrno, [UInt8]) {
        memory.put(path, at: 1000)
        try! memory.write([UInt8](repeating: 0, count: 256), at: 16384)
        let e = errno("path_readlink", [UInt64(dirfd), 1000, UInt64(path.utf8.count), 16384, UInt64(capacity), 3000])
        return (e, e == .success ? try! memory.read(at: 16384, count: Int(memory.u32(3000))) : [])
    }

    func link(_ old: String, _ new: String, oldDirfd: UInt32 = 3, newDirfd: UInt32 = 3, follow: Bool = false) -> WASIErrno {
        memory.put(old, at: 1000)
        memory.put(new, at: 1100)
        return errno("path_link", [UInt64(oldDirfd), follow ? 1 : 0, 1000, UInt64(old.utf8.count),
                                   UInt64(newDirfd), 1100, UInt64(new.utf8.count)])
    }

    func rename(_ old: String, _ new: String, dirfd: UInt32 = 3) -> WASIErrno {
        memory.put(old, at: 1000)
        memory.put(new, at: 1100)
        return errno("path_rename", [UInt64(dirfd), 1000, UInt64(old.utf8.count), UInt64(dirfd), 1100, UInt64(new.utf8.count)])
    }

    private func filestatAt400() -> TestFilestat {
        TestFilestat(device: memory.u64(400), inode: memory.u64(408), filetype: try! memory.read(at: 416, count: 1)[0],
                     links: memory.u64(424), size: memory.u64(432), accessed: memory.u64(440), modified: memory.u64(448))
    }

    func filestat(_ path: String, dirfd: UInt32 = 3, follow: Bool = false) -> (WASIErrno, TestFilestat?) {
        memory.put(path, at: 1000)
        let e = errno("path_filestat_get", [UInt64(dirfd), follow ? 1 : 0, 1000, UInt64(path.utf8.count), 400])
        return (e, e == .success ? filestatAt400() : nil)
    }

    func filestat(fd: UInt32) -> (WASIErrno, TestFilestat?) {
        let e = errno("fd_filestat_get", [UInt64(fd), 400])
        return (e, e == .success ? filestatAt400() : nil)
    }

    func setTimes(_ path: String, dirfd: UInt32 = 3, follow: Bool = false, accessed: UInt64 = 0, modified: UInt64 = 0,
                  flags: UInt16) -> WASIErrno {
        memory.put(path, at: 1000)
        return errno("path_filestat_set_times", [UInt64(dirfd), follow ? 1 : 0, 1000, UInt64(path.utf8.count),
                                                 accessed, modified, UInt64(flags)])
    }

    func setTimes(fd: UInt32, accessed: UInt64 = 0, modified: UInt64 = 0, flags: UInt16) -> WASIErrno {
        errno("fd_filestat_set_times", [UInt64(fd), accessed, modified, UInt64(flags)])
    }

    /// Creates an empty file (rights 0, like a program's `create_file`).
    @discardableResult
    func createFile(_ path: String, dirfd: UInt32 = 3) -> WASIErrno {
        let (e, fd) = open(path, dirfd: dirfd, oflags: WASIOflags.creat, rights: 0)
        if e == .success { _ = errno("fd_close", [UInt64(fd)]) }
        return e
    }
}
