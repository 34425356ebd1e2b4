import Foundation
import PhantomSpace
import PhantomStore

/// A WASI command program living in an object space: its module, its WASI
/// state and its main thread, found again after any restart through one
/// root slot. This is what `phantom run` starts and resumes; the kernel's
/// components will later hold one each.
///
/// Record at `root(WASICommand.rootSlot)`:
/// ```
///  0 magic "PHWASICM"   8 instance id   16 thread id   24 WASI state
/// 32 module CRC32C     40 name offset  48 name length
/// 56 ended (0 = not yet, 1 = exited, 2 = trapped)   60 exit code (u32)
/// ```
public final class WASICommand {
    public static let rootSlot = 9
    static let magic: UInt64 = 0x4D43_4953_4157_4850 // "PHWASICM"
    static let size = 64
    /// Longer stored names are refused (a real one is a file name).
    static let maximumNameLength: UInt64 = 1 << 16

    public let space: ObjectSpace
    public let instance: Instance
    public let thread: WasmThread
    public let wasi: WASI
    let record: UInt64

    /// What the image says about the program stored in it, if any.
    public struct Stored: Sendable {
        public var name: String
        public var moduleChecksum: UInt32
        /// Set once the program exited or trapped; such a program is not resumed.
        public var ended: Bool { exited || trapped }
        public var exited: Bool
        public var trapped: Bool
        public var exitCode: UInt32
    }

    /// Reads the stored program's description without restoring the engine.
    /// Nil when the root names no such record, or one whose offsets leave the
    /// space (a forged image: `resume` says what is wrong with it).
    public static func stored(in space: ObjectSpace) -> Stored? {
        let record = space.root(rootSlot)
        guard record != 0, space.isAllocated(record, count: UInt64(size)),
              space.load(UInt64.self, at: record) == magic else { return nil }
        let nameOffset = space.load(UInt64.self, at: record + 40), nameLength = space.load(UInt64.self, at: record + 48)
        guard space.isAllocated(nameOffset, count: nameLength), nameLength <= maximumNameLength else { return nil }
        let name = String(decoding: space.read(at: nameOffset, count: Int(nameLength)), as: UTF8.self)
        return Stored(name: name, moduleChecksum: UInt32(truncatingIfNeeded: space.load(UInt64.self, at: record + 32)),
                      exited: space.load(UInt32.self, at: record + 56) == 1,
                      trapped: space.load(UInt32.self, at: record + 56) == 2,
                      exitCode: space.load(UInt32.self, at: record + 60))
    }

    private init(space: ObjectSpace, record: UInt64, instance: Instance, thread: WasmThread, wasi: WASI) {
        self.space = space
        self.record = record
        self.instance = instance
        self.thread = thread
        self.wasi = wasi
    }

    /// Validates and instantiates `bytes`, lays out its WASI state, and
    /// prepares its `_start` thread (it runs on `run`).
    public static func start(module bytes: [UInt8], name: String, in space: ObjectSpace,
                             arguments: [String], environment: [String],
                             preopens: [(host: String, guest: String)], io: WASIHostIO,
                             options: InstanceOptions = .init(),
                             maximumCallDepth: Int = 20_000) throws -> WASICommand {
        let module = try WasmModule(bytes: bytes)
        let state = try WASIState.create(in: space, args: [name] + arguments, environment: environment, preopens: preopens)
        let wasi = try WASI(space: space, stateOffset: state, io: io)
        let instance = try Instance.instantiate(module, in: space, imports: wasi, options: options)
        let thread = try instance.makeThread("_start", maximumDepth: maximumCallDepth)
        let record = try space.allocate(size)
        let nameBytes = Array(name.utf8)
        let nameOffset = try space.allocate(max(nameBytes.count, 8))
        space.write(nameBytes, at: nameOffset)
        space.store(magic, at: record)
        space.store(UInt64(instance.id), at: record + 8)
        space.store(UInt64(thread.id), at: record + 16)
        space.store(state, at: record + 24)
        space.store(UInt64(CRC32C.checksum(bytes)), at: record + 32)
        space.store(nameOffset, at: record + 40)
        space.store(UInt64(nameBytes.count), at: record + 48)
        space.setRoot(rootSlot, record)
        return WASICommand(space: space, record: record, instance: instance, thread: thread, wasi: wasi)
    }

