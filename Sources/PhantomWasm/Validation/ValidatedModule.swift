/// A module that passed validation, in the pieces a translator or interpreter needs.
/// Index spaces (functions, tables, memories, globals) start with the imports; the
/// arrays below hold only what the module itself defines, `context` holds both.
public struct ValidatedModule: Sendable {
    /// A function defined by the module.
    public struct Function: Sendable {
        /// Index in the function index space (after the imported functions).
        public let index: Int
        public let typeIndex: TypeIndex
        public let type: FunctionType
        /// Declared locals, parameters excluded.
        public let locals: [ValueType]
        /// The body; `ExpressionParser(code:)` decodes it again.
        public let code: Code
        /// Largest operand stack height the body reaches.
        public let maximumStackHeight: Int
        /// Deepest nesting of control frames, the function frame included.
        public let maximumControlDepth: Int
    }

    /// The validation context C: types of all functions, tables, memories, globals,
    /// element segments; data count; declared function references.
    public let context: ModuleContext
    public let types: [FunctionType]
    public let imports: [Import]
    public let functions: [Function]
    public let tables: [TableType]
    public let memories: [MemoryType]
    public let globals: [Global]
    public let exports: [Export]
    public let start: FunctionIndex?
    public let elements: [ElementSegment]
    public let data: [DataSegment]
    public let dataCount: UInt32?
    public let customSections: [CustomSection]

    public var importedFunctionCount: Int { context.functions.count - functions.count }
}

/// Decodes and validates a binary module ("Validation › Modules"), refusing features
/// beyond WebAssembly 2.0. Errors name the offset and, inside code, the function.
public func validate(module bytes: [UInt8]) throws(WasmValidationError) -> ValidatedModule {
    var validator = ModuleValidator()
    return try validator.validate(bytes)
}
