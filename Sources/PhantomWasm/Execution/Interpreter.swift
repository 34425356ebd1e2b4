import PhantomSpace

/// The fast registers of a running thread, kept in Swift locals while the
/// interpreter runs and written back to the thread record at safepoints.
struct Registers {
    var pc: Int
    var code: UnsafeMutablePointer<UInt64>
    var sp: UnsafeMutablePointer<UInt64>
    var fp: UnsafeMutablePointer<UInt64>
    var function: FunctionCode
    var functionRef: FunctionReference
    var instance: Instance
    /// Host address of the current instance's memory 0 (the space base without one).
    var memoryBase: UnsafeMutableRawPointer
    /// Its current size in bytes, and its offset in the space (for dirty marking).
    var memorySize: UInt64
    var memoryOffset: UInt64
    var depth: Int
    /// Lowest stack slot written since the last safepoint.
    var minTouched: UnsafeMutablePointer<UInt64>
    var fuel: Int
    /// The space's current dirty map (`DirtyTracker.flags`). A copy-on-write
    /// cut replaces it while this thread is parked, so it is reloaded after
    /// every park (`safepointSlow`); a stale one would let a store skip the
    /// slow path that saves a page for the capture in flight.
    var dirtyMap: UnsafeMutablePointer<UInt8>
}

/// Why the dispatch loop stopped.
enum Stop {
    case finished
    case yield
    case blocked(BlockCondition)
    case exited(UInt32)
}

/// The dispatch loop. Instruction families are implemented in the files next to
/// this one (Control, Variable, Memory, Table, Reference, Numeric).
///
/// Safepoints are the `loopHeader` of every loop (so every back-edge) and every
/// call. There the interpreter writes pc, sp, fp and depth back to the thread
/// record, marks dirty the stack slots written since the previous safepoint
/// (from the lowest frame touched to sp), and polls the space's safepoint
/// coordinator. Individual stack writes are not marked: a snapshot only ever
/// happens while every mutator is parked at a safepoint, when the marks are
/// complete; slots above sp are dead and need no marking. Since the stack is
/// written without marks, a copy-on-write capture in flight gets the stack's
/// pages saved before the thread runs on (`prepareUncheckedWrites`, at the
/// start of a run and after each park). Linear memory, global and table
/// writes mark their pages as they happen, before writing them.
struct Interpreter {
    let thread: WasmThread
    let engine: WasmEngine
    let space: ObjectSpace
    let record: UInt64
    let stackOffset: UInt64
    let stackBase: UnsafeMutablePointer<UInt64>
    let stackCapacity: Int
    let maximumDepth: Int
    let safepoints: SafepointCoordinator

    init(thread: WasmThread) {
        self.thread = thread
        engine = thread.engine
        space = engine.space
        record = thread.record
        stackOffset = space.field(record, ThreadRecord.stack)
        stackCapacity = Int(space.field(record, ThreadRecord.stackCapacity))
        stackBase = space.unsafePointer(at: stackOffset, count: stackCapacity * 8).assumingMemoryBound(to: UInt64.self)
        maximumDepth = Int(space.field(record, ThreadRecord.maximumDepth))
        safepoints = space.safepoints
    }

    /// The dirty flag of the first page of the current memory: stores index it by
    /// guest page. (Without a memory nothing is ever stored; any valid pointer does.)
    func dirtyFlags(of r: Registers) -> UnsafeMutablePointer<UInt8> {
        r.dirtyMap + Int(r.memoryOffset >> 12)
    }

    /// After this thread may have parked (a snapshot may have cut): the
    /// current dirty map, and the stack — written slot by slot without marks —
    /// saved for a capture in flight before it changes.
    func resumeAfterPark(_ r: inout Registers) {
        r.dirtyMap = space.dirty.flags
        space.prepareUncheckedWrites(stackOffset, count: stackCapacity * 8)
    }

    func loadMemory(_ r: inout Registers) {
        let memory = r.instance.memoryRecord
        if memory == 0 {
            r.memoryBase = space.base
            r.memorySize = 0
            r.memoryOffset = 0
        } else {
            r.memoryOffset = space.field(memory, MemoryRecord.data)
            r.memorySize = space.field(memory, MemoryRecord.pages) * MemoryRecord.pageSize
            let limit = space.field(memory, MemoryRecord.limitPages) * MemoryRecord.pageSize
            r.memoryBase = space.unsafePointer(at: r.memoryOffset, count: Int(limit))
            // Stores find their page's dirty flag from the guest address alone.
            precondition(limit == 0 || r.memoryOffset % UInt64(ObjectSpace.pageSize) == 0,
                         "linear memory is not page-aligned in the space")
        }
    }