    /// Reattaches to the program stored in `space` after a restore: re-translates
    /// its module (checking the stored code checksum) and relinks WASI.
    public static func resume(in space: ObjectSpace, io: WASIHostIO) throws -> WASICommand {
        let record = space.root(rootSlot)
        guard record != 0 else { throw WasmInstantiationError.restore("the image holds no WASI program") }
        guard space.isAllocated(record, count: UInt64(size)) else {
            throw WasmInstantiationError.restore("root \(rootSlot): WASI program record offset \(record) is outside the allocated space")
        }
        guard space.load(UInt64.self, at: record) == magic else {
            throw WasmInstantiationError.restore("the image holds no WASI program")
        }
        let wasi = try WASI(space: space, stateOffset: space.load(UInt64.self, at: record + 24), io: io)
        let engine = try WasmEngine.restore(space, imports: wasi)
        // Ids are 32 bits; a stored value beyond that names nothing (and must not trap the conversion).
        let storedInstance = space.load(UInt64.self, at: record + 8)
        let storedThread = space.load(UInt64.self, at: record + 16)
        guard storedInstance <= UInt64(UInt32.max), let instance = engine.instance(id: UInt32(storedInstance)) else {
            throw WasmInstantiationError.restore("the stored program's instance id \(storedInstance) names no instance")
        }
        guard storedThread <= UInt64(UInt32.max), let thread = try WasmThread.restore(engine, id: UInt32(storedThread)) else {
            throw WasmInstantiationError.restore("the stored program's thread id \(storedThread) names no thread")
        }
        return WASICommand(space: space, record: record, instance: instance, thread: thread, wasi: wasi)
    }

    /// Records that the program ended, so the next `phantom run` starts over.
    public func markEnded(_ outcome: Outcome) {
        switch outcome {
        case let .exited(code):
            space.store(UInt32(1), at: record + 56)
            space.store(code, at: record + 60)
        case .trapped:
            space.store(UInt32(2), at: record + 56)
        case .stopped:
            break
        }
    }

    /// How a run of the program ended.
    public enum Outcome: Equatable {
        /// `proc_exit`, or 0 when `_start` returned.
        case exited(UInt32)
        case trapped(Trap)
        /// `stop()` returned true; the program is suspended and can be resumed.
        case stopped
    }

    /// Runs the program in fuel slices until it ends or `stop()` says so.
    /// A blocked host call parks the program outside the space (a snapshot
    /// never waits for it) and is re-executed when its condition may hold.
    public func run(sliceFuel: Int = 100_000, stop: () -> Bool) -> Outcome {
        while true {
            if stop() { return .stopped }
            switch thread.run(fuel: sliceFuel) {
            case .yielded:
                continue
            case .finished:
                return .exited(0)
            case let .exited(code):
                return .exited(code)
            case let .trapped(trap):
                return .trapped(trap)
            case let .blocked(condition):
                wait(for: condition, stop: stop)
            }
        }
    }

    private func wait(for condition: BlockCondition, stop: () -> Bool) {
        switch condition {
        case .yield, .event, .eventUntil:
            // Kernel events exist only under the kernel; here a re-execution soon is right.
            sched_yield()
        case let .wallClock(deadline):
            while !stop() {
                let now = nowNanoseconds()
                if now >= deadline { return }
                usleep(UInt32(min(deadline - now, 50_000_000) / 1000))
            }
        case let .readable(descriptor):
            waitFor(Int16(POLLIN), on: descriptor, until: nil, stop: stop)
        case let .readableUntil(descriptor, deadline):
            waitFor(Int16(POLLIN), on: descriptor, until: deadline, stop: stop)
        case let .writable(descriptor):
            waitFor(Int16(POLLOUT), on: descriptor, until: nil, stop: stop)
        }
    }

    /// Waits in steps of at most 50 ms, so a stop request is seen promptly
    /// whatever the descriptor does.
    private func waitFor(_ events: Int16, on descriptor: Int32, until deadline: UInt64?, stop: () -> Bool) {
        while !stop() {
            var timeout: Int32 = 50
            if let deadline {
                let now = nowNanoseconds()
                if now >= deadline { return }
                timeout = Int32(min(50, (deadline - now) / 1_000_000 + 1))
            }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            if poll(&entry, 1, timeout) != 0 { return }
        }
    }
}
