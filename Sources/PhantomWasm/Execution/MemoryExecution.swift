import PhantomSpace

/// Linear memory: loads, stores (each marks its page dirty), size, grow, and bulk
/// memory operations. Guest address + memory offset in the space + space base is
/// the host address; bounds are checked against the current size.
extension Interpreter {
    @inline(__always)
    func address(_ r: inout Registers, _ size: UInt64) throws(Trap) -> UInt64 {
        let base = UInt64(UInt32(truncatingIfNeeded: r.sp[-1]))
        let address = base + r.code[r.pc + 1]
        guard address + size <= r.memorySize else { throw Trap("out of bounds memory access") }
        return address
    }

    @inline(__always)
    func load<T: FixedWidthInteger>(_ r: inout Registers, _: T.Type) throws(Trap) -> T {
        let address = try address(&r, UInt64(MemoryLayout<T>.size))
        return r.memoryBase.loadUnaligned(fromByteOffset: Int(address), as: T.self)
    }

    @inline(__always)
    func store<T: FixedWidthInteger>(_ r: inout Registers, _ value: T) throws(Trap) {
        r.sp -= 1
        let address = try address(&r, UInt64(MemoryLayout<T>.size))
        r.memoryBase.storeBytes(of: value, toByteOffset: Int(address), as: T.self)
        space.markDirty(r.memoryOffset + address, count: MemoryLayout<T>.size)
        r.sp -= 1
    }

    func memory(_ r: inout Registers, _ op: Op, _ word: UInt64) throws(Trap) {
        switch op {
        case .i32Load, .f32Load: r.sp[-1] = UInt64(try load(&r, UInt32.self))
        case .i64Load, .f64Load: r.sp[-1] = try load(&r, UInt64.self)
        case .i32Load8S: r.sp[-1] = UInt64(UInt32(bitPattern: Int32(try load(&r, Int8.self))))
        case .i32Load8U: r.sp[-1] = UInt64(try load(&r, UInt8.self))
        case .i32Load16S: r.sp[-1] = UInt64(UInt32(bitPattern: Int32(try load(&r, Int16.self))))
        case .i32Load16U: r.sp[-1] = UInt64(try load(&r, UInt16.self))
        case .i64Load8S: r.sp[-1] = UInt64(bitPattern: Int64(try load(&r, Int8.self)))
        case .i64Load8U: r.sp[-1] = UInt64(try load(&r, UInt8.self))
        case .i64Load16S: r.sp[-1] = UInt64(bitPattern: Int64(try load(&r, Int16.self)))
        case .i64Load16U: r.sp[-1] = UInt64(try load(&r, UInt16.self))
        case .i64Load32S: r.sp[-1] = UInt64(bitPattern: Int64(try load(&r, Int32.self)))
        case .i64Load32U: r.sp[-1] = UInt64(try load(&r, UInt32.self))
        case .i32Store, .f32Store: try store(&r, UInt32(truncatingIfNeeded: r.sp[-1]))
        case .i64Store, .f64Store: try store(&r, r.sp[-1])
        case .i32Store8, .i64Store8: try store(&r, UInt8(truncatingIfNeeded: r.sp[-1]))
        case .i32Store16, .i64Store16: try store(&r, UInt16(truncatingIfNeeded: r.sp[-1]))
        case .i64Store32: try store(&r, UInt32(truncatingIfNeeded: r.sp[-1]))
        case .memorySize:
            r.sp.pointee = r.memorySize / MemoryRecord.pageSize
            r.sp += 1
            r.pc += 1
            return
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
