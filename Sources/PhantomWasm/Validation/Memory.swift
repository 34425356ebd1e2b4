/// "Validation › Instructions › Memory Instructions". With one memory at most, every
/// memory index is 0 and the memory must exist.
extension FunctionValidator {
    func checkMemory(_ index: UInt32) throws(WasmValidationError) {
        _ = try context.memory(index)
    }

    func checkAlignment(_ memarg: MemArg, natural: Int) throws(WasmValidationError) {
        guard memarg.align <= UInt32(natural) else {
            throw .invalid("alignment must not be larger than natural (2^\(memarg.align) > \(1 << natural) bytes)")
        }
    }

    public mutating func visitLoad(_ load: Instruction.Load, memarg: MemArg) throws(WasmValidationError) {
        if load.type == .v128 { throw .unsupported(.simd) }
        if load.isAtomic { throw .unsupported(.threads) }
        try checkMemory(memarg.memory)
        try checkAlignment(memarg, natural: load.naturalAlignment)
        try pop(.i32)
        push(load.type)
    }

    public mutating func visitStore(_ store: Instruction.Store, memarg: MemArg) throws(WasmValidationError) {
        if store.type == .v128 { throw .unsupported(.simd) }
        if store.isAtomic { throw .unsupported(.threads) }
        try checkMemory(memarg.memory)
        try checkAlignment(memarg, natural: store.naturalAlignment)
        try pop(store.type)
        try pop(.i32)
    }

    public mutating func visitMemorySize(memory: UInt32) throws(WasmValidationError) {
        try checkMemory(memory)
        push(.i32)
    }

    public mutating func visitMemoryGrow(memory: UInt32) throws(WasmValidationError) {
        try checkMemory(memory)
        try pop(.i32)
        push(.i32)
    }

    public mutating func visitMemoryFill(memory: UInt32) throws(WasmValidationError) {
        try checkMemory(memory)
        try pop([.i32, .i32, .i32])
    }

    public mutating func visitMemoryCopy(dstMem: UInt32, srcMem: UInt32) throws(WasmValidationError) {
        try checkMemory(dstMem)
        try checkMemory(srcMem)
        try pop([.i32, .i32, .i32])
    }

    public mutating func visitMemoryInit(dataIndex: UInt32, memory: UInt32) throws(WasmValidationError) {
        try checkMemory(memory)
        try context.dataSegment(dataIndex)
        try pop([.i32, .i32, .i32])
    }

    public mutating func visitDataDrop(dataIndex: UInt32) throws(WasmValidationError) {
        try context.dataSegment(dataIndex)
    }
}

extension Instruction.Load {
    var isAtomic: Bool {
        switch self {
        case .i32AtomicLoad, .i64AtomicLoad, .i32AtomicLoad8U, .i32AtomicLoad16U,
            .i64AtomicLoad8U, .i64AtomicLoad16U, .i64AtomicLoad32U:
            true
        default: false
        }
    }
}

extension Instruction.Store {
    var isAtomic: Bool {
        switch self {
        case .i32AtomicStore, .i64AtomicStore, .i32AtomicStore8, .i32AtomicStore16,
            .i64AtomicStore8, .i64AtomicStore16, .i64AtomicStore32:
            true
        default: false
        }
    }
}
