import PhantomSpace

/// Branches, calls and returns.
extension Interpreter {
    /// Moves the `keep` values below the branch's sp to the label's destination slot.
    @inline(__always)
    func move(_ fp: UnsafeMutablePointer<UInt64>, _ packed: UInt64) {
        let keep = Field.d(packed)
        if keep > 0 { (fp + Field.a(packed)).update(from: fp + Field.b(packed) - keep, count: keep) }
    }

    /// Returns from the current function; true when it was the entry frame.
    func doReturn(_ r: inout Registers) throws(Trap) -> Bool {
        let results = r.function.resultCount
        let locals = r.function.headerOffset
        let callerRef = r.fp[locals]
        // Read before it is known whether they are used (the entry frame's are
        // not): converted without a trap. A restored frame's were checked.
        let returnPC = Int(truncatingIfNeeded: r.fp[locals + 1])
        let callerFP = stackBase + Int(truncatingIfNeeded: r.fp[locals + 2])
        if results > 0 { r.fp.update(from: r.sp - results, count: results) }
        r.sp = r.fp + results
        if callerRef == 0 {
            writeBack(r, pc: 0)
            return true
        }
        r.fp = callerFP
        if callerFP < r.minTouched { r.minTouched = callerFP }
        r.depth -= 1
        try enter(&r, callerRef)
        r.pc = returnPC
        return false
    }

    /// Pops the table index of `call_indirect` and returns the checked target.
    func indirectTarget(_ r: inout Registers, _ word: UInt64) throws(Trap) -> FunctionReference {
        let table = r.instance.tableRecords[Int((word >> 8) & 0xff_ffff)]
        let typeIndex = Int(word >> 32)
        r.sp -= 1
        let index = UInt64(UInt32(truncatingIfNeeded: r.sp.pointee))
        guard index < space.field(table, TableRecord.count) else { throw Trap("undefined element") }
        let reference = space.load(UInt64.self, at: space.field(table, TableRecord.elements) + index * 8)
        guard reference != 0 else { throw Trap("uninitialized element") }
        // A table element is any value an image held: its instance and index are
        // checked here (once per call_indirect), not trusted.
        let owner = reference >> 32 == UInt64(r.instance.id) ? r.instance : try engine.instance(UInt32(reference >> 32))
        guard Int(reference & 0xffff_ffff) < owner.functionTypeIDs.count else {
            throw Trap("invalid function reference 0x\(String(reference, radix: 16))")
        }
        guard owner.functionTypeIDs[Int(reference & 0xffff_ffff)] == r.instance.typeIDs[typeIndex] else {
            throw Trap("indirect call type mismatch")
        }
        return reference
    }

    /// Calls `reference` with its arguments on top of the stack. Returns a stop
    /// reason when execution must leave the loop (entry host function finished,
    /// host call blocked or exited).
    func call(_ r: inout Registers, _ reference: FunctionReference, callPC: Int, returnPC: Int,
              spBefore: UnsafeMutablePointer<UInt64>) throws(Trap) -> Stop? {
        let owner = reference >> 32 == UInt64(r.instance.id) ? r.instance : try engine.instance(UInt32(reference >> 32))
        let index = Int(reference & 0xffff_ffff)
        if index < owner.importedFunctionCount {
            return try callHost(&r, owner, index, callPC: callPC, returnPC: returnPC, spBefore: spBefore)
        }
        let callee = owner.module.functions[index - owner.importedFunctionCount]
        guard r.depth < maximumDepth else { throw Trap("call stack exhausted") }
        let newFP = r.sp - callee.parameterCount
        guard (newFP - stackBase) + callee.headerOffset + callee.frameSlots <= stackCapacity else {
            throw Trap("call stack exhausted")
        }
        let declared = callee.variableCount - callee.parameterCount
        if declared > 0 { (newFP + callee.parameterCount).update(repeating: 0, count: declared) }
        if callee.constantCount > 0 { (newFP + callee.variableCount).update(from: callee.constants, count: callee.constantCount) }
        let header = newFP + callee.headerOffset
        header[0] = callPC < 0 ? 0 : r.functionRef
        header[1] = UInt64(returnPC)
        header[2] = UInt64(r.fp - stackBase)
        r.fp = newFP
        r.sp = header + Frame.headerSlots
        r.depth += 1
        if owner !== r.instance {
            r.instance = owner
            loadMemory(&r)
        }
        r.function = callee
        r.functionRef = reference
        r.code = callee.words
        r.pc = 0
        return nil
    }

