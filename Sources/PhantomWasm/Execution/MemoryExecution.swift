import PhantomSpace

/// Linear memory in stack mode: `memory.grow` and the bulk memory operations.
/// (Loads and stores are hot and live in Dispatch.swift: `loadChecked`,
/// `storeMarking`, `updateChecked`.) Guest address + memory offset in the space
/// + space base is the host address; bounds are checked against the current size.
extension Interpreter {
    func memory(_ r: inout Registers, _ op: Op, _ word: UInt64) throws(Trap) {
        switch op {
        case .memoryGrow:
            let delta = UInt64(UInt32(truncatingIfNeeded: r.sp[-1]))
            let memory = r.instance.memoryRecord
            let pages = space.field(memory, MemoryRecord.pages)
            let limit = min(space.field(memory, MemoryRecord.limitPages), space.field(memory, MemoryRecord.declaredMaximum))
            if pages + delta > limit {
                r.sp[-1] = UInt64(UInt32.max)
            } else {
                space.setField(memory, MemoryRecord.pages, pages + delta)
                r.memorySize = (pages + delta) * MemoryRecord.pageSize
                r.sp[-1] = pages
            }
            r.pc += 1
            return
        case .memoryInit:
            r.sp -= 3
            let index = Int(word >> 8)
            let destination = UInt64(UInt32(truncatingIfNeeded: r.sp[0]))
            let source = UInt64(UInt32(truncatingIfNeeded: r.sp[1]))
            let count = UInt64(UInt32(truncatingIfNeeded: r.sp[2]))
            let bytes: ArraySlice<UInt8>
            if r.instance.isDropped(data: index) {
                bytes = []
            } else {
                switch r.instance.module.validated.data[index] {
                case .passive(let data): bytes = data
                case .active(let active): bytes = active.initializer
                }
            }
            try r.instance.memoryInit(bytes: bytes, destination: destination, source: source, count: count)
            r.pc += 1
            return
        case .dataDrop:
            r.instance.drop(data: Int(word >> 8))
            r.pc += 1
            return
        case .memoryCopy:
            r.sp -= 3
            let destination = UInt64(UInt32(truncatingIfNeeded: r.sp[0]))
            let source = UInt64(UInt32(truncatingIfNeeded: r.sp[1]))
            let count = UInt64(UInt32(truncatingIfNeeded: r.sp[2]))
            guard source + count <= r.memorySize, destination + count <= r.memorySize else {
                throw Trap("out of bounds memory access")
            }
            if count > 0 {
                space.markDirtyUnchecked(r.memoryOffset + destination, count: Int(count))
                (r.memoryBase + Int(destination)).copyMemory(from: r.memoryBase + Int(source), byteCount: Int(count))
            }
            r.pc += 1
            return
        case .memoryFill:
            r.sp -= 3
            let destination = UInt64(UInt32(truncatingIfNeeded: r.sp[0]))
            let value = UInt8(truncatingIfNeeded: r.sp[1])
            let count = UInt64(UInt32(truncatingIfNeeded: r.sp[2]))
            guard destination + count <= r.memorySize else { throw Trap("out of bounds memory access") }
            if count > 0 {
                space.markDirtyUnchecked(r.memoryOffset + destination, count: Int(count))
                (r.memoryBase + Int(destination)).initializeMemory(as: UInt8.self, repeating: value, count: Int(count))
            }
            r.pc += 1
            return
        default:
            throw Trap("unknown opcode \(op)")
        }
    }
}
