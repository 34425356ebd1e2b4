/// "Validation › Instructions › Table Instructions".
extension FunctionValidator {
    public mutating func visitTableGet(table: UInt32) throws(WasmValidationError) {
        let type = try context.table(table)
        try pop(.i32)
        push(.ref(type.elementType))
    }

    public mutating func visitTableSet(table: UInt32) throws(WasmValidationError) {
        let type = try context.table(table)
        try pop(.ref(type.elementType))
        try pop(.i32)
    }

    public mutating func visitTableSize(table: UInt32) throws(WasmValidationError) {
        _ = try context.table(table)
        push(.i32)
    }

    public mutating func visitTableGrow(table: UInt32) throws(WasmValidationError) {
        let type = try context.table(table)
        try pop(.i32)
        try pop(.ref(type.elementType))
        push(.i32)
    }

    public mutating func visitTableFill(table: UInt32) throws(WasmValidationError) {
        let type = try context.table(table)
        try pop(.i32)
        try pop(.ref(type.elementType))
        try pop(.i32)
    }

    public mutating func visitTableCopy(dstTable: UInt32, srcTable: UInt32) throws(WasmValidationError) {
        let destination = try context.table(dstTable)
        let source = try context.table(srcTable)
        guard destination.elementType == source.elementType else {
            throw .invalid(
                "type mismatch: table.copy from \(typeName(source.elementType)) table \(srcTable) to \(typeName(destination.elementType)) table \(dstTable)"
            )
        }
        try pop([.i32, .i32, .i32])
    }

    public mutating func visitTableInit(elemIndex: UInt32, table: UInt32) throws(WasmValidationError) {
        let destination = try context.table(table)
        let segment = try context.element(elemIndex)
        guard destination.elementType == segment else {
            throw .invalid(
                "type mismatch: table.init of \(typeName(segment)) segment \(elemIndex) into \(typeName(destination.elementType)) table \(table)"
            )
        }
        try pop([.i32, .i32, .i32])
    }

    public mutating func visitElemDrop(elemIndex: UInt32) throws(WasmValidationError) {
        _ = try context.element(elemIndex)
    }
}
