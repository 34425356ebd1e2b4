import PhantomSpace

/// Tables: records in the space with 8-byte entries (function references, or
/// externref values; 0 is null). Every write goes through `space.store`.
extension Interpreter {
    func table(_ r: inout Registers, _ op: Op, _ word: UInt64) throws(Trap) {
        let first = Int((word >> 8) & 0xff_ffff)
        let second = Int(word >> 32)
        switch op {
        case .tableGet:
            let table = r.instance.tableRecords[first]
            let index = UInt64(UInt32(truncatingIfNeeded: r.sp[-1]))
            guard index < space.field(table, TableRecord.count) else { throw Trap("out of bounds table access") }
            r.sp[-1] = space.load(UInt64.self, at: space.field(table, TableRecord.elements) + index * 8)
        case .tableSet:
            let table = r.instance.tableRecords[first]
            r.sp -= 2
            let index = UInt64(UInt32(truncatingIfNeeded: r.sp[0]))
            guard index < space.field(table, TableRecord.count) else { throw Trap("out of bounds table access") }
            space.store(r.sp[1], at: space.field(table, TableRecord.elements) + index * 8)
        case .tableSize:
            r.sp.pointee = space.field(r.instance.tableRecords[first], TableRecord.count)
            r.sp += 1
        case .tableGrow:
            let table = r.instance.tableRecords[first]
            r.sp -= 1
            let delta = UInt64(UInt32(truncatingIfNeeded: r.sp[0]))
            let value = r.sp[-1]
            r.sp[-1] = grow(table: table, by: delta, value: value)
        case .tableFill:
            let table = r.instance.tableRecords[first]
            r.sp -= 3
            let start = UInt64(UInt32(truncatingIfNeeded: r.sp[0]))
            let value = r.sp[1]
            let count = UInt64(UInt32(truncatingIfNeeded: r.sp[2]))
            guard start + count <= space.field(table, TableRecord.count) else { throw Trap("out of bounds table access") }
            let elements = space.field(table, TableRecord.elements)
            for i in 0..<count { space.store(value, at: elements + (start + i) * 8) }
        case .tableCopy:
            let destinationTable = r.instance.tableRecords[first]
            let sourceTable = r.instance.tableRecords[second]
            r.sp -= 3
            let destination = UInt64(UInt32(truncatingIfNeeded: r.sp[0]))
            let source = UInt64(UInt32(truncatingIfNeeded: r.sp[1]))
            let count = UInt64(UInt32(truncatingIfNeeded: r.sp[2]))
            guard source + count <= space.field(sourceTable, TableRecord.count),
                  destination + count <= space.field(destinationTable, TableRecord.count) else {
                throw Trap("out of bounds table access")
            }
            if count > 0 {
                let values = space.read(at: space.field(sourceTable, TableRecord.elements) + source * 8, count: Int(count) * 8)
                space.write(values, at: space.field(destinationTable, TableRecord.elements) + destination * 8)
            }
        case .tableInit:
            r.sp -= 3
            let destination = UInt64(UInt32(truncatingIfNeeded: r.sp[0]))
            let source = UInt64(UInt32(truncatingIfNeeded: r.sp[1]))
            let count = UInt64(UInt32(truncatingIfNeeded: r.sp[2]))
            let values = r.instance.isDropped(element: first) ? [] : r.instance.elementSegments[first]
            try r.instance.tableInit(table: second, values: values, destination: destination, source: source, count: count)
        case .elemDrop:
            r.instance.drop(element: first)
        default:
            throw Trap("unknown opcode \(op)")
        }
        r.pc += 1
    }

    /// `table.grow`: the old size, or -1 (as u32) past the maximum or the quota.
    func grow(table: UInt64, by delta: UInt64, value: UInt64) -> UInt64 {
        let size = space.field(table, TableRecord.count)
        let maximum = min(space.field(table, TableRecord.maximum), UInt64(UInt32.max))
        guard size + delta <= maximum else { return UInt64(UInt32.max) }
        var capacity = space.field(table, TableRecord.capacity)
        var elements = space.field(table, TableRecord.elements)
        if size + delta > capacity {
            let newCapacity = max(size + delta, capacity * 2)
            guard let newElements = try? space.allocate(Int(newCapacity) * 8) else { return UInt64(UInt32.max) }
            if size > 0 { space.write(space.read(at: elements, count: Int(size) * 8), at: newElements) }
            space.free(elements, byteCount: Int(capacity) * 8)
            elements = newElements
            capacity = newCapacity
            space.setField(table, TableRecord.elements, elements)
            space.setField(table, TableRecord.capacity, capacity)
        }
        for i in size..<(size + delta) { space.store(value, at: elements + i * 8) }
        space.setField(table, TableRecord.count, size + delta)
        return size
    }
}