    /// Switches the registers to function `reference` (code, instance, memory).
    func enter(_ r: inout Registers, _ reference: FunctionReference) throws(Trap) {
        let instanceID = UInt32(reference >> 32)
        if instanceID != r.instance.id {
            r.instance = try engine.instance(instanceID)
            loadMemory(&r)
        }
        r.function = r.instance.module.functions[Int(reference & 0xffff_ffff) - r.instance.importedFunctionCount]
        r.functionRef = reference
        r.code = r.function.words
    }

    func writeBack(_ r: Registers, pc: Int, sp: UnsafeMutablePointer<UInt64>? = nil) {
        let sp = sp ?? r.sp
        space.setField(record, ThreadRecord.sp, UInt64(sp - stackBase))
        space.setField(record, ThreadRecord.fp, UInt64(r.fp - stackBase))
        space.setField(record, ThreadRecord.pcFunction, r.functionRef)
        space.setField(record, ThreadRecord.pcPosition, UInt64(pc))
        space.setField(record, ThreadRecord.callDepth, UInt64(r.depth))
        let low = min(r.minTouched, r.fp)
        if sp > low {
            space.markDirtyUnchecked(stackOffset + UInt64(low - stackBase) * 8, count: (sp - low) * 8)
        }
    }

    @inline(never)
    func safepointSlow(_ r: inout Registers, pc: Int) -> Bool {
        writeBack(r, pc: pc)
        r.minTouched = r.fp
        safepoints.poll()
        resumeAfterPark(&r)
        return r.fuel >= 0
    }

    mutating func run(fuel: Int) -> RunResult {
        let status = ThreadStatus(rawValue: space.field(record, ThreadRecord.status)) ?? .trapped
        let entry = space.field(record, ThreadRecord.entry)
        // Checked when the thread was restored (RestoreValidation.swift); still a
        // trap, not a crash, should the record name no instance.
        let entryInstance: Instance
        do { entryInstance = try engine.instance(UInt32(entry >> 32)) } catch { return .trapped(error) }
        var r = Registers(
            pc: 0, code: stackBase, sp: stackBase + Int(space.field(record, ThreadRecord.sp)),
            fp: stackBase + Int(space.field(record, ThreadRecord.fp)),
            function: entryInstance.module.functions.first ?? FunctionCode.empty,
            functionRef: 0, instance: entryInstance, memoryBase: space.base, memorySize: 0, memoryOffset: 0,
            depth: Int(space.field(record, ThreadRecord.callDepth)), minTouched: stackBase, fuel: fuel,
            dirtyMap: space.dirty.flags)
        // The thread was not registered a moment ago: a snapshot may have cut since it last ran.
        resumeAfterPark(&r)
        r.minTouched = r.fp
        loadMemory(&r)
        do {
            if status == .ready {
                // The entry frame: arguments at slot 0, no caller.
                if let stop = try call(&r, entry, callPC: -1, returnPC: 0, spBefore: r.sp) {
                    return finish(&r, stop)
                }
            } else {
                let reference = space.field(record, ThreadRecord.pcFunction)
                r.instance = try engine.instance(UInt32(reference >> 32))
                loadMemory(&r)
                try enter(&r, reference)
                r.pc = Int(space.field(record, ThreadRecord.pcPosition))
            }
            // From here on the record's registers (written back at safepoints) are what
            // a restore continues from.
            space.setField(record, ThreadRecord.status, ThreadStatus.running.rawValue)
            let stop = try dispatch(&r)
            return finish(&r, stop)
        } catch {
            return .trapped(error)
        }
    }

    func finish(_ r: inout Registers, _ stop: Stop) -> RunResult {
        switch stop {
        case .finished:
            let count = Int(space.field(record, ThreadRecord.resultCount))
            space.markDirtyUnchecked(stackOffset, count: count * 8)
            return .finished(Array(UnsafeBufferPointer(start: stackBase, count: count)))
        case .yield: return .yielded
        case .blocked(let condition): return .blocked(condition)
        case .exited(let code): return .exited(code)
        }
    }

}

extension FunctionCode {
    static let empty = FunctionCode(typeIndex: 0, type: FunctionType(parameters: [], results: []), variableCount: 0,
                                    maximumHeight: 0, words: [UInt64(Op.unreachable.rawValue)])
}
