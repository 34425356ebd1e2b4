/// The context C of "Validation › Conventions › Contexts": everything an instruction
/// may refer to, with imports first in every index space.
public struct ModuleContext: Sendable {
    public internal(set) var types: [FunctionType] = []
    /// Type of every function (imported, then defined).
    public internal(set) var functions: [FunctionType] = []
    public internal(set) var tables: [TableType] = []
    public internal(set) var memories: [MemoryType] = []
    public internal(set) var globals: [GlobalType] = []
    /// Reference type of every element segment.
    public internal(set) var elements: [ReferenceType] = []
    /// Number of data segments announced by the data count section; `nil` without one.
    public internal(set) var dataCount: UInt32?
    /// C.refs: functions that `ref.func` may name inside function bodies, being
    /// mentioned outside them (exports, globals, element segments).
    public internal(set) var declaredFunctionReferences: Set<UInt32> = []

    func type(_ index: UInt32) throws(WasmValidationError) -> FunctionType {
        guard Int(index) < types.count else { throw .invalid("unknown type \(index)") }
        return types[Int(index)]
    }

    func function(_ index: UInt32) throws(WasmValidationError) -> FunctionType {
        guard Int(index) < functions.count else { throw .invalid("unknown function \(index)") }
        return functions[Int(index)]
    }

    func table(_ index: UInt32) throws(WasmValidationError) -> TableType {
        guard Int(index) < tables.count else { throw .invalid("unknown table \(index)") }
        return tables[Int(index)]
    }

    func memory(_ index: UInt32) throws(WasmValidationError) -> MemoryType {
        guard Int(index) < memories.count else { throw .invalid("unknown memory \(index)") }
        return memories[Int(index)]
    }

    func global(_ index: UInt32) throws(WasmValidationError) -> GlobalType {
        guard Int(index) < globals.count else { throw .invalid("unknown global \(index)") }
        return globals[Int(index)]
    }

    func element(_ index: UInt32) throws(WasmValidationError) -> ReferenceType {
        guard Int(index) < elements.count else { throw .invalid("unknown elem segment \(index)") }
        return elements[Int(index)]
    }

    /// data.drop and memory.init need the data count section ("Binary Format › Modules ›
    /// Data Count Section") so that bodies can be validated before the data section.
    func dataSegment(_ index: UInt32) throws(WasmValidationError) {
        guard let dataCount else { throw .invalid("data count section required") }
        guard index < dataCount else { throw .invalid("unknown data segment \(index)") }
    }
}

/// Value types of WebAssembly 2.0 ("Syntax › Types"): numbers, funcref, externref.
/// Everything else the parser can produce belongs to a later proposal.
func checkSupported(_ type: ValueType) throws(WasmValidationError) {
    switch type {
    case .i32, .i64, .f32, .f64: return
    case .v128: throw .unsupported(.simd)
    case .ref(let ref): try checkSupported(ref)
    }
}

func checkSupported(_ type: ReferenceType) throws(WasmValidationError) {
    guard type.isNullable else { throw .unsupported(.functionReferences) }
    switch type.heapType {
    case .abstract(.funcRef), .abstract(.externRef): return
    case .abstract(.exnRef), .abstract(.noExn): throw .unsupported(.exceptions)
    case .concrete: throw .unsupported(.functionReferences)
    case .abstract: throw .unsupported(.gc)
    }
}

func checkSupported(_ type: FunctionType) throws(WasmValidationError) {
    for parameter in type.parameters { try checkSupported(parameter) }
    for result in type.results { try checkSupported(result) }
}

func isNumeric(_ type: ValueType?) -> Bool {
    switch type {
    case nil, .i32?, .i64?, .f32?, .f64?: true
    case .v128?, .ref?: false
    }
}

func isReference(_ type: ValueType?) -> Bool {
    switch type {
    case nil, .ref?: true
    default: false
    }
}
