/// Module-level rules of "Validation › Modules", applied section by section as
/// WasmParser delivers them, plus the binary-format consistency rules the streaming
/// parser leaves to its client ("Binary Format › Modules": function and code section
/// lengths, data count and data section lengths).
struct ModuleValidator {
    /// WebAssembly 2.0: reference types (with bulk memory, multi-value, sign extension
    /// and non-trapping conversions, which WasmParser does not gate).
    static let features: WasmFeatureSet = [.referenceTypes]
    /// "Validation › Types › Memory Types": at most 2^16 pages of 64 KiB.
    static let maximumMemoryPages: UInt64 = 65536

    var context = ModuleContext()
    var types: [FunctionType] = []
    var imports: [Import] = []
    var definedFunctionTypes: [TypeIndex] = []
    var functions: [ValidatedModule.Function] = []
    var tables: [TableType] = []
    var memories: [MemoryType] = []
    var globals: [Global] = []
    var exports: [Export] = []
    var start: FunctionIndex?
    var elements: [ElementSegment] = []
    var data: [DataSegment] = []
    var customSections: [CustomSection] = []
    var sawCodeSection = false
    var sawDataSection = false

    mutating func validate(_ bytes: [UInt8]) throws(WasmValidationError) -> ValidatedModule {
        var parser = Parser(bytes: bytes, features: Self.features)
        var sectionOffset = 0
        while true {
            sectionOffset = parser.offset
            let payload: ParsingPayload?
            do {
                payload = try parser.parseNext()
            } catch {
                throw WasmValidationError(parserError: error, fallbackOffset: sectionOffset)
            }
            guard let payload else { break }
            do {
                try validate(payload)
            } catch {
                throw error.at(offset: sectionOffset)
            }
        }
        do {
            try finish()
        } catch {
            throw error.at(offset: bytes.count)
        }
        return ValidatedModule(
            context: context, types: types, imports: imports, functions: functions, tables: tables,
            memories: memories, globals: globals, exports: exports, start: start, elements: elements,
            data: data, dataCount: context.dataCount, customSections: customSections)
    }

    mutating func validate(_ payload: ParsingPayload) throws(WasmValidationError) {
        switch payload {
        case .header: break
        case .customSection(let section): customSections.append(section)
        case .typeSection(let groups): try validateTypes(groups)
        case .importSection(let imports): try validateImports(imports)
        case .functionSection(let typeIndices): try validateFunctions(typeIndices)
        case .tableSection(let tables): try validateTables(tables)
        case .memorySection(let memories): try validateMemories(memories)
        case .globalSection(let globals): try validateGlobals(globals)
        case .tagSection: throw .unsupported(.exceptions)
        case .exportSection(let exports): try validateExports(exports)
        case .startSection(let index): try validateStart(index)
        case .elementSection(let segments): try validateElements(segments)
        case .dataCount(let count): context.dataCount = count
        case .codeSection(let codes): try validateCode(codes)
        case .dataSection(let segments): try validateData(segments)
        }
    }

    /// Checks that need the whole module: sections that must agree in length.
    mutating func finish() throws(WasmValidationError) {
        if !sawCodeSection, !definedFunctionTypes.isEmpty {
            throw WasmValidationError(.malformed, "function and code section have inconsistent lengths")
        }
        if !sawDataSection, let count = context.dataCount, count != 0 {
            throw WasmValidationError(.malformed, "data count and data section have inconsistent lengths")
        }
    }

    // MARK: Types and imports

    mutating func validateTypes(_ groups: [RecursiveGroup]) throws(WasmValidationError) {
        for group in groups {
            for subtype in group.types {
                guard case .function(let type) = subtype.body, group.types.count == 1, subtype.isFinal,
                    subtype.supertypes.isEmpty
                else { throw .unsupported(.gc) }
                try checkSupported(type)
                types.append(type)
            }
        }
        context.types = types
    }

    /// "Validation › Modules › Imports".
    mutating func validateImports(_ imports: [Import]) throws(WasmValidationError) {
        self.imports = imports
        for entry in imports {
            switch entry.descriptor {
            case .function(let typeIndex):
                context.functions.append(try context.type(typeIndex))
            case .table(let type):
                try validateTableType(type)
                context.tables.append(type)
            case .memory(let type):
                try validateMemoryType(type)
                context.memories.append(type)
                try checkMemoryCount()
            case .global(let type):
                try checkSupported(type.valueType)
                context.globals.append(type)
            case .tag:
                throw .unsupported(.exceptions)
            }
        }
    }

    mutating func validateFunctions(_ typeIndices: [TypeIndex]) throws(WasmValidationError) {
        for typeIndex in typeIndices {
            context.functions.append(try context.type(typeIndex))
        }
        definedFunctionTypes = typeIndices
    }

    // MARK: Tables, memories, globals

    /// "Validation › Types › Table Types": limits within 2^32 - 1, min ≤ max.
    func validateTableType(_ type: TableType) throws(WasmValidationError) {
        if type.limits.isMemory64 { throw .unsupported(.memory64) }
        try checkSupported(type.elementType)
        try validateLimits(type.limits)
    }

    /// "Validation › Types › Memory Types": limits within 2^16 pages, min ≤ max.
    func validateMemoryType(_ type: MemoryType) throws(WasmValidationError) {
        if type.isMemory64 { throw .unsupported(.memory64) }
        if type.shared { throw .unsupported(.threads) }
        guard type.min <= Self.maximumMemoryPages, (type.max ?? 0) <= Self.maximumMemoryPages else {
            throw .invalid("memory size must be at most 65536 pages (4GiB)")
        }
        try validateLimits(type)
    }

