/// "Validation › Instructions › Constant Expressions": global initializers and segment
/// offsets may only use constants, `ref.null`, `ref.func` and `global.get` of an
/// immutable global. As in WebAssembly 3.0 (extended constant expressions), `add`,
/// `sub` and `mul` on i32/i64 are accepted too, and `global.get` may name any
/// global defined before the expression (`availableGlobals` of them).
func validateConstantExpression(
    _ expression: ConstExpression, expecting expected: ValueType,
    context: ModuleContext, availableGlobals: Int
) throws(WasmValidationError) {
    var stack: [ValueType] = []
    func pop(_ type: ValueType) throws(WasmValidationError) {
        guard let actual = stack.popLast() else {
            throw .invalid("type mismatch: expected \(typeName(type)), but the stack is empty")
        }
        guard actual == type else { throw .invalid("type mismatch: expected \(typeName(type)), found \(typeName(actual))") }
    }
    for (position, instruction) in expression.enumerated() {
        switch instruction {
        case .i32Const: stack.append(.i32)
        case .i64Const: stack.append(.i64)
        case .f32Const: stack.append(.f32)
        case .f64Const: stack.append(.f64)
        case .refNull(let heapType):
            let type = ReferenceType(isNullable: true, heapType: heapType)
            try checkSupported(type)
            stack.append(.ref(type))
        case .refFunc(let index):
            _ = try context.function(index)
            stack.append(.ref(.funcRef))
        case .globalGet(let index):
            guard Int(index) < availableGlobals else { throw .invalid("unknown global \(index)") }
            let global = try context.global(index)
            guard global.mutability == .constant else {
                throw .invalid("constant expression required: global.get \(index) reads a mutable global")
            }
            stack.append(global.valueType)
        case .binary(let op) where [.i32Add, .i32Sub, .i32Mul, .i64Add, .i64Sub, .i64Mul].contains(op):
            try pop(op.operandType)
            try pop(op.operandType)
            stack.append(op.operandType)
        case .end:
            guard position == expression.count - 1 else {
                throw WasmValidationError(.malformed, "constant expression continues after end")
            }
        case .v128Const:
            throw .unsupported(.simd)
        default:
            throw .invalid("constant expression required: \(instruction) is not constant")
        }
    }
    guard stack.count == 1 else {
        throw .invalid("type mismatch: constant expression must produce exactly one \(typeName(expected)), produces \(typeList(stack))")
    }
    guard stack[0] == expected else {
        throw .invalid("type mismatch: constant expression produces \(typeName(stack[0])), expected \(typeName(expected))")
    }
}

/// Function indices a constant expression mentions, which join C.refs.
func functionReferences(in expression: ConstExpression) -> [UInt32] {
    expression.compactMap { instruction in
        if case .refFunc(let index) = instruction { return index }
        return nil
    }
}
