/// "Validation › Instructions › Reference Instructions".
extension FunctionValidator {
    public mutating func visitRefNull(type: HeapType) throws(WasmValidationError) {
        let reference = ReferenceType(isNullable: true, heapType: type)
        try checkSupported(reference)
        push(.ref(reference))
    }

    public mutating func visitRefIsNull() throws(WasmValidationError) {
        let operand = try pop()
        guard isReference(operand) else {
            throw .invalid("type mismatch: ref.is_null expects a reference, found \(typeName(operand))")
        }
        push(.i32)
    }

    /// The function must be in C.refs, i.e. mentioned outside function bodies.
    public mutating func visitRefFunc(functionIndex: UInt32) throws(WasmValidationError) {
        _ = try context.function(functionIndex)
        guard context.declaredFunctionReferences.contains(functionIndex) else {
            throw .invalid("undeclared function reference \(functionIndex)")
        }
        push(.ref(.funcRef))
    }
}
