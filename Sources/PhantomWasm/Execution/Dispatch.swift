import CPhantomDispatch
import PhantomSpace

/// What the dispatch handlers share besides the four hot registers they pass
/// each other in machine registers (frame pointer, pc, memory base and size).
/// It lives on the native stack of `Interpreter.dispatch` for one `run`.
struct Machine {
    let interpreter: Interpreter
    /// The slower registers, brought up to date around the non-inlined helpers.
    var r: Registers
    /// Why the loop stopped; a trap wins over it.
    var stop: Stop = .finished
    var trap: Trap?
    /// A trap raised by a hot handler, turned into `trap` when the loop is left.
    var pendingTrap: PendingTrap = .none
    /// The exit words after the current function's code (pc there leaves the loop).
    var exit: UnsafeMutablePointer<UInt64>
}

/// Exit words after every function's code: enough that an instruction which
/// trapped part-way may still advance pc by its length (up to three words) and
/// land on one.
let threadedExitWords = 4



/// The traps of the hot handlers (loads, stores, division): recorded as one byte
/// so that the handler's trap path needs no call.
enum PendingTrap: UInt8 {
    case none, outOfBoundsMemory, divideByZero, integerOverflow

    var message: String {
        switch self {
        case .none: ""
        case .outOfBoundsMemory: "out of bounds memory access"
        case .divideByZero: "integer divide by zero"
        case .integerOverflow: "integer overflow"
        }
    }
}

/// Ends the thread with `trap` and leaves the loop.
@inline(__always)
func raise(_ machine: UnsafeMutablePointer<Machine>, _ trap: PendingTrap, _ pc: inout UnsafeMutablePointer<UInt64>) {
    machine.pointee.pendingTrap = trap
    pc = machine.pointee.exit
}

extension Interpreter {
    /// Runs the thread from `state` until it finishes, yields, blocks, exits or traps.
    ///
    /// Tail-call threaded (see `PhantomDispatch.h`): every opcode has its own
    /// handler, which runs `phantomExecute` for that opcode and jumps straight to
    /// the next instruction's handler. The loop is left through the exit words after the code.
    func dispatch(_ state: inout Registers) throws(Trap) -> Stop {
        try runThreaded(self, &state)
    }
}

@inline(never)
func runThreaded(_ interpreter: Interpreter, _ state: inout Registers) throws(Trap) -> Stop {
        var machine = Machine(interpreter: interpreter, r: state, exit: state.code + state.function.count)
        let pc = state.code + state.pc
        let memory = state.memoryBase.assumingMemoryBound(to: UInt8.self)
        let dirty = interpreter.dirtyFlags(of: state)
        withUnsafeMutablePointer(to: &machine) { machine in
            phantom_dispatch_start(state.fp, pc, memory, state.memorySize, dirty, Int64(state.fuel), machine,
                                   phantom_handler_table())
        }
        state = machine.r
        if machine.pendingTrap != .none { throw Trap(machine.pendingTrap.message) }
        if let trap = machine.trap { throw trap }
        return machine.stop
}

/// Leaves the dispatch loop with `stop` (the handler's caller jumps to the exit handler).
@inline(__always)
func leave(_ machine: UnsafeMutablePointer<Machine>, _ stop: Stop, _ pc: inout UnsafeMutablePointer<UInt64>) {
    machine.pointee.stop = stop
    pc = machine.pointee.exit
}

/// Reloads the hot registers after a helper changed `Registers` (call, return,
/// bulk memory, tables).
@inline(__always)
func reload(_ machine: UnsafeMutablePointer<Machine>, _ fp: inout UnsafeMutablePointer<UInt64>,
            _ pc: inout UnsafeMutablePointer<UInt64>, _ memory: inout UnsafeMutablePointer<UInt8>,
            _ memorySize: inout UInt64, _ dirty: inout UnsafeMutablePointer<UInt8>, _ handlers: inout Int) {
    let r = machine.pointee.r
    machine.pointee.exit = r.code + r.function.count
    fp = r.fp
    pc = r.code + r.pc
    memory = r.memoryBase.assumingMemoryBound(to: UInt8.self)
    memorySize = r.memorySize
    dirty = machine.pointee.interpreter.dirtyFlags(of: r)
}

/// A taken branch back into a loop (it targets the instruction after the loop's
/// `loopHeader`): the header's safepoint, done here so the back-edge does not
/// dispatch the header. A yield leaves pc at the header. The slow path may
/// park, across a copy-on-write cut: it hands back the dirty map to go on with.
@inline(__always)
func backEdge(_ machine: UnsafeMutablePointer<Machine>, _ fp: UnsafeMutablePointer<UInt64>, _ fuel: inout Int64,
              _ dirty: inout UnsafeMutablePointer<UInt8>, _ handlers: Int, to next: UnsafeMutablePointer<UInt64>) -> Bool {
    fuel &-= 1
    if fuel < 0 || machine.pointee.interpreter.safepoints.isRequested {
        guard let current = phantom_back_edge_call(dirty, fuel, machine, handlers, fp, next) else { return false }
        dirty = current
    }
    return true
}

/// Reached through `phantom_back_edge` (C, so the handler saves no registers).
/// The dirty flags of the current memory to go on with, or nil to yield.
@_cdecl("phantom_back_edge_slow")
func backEdgeSlow(_ machineAddress: UnsafeMutableRawPointer, _ fp: UnsafeMutablePointer<UInt64>, _ fuel: Int64,
                  _ next: UnsafeMutablePointer<UInt64>) -> UnsafeMutablePointer<UInt8>? {
    let machine = machineAddress.assumingMemoryBound(to: Machine.self)
    let header = next - 1
    machine.pointee.r.sp = fp + Int(header.pointee >> 8)
    machine.pointee.r.fuel = Int(fuel)
    guard machine.pointee.interpreter.safepointSlow(&machine.pointee.r, pc: header - machine.pointee.r.code) else { return nil }
    return machine.pointee.interpreter.dirtyFlags(of: machine.pointee.r)
}

/// The branch target stored in `word`, relative to the word itself.
@inline(__always)
func target(_ word: UnsafeMutablePointer<UInt64>) -> UnsafeMutablePointer<UInt64> {
    word + Int(truncatingIfNeeded: Int64(bitPattern: word.pointee))
}