    func callHost(_ r: inout Registers, _ owner: Instance, _ index: Int, callPC: Int, returnPC: Int,
                  spBefore: UnsafeMutablePointer<UInt64>) throws(Trap) -> Stop? {
        guard let host = owner.hostFunctions[index] else { throw Trap("unresolved import \(index)") }
        let count = host.parameters.count
        // The host may block (and a snapshot may be taken meanwhile): the record must
        // say "about to execute this call", which a restore re-executes.
        if callPC >= 0 { writeBack(r, pc: callPC, sp: spBefore) }
        let arguments = Array(UnsafeBufferPointer(start: r.sp - count, count: count))
        var context = HostCallContext(
            memory: owner.memoryRecord == 0 ? nil : InstanceMemory(space: space, record: owner.memoryRecord),
            pendingCallState: space.field(record, ThreadRecord.pendingCallState))
        let outcome = host.call(&context, arguments)
        // If it blocked, a copy-on-write snapshot may have cut meanwhile.
        resumeAfterPark(&r)
        switch outcome {
        case .returned(let results):
            space.setField(record, ThreadRecord.pendingCallState, 0)
            r.sp -= count
            if r.sp < r.minTouched { r.minTouched = r.sp }
            for value in results {
                r.sp.pointee = value
                r.sp += 1
            }
            loadMemory(&r)
            if callPC < 0 {
                // The entry function itself was a host function: results at slot 0.
                (stackBase).update(from: r.sp - results.count, count: results.count)
                return .finished
            }
            r.pc = returnPC
            return nil
        case .exit(let code):
            return .exited(code)
        case .block(let condition):
            space.setField(record, ThreadRecord.pendingCallState, context.pendingCallState)
            r.sp = spBefore
            
            return .blocked(condition)
        case .trap(let trap):
            throw trap
        }
    }
}

/// `GuestMemory` over a memory record, for host functions.
final class InstanceMemory: GuestMemory {
    let space: ObjectSpace
    let record: UInt64
    init(space: ObjectSpace, record: UInt64) {
        self.space = space
        self.record = record
    }

    var byteCount: UInt64 { space.field(record, MemoryRecord.pages) * MemoryRecord.pageSize }
    var data: UInt64 { space.field(record, MemoryRecord.data) }

    func check(_ address: UInt64, _ count: Int) throws(Trap) {
        guard address <= byteCount, UInt64(count) <= byteCount - address else { throw Trap("out of bounds memory access") }
    }

    func read(at address: UInt64, count: Int) throws(Trap) -> [UInt8] {
        try check(address, count)
        return space.read(at: data + address, count: count)
    }

    func write(_ bytes: [UInt8], at address: UInt64) throws(Trap) {
        try check(address, bytes.count)
        space.write(bytes, at: data + address)
    }

    func loadUInt32(at address: UInt64) throws(Trap) -> UInt32 {
        try check(address, 4)
        return space.load(UInt32.self, at: data + address)
    }

    func loadUInt64(at address: UInt64) throws(Trap) -> UInt64 {
        try check(address, 8)
        return space.load(UInt64.self, at: data + address)
    }

    func storeUInt32(_ value: UInt32, at address: UInt64) throws(Trap) {
        try check(address, 4)
        space.store(value, at: data + address)
    }

    func storeUInt64(_ value: UInt64, at address: UInt64) throws(Trap) {
        try check(address, 8)
        space.store(value, at: data + address)
    }
}
