import PhantomSpace

/// Checks the engine's records read back from an image before anything uses them.
///
/// An image's pages are checksummed, but checksums only say that the bytes are
/// the ones written: a forged image (or a bug that wrote nonsense) can hold any
/// value with a correct checksum. The interpreter trusts its registers — a pc
/// is an index into translated code, sp and fp are pointers into the stack, a
/// frame's saved return pc is jumped to — and the space's accessors trap on an
/// offset beyond the limit. So every value a restore reads is checked here
/// first, once, and a bad one refuses the image with an error naming the
/// record, the field and the value (DESIGN.md invariant 8). Nothing here runs
/// per instruction.
///
/// What is checked:
/// - the registry: its offset, and each of its two tables (capacity, next id)
///   inside the allocated part of the space;
/// - every instance: its record, its id, its module record and stored bytes,
///   its memory (size, reservation, alignment), tables, globals, function
///   references (defined ones exactly; imported ones name a live instance's
///   function of the imported type) and dropped-segment flags, against the
///   counts its module declares;
/// - every thread: its record, id, status, stack, depth limit; a ready
///   thread's entry and arguments; a running or blocked thread's registers
///   (pc at a resume point of its function's translated code, sp and fp in the
///   stack, sp exactly where that instruction leaves it), and every saved
///   frame down to the entry frame (caller function, return pc right after a
///   call to this frame's function, caller fp below, frame inside the stack,
///   frame count equal to the stored depth);
/// - that no two of these regions overlap (except one record shared by
///   instances, an imported memory, table or global): a memory's data laid
///   over a thread's stack would let guest stores rewrite its saved frames,
///   over a thread record its registers — values the interpreter trusts once
///   they have been checked here.
final class RestoreValidator {
    let engine: WasmEngine
    var space: ObjectSpace { engine.space }
    /// Every region checked so far, by start offset (see `claim`).
    private var regions: [UInt64: Region] = [:]

    struct Region {
        var start: UInt64
        var end: UInt64
        var name: String
        /// What instances may share (a module, memory, table, global), nil for
        /// what belongs to one owner only.
        var shared: String?
    }

    init(engine: WasmEngine) { self.engine = engine }

    /// Ids are `UInt32`; a registry table can hold at most this many entries.
    static let maximumIDs: UInt64 = UInt64(UInt32.max)
    /// Limits that a real record never reaches and that keep the arithmetic
    /// below (`Int(...)`, `* 8`) from overflowing.
    static let maximumDepthLimit: UInt64 = 1 << 32
    static let maximumTrapMessage: UInt64 = 1 << 20
    static let maximumTableElements: UInt64 = UInt64(UInt32.max)
    static let maximumMemoryPages: UInt64 = 65536

    func fail(_ message: String) -> WasmInstantiationError { .restore(message) }

