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
/// complete; slots above sp are dead and need no marking. Linear memory, global
/// and table writes mark their pages as they happen.
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
    let dirtyFlags: UnsafeMutablePointer<UInt8>

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
        dirtyFlags = space.dirty.flags
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
        }
    }

    /// Switches the registers to function `reference` (code, instance, memory).
    func enter(_ r: inout Registers, _ reference: FunctionReference) {
        let instanceID = UInt32(reference >> 32)
        if instanceID != r.instance.id {
            r.instance = engine.instance(instanceID)
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
            space.markDirty(stackOffset + UInt64(low - stackBase) * 8, count: (sp - low) * 8)
        }
    }

    /// A safepoint: takes one unit of fuel; only when fuel ran out or a snapshot
    /// waits are the registers written back (and the stack marked) and the
    /// coordinator polled. Returns false when fuel ran out.
    @inline(__always)
    func safepoint(_ r: inout Registers, pc: Int) -> Bool {
        r.fuel &-= 1
        if r.fuel < 0 || safepoints.isRequested { return safepointSlow(&r, pc: pc) }
        return true
    }

    /// A taken branch back into a loop (it targets the instruction after the
    /// loop's `loopHeader`): the header's safepoint, done here so the back-edge
    /// does not dispatch the header. A yield leaves pc at the header.
    @inline(__always)
    func backEdge(_ r: inout Registers, _ fp: UnsafeMutablePointer<UInt64>, _ code: UnsafeMutablePointer<UInt64>,
                  to next: Int) -> Bool {
        r.fuel &-= 1
        if r.fuel < 0 || safepoints.isRequested {
            r.sp = fp + Int(code[next &- 1] >> 8)
            return safepointSlow(&r, pc: next &- 1)
        }
        return true
    }

    @inline(never)
    func safepointSlow(_ r: inout Registers, pc: Int) -> Bool {
        writeBack(r, pc: pc)
        r.minTouched = r.fp
        safepoints.poll()
        return r.fuel >= 0
    }

    mutating func run(fuel: Int) -> RunResult {
        let status = ThreadStatus(rawValue: space.field(record, ThreadRecord.status)) ?? .trapped
        let entry = space.field(record, ThreadRecord.entry)
        let entryInstance = engine.instance(UInt32(entry >> 32))
        var r = Registers(
            pc: 0, code: stackBase, sp: stackBase + Int(space.field(record, ThreadRecord.sp)),
            fp: stackBase + Int(space.field(record, ThreadRecord.fp)),
            function: entryInstance.module.functions.first ?? FunctionCode.empty,
            functionRef: 0, instance: entryInstance, memoryBase: space.base, memorySize: 0, memoryOffset: 0,
            depth: Int(space.field(record, ThreadRecord.callDepth)), minTouched: stackBase, fuel: fuel)
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
                r.instance = engine.instance(UInt32(reference >> 32))
                loadMemory(&r)
                enter(&r, reference)
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
            space.markDirty(stackOffset, count: count * 8)
            return .finished(Array(UnsafeBufferPointer(start: stackBase, count: count)))
        case .yield: return .yielded
        case .blocked(let condition): return .blocked(condition)
        case .exited(let code): return .exited(code)
        }
    }

    func dispatch(_ state: inout Registers) throws(Trap) -> Stop {
        // A local copy the optimizer can keep in machine registers (the inout
        // parameter lives in the caller's memory); written back on every exit.
        var r = state
        defer { state = r }
        // The hot registers as plain locals; `r` is brought up to date around the
        // (non-inlined) helpers that take it.
        var pc = r.pc, fp = r.fp, code = r.code
        var memoryBase = r.memoryBase, memorySize = r.memorySize, memoryOffset = r.memoryOffset
        while true {
            // Each field is its own 16-bit load (no shifts and masks); the whole
            // word is read only by the instructions that need it.
            let instruction = UnsafeRawPointer(code + pc)
            let d = Int(instruction.load(fromByteOffset: 2, as: UInt16.self))
            let a = Int(instruction.load(fromByteOffset: 4, as: UInt16.self))
            let b = Int(instruction.load(fromByteOffset: 6, as: UInt16.self))
            var word: UInt64 { code[pc] }
            switch unsafeBitCast(instruction.load(as: UInt8.self), to: Op.self) {
            case .unreachable: throw Trap("unreachable")
            case .jump:
                let next = Int(truncatingIfNeeded: code[pc &+ 1])
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .br:
                move(fp, word)
                let next = Int(truncatingIfNeeded: code[pc &+ 1])
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brIf:
                if UInt32(truncatingIfNeeded: fp[b]) != 0 {
                    move(fp, word)
                    let next = Int(truncatingIfNeeded: code[pc &+ 1])
                    if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                    pc = next
                } else {
                    pc &+= 2
                }
                continue
            case .brIfJump:
                let next = UInt32(truncatingIfNeeded: fp[a]) != 0 ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brUnless:
                let next = UInt32(truncatingIfNeeded: fp[a]) == 0 ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brTable:
                r.sp -= 1
                let count = Int(word >> 8)
                let index = min(Int(UInt32(truncatingIfNeeded: r.sp.pointee)), count)
                let entry = pc &+ 1 + index * 2
                let packed = code[entry]
                if packed & 1 == 0 {
                    r.sp = fp + Field.b(packed)
                    if try doReturn(&r) { return .finished }
                pc = r.pc; fp = r.fp; code = r.code; memoryBase = r.memoryBase; memorySize = r.memorySize; memoryOffset = r.memoryOffset
                } else {
                    move(fp, packed)
                    let next = Int(truncatingIfNeeded: code[entry &+ 1])
                    if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                    pc = next
                }
                continue
            case .loopHeader:
                r.sp = fp + Int(word >> 8)
                if !safepoint(&r, pc: pc) { return .yield }
                pc &+= 1
                continue
            case .return:
                r.sp = fp + Int(word >> 8)
                if try doReturn(&r) { return .finished }
                pc = r.pc; fp = r.fp; code = r.code; memoryBase = r.memoryBase; memorySize = r.memorySize; memoryOffset = r.memoryOffset
                continue
            case .returnIf:
                r.sp = fp + Int(word >> 8)
                if UInt32(truncatingIfNeeded: r.sp.pointee) != 0 {
                    if try doReturn(&r) { return .finished }
                pc = r.pc; fp = r.fp; code = r.code; memoryBase = r.memoryBase; memorySize = r.memorySize; memoryOffset = r.memoryOffset
                } else {
                    pc &+= 1
                }
                continue
            case .call:
                r.sp = fp + Int(word >> 40)
                if !safepoint(&r, pc: pc) { return .yield }
                let reference = r.instance.functionRefs[Int((word >> 8) & 0xffff_ffff)]
                if let stop = try call(&r, reference, callPC: pc, returnPC: pc &+ 1, spBefore: r.sp) { return stop }
                pc = r.pc; fp = r.fp; code = r.code; memoryBase = r.memoryBase; memorySize = r.memorySize; memoryOffset = r.memoryOffset
                continue
            case .callIndirect:
                r.sp = fp + Int(truncatingIfNeeded: code[pc &+ 1])
                if !safepoint(&r, pc: pc) { return .yield }
                let spBefore = r.sp
                let reference = try indirectTarget(&r, word)
                if let stop = try call(&r, reference, callPC: pc, returnPC: pc &+ 2, spBefore: spBefore) { return stop }
                pc = r.pc; fp = r.fp; code = r.code; memoryBase = r.memoryBase; memorySize = r.memorySize; memoryOffset = r.memoryOffset
                continue
            case .brI32Eq:
                let next = i32(fp[a]) == i32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32Ne:
                let next = i32(fp[a]) != i32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32LtS:
                let next = s32(fp[a]) < s32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32LtU:
                let next = i32(fp[a]) < i32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32GtS:
                let next = s32(fp[a]) > s32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32GtU:
                let next = i32(fp[a]) > i32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32LeS:
                let next = s32(fp[a]) <= s32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32LeU:
                let next = i32(fp[a]) <= i32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32GeS:
                let next = s32(fp[a]) >= s32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32GeU:
                let next = i32(fp[a]) >= i32(fp[b]) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32Eqz:
                let next = i32(fp[a]) == 0 ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32Nez:
                let next = i32(fp[a]) != 0 ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .i32AddImm:
                let k = code[pc &+ 1]
                fp[d] = w(i32(fp[a]) &+ i32(k))
                pc &+= 2
                continue
            case .i32MulImm:
                let k = code[pc &+ 1]
                fp[d] = w(i32(fp[a]) &* i32(k))
                pc &+= 2
                continue
            case .i32AndImm:
                let k = code[pc &+ 1]
                fp[d] = w(i32(fp[a]) & i32(k))
                pc &+= 2
                continue
            case .i32OrImm:
                let k = code[pc &+ 1]
                fp[d] = w(i32(fp[a]) | i32(k))
                pc &+= 2
                continue
            case .i32XorImm:
                let k = code[pc &+ 1]
                fp[d] = w(i32(fp[a]) ^ i32(k))
                pc &+= 2
                continue
            case .i32ShlImm:
                let k = code[pc &+ 1]
                fp[d] = w(i32(fp[a]) &<< i32(k))
                pc &+= 2
                continue
            case .i32ShrSImm:
                let k = code[pc &+ 1]
                fp[d] = w(s32(fp[a]) &>> s32(k))
                pc &+= 2
                continue
            case .i32ShrUImm:
                let k = code[pc &+ 1]
                fp[d] = w(i32(fp[a]) &>> i32(k))
                pc &+= 2
                continue
            case .i32EqImm:
                let k = code[pc &+ 1]
                fp[d] = bit(i32(fp[a]) == i32(k))
                pc &+= 2
                continue
            case .i32NeImm:
                let k = code[pc &+ 1]
                fp[d] = bit(i32(fp[a]) != i32(k))
                pc &+= 2
                continue
            case .i32LtSImm:
                let k = code[pc &+ 1]
                fp[d] = bit(s32(fp[a]) < s32(k))
                pc &+= 2
                continue
            case .i32LtUImm:
                let k = code[pc &+ 1]
                fp[d] = bit(i32(fp[a]) < i32(k))
                pc &+= 2
                continue
            case .i32GtSImm:
                let k = code[pc &+ 1]
                fp[d] = bit(s32(fp[a]) > s32(k))
                pc &+= 2
                continue
            case .i32GtUImm:
                let k = code[pc &+ 1]
                fp[d] = bit(i32(fp[a]) > i32(k))
                pc &+= 2
                continue
            case .i32LeSImm:
                let k = code[pc &+ 1]
                fp[d] = bit(s32(fp[a]) <= s32(k))
                pc &+= 2
                continue
            case .i32LeUImm:
                let k = code[pc &+ 1]
                fp[d] = bit(i32(fp[a]) <= i32(k))
                pc &+= 2
                continue
            case .i32GeSImm:
                let k = code[pc &+ 1]
                fp[d] = bit(s32(fp[a]) >= s32(k))
                pc &+= 2
                continue
            case .i32GeUImm:
                let k = code[pc &+ 1]
                fp[d] = bit(i32(fp[a]) >= i32(k))
                pc &+= 2
                continue
            case .i32RotlImm:
                let k = code[pc &+ 1]
                fp[d] = w(rotl32(i32(fp[a]), i32(k)))
                pc &+= 2
                continue
            case .i64AddImm:
                let k = code[pc &+ 1]
                fp[d] = fp[a] &+ k
                pc &+= 2
                continue
            case .i64AndImm:
                let k = code[pc &+ 1]
                fp[d] = fp[a] & k
                pc &+= 2
                continue
            case .i64ShlImm:
                let k = code[pc &+ 1]
                fp[d] = fp[a] &<< k
                pc &+= 2
                continue
            case .i64ShrUImm:
                let k = code[pc &+ 1]
                fp[d] = fp[a] &>> k
                pc &+= 2
                continue
            case .brI32EqImm:
                let next = i32(fp[d]) == i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32NeImm:
                let next = i32(fp[d]) != i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32LtSImm:
                let next = s32(fp[d]) < s32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32LtUImm:
                let next = i32(fp[d]) < i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32GtSImm:
                let next = s32(fp[d]) > s32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32GtUImm:
                let next = i32(fp[d]) > i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32LeSImm:
                let next = s32(fp[d]) <= s32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32LeUImm:
                let next = i32(fp[d]) <= i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32GeSImm:
                let next = s32(fp[d]) >= s32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .brI32GeUImm:
                let next = i32(fp[d]) >= i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? Int(truncatingIfNeeded: code[pc &+ 1]) : pc &+ 2
                if next <= pc, !backEdge(&r, fp, code, to: next) { return .yield }
                pc = next
                continue
            case .i32LoadAdd: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a] &+ fp[b], code[pc &+ 1], UInt32.self)); pc &+= 2; continue
            case .i64LoadAdd: fp[d] = try load(memoryBase, memorySize, fp[a] &+ fp[b], code[pc &+ 1], UInt64.self); pc &+= 2; continue
            case .i32Load8UAdd: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a] &+ fp[b], code[pc &+ 1], UInt8.self)); pc &+= 2; continue
            case .i32LoadAddImm: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a] &+ code[pc &+ 1], code[pc &+ 2], UInt32.self)); pc &+= 3; continue
            case .i64LoadAddImm: fp[d] = try load(memoryBase, memorySize, fp[a] &+ code[pc &+ 1], code[pc &+ 2], UInt64.self); pc &+= 3; continue
            case .i32Load8UAddImm: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a] &+ code[pc &+ 1], code[pc &+ 2], UInt8.self)); pc &+= 3; continue
            case .i32StoreAdd: try store(memoryBase, memorySize, memoryOffset, fp[a] &+ fp[d], code[pc &+ 1], UInt32(truncatingIfNeeded: fp[b])); pc &+= 2; continue
            case .i64StoreAdd: try store(memoryBase, memorySize, memoryOffset, fp[a] &+ fp[d], code[pc &+ 1], fp[b]); pc &+= 2; continue
            case .i32Store8Add: try store(memoryBase, memorySize, memoryOffset, fp[a] &+ fp[d], code[pc &+ 1], UInt8(truncatingIfNeeded: fp[b])); pc &+= 2; continue
            case .f64AddStore: try store(memoryBase, memorySize, memoryOffset, fp[d], code[pc &+ 1], w(f64(fp[a]) + f64(fp[b]))); pc &+= 2; continue
            case .f64SubStore: try store(memoryBase, memorySize, memoryOffset, fp[d], code[pc &+ 1], w(f64(fp[a]) - f64(fp[b]))); pc &+= 2; continue
            case .i32AddStore: try store(memoryBase, memorySize, memoryOffset, fp[d], code[pc &+ 1], i32(fp[a]) &+ i32(fp[b])); pc &+= 2; continue
            case .f64MulAddStore:
                let extra = code[pc &+ 1]
                let product = f64(fp[b]) * f64(fp[Int(truncatingIfNeeded: extra & 0xffff)])
                try store(memoryBase, memorySize, memoryOffset, fp[d], extra >> 16, w(f64(fp[a]) + product)); pc &+= 2; continue
            case .f64MulSubStore:
                let extra = code[pc &+ 1]
                let product = f64(fp[b]) * f64(fp[Int(truncatingIfNeeded: extra & 0xffff)])
                try store(memoryBase, memorySize, memoryOffset, fp[d], extra >> 16, w(f64(fp[a]) - product)); pc &+= 2; continue
            case .i32Store8AddImm: try store(memoryBase, memorySize, memoryOffset, fp[a] &+ fp[d], code[pc &+ 1], UInt8(truncatingIfNeeded: b)); pc &+= 2; continue
            case .setSP:
                r.sp = fp + Int(word >> 8)
            case .select:
                let c = Int(truncatingIfNeeded: code[pc &+ 1])
                fp[d] = UInt32(truncatingIfNeeded: fp[c]) != 0 ? fp[a] : fp[b]
                pc &+= 2
                continue
            case .copy: fp[d] = fp[a]
            case .globalGet: fp[d] = space.load(UInt64.self, at: r.instance.globalCells[Int(word >> 32)])
            case .globalSet: space.store(fp[d], at: r.instance.globalCells[Int(word >> 32)])
            case .i32Const: fp[d] = word >> 32
            case .i64Const:
                fp[d] = code[pc &+ 1]
                pc &+= 2
                continue
            case .refFunc: fp[d] = r.instance.functionRefs[Int(word >> 32)]
            // Loads and stores: one bounds compare each; stores mark their page(s).
            case .i32Load, .f32Load: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], UInt32.self)); pc &+= 2; continue
            case .i64Load, .f64Load: fp[d] = try load(memoryBase, memorySize, fp[a], code[pc &+ 1], UInt64.self); pc &+= 2; continue
            case .i32Load8S: fp[d] = UInt64(UInt32(bitPattern: Int32(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], Int8.self)))); pc &+= 2; continue
            case .i32Load8U: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], UInt8.self)); pc &+= 2; continue
            case .i32Load16S: fp[d] = UInt64(UInt32(bitPattern: Int32(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], Int16.self)))); pc &+= 2; continue
            case .i32Load16U: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], UInt16.self)); pc &+= 2; continue
            case .i64Load8S: fp[d] = UInt64(bitPattern: Int64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], Int8.self))); pc &+= 2; continue
            case .i64Load8U: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], UInt8.self)); pc &+= 2; continue
            case .i64Load16S: fp[d] = UInt64(bitPattern: Int64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], Int16.self))); pc &+= 2; continue
            case .i64Load16U: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], UInt16.self)); pc &+= 2; continue
            case .i64Load32S: fp[d] = UInt64(bitPattern: Int64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], Int32.self))); pc &+= 2; continue
            case .i64Load32U: fp[d] = UInt64(try load(memoryBase, memorySize, fp[a], code[pc &+ 1], UInt32.self)); pc &+= 2; continue
            case .i32Store, .f32Store: try store(memoryBase, memorySize, memoryOffset, fp[a], code[pc &+ 1], UInt32(truncatingIfNeeded: fp[b])); pc &+= 2; continue
            case .i64Store, .f64Store: try store(memoryBase, memorySize, memoryOffset, fp[a], code[pc &+ 1], fp[b]); pc &+= 2; continue
            case .i32Store8, .i64Store8: try store(memoryBase, memorySize, memoryOffset, fp[a], code[pc &+ 1], UInt8(truncatingIfNeeded: fp[b])); pc &+= 2; continue
            case .i32Store16, .i64Store16: try store(memoryBase, memorySize, memoryOffset, fp[a], code[pc &+ 1], UInt16(truncatingIfNeeded: fp[b])); pc &+= 2; continue
            case .i64Store32: try store(memoryBase, memorySize, memoryOffset, fp[a], code[pc &+ 1], UInt32(truncatingIfNeeded: fp[b])); pc &+= 2; continue
            case .memorySize: fp[d] = memorySize / MemoryRecord.pageSize
            case .memoryGrow, .memoryInit, .dataDrop, .memoryCopy, .memoryFill:
                r.pc = pc
                try memory(&r, Op.decode(word), word)
                pc = r.pc; fp = r.fp; code = r.code; memoryBase = r.memoryBase; memorySize = r.memorySize; memoryOffset = r.memoryOffset
                continue
            case .tableGet, .tableSet, .tableSize, .tableGrow, .tableFill, .tableCopy, .tableInit, .elemDrop:
                r.pc = pc
                try table(&r, Op.decode(word), word)
                pc = r.pc; fp = r.fp; code = r.code; memoryBase = r.memoryBase; memorySize = r.memorySize; memoryOffset = r.memoryOffset
                continue
        // Comparisons
        case .i32Eqz: fp[d] = bit(i32(fp[a]) == 0)
        case .i64Eqz: fp[d] = bit(fp[a] == 0)
        case .i32Eq: fp[d] = bit(i32(fp[a]) == i32(fp[b]))
        case .i32Ne: fp[d] = bit(i32(fp[a]) != i32(fp[b]))
        case .i32LtS: fp[d] = bit(s32(fp[a]) < s32(fp[b]))
        case .i32LtU: fp[d] = bit(i32(fp[a]) < i32(fp[b]))
        case .i32GtS: fp[d] = bit(s32(fp[a]) > s32(fp[b]))
        case .i32GtU: fp[d] = bit(i32(fp[a]) > i32(fp[b]))
        case .i32LeS: fp[d] = bit(s32(fp[a]) <= s32(fp[b]))
        case .i32LeU: fp[d] = bit(i32(fp[a]) <= i32(fp[b]))
        case .i32GeS: fp[d] = bit(s32(fp[a]) >= s32(fp[b]))
        case .i32GeU: fp[d] = bit(i32(fp[a]) >= i32(fp[b]))
        case .i64Eq: fp[d] = bit(fp[a] == fp[b])
        case .i64Ne: fp[d] = bit(fp[a] != fp[b])
        case .i64LtS: fp[d] = bit(Int64(bitPattern: fp[a]) < Int64(bitPattern: fp[b]))
        case .i64LtU: fp[d] = bit(fp[a] < fp[b])
        case .i64GtS: fp[d] = bit(Int64(bitPattern: fp[a]) > Int64(bitPattern: fp[b]))
        case .i64GtU: fp[d] = bit(fp[a] > fp[b])
        case .i64LeS: fp[d] = bit(Int64(bitPattern: fp[a]) <= Int64(bitPattern: fp[b]))
        case .i64LeU: fp[d] = bit(fp[a] <= fp[b])
        case .i64GeS: fp[d] = bit(Int64(bitPattern: fp[a]) >= Int64(bitPattern: fp[b]))
        case .i64GeU: fp[d] = bit(fp[a] >= fp[b])
        case .f32Eq: fp[d] = bit(f32(fp[a]) == f32(fp[b]))
        case .f32Ne: fp[d] = bit(f32(fp[a]) != f32(fp[b]))
        case .f32Lt: fp[d] = bit(f32(fp[a]) < f32(fp[b]))
        case .f32Gt: fp[d] = bit(f32(fp[a]) > f32(fp[b]))
        case .f32Le: fp[d] = bit(f32(fp[a]) <= f32(fp[b]))
        case .f32Ge: fp[d] = bit(f32(fp[a]) >= f32(fp[b]))
        case .f64Eq: fp[d] = bit(f64(fp[a]) == f64(fp[b]))
        case .f64Ne: fp[d] = bit(f64(fp[a]) != f64(fp[b]))
        case .f64Lt: fp[d] = bit(f64(fp[a]) < f64(fp[b]))
        case .f64Gt: fp[d] = bit(f64(fp[a]) > f64(fp[b]))
        case .f64Le: fp[d] = bit(f64(fp[a]) <= f64(fp[b]))
        case .f64Ge: fp[d] = bit(f64(fp[a]) >= f64(fp[b]))
        // i32 arithmetic
        case .i32Clz: fp[d] = UInt64(i32(fp[a]).leadingZeroBitCount)
        case .i32Ctz: fp[d] = UInt64(i32(fp[a]).trailingZeroBitCount)
        case .i32Popcnt: fp[d] = UInt64(i32(fp[a]).nonzeroBitCount)
        case .i32Add: fp[d] = w(i32(fp[a]) &+ i32(fp[b]))
        case .i32Sub: fp[d] = w(i32(fp[a]) &- i32(fp[b]))
        case .i32Mul: fp[d] = w(i32(fp[a]) &* i32(fp[b]))
        case .i32DivS:
            let x = s32(fp[a]), y = s32(fp[b])
            guard y != 0 else { throw Trap("integer divide by zero") }
            guard !(x == Int32.min && y == -1) else { throw Trap("integer overflow") }
            fp[d] = w(x / y)
        case .i32DivU:
            let y = i32(fp[b])
            guard y != 0 else { throw Trap("integer divide by zero") }
            fp[d] = w(i32(fp[a]) / y)
        case .i32RemS:
            let x = s32(fp[a]), y = s32(fp[b])
            guard y != 0 else { throw Trap("integer divide by zero") }
            fp[d] = y == -1 ? 0 : w(x % y)
        case .i32RemU:
            let y = i32(fp[b])
            guard y != 0 else { throw Trap("integer divide by zero") }
            fp[d] = w(i32(fp[a]) % y)
        case .i32And: fp[d] = w(i32(fp[a]) & i32(fp[b]))
        case .i32Or: fp[d] = w(i32(fp[a]) | i32(fp[b]))
        case .i32Xor: fp[d] = w(i32(fp[a]) ^ i32(fp[b]))
        case .i32Shl: fp[d] = w(i32(fp[a]) &<< i32(fp[b]))
        case .i32ShrS: fp[d] = w(s32(fp[a]) &>> s32(fp[b]))
        case .i32ShrU: fp[d] = w(i32(fp[a]) &>> i32(fp[b]))
        case .i32Rotl: fp[d] = w(rotl32(i32(fp[a]), i32(fp[b])))
        case .i32Rotr: fp[d] = w(rotl32(i32(fp[a]), 32 &- (i32(fp[b]) & 31)))
        // i64 arithmetic
        case .i64Clz: fp[d] = UInt64(fp[a].leadingZeroBitCount)
        case .i64Ctz: fp[d] = UInt64(fp[a].trailingZeroBitCount)
        case .i64Popcnt: fp[d] = UInt64(fp[a].nonzeroBitCount)
        case .i64Add: fp[d] = fp[a] &+ fp[b]
        case .i64Sub: fp[d] = fp[a] &- fp[b]
        case .i64Mul: fp[d] = fp[a] &* fp[b]
        case .i64DivS:
            let x = Int64(bitPattern: fp[a]), y = Int64(bitPattern: fp[b])
            guard y != 0 else { throw Trap("integer divide by zero") }
            guard !(x == Int64.min && y == -1) else { throw Trap("integer overflow") }
            fp[d] = UInt64(bitPattern: x / y)
        case .i64DivU:
            let y = fp[b]
            guard y != 0 else { throw Trap("integer divide by zero") }
            fp[d] = fp[a] / y
        case .i64RemS:
            let x = Int64(bitPattern: fp[a]), y = Int64(bitPattern: fp[b])
            guard y != 0 else { throw Trap("integer divide by zero") }
            fp[d] = y == -1 ? 0 : UInt64(bitPattern: x % y)
        case .i64RemU:
            let y = fp[b]
            guard y != 0 else { throw Trap("integer divide by zero") }
            fp[d] = fp[a] % y
        case .i64And: fp[d] = fp[a] & fp[b]
        case .i64Or: fp[d] = fp[a] | fp[b]
        case .i64Xor: fp[d] = fp[a] ^ fp[b]
        case .i64Shl: fp[d] = fp[a] &<< fp[b]
        case .i64ShrS: fp[d] = UInt64(bitPattern: Int64(bitPattern: fp[a]) &>> Int64(bitPattern: fp[b]))
        case .i64ShrU: fp[d] = fp[a] &>> fp[b]
        case .i64Rotl: fp[d] = rotl64(fp[a], fp[b])
        case .i64Rotr: fp[d] = rotl64(fp[a], 64 &- (fp[b] & 63))
        // f32
        case .f32Abs: fp[d] = fp[a] & 0x7fff_ffff
        case .f32Neg: fp[d] = (fp[a] ^ 0x8000_0000) & 0xffff_ffff
        case .f32Ceil: fp[d] = w(f32(fp[a]).rounded(.up))
        case .f32Floor: fp[d] = w(f32(fp[a]).rounded(.down))
        case .f32Trunc: fp[d] = w(f32(fp[a]).rounded(.towardZero))
        case .f32Nearest: fp[d] = w(f32(fp[a]).rounded(.toNearestOrEven))
        case .f32Sqrt: fp[d] = w(f32(fp[a]).squareRoot())
        case .f32Add: fp[d] = w(f32(fp[a]) + f32(fp[b]))
        case .f32Sub: fp[d] = w(f32(fp[a]) - f32(fp[b]))
        case .f32Mul: fp[d] = w(f32(fp[a]) * f32(fp[b]))
        case .f32Div: fp[d] = w(f32(fp[a]) / f32(fp[b]))
        case .f32Min: fp[d] = w(wasmMin(f32(fp[a]), f32(fp[b])))
        case .f32Max: fp[d] = w(wasmMax(f32(fp[a]), f32(fp[b])))
        case .f32Copysign: fp[d] = (fp[a] & 0x7fff_ffff) | (fp[b] & 0x8000_0000)
        // f64
        case .f64Abs: fp[d] = fp[a] & 0x7fff_ffff_ffff_ffff
        case .f64Neg: fp[d] = fp[a] ^ 0x8000_0000_0000_0000
        case .f64Ceil: fp[d] = w(f64(fp[a]).rounded(.up))
        case .f64Floor: fp[d] = w(f64(fp[a]).rounded(.down))
        case .f64Trunc: fp[d] = w(f64(fp[a]).rounded(.towardZero))
        case .f64Nearest: fp[d] = w(f64(fp[a]).rounded(.toNearestOrEven))
        case .f64Sqrt: fp[d] = w(f64(fp[a]).squareRoot())
        case .f64Add: fp[d] = w(f64(fp[a]) + f64(fp[b]))
        case .f64Sub: fp[d] = w(f64(fp[a]) - f64(fp[b]))
        case .f64Mul: fp[d] = w(f64(fp[a]) * f64(fp[b]))
        case .f64Div: fp[d] = w(f64(fp[a]) / f64(fp[b]))
        case .f64Min: fp[d] = w(wasmMin(f64(fp[a]), f64(fp[b])))
        case .f64Max: fp[d] = w(wasmMax(f64(fp[a]), f64(fp[b])))
        case .f64Copysign: fp[d] = (fp[a] & 0x7fff_ffff_ffff_ffff) | (fp[b] & 0x8000_0000_0000_0000)
        // Conversions
        case .i32WrapI64: fp[d] = fp[a] & 0xffff_ffff
        case .i32TruncF32S: fp[d] = w(Int32(try truncate(f32(fp[a]), lower: -2147483648, upper: 2147483648)))
        case .i32TruncF32U: fp[d] = w(UInt32(try truncate(f32(fp[a]), lower: -0.0, upper: 4294967296)))
        case .i32TruncF64S: fp[d] = w(Int32(try truncate(f64(fp[a]), lower: -2147483648, upper: 2147483648)))
        case .i32TruncF64U: fp[d] = w(UInt32(try truncate(f64(fp[a]), lower: -0.0, upper: 4294967296)))
        case .i64ExtendI32S: fp[d] = UInt64(bitPattern: Int64(s32(fp[a])))
        case .i64ExtendI32U: fp[d] = fp[a] & 0xffff_ffff
        case .i64TruncF32S:
            fp[d] = UInt64(bitPattern: Int64(try truncate(f32(fp[a]), lower: -9223372036854775808, upper: 9223372036854775808)))
        case .i64TruncF32U: fp[d] = UInt64(try truncate(f32(fp[a]), lower: -0.0, upper: 18446744073709551616))
        case .i64TruncF64S:
            fp[d] = UInt64(bitPattern: Int64(try truncate(f64(fp[a]), lower: -9223372036854775808, upper: 9223372036854775808)))
        case .i64TruncF64U: fp[d] = UInt64(try truncate(f64(fp[a]), lower: -0.0, upper: 18446744073709551616))
        case .f32ConvertI32S: fp[d] = w(Float(s32(fp[a])))
        case .f32ConvertI32U: fp[d] = w(Float(i32(fp[a])))
        case .f32ConvertI64S: fp[d] = w(Float(Int64(bitPattern: fp[a])))
        case .f32ConvertI64U: fp[d] = w(Float(fp[a]))
        case .f32DemoteF64: fp[d] = w(Float(f64(fp[a])))
        case .f64ConvertI32S: fp[d] = w(Double(s32(fp[a])))
        case .f64ConvertI32U: fp[d] = w(Double(i32(fp[a])))
        case .f64ConvertI64S: fp[d] = w(Double(Int64(bitPattern: fp[a])))
        case .f64ConvertI64U: fp[d] = w(Double(fp[a]))
        case .f64PromoteF32: fp[d] = w(Double(f32(fp[a])))
        case .i32Extend8S: fp[d] = w(Int32(Int8(truncatingIfNeeded: fp[a])))
        case .i32Extend16S: fp[d] = w(Int32(Int16(truncatingIfNeeded: fp[a])))
        case .i64Extend8S: fp[d] = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: fp[a])))
        case .i64Extend16S: fp[d] = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: fp[a])))
        case .i64Extend32S: fp[d] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: fp[a])))
        case .i32TruncSatF32S: fp[d] = w(saturateSigned(f32(fp[a]), Int32.self))
        case .i32TruncSatF32U: fp[d] = w(saturateUnsigned(f32(fp[a]), UInt32.self))
        case .i32TruncSatF64S: fp[d] = w(saturateSigned(f64(fp[a]), Int32.self))
        case .i32TruncSatF64U: fp[d] = w(saturateUnsigned(f64(fp[a]), UInt32.self))
        case .i64TruncSatF32S: fp[d] = UInt64(bitPattern: saturateSigned(f32(fp[a]), Int64.self))
        case .i64TruncSatF32U: fp[d] = saturateUnsigned(f32(fp[a]), UInt64.self)
        case .i64TruncSatF64S: fp[d] = UInt64(bitPattern: saturateSigned(f64(fp[a]), Int64.self))
        case .i64TruncSatF64U: fp[d] = saturateUnsigned(f64(fp[a]), UInt64.self)
            }
            pc &+= 1
        }
    }
}

extension FunctionCode {
    static let empty = FunctionCode(typeIndex: 0, type: FunctionType(parameters: [], results: []), localCount: 0,
                                    maximumHeight: 0, words: [UInt64(Op.unreachable.rawValue)])
}
