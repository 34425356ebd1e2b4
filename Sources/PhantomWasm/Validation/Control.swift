/// "Validation › Instructions › Control Instructions" and "Parametric Instructions".
extension FunctionValidator {
    public mutating func visitUnreachable() throws(WasmValidationError) {
        markUnreachable()
    }

    public mutating func visitNop() throws(WasmValidationError) {}

    public mutating func visitBlock(blockType: BlockType) throws(WasmValidationError) {
        let signature = try blockSignature(blockType)
        try pop(signature.parameters)
        pushFrame(.block, start: signature.parameters, end: signature.results)
    }

    public mutating func visitLoop(blockType: BlockType) throws(WasmValidationError) {
        let signature = try blockSignature(blockType)
        try pop(signature.parameters)
        pushFrame(.loop, start: signature.parameters, end: signature.results)
    }

    public mutating func visitIf(blockType: BlockType) throws(WasmValidationError) {
        let signature = try blockSignature(blockType)
        try pop(.i32)
        try pop(signature.parameters)
        pushFrame(.if, start: signature.parameters, end: signature.results)
    }

    public mutating func visitElse() throws(WasmValidationError) {
        guard controls.innermost?.kind == .if else {
            throw WasmValidationError(.malformed, "else without a matching if")
        }
        let frame = try popFrame()
        pushFrame(.else, start: frame.startTypes, end: frame.endTypes)
    }

    public mutating func visitEnd() throws(WasmValidationError) {
        let frame = try popFrame()
        if frame.kind == .if, frame.startTypes != frame.endTypes {
            throw .invalid(
                "type mismatch: if without else must leave its parameters \(typeList(frame.startTypes)) as results, not \(typeList(frame.endTypes))"
            )
        }
        if frame.kind != .function { push(frame.endTypes) }
    }

    public mutating func visitBr(relativeDepth: UInt32) throws(WasmValidationError) {
        let target = try controls.frame(forLabel: relativeDepth)
        try pop(target.labelTypes)
        markUnreachable()
    }

    public mutating func visitBrIf(relativeDepth: UInt32) throws(WasmValidationError) {
        let target = try controls.frame(forLabel: relativeDepth)
        try pop(.i32)
        try pop(target.labelTypes)
        push(target.labelTypes)
    }

    public mutating func visitBrTable(targets: BrTable) throws(WasmValidationError) {
        try pop(.i32)
        let defaultTypes = try controls.frame(forLabel: targets.defaultIndex).labelTypes
        for label in targets.labelIndices {
            let types = try controls.frame(forLabel: label).labelTypes
            guard types.count == defaultTypes.count else {
                throw .invalid(
                    "type mismatch: br_table targets differ in arity (\(types.count) for label \(label), \(defaultTypes.count) for the default)"
                )
            }
            // Pop then restore, so that every target checks the same operands.
            var popped: [ValueType?] = []
            for type in types.reversed() { popped.append(try pop(type)) }
            for operand in popped.reversed() { push(operand) }
        }
        try pop(defaultTypes)
        markUnreachable()
    }

    public mutating func visitReturn() throws(WasmValidationError) {
        try pop(type.results)
        markUnreachable()
    }

    public mutating func visitCall(functionIndex: UInt32) throws(WasmValidationError) {
        let callee = try context.function(functionIndex)
        try pop(callee.parameters)
        push(callee.results)
    }

    public mutating func visitCallIndirect(typeIndex: UInt32, tableIndex: UInt32) throws(WasmValidationError) {
        let table = try context.table(tableIndex)
        guard table.elementType == .funcRef else {
            throw .invalid("type mismatch: call_indirect needs a funcref table, table \(tableIndex) holds \(typeName(table.elementType))")
        }
        let callee = try context.type(typeIndex)
        try pop(.i32)
        try pop(callee.parameters)
        push(callee.results)
    }

    public mutating func visitDrop() throws(WasmValidationError) {
        _ = try pop()
    }

    /// Untyped `select` only chooses between numbers; references need `select t`.
    public mutating func visitSelect() throws(WasmValidationError) {
        try pop(.i32)
        let first = try pop()
        let second = try pop()
        guard isNumeric(first), isNumeric(second) else {
            throw .invalid("type mismatch: select without a type needs numeric operands, found \(typeName(second)) and \(typeName(first))")
        }
        if let first, let second, first != second {
            throw .invalid("type mismatch: select operands differ, \(typeName(second)) and \(typeName(first))")
        }
        push(first ?? second)
    }

    public mutating func visitTypedSelect(type: ValueType) throws(WasmValidationError) {
        try checkSupported(type)
        try pop(.i32)
        try pop(type)
        try pop(type)
        push(type)
    }
}