/// Continues at `next`; a jump back into a loop is a back-edge and takes the
/// loop header's safepoint (`backEdge`), which may end the run with a yield.
@inline(__always)
func jump(_ machine: UnsafeMutablePointer<Machine>, _ fp: UnsafeMutablePointer<UInt64>, _ fuel: inout Int64,
          _ dirty: inout UnsafeMutablePointer<UInt8>, _ handlers: Int, _ pc: inout UnsafeMutablePointer<UInt64>,
          to next: UnsafeMutablePointer<UInt64>) {
    if next <= pc, !backEdge(machine, fp, &fuel, &dirty, handlers, to: next) { return leave(machine, .yield, &pc) }
    pc = next
}

/// A safepoint at a loop header or call: one unit of fuel; false when fuel ran
/// out. The slow path may park, across a copy-on-write cut: `dirty` is reloaded.
@inline(__always)
func safepoint(_ machine: UnsafeMutablePointer<Machine>, _ fuel: inout Int64, _ dirty: inout UnsafeMutablePointer<UInt8>,
               at pc: UnsafeMutablePointer<UInt64>) -> Bool {
    fuel &-= 1
    if fuel < 0 || machine.pointee.interpreter.safepoints.isRequested {
        machine.pointee.r.fuel = Int(fuel)
        let goOn = machine.pointee.interpreter.safepointSlow(&machine.pointee.r, pc: pc - machine.pointee.r.code)
        dirty = machine.pointee.interpreter.dirtyFlags(of: machine.pointee.r)
        return goOn
    }
    return true
}

/// A load of `T` at guest address `base + offset`: one bounds compare. Out of
/// bounds it raises the trap (pc then points at the exit words) and returns 0.
@inline(__always)
func loadChecked<T: FixedWidthInteger>(_ machine: UnsafeMutablePointer<Machine>, _ pc: inout UnsafeMutablePointer<UInt64>,
                                       _ memory: UnsafeMutablePointer<UInt8>, _ memorySize: UInt64, _ base: UInt64,
                                       _ offset: UInt64, _: T.Type) -> T {
    let address = UInt64(UInt32(truncatingIfNeeded: base)) &+ offset
    guard address &+ UInt64(MemoryLayout<T>.size) <= memorySize else {
        raise(machine, .outOfBoundsMemory, &pc)
        return 0
    }
    return UnsafeRawPointer(memory).loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: address), as: T.self)
}

/// A store of `value` at guest address `base + offset`: one bounds compare, and
/// the page(s) it touches marked dirty (one byte compare each when already marked).
/// Out of bounds it raises the trap, stores nothing and returns false.
@inline(__always) @discardableResult
func storeMarking<T: FixedWidthInteger>(_ machine: UnsafeMutablePointer<Machine>, _ pc: inout UnsafeMutablePointer<UInt64>,
                                        _ memory: UnsafeMutablePointer<UInt8>,
                                        _ memorySize: UInt64, _ dirty: UnsafeMutablePointer<UInt8>, _ fuel: Int64,
                                        _ handlers: Int,
                                        _ base: UInt64, _ offset: UInt64, _ value: T) -> Bool {
    let address = UInt64(UInt32(truncatingIfNeeded: base)) &+ offset
    guard address &+ UInt64(MemoryLayout<T>.size) <= memorySize else {
        raise(machine, .outOfBoundsMemory, &pc)
        return false
    }
    // The memory starts on a page boundary of the space (`loadMemory` checks), so
    // guest page k of 4 KiB is space page dirty[k]. Marked before the store: the
    // slow path may first save the page for a copy-on-write capture in flight.
    let first = address >> 12
    let last = (address &+ UInt64(MemoryLayout<T>.size - 1)) >> 12
    if dirty[Int(truncatingIfNeeded: first)] == 0 || dirty[Int(truncatingIfNeeded: last)] == 0 {
        phantom_mark_dirty_call(dirty, fuel, machine, handlers, machine.pointee.r.memoryOffset &+ address, Int64(MemoryLayout<T>.size))
    }
    UnsafeMutableRawPointer(memory).storeBytes(of: value, toByteOffset: Int(truncatingIfNeeded: address), as: T.self)
    return true
}

/// `local.tee p (i32.add a b)` and a load at p (`[op | d | a | b, local | offset<<16]`).
@inline(__always)
func teeLoad<T: FixedWidthInteger>(_ machine: UnsafeMutablePointer<Machine>, _ pc: inout UnsafeMutablePointer<UInt64>,
                                   _ memory: UnsafeMutablePointer<UInt8>, _ memorySize: UInt64,
                                   _ fp: UnsafeMutablePointer<UInt64>, _ a: Int, _ b: Int, _: T.Type) -> T {
    let extra = pc[1]
    let address = i32(fp[a]) &+ i32(fp[b])
    fp[Int(truncatingIfNeeded: extra & 0xffff)] = w(address)
    return loadChecked(machine, &pc, memory, memorySize, UInt64(address), extra >> 16, T.self)
}

/// An i32 load into `d` from `fp[a]` + offset (`pc[1]`), then a jump to the target
/// (`pc[2]`) when the value is zero (`whenZero`) or non-zero. Out of bounds it
/// raises the trap and neither writes nor jumps.
@inline(__always)
func loadAndBranch(_ machine: UnsafeMutablePointer<Machine>, _ pc: inout UnsafeMutablePointer<UInt64>,
                   _ memory: UnsafeMutablePointer<UInt8>, _ memorySize: UInt64, _ fp: UnsafeMutablePointer<UInt64>,
                   _ fuel: inout Int64, _ dirty: inout UnsafeMutablePointer<UInt8>, _ handlers: Int, _ d: Int, _ a: Int,
                   whenZero: Bool) {
    let address = UInt64(UInt32(truncatingIfNeeded: fp[a])) &+ pc[1]
    guard address &+ 4 <= memorySize else { return raise(machine, .outOfBoundsMemory, &pc) }
    let value = UnsafeRawPointer(memory).loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: address), as: UInt32.self)
    fp[d] = UInt64(value)
    jump(machine, fp, &fuel, &dirty, handlers, &pc, to: (value == 0) == whenZero ? target(pc + 2) : pc + 3)
}

