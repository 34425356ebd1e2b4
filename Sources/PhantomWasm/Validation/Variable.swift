/// "Validation › Instructions › Variable Instructions".
extension FunctionValidator {
    func local(_ index: UInt32) throws(WasmValidationError) -> ValueType {
        guard Int(index) < locals.count else { throw .invalid("unknown local \(index)") }
        return locals[Int(index)]
    }

    public mutating func visitLocalGet(localIndex: UInt32) throws(WasmValidationError) {
        push(try local(localIndex))
    }

    public mutating func visitLocalSet(localIndex: UInt32) throws(WasmValidationError) {
        try pop(try local(localIndex))
    }

    public mutating func visitLocalTee(localIndex: UInt32) throws(WasmValidationError) {
        let type = try local(localIndex)
        try pop(type)
        push(type)
    }

    public mutating func visitGlobalGet(globalIndex: UInt32) throws(WasmValidationError) {
        push(try context.global(globalIndex).valueType)
    }

    public mutating func visitGlobalSet(globalIndex: UInt32) throws(WasmValidationError) {
        let global = try context.global(globalIndex)
        guard global.mutability == .variable else { throw .invalid("immutable global \(globalIndex): global.set needs a mutable global") }
        try pop(global.valueType)
    }
}