    /// `count` slots of 8 bytes at `offset`, checked for overflow first.
    func isAllocated(_ offset: UInt64, slots count: UInt64) -> Bool {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 8)
        return !overflow && space.isAllocated(offset, count: bytes)
    }

    /// Records that `[start, start + length)` holds `name`. The same record
    /// reached twice (a module, memory, table or global cell that instances
    /// share) is one region; a region starting inside another is an overlap.
    func claim(_ start: UInt64, _ length: UInt64, _ name: @autoclosure () -> String,
               shared: String? = nil) throws(WasmInstantiationError) {
        guard length > 0 else { return }
        if let existing = regions[start] {
            guard shared != nil, existing.shared == shared, existing.end == start + length else {
                throw fail("\(name()) at \(start) (\(length) bytes) overlaps \(existing.name) at \(existing.start)..<\(existing.end)")
            }
            return
        }
        regions[start] = Region(start: start, end: start + length, name: name(), shared: shared)
    }

    /// No two claimed regions overlap. Once, after everything was claimed.
    func validateDisjoint() throws(WasmInstantiationError) {
        let sorted = regions.values.sorted { $0.start < $1.start }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.start < previous.end {
            throw fail("\(next.name) at \(next.start)..<\(next.end) overlaps \(previous.name) at \(previous.start)..<\(previous.end)")
        }
    }

    // MARK: - Registry

    /// The registry's offset (before reading its magic).
    static func checkRegistryOffset(_ registry: UInt64, in space: ObjectSpace) throws(WasmInstantiationError) {
        guard space.isAllocated(registry, count: UInt64(RegistryRecord.size)) else {
            throw .restore("root \(WasmRoots.registry): registry offset \(registry) is outside the allocated space")
        }
    }

    func validateRegistry() throws(WasmInstantiationError) {
        let registry = engine.registry
        for (name, table, capacity, next) in [
            ("instance", RegistryRecord.instanceTable, RegistryRecord.instanceCapacity, RegistryRecord.nextInstance),
            ("thread", RegistryRecord.threadTable, RegistryRecord.threadCapacity, RegistryRecord.nextThread),
        ] {
            let nextID = space.field(registry, next)
            let tableOffset = space.field(registry, table)
            let tableCapacity = space.field(registry, capacity)
            guard nextID >= 1, nextID <= Self.maximumIDs else {
                throw fail("registry: next \(name) id \(nextID) is not between 1 and \(Self.maximumIDs)")
            }
            guard nextID == 1 || nextID <= tableCapacity else {
                throw fail("registry: next \(name) id \(nextID) is beyond the \(name) table's capacity \(tableCapacity)")
            }
            guard tableCapacity == 0 || isAllocated(tableOffset, slots: tableCapacity) else {
                throw fail("registry: \(name) table at \(tableOffset) with capacity \(tableCapacity) is outside the allocated space")
            }
            try claim(tableOffset, tableCapacity * 8, "the registry's \(name) table")
        }
        try claim(registry, UInt64(RegistryRecord.size), "the registry")
    }

    // MARK: - Modules and instances

    /// The instance record and its module record, before the module bytes are read.
    func validateInstanceRecord(id: UInt32, record: UInt64) throws(WasmInstantiationError) {
        guard space.isAllocated(record, count: UInt64(InstanceRecord.size)) else {
            throw fail("instance \(id): record offset \(record) is outside the allocated space")
        }
        let storedID = space.field(record, InstanceRecord.id)
        guard storedID == UInt64(id) else { throw fail("instance \(id): record says id \(storedID)") }
        let module = space.field(record, InstanceRecord.module)
        guard space.isAllocated(module, count: UInt64(ModuleRecord.size)) else {
            throw fail("instance \(id): module record offset \(module) is outside the allocated space")
        }
        let bytes = space.field(module, ModuleRecord.bytes)
        let length = space.field(module, ModuleRecord.length)
        guard space.isAllocated(bytes, count: length) else {
            throw fail("instance \(id): module bytes at \(bytes), length \(length), are outside the allocated space")
        }
        try claim(record, UInt64(InstanceRecord.size), "instance \(id)'s record")
        try claim(module, UInt64(ModuleRecord.size), "instance \(id)'s module record", shared: "module record")
        try claim(bytes, length, "instance \(id)'s module bytes", shared: "module bytes")
    }

    /// The module's resume maps lie in the space (their content is checked
    /// only when a restore reads them: `ResumeMapRecord.decode`).
    func validateResumeMap(of moduleRecord: UInt64, instance id: UInt32) throws(WasmInstantiationError) {
        let map = space.field(moduleRecord, ModuleRecord.resumeMap)
        guard let bytes = ResumeMapRecord.byteCount(at: map, in: space) else {
            throw fail("instance \(id): the module's resume map at \(map) is missing or outside the allocated space")
        }
        try claim(map, UInt64(bytes), "instance \(id)'s resume map", shared: "resume map")
    }

    /// Everything `Instance(restoring:)` reads, against what `module` declares.
    func validateInstanceState(id: UInt32, record: UInt64, module: WasmModule) throws(WasmInstantiationError) {
        let validated = module.validated
        func field(_ offset: UInt64) -> UInt64 { space.field(record, offset) }

        // Memory: present exactly when the module has one (memory.grow writes its record).
        let memory = field(InstanceRecord.memory)
        let hasMemory = !validated.context.memories.isEmpty
        guard (memory != 0) == hasMemory else {
            throw fail("instance \(id): memory record \(memory), but the module \(hasMemory ? "has" : "has no") memory")
        }
        if memory != 0 { try validateMemory(memory, owner: "instance \(id)") }

        // Globals, tables and functions: counts as declared, arrays and records in the space.
        let globals = field(InstanceRecord.globals), globalCount = field(InstanceRecord.globalCount)
        guard globalCount == UInt64(validated.context.globals.count) else {
            throw fail("instance \(id): global count \(globalCount), the module declares \(validated.context.globals.count)")
        }
        guard globalCount == 0 || isAllocated(globals, slots: globalCount) else {
            throw fail("instance \(id): global array at \(globals) is outside the allocated space")
        }
        try claim(globals, globalCount * 8, "instance \(id)'s global array")
        for index in 0..<globalCount {
            let cell = space.load(UInt64.self, at: globals + index * 8)
            guard space.isAllocated(cell, count: 8) else {
                throw fail("instance \(id): global \(index) cell offset \(cell) is outside the allocated space")
            }
            try claim(cell, 8, "instance \(id)'s global \(index)", shared: "global")
        }

        let tables = field(InstanceRecord.tables), tableCount = field(InstanceRecord.tableCount)
        guard tableCount == UInt64(validated.context.tables.count) else {
            throw fail("instance \(id): table count \(tableCount), the module declares \(validated.context.tables.count)")
        }
        guard tableCount == 0 || isAllocated(tables, slots: tableCount) else {
            throw fail("instance \(id): table array at \(tables) is outside the allocated space")
        }
        try claim(tables, tableCount * 8, "instance \(id)'s table array")
        for index in 0..<tableCount {
            try validateTable(space.load(UInt64.self, at: tables + index * 8), owner: "instance \(id) table \(index)")
        }

        let functions = field(InstanceRecord.functions), functionCount = field(InstanceRecord.functionCount)
        guard functionCount == UInt64(validated.context.functions.count) else {
            throw fail("instance \(id): function count \(functionCount), the module declares \(validated.context.functions.count)")
        }
        guard functionCount == 0 || isAllocated(functions, slots: functionCount) else {
            throw fail("instance \(id): function array at \(functions) is outside the allocated space")
        }
        try claim(functions, functionCount * 8, "instance \(id)'s function array")
        // A defined function is this instance's own; an imported one is checked
        // once every instance is back (`validateImportedFunctions`).
        for index in UInt64(validated.importedFunctionCount)..<functionCount {
            let reference = space.load(UInt64.self, at: functions + index * 8)
            guard reference == UInt64(id) << 32 | index else {
                throw fail("instance \(id): function \(index) reference 0x\(String(reference, radix: 16)) is not its own function")
            }
        }

        let dropped = field(InstanceRecord.dropped)
        let dataCount = field(InstanceRecord.dataCount), elementCount = field(InstanceRecord.elementCount)
        guard dataCount == UInt64(validated.data.count), elementCount == UInt64(validated.elements.count) else {
            throw fail("instance \(id): \(dataCount) data and \(elementCount) element segments, the module declares \(validated.data.count) and \(validated.elements.count)")
        }
        guard space.isAllocated(dropped, count: dataCount + elementCount) else {
            throw fail("instance \(id): dropped-segment flags at \(dropped) are outside the allocated space")
        }
        try claim(dropped, dataCount + elementCount, "instance \(id)'s dropped-segment flags")
    }

    /// A memory record: the interpreter turns its data offset into a host
    /// pointer with `limitPages` pages behind it, and indexes dirty flags by it.
    func validateMemory(_ memory: UInt64, owner: String) throws(WasmInstantiationError) {
        guard space.isAllocated(memory, count: UInt64(MemoryRecord.size)) else {
            throw fail("\(owner): memory record offset \(memory) is outside the allocated space")
        }
        let data = space.field(memory, MemoryRecord.data)
        let pages = space.field(memory, MemoryRecord.pages)
        let limit = space.field(memory, MemoryRecord.limitPages)
        guard limit <= Self.maximumMemoryPages else {
            throw fail("\(owner): memory limit of \(limit) pages is more than \(Self.maximumMemoryPages)")
        }
        guard pages <= limit else { throw fail("\(owner): memory size of \(pages) pages is beyond its limit of \(limit)") }
        guard space.isAllocated(data, count: limit * MemoryRecord.pageSize) else {
            throw fail("\(owner): memory data at \(data) (\(limit) pages) is outside the allocated space")
        }
        guard limit == 0 || data % UInt64(ObjectSpace.pageSize) == 0 else {
            throw fail("\(owner): memory data at \(data) is not page-aligned")
        }
        try claim(memory, UInt64(MemoryRecord.size), "\(owner)'s memory record", shared: "memory record")
        try claim(data, limit * MemoryRecord.pageSize, "\(owner)'s memory data", shared: "memory data")
    }

    func validateTable(_ table: UInt64, owner: String) throws(WasmInstantiationError) {
        guard space.isAllocated(table, count: UInt64(TableRecord.size)) else {
            throw fail("\(owner): record offset \(table) is outside the allocated space")
        }
        let elements = space.field(table, TableRecord.elements)
        let count = space.field(table, TableRecord.count)
        let capacity = space.field(table, TableRecord.capacity)
        guard count <= capacity, capacity <= Self.maximumTableElements else {
            throw fail("\(owner): \(count) elements, capacity \(capacity)")
        }
        guard isAllocated(elements, slots: capacity) else {
            throw fail("\(owner): elements at \(elements) (capacity \(capacity)) are outside the allocated space")
        }
        try claim(table, UInt64(TableRecord.size), "\(owner) record", shared: "table record")
        try claim(elements, capacity * 8, "\(owner) elements", shared: "table elements")
    }

    /// Imported functions that name another instance's function: that instance
    /// exists and the function has the imported type (a call passes and takes
    /// back the values the type says). Host imports were resolved by name.
    func validateImportedFunctions(of instance: Instance) throws(WasmInstantiationError) {
        let id = instance.id
        for index in 0..<instance.importedFunctionCount where instance.hostFunctions[index] == nil {
            let reference = instance.functionRefs[index]
            let expected = instance.functionType(index)
            guard reference >> 32 <= UInt64(UInt32.max),
                  let owner = engine.instance(id: UInt32(reference >> 32)),
                  Int(reference & 0xffff_ffff) < owner.functionTypeIDs.count,
                  owner.functionType(Int(reference & 0xffff_ffff)) == expected else {
                throw fail("instance \(id): imported function \(index) reference 0x\(String(reference, radix: 16)) names no function of its type")
            }
        }
    }

    // MARK: - Threads

    /// The defined function `reference` names, if any.
    func definedFunction(_ reference: FunctionReference) -> (instance: Instance, code: FunctionCode)? {
        guard reference >> 32 <= UInt64(UInt32.max),
              let instance = engine.instance(id: UInt32(reference >> 32)) else { return nil }
        let index = Int(reference & 0xffff_ffff)
        guard index >= instance.importedFunctionCount, index < instance.functionTypeIDs.count else { return nil }
        return (instance, instance.module.functions[index - instance.importedFunctionCount])
    }

    /// Describes a function reference for an error message.
    func describe(_ reference: FunctionReference) -> String {
        "function \(reference & 0xffff_ffff) of instance \(reference >> 32)"
    }

    func validateThread(id: UInt32, record: UInt64) throws(WasmInstantiationError) {
        func fail(_ message: String) -> WasmInstantiationError { .restore("thread \(id): \(message)") }
        guard space.isAllocated(record, count: UInt64(ThreadRecord.size)) else {
            throw fail("record offset \(record) is outside the allocated space")
        }
        func field(_ offset: UInt64) -> UInt64 { space.field(record, offset) }
        let storedID = field(ThreadRecord.id)
        guard storedID == UInt64(id) else { throw fail("record says id \(storedID)") }
        let rawStatus = field(ThreadRecord.status)
        guard let status = ThreadStatus(rawValue: rawStatus) else { throw fail("status \(rawStatus) is not a thread status") }
        let stack = field(ThreadRecord.stack)
        let capacity = field(ThreadRecord.stackCapacity)
        guard capacity <= space.limitBytes / 8, isAllocated(stack, slots: capacity) else {
            throw fail("stack at \(stack) (\(capacity) slots) is outside the allocated space")
        }
        try claim(record, UInt64(ThreadRecord.size), "thread \(id)'s record")
        try claim(stack, capacity * 8, "thread \(id)'s stack")
        let maximumDepth = field(ThreadRecord.maximumDepth)
        guard maximumDepth <= Self.maximumDepthLimit else { throw fail("maximum depth \(maximumDepth) is more than \(Self.maximumDepthLimit)") }

        switch status {
        case .finished:
            let results = field(ThreadRecord.resultCount)
            guard results <= capacity else { throw fail("result count \(results) is beyond its stack of \(capacity) slots") }
            return
        case .trapped:
            let message = field(ThreadRecord.trapMessage), length = field(ThreadRecord.trapLength)
            // Read even when empty: an empty message is at 0 (never stored) or allocated.
            guard (length == 0 && message == 0)
                    || (length <= Self.maximumTrapMessage && space.isAllocated(message, count: length)) else {
                throw fail("trap message at \(message), length \(length), is outside the allocated space")
            }
            try claim(message, length, "thread \(id)'s trap message")
            return
        case .exited:
            return
        case .ready, .running, .blocked:
            break
        }

        // Every run starts from the entry function's instance and ends copying its results.
        let entry = field(ThreadRecord.entry)
        guard entry >> 32 <= UInt64(UInt32.max), let entryInstance = engine.instance(id: UInt32(entry >> 32)),
              Int(entry & 0xffff_ffff) < entryInstance.functionTypeIDs.count else {
            throw fail("entry 0x\(String(entry, radix: 16)) names no function")
        }
        let entryType = entryInstance.functionType(Int(entry & 0xffff_ffff))
        let results = field(ThreadRecord.resultCount)
        guard results == UInt64(entryType.results.count) else {
            throw fail("result count \(results), but its entry \(describe(entry)) returns \(entryType.results.count)")
        }
        let sp = field(ThreadRecord.sp), fp = field(ThreadRecord.fp), depth = field(ThreadRecord.callDepth)
        guard sp <= capacity else { throw fail("sp \(sp) is beyond its stack of \(capacity) slots") }
        guard fp <= sp else { throw fail("fp \(fp) is above sp \(sp)") }

        if status == .ready {
            // Arguments pushed at slot 0, nothing entered yet.
            guard fp == 0, sp == UInt64(entryType.parameters.count), depth == 0 else {
                throw fail("ready, but fp \(fp), sp \(sp), depth \(depth) are not those of \(entryType.parameters.count) arguments")
            }
            return
        }

        guard depth >= 1, depth <= maximumDepth else {
            throw fail("call depth \(depth) is not between 1 and its maximum \(maximumDepth)")
        }
        // The innermost frame: pc at an instruction a thread stops at, sp where it leaves it.
        let pcFunction = field(ThreadRecord.pcFunction)
        guard let top = definedFunction(pcFunction) else {
            throw fail("pc function 0x\(String(pcFunction, radix: 16)) names no defined function")
        }
        var (owner, code) = top
        let pc = field(ThreadRecord.pcPosition)
        guard pc < UInt64(code.count) else {
            throw fail("pc \(pc) is beyond the code of \(describe(pcFunction)) (\(code.count) words)")
        }
        guard let height = Self.stackHeight(at: Int(pc), in: code) else {
            throw fail("pc \(pc) in \(describe(pcFunction)) is not an instruction a thread can stop at (a loop header or a call)")
        }
        guard sp == fp + UInt64(height) else {
            throw fail("sp \(sp) is not fp \(fp) + \(height), where the instruction at pc \(pc) of \(describe(pcFunction)) leaves it")
        }

        // Every frame, from the innermost out: it fits in the stack, and its
        // header names a caller stopped right after a call that made it.
        var function = pcFunction
        var framePointer = fp
        var frames: UInt64 = 1
        while true {
            let frameEnd = framePointer + UInt64(code.headerOffset + code.frameSlots)
            guard frameEnd <= capacity else {
                throw fail("frame \(frames) (\(describe(function)), fp \(framePointer)) ends at slot \(frameEnd), beyond its stack of \(capacity) slots")
            }
            let header = stack + (framePointer + UInt64(code.headerOffset)) * 8
            let caller = space.load(UInt64.self, at: header)
            if caller == 0 {
                // The entry frame: arguments were at slot 0, and the call that made
                // it stored return pc 0 and caller fp 0.
                guard function == entry, framePointer == 0 else {
                    throw fail("frame \(frames) (\(describe(function)), fp \(framePointer)) has no caller, but is not the entry frame of \(describe(entry)) at fp 0")
                }
                let returnPC = space.load(UInt64.self, at: header + 8), callerFP = space.load(UInt64.self, at: header + 16)
                guard returnPC == 0, callerFP == 0 else {
                    throw fail("entry frame: return pc \(returnPC) and caller fp \(callerFP) are not 0")
                }
                break
            }
            let returnPC = space.load(UInt64.self, at: header + 8)
            let callerFP = space.load(UInt64.self, at: header + 16)
            guard let (callerInstance, callerCode) = definedFunction(caller) else {
                throw fail("frame \(frames) (\(describe(function))): caller 0x\(String(caller, radix: 16)) names no defined function")
            }
            guard callerFP < framePointer else {
                throw fail("frame \(frames) (\(describe(function))): caller fp \(callerFP) is not below its fp \(framePointer)")
            }
            guard let call = Self.call(returningTo: returnPC, in: callerCode) else {
                throw fail("frame \(frames) (\(describe(function))): return pc \(returnPC) in \(describe(caller)) is not right after a call")
            }
            // The call left its arguments at the callee's fp (call_indirect popped its index first).
            let calleeType = owner.functionType(Int(function & 0xffff_ffff))
            let expectedFP = (callerFP + UInt64(call.height)) &- UInt64(call.indirect ? 1 : 0) &- UInt64(calleeType.parameters.count)
            guard framePointer == expectedFP else {
                throw fail("frame \(frames) (\(describe(function))): fp \(framePointer) is not where the call at pc \(call.position) of \(describe(caller)) put it (\(Int64(bitPattern: expectedFP)))")
            }
            let calls: Bool
            if call.indirect {
                let typeIndex = Int(callerCode.words[call.position] >> 32)
                calls = typeIndex < callerInstance.module.validated.types.count
                    && callerInstance.module.validated.types[typeIndex] == calleeType
            } else {
                let index = Int((callerCode.words[call.position] >> 8) & 0xffff_ffff)
                calls = index < callerInstance.functionRefs.count && callerInstance.functionRefs[index] == function
            }
            guard calls else {
                throw fail("frame \(frames) (\(describe(function))): the call at pc \(call.position) of \(describe(caller)) does not call it")
            }
            frames += 1
            guard frames <= depth else { throw fail("more frames than its call depth \(depth)") }
            function = caller
            framePointer = callerFP
            owner = callerInstance
            code = callerCode
        }
        guard frames == depth else { throw fail("call depth \(depth), but \(frames) frames on its stack") }
    }

    /// The operand height (sp - fp) at the resume point `pc` of `code`, or nil
    /// when `pc` is not one: the static sp a loop header or call carries.
    static func stackHeight(at pc: Int, in code: FunctionCode) -> Int? {
        guard isResumePoint(pc, in: code) else { return nil }
        let word = code.words[pc]
        switch Op.decode(word) {
        case .loopHeader: return Int(truncatingIfNeeded: word >> 8)
        case .call: return Int(truncatingIfNeeded: word >> 40)
        case .callIndirect: return Int(truncatingIfNeeded: code.words[pc + 1])
        default: return nil
        }
    }

    /// The call a return pc comes back from: `call` one word before it, or
    /// `call_indirect` (two words) two before.
    static func call(returningTo returnPC: UInt64, in code: FunctionCode)
        -> (position: Int, height: Int, indirect: Bool)?
    {
        guard returnPC >= 1, returnPC <= UInt64(code.count) else { return nil }
        let pc = Int(returnPC)
        if isResumePoint(pc - 1, in: code), Op.decode(code.words[pc - 1]) == .call {
            return (pc - 1, Int(truncatingIfNeeded: code.words[pc - 1] >> 40), false)
        }
        if pc >= 2, isResumePoint(pc - 2, in: code), Op.decode(code.words[pc - 2]) == .callIndirect {
            return (pc - 2, Int(truncatingIfNeeded: code.words[pc - 1]), true)
        }
        return nil
    }

    static func isResumePoint(_ pc: Int, in code: FunctionCode) -> Bool {
        var low = 0, high = code.resumePoints.count
        while low < high {
            let middle = (low + high) / 2
            if code.resumePoints[middle] < pc { low = middle + 1 } else { high = middle }
        }
        return low < code.resumePoints.count && code.resumePoints[low] == pc
    }
}