/// A read-modify-write of the 8 bytes at `base + offset`: one bounds check for both.
@inline(__always)
func updateChecked(_ machine: UnsafeMutablePointer<Machine>, _ pc: inout UnsafeMutablePointer<UInt64>,
                   _ memory: UnsafeMutablePointer<UInt8>, _ memorySize: UInt64, _ dirty: UnsafeMutablePointer<UInt8>,
                   _ fuel: Int64, _ handlers: Int, _ base: UInt64, _ offset: UInt64, _ update: (UInt64) -> UInt64) {
    let address = UInt64(UInt32(truncatingIfNeeded: base)) &+ offset
    guard address &+ 8 <= memorySize else {
        raise(machine, .outOfBoundsMemory, &pc)
        return
    }
    if dirty[Int(truncatingIfNeeded: address >> 12)] == 0 || dirty[Int(truncatingIfNeeded: (address &+ 7) >> 12)] == 0 {
        phantom_mark_dirty_call(dirty, fuel, machine, handlers, machine.pointee.r.memoryOffset &+ address, 8)
    }
    let target = UnsafeMutableRawPointer(memory) + Int(truncatingIfNeeded: address)
    target.storeBytes(of: update(target.loadUnaligned(as: UInt64.self)), as: UInt64.self)
}

/// The page a store touched was clean: mark it (reached through `phantom_mark_dirty`).
/// Unchecked: the store checked its address against the memory's size, and the
/// memory lies inside the space (checked on restore, RestoreValidation.swift).
@_cdecl("phantom_mark_dirty_slow")
func markDirtySlow(_ machine: UnsafeMutableRawPointer, _ offset: UInt64, _ count: Int64) {
    machine.assumingMemoryBound(to: Machine.self).pointee.interpreter.space.markDirtyUnchecked(offset, count: Int(count))
}

