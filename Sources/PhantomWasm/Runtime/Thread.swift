import PhantomEngine
import PhantomSpace

/// How a slice of execution ended.
public enum RunResult: Equatable, Sendable, CustomStringConvertible {
    /// Fuel ran out at a safepoint; `run` again to continue.
    case yielded
    case finished([RawValue])
    case trapped(Trap)
    case exited(UInt32)
    /// A host call blocked; `run` again (once the condition may hold) re-executes it.
    case blocked(BlockCondition)

    public var description: String {
        switch self {
        case .yielded: "yielded"
        case .finished(let values): "finished(\(values))"
        case .trapped(let trap): "trapped(\(trap.message))"
        case .exited(let code): "exited(\(code))"
        case .blocked(let condition): "blocked(\(condition))"
        }
    }
}

/// A WebAssembly thread whose whole execution state is in the object space: the
/// thread record (status, registers written back at safepoints, pending host call
/// state) and its value stack, which holds the call frames. After a restore,
/// `WasmThread.restore` finds it again and `run` continues at the instruction
/// where the snapshot was taken.
public final class WasmThread: @unchecked Sendable {
    public let engine: WasmEngine
    public let record: UInt64
    public let id: UInt32
    var space: ObjectSpace { engine.space }

    init(engine: WasmEngine, stackSlots: Int, maximumDepth: Int) throws {
        self.engine = engine
        let space = engine.space
        record = try space.allocate(ThreadRecord.size)
        let stack = try space.allocate(stackSlots * 8)
        space.setField(record, ThreadRecord.stack, stack)
        space.setField(record, ThreadRecord.stackCapacity, UInt64(stackSlots))
        space.setField(record, ThreadRecord.maximumDepth, UInt64(maximumDepth))
        space.setField(record, ThreadRecord.status, ThreadStatus.finished.rawValue)
        id = try engine.register(record, table: RegistryRecord.threadTable,
                                 capacity: RegistryRecord.threadCapacity, next: RegistryRecord.nextThread)
        space.setField(record, ThreadRecord.id, UInt64(id))
    }

    init(engine: WasmEngine, restoring record: UInt64) {
        self.engine = engine
        self.record = record
        id = UInt32(engine.space.field(record, ThreadRecord.id))
    }

    /// The stored thread `id` of a restored engine (see `WasmEngine.restore`),
    /// nil when there is none. Its record is checked against its code and
    /// stack first (`RestoreValidator`; `WasmEngine.restore` checked it too,
    /// but this is the one door to running a stored thread): a forged pc or
    /// stack pointer throws instead of sending the interpreter anywhere.
    public static func restore(_ engine: WasmEngine, id: UInt32) throws -> WasmThread? {
        guard let entry = engine.storedThreads().first(where: { $0.id == id }) else { return nil }
        try RestoreValidator(engine: engine).validateThread(id: id, record: entry.record)
        return WasmThread(engine: engine, restoring: entry.record)
    }

    public var status: ThreadStatus { ThreadStatus(rawValue: space.field(record, ThreadRecord.status)) ?? .trapped }

    /// Prepares a call of `function` with `arguments`; `run` executes it.
    func start(_ function: FunctionReference, arguments: [RawValue]) throws {
        let owner = try engine.instance(UInt32(function >> 32))
        let type = owner.functionType(Int(function & 0xffff_ffff))
        guard arguments.count == type.parameters.count else {
            throw WasmInstantiationError.unlinkable("\(type.parameters.count) arguments expected, \(arguments.count) given")
        }
        let stack = space.field(record, ThreadRecord.stack)
        for (index, value) in arguments.enumerated() { space.store(value, at: stack + UInt64(index) * 8) }
        space.setField(record, ThreadRecord.sp, UInt64(arguments.count))
        space.setField(record, ThreadRecord.fp, 0)
        space.setField(record, ThreadRecord.entry, function)
        space.setField(record, ThreadRecord.pcFunction, 0)
        space.setField(record, ThreadRecord.resultCount, UInt64(type.results.count))
        space.setField(record, ThreadRecord.callDepth, 0)
        space.setField(record, ThreadRecord.pendingCallState, 0)
        space.setField(record, ThreadRecord.status, ThreadStatus.ready.rawValue)
    }

    /// Runs to completion (used by `invoke` and start functions).
    func call(_ function: FunctionReference, arguments: [RawValue]) -> RunResult {
        do { try start(function, arguments: arguments) } catch { return .trapped(Trap("\(error)")) }
        while true {
            let result = run()
            if case .yielded = result { continue }
            return result
        }
    }

    /// Executes until the function returns, traps, exits, blocks in a host call, or
    /// `fuel` safepoints (loop iterations and calls) have passed. Registers the
    /// calling OS thread as a mutator of the space for the duration.
    public func run(fuel: Int = Int.max) -> RunResult {
        switch status {
        case .finished:
            let count = Int(space.field(record, ThreadRecord.resultCount))
            return .finished(space.loadArray(at: space.field(record, ThreadRecord.stack), count: count))
        case .trapped:
            let message = space.read(at: space.field(record, ThreadRecord.trapMessage),
                                     count: Int(space.field(record, ThreadRecord.trapLength)))
            return .trapped(Trap(String(decoding: message, as: UTF8.self)))
        case .exited:
            return .exited(UInt32(truncatingIfNeeded: space.field(record, ThreadRecord.exitCode)))
        case .ready, .running, .blocked:
            break
        }
        space.safepoints.register()
        defer { space.safepoints.unregister() }
        var interpreter = Interpreter(thread: self)
        let result = interpreter.run(fuel: max(fuel, 1))
        switch result {
        case .finished:
            space.setField(record, ThreadRecord.status, ThreadStatus.finished.rawValue)
        case .trapped(let trap):
            let bytes = Array(trap.message.utf8)
            if let offset = try? space.allocate(max(bytes.count, 8)) {
                space.write(bytes, at: offset)
                space.setField(record, ThreadRecord.trapMessage, offset)
                space.setField(record, ThreadRecord.trapLength, UInt64(bytes.count))
            }
            space.setField(record, ThreadRecord.status, ThreadStatus.trapped.rawValue)
        case .exited(let code):
            space.setField(record, ThreadRecord.exitCode, UInt64(code))
            space.setField(record, ThreadRecord.status, ThreadStatus.exited.rawValue)
        case .blocked:
            // Blocked in the entry function itself (a host function): nothing ran yet,
            // so the thread is still ready and re-executes the call from its start.
            let atEntry = space.field(record, ThreadRecord.pcFunction) == 0
            space.setField(record, ThreadRecord.status, (atEntry ? ThreadStatus.ready : .blocked).rawValue)
        case .yielded:
            space.setField(record, ThreadRecord.status, ThreadStatus.running.rawValue)
        }
        return result
    }
}

/// The kernel schedules WebAssembly threads through the engine contract.
extension WasmThread: EngineThread {
    public func runSlice(fuel: Int) -> SliceOutcome {
        switch run(fuel: fuel) {
        case .yielded: .yielded
        case let .blocked(waitable): .blocked(waitable)
        case .finished: .exited(code: 0)
        case let .exited(code): .exited(code: code)
        case let .trapped(trap): .trapped(message: trap.message)
        }
    }
}
