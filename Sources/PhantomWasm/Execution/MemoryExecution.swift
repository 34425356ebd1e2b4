import PhantomSpace

/// Linear memory: loads, stores (each marks its page dirty), size, grow, and bulk
/// memory operations. Guest address + memory offset in the space + space base is
/// the host address; bounds are checked against the current size.
extension Interpreter {
    @inline(__always)
    func address(_ memorySize: UInt64, _ base: UInt64, _ offset: UInt64, _ size: UInt64) throws(Trap) -> UInt64 {
        let address = UInt64(UInt32(truncatingIfNeeded: base)) &+ offset
        guard address &+ size <= memorySize else { throw Trap("out of bounds memory access") }
        return address
    }

    @inline(__always)
    func load<T: FixedWidthInteger>(_ memoryBase: UnsafeMutableRawPointer, _ memorySize: UInt64, _ base: UInt64,
                                    _ offset: UInt64, _: T.Type) throws(Trap) -> T {
        let address = try address(memorySize, base, offset, UInt64(MemoryLayout<T>.size))
        return memoryBase.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: address), as: T.self)
    }

    @inline(__always)
    func store<T: FixedWidthInteger>(_ memoryBase: UnsafeMutableRawPointer, _ memorySize: UInt64, _ memoryOffset: UInt64,
                                     _ base: UInt64, _ offset: UInt64, _ value: T) throws(Trap) {
        let address = try address(memorySize, base, offset, UInt64(MemoryLayout<T>.size))
        memoryBase.storeBytes(of: value, toByteOffset: Int(truncatingIfNeeded: address), as: T.self)
        // Dirty marking inline: one byte check per touched page.
        let first = (memoryOffset &+ address) >> 12
        let last = (memoryOffset &+ address &+ UInt64(MemoryLayout<T>.size - 1)) >> 12
        if dirtyFlags[Int(truncatingIfNeeded: first)] == 0 || dirtyFlags[Int(truncatingIfNeeded: last)] == 0 {
            space.markDirty(memoryOffset &+ address, count: MemoryLayout<T>.size)
        }
    }

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
                (r.memoryBase + Int(destination)).copyMemory(from: r.memoryBase + Int(source), byteCount: Int(count))
                space.markDirty(r.memoryOffset + destination, count: Int(count))
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
                (r.memoryBase + Int(destination)).initializeMemory(as: UInt8.self, repeating: value, count: Int(count))
                space.markDirty(r.memoryOffset + destination, count: Int(count))
            }
            r.pc += 1
            return
        default:
            throw Trap("unknown opcode \(op)")
        }
        r.pc += 2
    }
}