/// One instruction: the body of every handler in `PhantomDispatch.h`, which
/// inlines it with a constant `opcode`, so each handler keeps only its own case.
/// Leaves pc at the next instruction (or at the exit words).
@_silgen_name("phantom_execute") @inline(__always)
func phantomExecute(_ opcode: UInt8, _ fp: inout UnsafeMutablePointer<UInt64>, _ pc: inout UnsafeMutablePointer<UInt64>,
                    _ memory: inout UnsafeMutablePointer<UInt8>, _ memorySize: inout UInt64,
                    _ dirty: inout UnsafeMutablePointer<UInt8>, _ fuel: inout Int64,
                    _ machineAddress: UnsafeMutableRawPointer, _ handlers: inout Int) {
    let machine = machineAddress.assumingMemoryBound(to: Machine.self)
    // Each field is its own 16-bit load; the whole word is read only where needed.
    let instruction = UnsafeRawPointer(pc)
    let d = Int(instruction.load(fromByteOffset: 2, as: UInt16.self))
    let a = Int(instruction.load(fromByteOffset: 4, as: UInt16.self))
    let b = Int(instruction.load(fromByteOffset: 6, as: UInt16.self))
    var word: UInt64 { pc.pointee }
    var code: UnsafeMutablePointer<UInt64> { machine.pointee.r.code }
    // A plain comparison and reinterpretation (not `Op(rawValue:)`, a call) so that
    // the constant opcode of each handler folds the switch to its one case.
    guard opcode <= Op.lastRawValue else {
        machine.pointee.trap = Trap("invalid instruction \(opcode)")
        pc = machine.pointee.exit
        return
    }
    let op = unsafeBitCast(opcode, to: Op.self)
    do throws(Trap) {
        switch op {
            case .unreachable: throw Trap("unreachable")
            case .jump:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: target(pc + 1))
            case .br:
                machine.pointee.interpreter.move(fp, word)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: target(pc + 1))
            case .brIf:
                if UInt32(truncatingIfNeeded: fp[b]) != 0 {
                    machine.pointee.interpreter.move(fp, word)
                    let next = target(pc + 1)
                    if next <= pc, !backEdge(machine, fp, &fuel, &dirty, handlers, to: next) { return leave(machine, .yield, &pc) }
                    pc = next
                } else {
                    pc += 2
                }
                return
            case .brIfJump:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: UInt32(truncatingIfNeeded: fp[a]) != 0 ? target(pc + 1) : pc + 2)
            case .brUnless:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: UInt32(truncatingIfNeeded: fp[a]) == 0 ? target(pc + 1) : pc + 2)
            case .brTable:
                machine.pointee.r.sp -= 1
                let count = Int(word >> 8)
                let index = min(Int(UInt32(truncatingIfNeeded: machine.pointee.r.sp.pointee)), count)
                let entry = pc + 1 + index * 2
                let packed = entry.pointee
                if packed & 1 == 0 {
                    machine.pointee.r.sp = fp + Field.b(packed)
                    if try machine.pointee.interpreter.doReturn(&machine.pointee.r) { return leave(machine, .finished, &pc) }
                    reload(machine, &fp, &pc, &memory, &memorySize, &dirty, &handlers)
                } else {
                    machine.pointee.interpreter.move(fp, packed)
                    let next = target(entry + 1)
                    if next <= pc, !backEdge(machine, fp, &fuel, &dirty, handlers, to: next) { return leave(machine, .yield, &pc) }
                    pc = next
                }
                return
            case .loopHeader:
                machine.pointee.r.sp = fp + Int(word >> 8)
                if !safepoint(machine, &fuel, &dirty, at: pc) { return leave(machine, .yield, &pc) }
                pc += 1
                return
            case .return:
                machine.pointee.r.sp = fp + Int(word >> 8)
                if try machine.pointee.interpreter.doReturn(&machine.pointee.r) { return leave(machine, .finished, &pc) }
                reload(machine, &fp, &pc, &memory, &memorySize, &dirty, &handlers)
                return
            case .returnIf:
                machine.pointee.r.sp = fp + Int(word >> 8)
                if UInt32(truncatingIfNeeded: machine.pointee.r.sp.pointee) != 0 {
                    if try machine.pointee.interpreter.doReturn(&machine.pointee.r) { return leave(machine, .finished, &pc) }
                    reload(machine, &fp, &pc, &memory, &memorySize, &dirty, &handlers)
                } else {
                    pc += 1
                }
                return
            case .call:
                machine.pointee.r.sp = fp + Int(word >> 40)
                if !safepoint(machine, &fuel, &dirty, at: pc) { return leave(machine, .yield, &pc) }
                let reference = machine.pointee.r.instance.functionRefs[Int((word >> 8) & 0xffff_ffff)]
                let here = pc - code
                if let stop = try machine.pointee.interpreter.call(&machine.pointee.r, reference, callPC: here,
                                                                    returnPC: here &+ 1, spBefore: machine.pointee.r.sp) {
                    return leave(machine, stop, &pc)
                }
                reload(machine, &fp, &pc, &memory, &memorySize, &dirty, &handlers)
                return
            case .callIndirect:
                machine.pointee.r.sp = fp + Int(truncatingIfNeeded: pc[1])
                if !safepoint(machine, &fuel, &dirty, at: pc) { return leave(machine, .yield, &pc) }
                let spBefore = machine.pointee.r.sp
                let reference = try machine.pointee.interpreter.indirectTarget(&machine.pointee.r, word)
                let here = pc - code
                if let stop = try machine.pointee.interpreter.call(&machine.pointee.r, reference, callPC: here,
                                                                    returnPC: here &+ 2, spBefore: spBefore) {
                    return leave(machine, stop, &pc)
                }
                reload(machine, &fp, &pc, &memory, &memorySize, &dirty, &handlers)
                return
            case .setSP:
                machine.pointee.r.sp = fp + Int(word >> 8)
            case .memoryGrow, .memoryInit, .dataDrop, .memoryCopy, .memoryFill:
                machine.pointee.r.pc = pc - code
                try machine.pointee.interpreter.memory(&machine.pointee.r, op, word)
                reload(machine, &fp, &pc, &memory, &memorySize, &dirty, &handlers)
                return
            case .tableGet, .tableSet, .tableSize, .tableGrow, .tableFill, .tableCopy, .tableInit, .elemDrop:
                machine.pointee.r.pc = pc - code
                try machine.pointee.interpreter.table(&machine.pointee.r, op, word)
                reload(machine, &fp, &pc, &memory, &memorySize, &dirty, &handlers)
                return
            case .brI32Eq:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) == i32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32Ne:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) != i32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32LtS:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: s32(fp[a]) < s32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32LtU:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) < i32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32GtS:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: s32(fp[a]) > s32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32GtU:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) > i32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32LeS:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: s32(fp[a]) <= s32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32LeU:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) <= i32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32GeS:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: s32(fp[a]) >= s32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32GeU:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) >= i32(fp[b]) ? target(pc + 1) : pc + 2)
            case .brI32Eqz:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) == 0 ? target(pc + 1) : pc + 2)
            case .brI32Nez:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) != 0 ? target(pc + 1) : pc + 2)
            case .i32AddImm:
                let k = pc[1]
                fp[d] = w(i32(fp[a]) &+ i32(k))
                pc += 2
                return
            case .i32MulImm:
                let k = pc[1]
                fp[d] = w(i32(fp[a]) &* i32(k))
                pc += 2
                return
            case .i32AndImm:
                let k = pc[1]
                fp[d] = w(i32(fp[a]) & i32(k))
                pc += 2
                return
            case .i32OrImm:
                let k = pc[1]
                fp[d] = w(i32(fp[a]) | i32(k))
                pc += 2
                return
            case .i32XorImm:
                let k = pc[1]
                fp[d] = w(i32(fp[a]) ^ i32(k))
                pc += 2
                return
            case .i32ShlImm:
                let k = pc[1]
                fp[d] = w(i32(fp[a]) &<< i32(k))
                pc += 2
                return
            case .i32ShrSImm:
                let k = pc[1]
                fp[d] = w(s32(fp[a]) &>> s32(k))
                pc += 2
                return
            case .i32ShrUImm:
                let k = pc[1]
                fp[d] = w(i32(fp[a]) &>> i32(k))
                pc += 2
                return
            case .i32EqImm:
                let k = pc[1]
                fp[d] = bit(i32(fp[a]) == i32(k))
                pc += 2
                return
            case .i32NeImm:
                let k = pc[1]
                fp[d] = bit(i32(fp[a]) != i32(k))
                pc += 2
                return
            case .i32LtSImm:
                let k = pc[1]
                fp[d] = bit(s32(fp[a]) < s32(k))
                pc += 2
                return
            case .i32LtUImm:
                let k = pc[1]
                fp[d] = bit(i32(fp[a]) < i32(k))
                pc += 2
                return
            case .i32GtSImm:
                let k = pc[1]
                fp[d] = bit(s32(fp[a]) > s32(k))
                pc += 2
                return
            case .i32GtUImm:
                let k = pc[1]
                fp[d] = bit(i32(fp[a]) > i32(k))
                pc += 2
                return
            case .i32LeSImm:
                let k = pc[1]
                fp[d] = bit(s32(fp[a]) <= s32(k))
                pc += 2
                return
            case .i32LeUImm:
                let k = pc[1]
                fp[d] = bit(i32(fp[a]) <= i32(k))
                pc += 2
                return
            case .i32GeSImm:
                let k = pc[1]
                fp[d] = bit(s32(fp[a]) >= s32(k))
                pc += 2
                return
            case .i32GeUImm:
                let k = pc[1]
                fp[d] = bit(i32(fp[a]) >= i32(k))
                pc += 2
                return
            case .i32RotlImm:
                let k = pc[1]
                fp[d] = w(rotl32(i32(fp[a]), i32(k)))
                pc += 2
                return
            case .i64AddImm:
                let k = pc[1]
                fp[d] = fp[a] &+ k
                pc += 2
                return
            case .i64AndImm:
                let k = pc[1]
                fp[d] = fp[a] & k
                pc += 2
                return
            case .i64ShlImm:
                let k = pc[1]
                fp[d] = fp[a] &<< k
                pc += 2
                return
            case .i64ShrUImm:
                let k = pc[1]
                fp[d] = fp[a] &>> k
                pc += 2
                return
            case .brI32EqImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[d]) == i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32NeImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[d]) != i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32LtSImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: s32(fp[d]) < s32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32LtUImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[d]) < i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32GtSImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: s32(fp[d]) > s32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32GtUImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[d]) > i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32LeSImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: s32(fp[d]) <= s32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32LeUImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[d]) <= i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32GeSImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: s32(fp[d]) >= s32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .brI32GeUImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[d]) >= i32(UInt64(instruction.load(fromByteOffset: 4, as: UInt32.self))) ? target(pc + 1) : pc + 2)
            case .i32LoadAdd: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ fp[b], pc[1], UInt32.self)); pc += 2; return
            case .i64LoadAdd: fp[d] = loadChecked(machine, &pc, memory, memorySize, fp[a] &+ fp[b], pc[1], UInt64.self); pc += 2; return
            case .i32Load8UAdd: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ fp[b], pc[1], UInt8.self)); pc += 2; return
            case .i32LoadAddImm: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ pc[1], pc[2], UInt32.self)); pc += 3; return
            case .i64LoadAddImm: fp[d] = loadChecked(machine, &pc, memory, memorySize, fp[a] &+ pc[1], pc[2], UInt64.self); pc += 3; return
            case .i32Load8UAddImm: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ pc[1], pc[2], UInt8.self)); pc += 3; return
            case .i32StoreAdd: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a] &+ fp[d], pc[1], UInt32(truncatingIfNeeded: fp[b])); pc += 2; return
            case .i64StoreAdd: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a] &+ fp[d], pc[1], fp[b]); pc += 2; return
            case .i32Store8Add: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a] &+ fp[d], pc[1], UInt8(truncatingIfNeeded: fp[b])); pc += 2; return
            case .f64AddStore: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[d], pc[1], w(f64(fp[a]) + f64(fp[b]))); pc += 2; return
            case .f64SubStore: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[d], pc[1], w(f64(fp[a]) - f64(fp[b]))); pc += 2; return
            case .i32AddStore: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[d], pc[1], i32(fp[a]) &+ i32(fp[b])); pc += 2; return
            case .f64MulAddStore:
                let extra = pc[1]
                let product = f64(fp[b]) * f64(fp[Int(truncatingIfNeeded: extra & 0xffff)])
                storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[d], extra >> 16, w(f64(fp[a]) + product)); pc += 2; return
            case .f64MulSubStore:
                let extra = pc[1]
                let product = f64(fp[b]) * f64(fp[Int(truncatingIfNeeded: extra & 0xffff)])
                storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[d], extra >> 16, w(f64(fp[a]) - product)); pc += 2; return
            case .i32Load16SAdd: fp[d] = UInt64(UInt32(bitPattern: Int32(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ fp[b], pc[1], Int16.self)))); pc += 2; return
            case .i32Load16UAdd: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ fp[b], pc[1], UInt16.self)); pc += 2; return
            case .i32Load16SAddImm: fp[d] = UInt64(UInt32(bitPattern: Int32(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ pc[1], pc[2], Int16.self)))); pc += 3; return
            case .i32Load16UAddImm: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ pc[1], pc[2], UInt16.self)); pc += 3; return
            case .i32Store8AddImm: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a] &+ fp[d], pc[1], UInt8(truncatingIfNeeded: b)); pc += 2; return
            case .select:
                let c = Int(truncatingIfNeeded: pc[1])
                fp[d] = UInt32(truncatingIfNeeded: fp[c]) != 0 ? fp[a] : fp[b]
                pc += 2
                return
            case .f64AddImm:
                fp[d] = w(f64(fp[a]) + f64(pc[1]))
                pc += 2
                return
            case .f64MulImm:
                fp[d] = w(f64(fp[a]) * f64(pc[1]))
                pc += 2
                return
            case .brI32AddImmNeImm:
                let value = i32(fp[a]) &+ i32(pc[1])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: value != UInt32(truncatingIfNeeded: pc[1] >> 32) ? target(pc + 2) : pc + 3)
            case .brI32AddImmLtSImm:
                let value = i32(fp[a]) &+ i32(pc[1])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: Int32(bitPattern: value) < Int32(truncatingIfNeeded: pc[1] >> 32) ? target(pc + 2) : pc + 3)
            case .brI32AddImmLtUImm:
                let value = i32(fp[a]) &+ i32(pc[1])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: value < UInt32(truncatingIfNeeded: pc[1] >> 32) ? target(pc + 2) : pc + 3)
            case .brI32AddImmGtSImm:
                let value = i32(fp[a]) &+ i32(pc[1])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: Int32(bitPattern: value) > Int32(truncatingIfNeeded: pc[1] >> 32) ? target(pc + 2) : pc + 3)
            case .brI32AddImmEqImm:
                let value = i32(fp[a]) &+ i32(pc[1])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: value == UInt32(truncatingIfNeeded: pc[1] >> 32) ? target(pc + 2) : pc + 3)
            case .brI32AddImmGeSImm:
                let value = i32(fp[a]) &+ i32(pc[1])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: Int32(bitPattern: value) >= Int32(truncatingIfNeeded: pc[1] >> 32) ? target(pc + 2) : pc + 3)
            case .brI32AddImmGeUImm:
                let value = i32(fp[a]) &+ i32(pc[1])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: value >= UInt32(truncatingIfNeeded: pc[1] >> 32) ? target(pc + 2) : pc + 3)
            case .brI32AddImmLeSImm:
                let value = i32(fp[a]) &+ i32(pc[1])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: Int32(bitPattern: value) <= Int32(truncatingIfNeeded: pc[1] >> 32) ? target(pc + 2) : pc + 3)
            case .brI32AddLtU:
                let value = i32(fp[a]) &+ i32(fp[b])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: value < i32(fp[Int(truncatingIfNeeded: pc[1])]) ? target(pc + 2) : pc + 3)
            case .brI32AddLtS:
                let value = i32(fp[a]) &+ i32(fp[b])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: Int32(bitPattern: value) < s32(fp[Int(truncatingIfNeeded: pc[1])]) ? target(pc + 2) : pc + 3)
            case .brI32AddNe:
                let value = i32(fp[a]) &+ i32(fp[b])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: value != i32(fp[Int(truncatingIfNeeded: pc[1])]) ? target(pc + 2) : pc + 3)
            case .brI32AddGeU:
                let value = i32(fp[a]) &+ i32(fp[b])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: value >= i32(fp[Int(truncatingIfNeeded: pc[1])]) ? target(pc + 2) : pc + 3)
            case .brI32AddGeS:
                let value = i32(fp[a]) &+ i32(fp[b])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: Int32(bitPattern: value) >= s32(fp[Int(truncatingIfNeeded: pc[1])]) ? target(pc + 2) : pc + 3)
            case .brI32AddEq:
                let value = i32(fp[a]) &+ i32(fp[b])
                fp[d] = w(value)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: value == i32(fp[Int(truncatingIfNeeded: pc[1])]) ? target(pc + 2) : pc + 3)
            case .f64MulAddUpdate:
                updateChecked(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[d], pc[1]) { w(f64($0) + f64(fp[a]) * f64(fp[b])) }
                pc += 2
                return
            case .f64MulSubUpdate:
                updateChecked(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[d], pc[1]) { w(f64($0) - f64(fp[a]) * f64(fp[b])) }
                pc += 2
                return
            case .i32LoadAddTee:
                fp[d] = UInt64(teeLoad(machine, &pc, memory, memorySize, fp, a, b, UInt32.self))
                pc += 2
                return
            case .i64LoadAddTee:
                fp[d] = teeLoad(machine, &pc, memory, memorySize, fp, a, b, UInt64.self)
                pc += 2
                return
            case .i32MulLoad16SAddImm:
                let loaded = Int32(loadChecked(machine, &pc, memory, memorySize, fp[b] &+ pc[1], pc[2], Int16.self))
                fp[d] = w(i32(fp[a]) &* UInt32(bitPattern: loaded))
                pc += 3
                return
            case .i32RotlXorRotlImm:
                let constants = pc[1]
                fp[d] = w(rotl32(i32(fp[a]), i32(constants)) ^ rotl32(i32(fp[b]), i32(constants >> 32)))
                pc += 2
                return
            case .f64SubLoadAddImm:
                let loaded = loadChecked(machine, &pc, memory, memorySize, fp[b] &+ pc[1], pc[2], UInt64.self)
                fp[d] = w(f64(fp[a]) - f64(loaded))
                pc += 3
                return
            case .copy: fp[d] = fp[a]
            case .i32MulLoad16SPair:
                let constants = pc[1], offsets = pc[2]
                let x = Int32(loadChecked(machine, &pc, memory, memorySize, fp[a] &+ (constants & 0xffff_ffff), offsets & 0xffff_ffff, Int16.self))
                let y = Int32(loadChecked(machine, &pc, memory, memorySize, fp[b] &+ (constants >> 32), offsets >> 32, Int16.self))
                fp[d] = w(UInt32(bitPattern: x &* y))
                pc += 3
                return
            case .i32AddEqz: fp[d] = w(i32(fp[a]) &+ (i32(fp[b]) == 0 ? 1 : 0))
            case .i64Add3:
                fp[d] = fp[a] &+ fp[b] &+ fp[Int(truncatingIfNeeded: pc[1])]
                pc += 2
                return
            case .copyJump:
                fp[d] = fp[a]
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: target(pc + 1))
            case .i32LoadBrIf:
                return loadAndBranch(machine, &pc, memory, memorySize, fp, &fuel, &dirty, handlers, d, a, whenZero: false)
            case .i32LoadBrUnless:
                return loadAndBranch(machine, &pc, memory, memorySize, fp, &fuel, &dirty, handlers, d, a, whenZero: true)
            case .brI32EqAndImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) == i32(fp[b]) & i32(pc[1]) ? target(pc + 2) : pc + 3)
            case .brI32NeAndImm:
                return jump(machine, fp, &fuel, &dirty, handlers, &pc, to: i32(fp[a]) != i32(fp[b]) & i32(pc[1]) ? target(pc + 2) : pc + 3)
            case .copy2:
                fp[d] = fp[a]
                fp[b] = fp[Int(truncatingIfNeeded: pc[1])]
                pc += 2
                return
            case .copy3:
                let extra = pc[1]
                fp[d] = fp[a]
                fp[b] = fp[Int(truncatingIfNeeded: extra & 0xffff)]
                fp[Int(truncatingIfNeeded: (extra >> 16) & 0xffff)] = fp[Int(truncatingIfNeeded: (extra >> 32) & 0xffff)]
                pc += 2
                return
            case .i32Add3:
                fp[d] = w(i32(fp[a]) &+ i32(fp[b]) &+ i32(fp[Int(truncatingIfNeeded: pc[1])]))
                pc += 2
                return
            case .i32MulAdd:
                fp[d] = w(i32(fp[a]) &+ i32(fp[b]) &* i32(fp[Int(truncatingIfNeeded: pc[1])]))
                pc += 2
                return
            case .i32XorRotlImm:
                fp[d] = w(i32(fp[a]) ^ rotl32(i32(fp[b]), i32(pc[1])))
                pc += 2
                return
            case .i32XorShlImm:
                fp[d] = w(i32(fp[a]) ^ (i32(fp[b]) &<< i32(pc[1])))
                pc += 2
                return
            case .f64MulSqrt: fp[d] = w(f64(fp[a]) * f64(fp[b]).squareRoot())
            case .f64DivSqrt: fp[d] = w(f64(fp[a]) / f64(fp[b]).squareRoot())
            case .f64DivMulSqrt:
                let c = f64(fp[Int(truncatingIfNeeded: pc[1])])
                fp[d] = w(f64(fp[a]) / (f64(fp[b]) * c.squareRoot()))
                pc += 2
                return
            case .i32Store8AddImmBrAddLtU:
                let extra = pc[1]
                // A trapping store neither steps nor jumps.
                guard storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a] &+ fp[d], extra >> 24,
                                   UInt8(truncatingIfNeeded: extra)) else { return }
                let index = i32(fp[d]) &+ i32(fp[b])
                fp[d] = w(index)
                return jump(machine, fp, &fuel, &dirty, handlers, &pc,
                            to: index < i32(fp[Int(truncatingIfNeeded: (extra >> 8) & 0xffff)]) ? target(pc + 2) : pc + 3)
            case .i32XorAnd:
                fp[d] = w(i32(fp[a]) ^ (i32(fp[b]) & i32(fp[Int(truncatingIfNeeded: pc[1])])))
                pc += 2
                return
            case .i32AndXor:
                fp[d] = w(i32(fp[a]) & (i32(fp[b]) ^ i32(fp[Int(truncatingIfNeeded: pc[1])])))
                pc += 2
                return
            case .i32XorShrUImm:
                fp[d] = w(i32(fp[a]) ^ (i32(fp[b]) &>> i32(pc[1])))
                pc += 2
                return
            case .f64MulAdd:
                fp[d] = w(f64(fp[a]) + f64(fp[b]) * f64(fp[Int(truncatingIfNeeded: pc[1])]))
                pc += 2
                return
            case .globalGet: fp[d] = machine.pointee.interpreter.space.load(UInt64.self, at: machine.pointee.r.instance.globalCells[Int(word >> 32)])
            case .globalSet: machine.pointee.interpreter.space.store(fp[d], at: machine.pointee.r.instance.globalCells[Int(word >> 32)])
            case .i32Const: fp[d] = word >> 32
            case .i64Const:
                fp[d] = pc[1]
                pc += 2
                return
            case .refFunc: fp[d] = machine.pointee.r.instance.functionRefs[Int(word >> 32)]
            // Loads and stores: one bounds compare each; stores mark their page(s).
            case .i32Load, .f32Load: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], UInt32.self)); pc += 2; return
            case .i64Load, .f64Load: fp[d] = loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], UInt64.self); pc += 2; return
            case .i32Load8S: fp[d] = UInt64(UInt32(bitPattern: Int32(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], Int8.self)))); pc += 2; return
            case .i32Load8U: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], UInt8.self)); pc += 2; return
            case .i32Load16S: fp[d] = UInt64(UInt32(bitPattern: Int32(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], Int16.self)))); pc += 2; return
            case .i32Load16U: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], UInt16.self)); pc += 2; return
            case .i64Load8S: fp[d] = UInt64(bitPattern: Int64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], Int8.self))); pc += 2; return
            case .i64Load8U: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], UInt8.self)); pc += 2; return
            case .i64Load16S: fp[d] = UInt64(bitPattern: Int64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], Int16.self))); pc += 2; return
            case .i64Load16U: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], UInt16.self)); pc += 2; return
            case .i64Load32S: fp[d] = UInt64(bitPattern: Int64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], Int32.self))); pc += 2; return
            case .i64Load32U: fp[d] = UInt64(loadChecked(machine, &pc, memory, memorySize, fp[a], pc[1], UInt32.self)); pc += 2; return
            case .i32Store, .f32Store: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a], pc[1], UInt32(truncatingIfNeeded: fp[b])); pc += 2; return
            case .i64Store, .f64Store: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a], pc[1], fp[b]); pc += 2; return
            case .i32Store8, .i64Store8: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a], pc[1], UInt8(truncatingIfNeeded: fp[b])); pc += 2; return
            case .i32Store16, .i64Store16: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a], pc[1], UInt16(truncatingIfNeeded: fp[b])); pc += 2; return
            case .i64Store32: storeMarking(machine, &pc, memory, memorySize, dirty, fuel, handlers, fp[a], pc[1], UInt32(truncatingIfNeeded: fp[b])); pc += 2; return
            case .memorySize: fp[d] = memorySize / MemoryRecord.pageSize
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
        case .i32Add: fp[d] = w(i32(fp[a]) &+ i32(fp[b]))
        case .i32Sub: fp[d] = w(i32(fp[a]) &- i32(fp[b]))
        case .i32Mul: fp[d] = w(i32(fp[a]) &* i32(fp[b]))
        case .i32DivS:
            let x = s32(fp[a]), y = s32(fp[b])
            guard y != 0 else { return raise(machine, .divideByZero, &pc) }
            guard !(x == Int32.min && y == -1) else { return raise(machine, .integerOverflow, &pc) }
            fp[d] = w(x / y)
        case .i32DivU:
            let y = i32(fp[b])
            guard y != 0 else { return raise(machine, .divideByZero, &pc) }
            fp[d] = w(i32(fp[a]) / y)
        case .i32RemS:
            let x = s32(fp[a]), y = s32(fp[b])
            guard y != 0 else { return raise(machine, .divideByZero, &pc) }
            fp[d] = y == -1 ? 0 : w(x % y)
        case .i32RemU:
            let y = i32(fp[b])
            guard y != 0 else { return raise(machine, .divideByZero, &pc) }
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
        case .i64Add: fp[d] = fp[a] &+ fp[b]
        case .i64Sub: fp[d] = fp[a] &- fp[b]
        case .i64Mul: fp[d] = fp[a] &* fp[b]
        case .i64DivS:
            let x = Int64(bitPattern: fp[a]), y = Int64(bitPattern: fp[b])
            guard y != 0 else { return raise(machine, .divideByZero, &pc) }
            guard !(x == Int64.min && y == -1) else { return raise(machine, .integerOverflow, &pc) }
            fp[d] = UInt64(bitPattern: x / y)
        case .i64DivU:
            let y = fp[b]
            guard y != 0 else { return raise(machine, .divideByZero, &pc) }
            fp[d] = fp[a] / y
        case .i64RemS:
            let x = Int64(bitPattern: fp[a]), y = Int64(bitPattern: fp[b])
            guard y != 0 else { return raise(machine, .divideByZero, &pc) }
            fp[d] = y == -1 ? 0 : UInt64(bitPattern: x % y)
        case .i64RemU:
            let y = fp[b]
            guard y != 0 else { return raise(machine, .divideByZero, &pc) }
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
        case .f32Add: fp[d] = w(f32(fp[a]) + f32(fp[b]))
        case .f32Sub: fp[d] = w(f32(fp[a]) - f32(fp[b]))
        case .f32Mul: fp[d] = w(f32(fp[a]) * f32(fp[b]))
        case .f32Div: fp[d] = w(f32(fp[a]) / f32(fp[b]))
        // f64
        case .f64Abs: fp[d] = fp[a] & 0x7fff_ffff_ffff_ffff
        case .f64Neg: fp[d] = fp[a] ^ 0x8000_0000_0000_0000
        case .f64Sqrt: fp[d] = w(f64(fp[a]).squareRoot())
        case .f64Add: fp[d] = w(f64(fp[a]) + f64(fp[b]))
        case .f64Sub: fp[d] = w(f64(fp[a]) - f64(fp[b]))
        case .f64Mul: fp[d] = w(f64(fp[a]) * f64(fp[b]))
        case .f64Div: fp[d] = w(f64(fp[a]) / f64(fp[b]))
        case .extended:
            try executeExtended(fp, d, a, b, instruction.load(fromByteOffset: 1, as: UInt8.self))
        // Conversions
        case .i32WrapI64: fp[d] = fp[a] & 0xffff_ffff
        case .i64ExtendI32S: fp[d] = UInt64(bitPattern: Int64(s32(fp[a])))
        case .i64ExtendI32U: fp[d] = fp[a] & 0xffff_ffff
        case .f64ConvertI32S: fp[d] = w(Double(s32(fp[a])))
        case .f64ConvertI32U: fp[d] = w(Double(i32(fp[a])))
        case .i32Extend8S: fp[d] = w(Int32(Int8(truncatingIfNeeded: fp[a])))
        case .i32Extend16S: fp[d] = w(Int32(Int16(truncatingIfNeeded: fp[a])))
        case .i64Extend8S: fp[d] = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: fp[a])))
        case .i64Extend16S: fp[d] = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: fp[a])))
        case .i64Extend32S: fp[d] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: fp[a])))
        }
        pc += 1
    } catch {
        machine.pointee.trap = error
        pc = machine.pointee.exit
    }
}