    func validateLimits(_ limits: Limits) throws(WasmValidationError) {
        if let max = limits.max, limits.min > max {
            throw .invalid("size minimum must not be greater than maximum (\(limits.min) > \(max))")
        }
    }

    func checkMemoryCount() throws(WasmValidationError) {
        if context.memories.count > 1 { throw .unsupported(.multiMemory) }
    }

    mutating func validateTables(_ tables: [Table]) throws(WasmValidationError) {
        for table in tables {
            if table.initializer != nil { throw .unsupported(.functionReferences) }
            try validateTableType(table.type)
            context.tables.append(table.type)
            self.tables.append(table.type)
        }
    }

    mutating func validateMemories(_ memories: [Memory]) throws(WasmValidationError) {
        for memory in memories {
            try validateMemoryType(memory.type)
            context.memories.append(memory.type)
            self.memories.append(memory.type)
            try checkMemoryCount()
        }
    }

    /// "Validation › Modules › Globals": the initializer is constant and of the global's type.
    mutating func validateGlobals(_ globals: [Global]) throws(WasmValidationError) {
        for global in globals {
            try checkSupported(global.type.valueType)
            try validateConstantExpression(
                global.initializer, expecting: global.type.valueType,
                context: context, availableGlobals: context.globals.count)
            declareReferences(in: global.initializer)
            context.globals.append(global.type)
            self.globals.append(global)
        }
    }

    mutating func declareReferences(in expression: ConstExpression) {
        context.declaredFunctionReferences.formUnion(functionReferences(in: expression))
    }

    // MARK: Exports and start

    /// "Validation › Modules › Exports" and "Modules": names are unique, indices exist.
    mutating func validateExports(_ exports: [Export]) throws(WasmValidationError) {
        // Names are compared as byte sequences: Swift's `String` equality would treat
        // canonically equivalent spellings (precomposed "Å" and "A" + ring) as one name.
        var names = Set<[UInt8]>()
        for export in exports {
            guard names.insert(Array(export.name.utf8)).inserted else {
                throw .invalid("duplicate export name \"\(export.name)\"")
            }
            switch export.descriptor {
            case .function(let index):
                _ = try context.function(index)
                context.declaredFunctionReferences.insert(index)
            case .table(let index): _ = try context.table(index)
            case .memory(let index): _ = try context.memory(index)
            case .global(let index): _ = try context.global(index)
            case .tag: throw .unsupported(.exceptions)
            }
        }
        self.exports = exports
    }

    /// "Validation › Modules › Start Function": type [] -> [].
    mutating func validateStart(_ index: FunctionIndex) throws(WasmValidationError) {
        let type = try context.function(index)
        guard type.parameters.isEmpty, type.results.isEmpty else {
            throw .invalid("start function \(index) must have type [] -> [], has \(typeList(type.parameters)) -> \(typeList(type.results))")
        }
        start = index
    }

    // MARK: Segments

    /// "Validation › Modules › Element Segments".
    mutating func validateElements(_ segments: [ElementSegment]) throws(WasmValidationError) {
        for segment in segments {
            try checkSupported(segment.type)
            for initializer in segment.initializer {
                try validateConstantExpression(
                    initializer, expecting: .ref(segment.type), context: context,
                    availableGlobals: context.globals.count)
                declareReferences(in: initializer)
            }
            if case .active(let tableIndex, let offset) = segment.mode {
                let table = try context.table(tableIndex)
                guard table.elementType == segment.type else {
                    throw .invalid(
                        "type mismatch: \(typeName(segment.type)) element segment for \(typeName(table.elementType)) table \(tableIndex)")
                }
                try validateConstantExpression(offset, expecting: .i32, context: context, availableGlobals: context.globals.count)
            }
            context.elements.append(segment.type)
            elements.append(segment)
        }
    }

    /// "Validation › Modules › Data Segments".
    mutating func validateData(_ segments: [DataSegment]) throws(WasmValidationError) {
        sawDataSection = true
        if let count = context.dataCount, count != segments.count {
            throw WasmValidationError(
                .malformed, "data count and data section have inconsistent lengths (\(count) vs \(segments.count))")
        }
        for segment in segments {
            if case .active(let active) = segment {
                _ = try context.memory(active.index)
                try validateConstantExpression(
                    active.offset, expecting: .i32, context: context, availableGlobals: context.globals.count)
            }
            data.append(segment)
        }
    }

    // MARK: Code

    /// "Validation › Modules › Functions": each body against its declared type.
    mutating func validateCode(_ codes: [Code]) throws(WasmValidationError) {
        sawCodeSection = true
        guard codes.count == definedFunctionTypes.count else {
            throw WasmValidationError(
                .malformed,
                "function and code section have inconsistent lengths (\(definedFunctionTypes.count) vs \(codes.count))")
        }
        let importedFunctions = context.functions.count - definedFunctionTypes.count
        for (position, code) in codes.enumerated() {
            let index = importedFunctions + position
            let typeIndex = definedFunctionTypes[position]
            let type = context.functions[index]
            var validator = try FunctionValidator(
                context: context, functionIndex: index, type: type, declaredLocals: code.locals,
                bodyOffset: code.expression.startIndex)
            try validator.validate(code)
            functions.append(
                ValidatedModule.Function(
                    index: index, typeIndex: typeIndex, type: type, locals: code.locals, code: code,
                    maximumStackHeight: validator.values.maximumHeight,
                    maximumControlDepth: validator.controls.maximumDepth))
        }
    }
}