/// The rare numeric instructions behind `Op.extended` (their own switch, in the
/// one handler of `.extended`).
@inline(__always)
func executeExtended(_ fp: UnsafeMutablePointer<UInt64>, _ d: Int, _ a: Int, _ b: Int, _ sub: UInt8) throws(Trap) {
    guard let op = ExtendedOp(rawValue: sub) else { throw Trap("invalid instruction \(sub)") }
    switch op {
    case .i32Clz: fp[d] = UInt64(i32(fp[a]).leadingZeroBitCount)
    case .i32Ctz: fp[d] = UInt64(i32(fp[a]).trailingZeroBitCount)
    case .i32Popcnt: fp[d] = UInt64(i32(fp[a]).nonzeroBitCount)
    case .i64Clz: fp[d] = UInt64(fp[a].leadingZeroBitCount)
    case .i64Ctz: fp[d] = UInt64(fp[a].trailingZeroBitCount)
    case .i64Popcnt: fp[d] = UInt64(fp[a].nonzeroBitCount)
    case .f32Abs: fp[d] = fp[a] & 0x7fff_ffff
    case .f32Neg: fp[d] = (fp[a] ^ 0x8000_0000) & 0xffff_ffff
    case .f32Ceil: fp[d] = w(f32(fp[a]).rounded(.up))
    case .f32Floor: fp[d] = w(f32(fp[a]).rounded(.down))
    case .f32Trunc: fp[d] = w(f32(fp[a]).rounded(.towardZero))
    case .f32Nearest: fp[d] = w(f32(fp[a]).rounded(.toNearestOrEven))
    case .f32Sqrt: fp[d] = w(f32(fp[a]).squareRoot())
    case .f32Min: fp[d] = w(wasmMin(f32(fp[a]), f32(fp[b])))
    case .f32Max: fp[d] = w(wasmMax(f32(fp[a]), f32(fp[b])))
    case .f32Copysign: fp[d] = (fp[a] & 0x7fff_ffff) | (fp[b] & 0x8000_0000)
    case .f64Ceil: fp[d] = w(f64(fp[a]).rounded(.up))
    case .f64Floor: fp[d] = w(f64(fp[a]).rounded(.down))
    case .f64Trunc: fp[d] = w(f64(fp[a]).rounded(.towardZero))
    case .f64Nearest: fp[d] = w(f64(fp[a]).rounded(.toNearestOrEven))
    case .f64Min: fp[d] = w(wasmMin(f64(fp[a]), f64(fp[b])))
    case .f64Max: fp[d] = w(wasmMax(f64(fp[a]), f64(fp[b])))
    case .f64Copysign: fp[d] = (fp[a] & 0x7fff_ffff_ffff_ffff) | (fp[b] & 0x8000_0000_0000_0000)
    case .i32TruncF32S: fp[d] = w(Int32(try truncate(f32(fp[a]), lower: -2147483648, upper: 2147483648)))
    case .i32TruncF32U: fp[d] = w(UInt32(try truncate(f32(fp[a]), lower: -0.0, upper: 4294967296)))
    case .i32TruncF64S: fp[d] = w(Int32(try truncate(f64(fp[a]), lower: -2147483648, upper: 2147483648)))
    case .i32TruncF64U: fp[d] = w(UInt32(try truncate(f64(fp[a]), lower: -0.0, upper: 4294967296)))
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
    case .f64ConvertI64S: fp[d] = w(Double(Int64(bitPattern: fp[a])))
    case .f64ConvertI64U: fp[d] = w(Double(fp[a]))
    case .f64PromoteF32: fp[d] = w(Double(f32(fp[a])))
    case .i32TruncSatF32S: fp[d] = w(saturateSigned(f32(fp[a]), Int32.self))
    case .i32TruncSatF32U: fp[d] = w(saturateUnsigned(f32(fp[a]), UInt32.self))
    case .i32TruncSatF64S: fp[d] = w(saturateSigned(f64(fp[a]), Int32.self))
    case .i32TruncSatF64U: fp[d] = w(saturateUnsigned(f64(fp[a]), UInt32.self))
    case .i64TruncSatF32S: fp[d] = UInt64(bitPattern: saturateSigned(f32(fp[a]), Int64.self))
    case .i64TruncSatF32U: fp[d] = saturateUnsigned(f32(fp[a]), UInt64.self)
    case .i64TruncSatF64S: fp[d] = UInt64(bitPattern: saturateSigned(f64(fp[a]), Int64.self))
    case .i64TruncSatF64U: fp[d] = saturateUnsigned(f64(fp[a]), UInt64.self)
    }
}
