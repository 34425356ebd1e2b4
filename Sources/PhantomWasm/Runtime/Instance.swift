import PhantomSpace

/// What an export names, as the engine stores it.
public enum ExternalValue: Equatable {
    case function(FunctionReference)
    /// Offset of the table record.
    case table(UInt64)
    /// Offset of the memory record.
    case memory(UInt64)
    /// Offset of the 8-byte global cell, and its type.
    case global(UInt64, GlobalType)
}

public struct InstanceOptions: Sendable {
    /// Pages a memory may reach at most, whatever its declared maximum
    /// (`memory.grow` beyond returns -1). The memory's address range is reserved
    /// up front for min(declared maximum, quota) pages.
    public var memoryQuotaPages: UInt64
    /// Largest number of elements a table may grow to.
    public var tableQuota: UInt64
    public init(memoryQuotaPages: UInt64 = 16384, tableQuota: UInt64 = 10_000_000) {
        self.memoryQuotaPages = memoryQuotaPages
        self.tableQuota = tableQuota
    }
}

/// A module instance. Its state (memory, tables, globals, dropped segments, the
/// references to its functions) lives in the object space; this object caches
/// offsets and the translated code.
public final class Instance: @unchecked Sendable {
    public let id: UInt32
    public let module: WasmModule
    public let engine: WasmEngine
    public let record: UInt64
    public var space: ObjectSpace { engine.space }

    /// Memory record offset, 0 without a memory.
    let memoryRecord: UInt64
    let globalCells: [UInt64]
    let globalTypes: [GlobalType]
    let tableRecords: [UInt64]
    let functionRefs: [FunctionReference]
    /// Engine-wide type ids of every function (for `call_indirect`).
    let functionTypeIDs: [Int]
    /// Engine-wide type ids of the module's type section.
    let typeIDs: [Int]
    /// Imported functions implemented by the host (nil: imported from an instance).
    let hostFunctions: [HostFunction?]
    /// Element segments evaluated to references.
    var elementSegments: [[UInt64]] = []
    let importedFunctionCount: Int
    let dropped: UInt64
    /// Exports by name. Names compare by their UTF-8 bytes (Swift `String` equality
    /// would identify canonically equivalent names, which WebAssembly keeps apart).
    let exportsByName: [[UInt8]: ExternalValue]
    public var exports: [String: ExternalValue] {
        Dictionary(exportsByName.map { (String(decoding: $0.key, as: UTF8.self), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: - Instantiation ("Execution › Modules › Instantiation")

    public static func instantiate(
        _ module: WasmModule, in space: ObjectSpace, imports: HostModuleResolver? = nil,
        registered: [String: Instance] = [:], options: InstanceOptions = .init()
    ) throws -> Instance {
        let engine = try WasmEngine.shared(for: space)
        let validated = module.validated
        // Resolve imports first: nothing is allocated for an unlinkable module.
        var resolved: [ExternalValue?] = []
        var hostFunctions: [HostFunction?] = []
        for entry in validated.imports {
            let exporter = registered[entry.module]
            // Records of another space's instance are offsets into that space: meaningless here.
            if let exporter, exporter.engine !== engine {
                throw WasmInstantiationError.unlinkable("import \(entry.module).\(entry.name) comes from an instance of another object space")
            }
            let found = exporter?.export(entry.name)
            switch entry.descriptor {
            case .function(let typeIndex):
                let expected = validated.types[Int(typeIndex)]
                if let found {
                    guard case .function(let reference) = found else { throw incompatible(entry) }
                    guard let owner = engine.instance(id: UInt32(reference >> 32)) else { throw incompatible(entry) }
                    guard owner.functionType(Int(reference & 0xffff_ffff)) == expected else { throw incompatible(entry) }
                    resolved.append(found)
                    hostFunctions.append(nil)
                } else if let host = imports?.resolve(module: entry.module, name: entry.name) {
                    guard host.parameters == expected.parameters, host.results == expected.results else { throw incompatible(entry) }
                    resolved.append(nil)
                    hostFunctions.append(host)
                } else {
                    throw WasmInstantiationError.unlinkable("unknown import \(entry.module).\(entry.name)")
                }
            case .table(let type):
                guard case .table(let table)? = found else { throw unknownOrIncompatible(entry, found) }
                let size = space.field(table, TableRecord.count)
                let maximum = space.field(table, TableRecord.maximum)
                guard size >= type.limits.min, limitsMatch(maximum, type.limits.max),
                      tableElementType(space, table, engine: engine) == type.elementType else { throw incompatible(entry) }
                resolved.append(found)
            case .memory(let type):
                guard case .memory(let memory)? = found else { throw unknownOrIncompatible(entry, found) }
                let pages = space.field(memory, MemoryRecord.pages)
                let maximum = space.field(memory, MemoryRecord.declaredMaximum)
                guard pages >= type.min, limitsMatch(maximum, type.max) else { throw incompatible(entry) }
                resolved.append(found)
            case .global(let type):
                guard case .global(_, let actual)? = found else { throw unknownOrIncompatible(entry, found) }
                guard actual == type else { throw incompatible(entry) }
                resolved.append(found)
            case .tag:
                throw WasmInstantiationError.unlinkable("unknown import \(entry.module).\(entry.name) (tags are not supported)")
            }
        }

        // Allocate the instance record and everything it owns.
        let record = try space.allocate(InstanceRecord.size)
        let id = try engine.register(record, table: RegistryRecord.instanceTable,
                                     capacity: RegistryRecord.instanceCapacity, next: RegistryRecord.nextInstance)
        let moduleRecord: UInt64
        if let existing = engine.moduleRecords[ObjectIdentifier(module)] {
            moduleRecord = existing
        } else {
            moduleRecord = try space.allocate(ModuleRecord.size)
            let bytes = try space.allocate(max(module.bytes.count, 8))
            space.write(module.bytes, at: bytes)
            space.setField(moduleRecord, ModuleRecord.bytes, bytes)
            space.setField(moduleRecord, ModuleRecord.length, UInt64(module.bytes.count))
            space.setField(moduleRecord, ModuleRecord.checksum, UInt64(module.codeChecksum))
            space.setField(moduleRecord, ModuleRecord.resumeMap, try ResumeMapRecord.store(module, in: space))
            engine.moduleRecords[ObjectIdentifier(module)] = moduleRecord
        }
        space.setField(record, InstanceRecord.module, moduleRecord)
        space.setField(record, InstanceRecord.id, UInt64(id))

        var functionRefs: [FunctionReference] = []
        var memories: [UInt64] = []
        var tables: [UInt64] = []
        var cells: [UInt64] = []
        for (index, entry) in validated.imports.enumerated() {
            switch (entry.descriptor, resolved[index]) {
            case (.function, .function(let reference)?): functionRefs.append(reference)
            case (.function, nil): functionRefs.append(UInt64(id) << 32 | UInt64(functionRefs.count))
            case (.table, .table(let table)?): tables.append(table)
            case (.memory, .memory(let memory)?): memories.append(memory)
            case (.global, .global(let cell, _)?): cells.append(cell)
            default: break
            }
        }
        for function in validated.functions { functionRefs.append(UInt64(id) << 32 | UInt64(function.index)) }

        for type in validated.memories {
            let limit = min(type.max ?? 65536, options.memoryQuotaPages)
            guard type.min <= limit else {
                throw WasmInstantiationError.resource("memory of \(type.min) pages exceeds the quota of \(limit) pages")
            }
            let memory = try space.allocate(MemoryRecord.size)
            let data = try space.allocate(max(Int(limit * MemoryRecord.pageSize), 16))
            space.setField(memory, MemoryRecord.data, data)
            space.setField(memory, MemoryRecord.pages, type.min)
            space.setField(memory, MemoryRecord.limitPages, limit)
            space.setField(memory, MemoryRecord.declaredMaximum, type.max ?? UInt64.max)
            memories.append(memory)
        }
        for type in validated.tables {
            guard type.limits.min <= options.tableQuota else {
                throw WasmInstantiationError.resource("table of \(type.limits.min) elements exceeds the quota")
            }
            let table = try space.allocate(TableRecord.size)
            let capacity = max(type.limits.min, 4)
            space.setField(table, TableRecord.elements, try space.allocate(Int(capacity) * 8))
            space.setField(table, TableRecord.count, type.limits.min)
            space.setField(table, TableRecord.capacity, capacity)
            space.setField(table, TableRecord.maximum, min(type.limits.max ?? UInt64.max, options.tableQuota))
            tables.append(table)
        }
        let definedGlobals = validated.globals.count
        let globalBlock = definedGlobals > 0 ? try space.allocate(definedGlobals * 8) : 0
        // Globals are initialized in order; an initializer may read earlier globals.
        for (index, global) in validated.globals.enumerated() {
            let cell = globalBlock + UInt64(index) * 8
            let value = try evaluate(global.initializer, space: space, cells: cells, functionRefs: functionRefs)
            space.store(value, at: cell)
            cells.append(cell)
        }

        space.setField(record, InstanceRecord.memory, memories.first ?? 0)
        space.setField(record, InstanceRecord.globals, try space.storeArray(cells))
        space.setField(record, InstanceRecord.globalCount, UInt64(cells.count))
        space.setField(record, InstanceRecord.tables, try space.storeArray(tables))
        space.setField(record, InstanceRecord.tableCount, UInt64(tables.count))
        space.setField(record, InstanceRecord.functions, try space.storeArray(functionRefs))
        space.setField(record, InstanceRecord.functionCount, UInt64(functionRefs.count))
        let segmentCount = validated.data.count + validated.elements.count
        space.setField(record, InstanceRecord.dropped, try space.allocate(max(segmentCount, 8)))
        space.setField(record, InstanceRecord.dataCount, UInt64(validated.data.count))
        space.setField(record, InstanceRecord.elementCount, UInt64(validated.elements.count))

        let instance = try Instance(restoring: record, id: id, module: module, engine: engine, hostFunctions: hostFunctions)
        engine.lock.lock()
        engine.instances[id] = instance
        engine.lock.unlock()

        // Element and data segments, then the start function. A trap here leaves the
        // effects so far in place (tables and memories may be shared).
        do {
            for (index, segment) in validated.elements.enumerated() {
                switch segment.mode {
                case .active(let table, let offset):
                    let start = try evaluate(offset, space: space, cells: cells, functionRefs: functionRefs)
                    let values = instance.elementSegments[index]
                    try instance.tableInit(table: Int(table), values: values, destination: start & 0xffff_ffff,
                                           source: 0, count: UInt64(values.count))
                    instance.drop(element: index)
                case .declarative:
                    instance.drop(element: index)
                case .passive:
                    break
                }
            }
            for (index, segment) in validated.data.enumerated() {
                guard case .active(let active) = segment else { continue }
                let start = try evaluate(active.offset, space: space, cells: cells, functionRefs: functionRefs)
                try instance.memoryInit(bytes: active.initializer, destination: start & 0xffff_ffff, source: 0,
                                        count: UInt64(active.initializer.count))
                instance.drop(data: index)
            }
        } catch let trap as Trap {
            throw WasmInstantiationError.trap(trap)
        }
        if let start = validated.start {
            let thread = try engine.scratchThread()
            let result = thread.call(functionRefs[Int(start)], arguments: [])
            switch result {
            case .finished: break
            case .trapped(let trap): throw WasmInstantiationError.trap(trap)
            default: throw WasmInstantiationError.trap(Trap("start function did not finish: \(result)"))
            }
        }
        return instance
    }

    static func tableElementType(_ space: ObjectSpace, _ table: UInt64, engine: WasmEngine) -> ReferenceType {
        engine.lock.lock(); defer { engine.lock.unlock() }
        return engine.tableTypes[table] ?? .funcRef
    }

    static func limitsMatch(_ actualMaximum: UInt64, _ expectedMaximum: UInt64?) -> Bool {
        guard let expectedMaximum else { return true }
        return actualMaximum != UInt64.max && actualMaximum <= expectedMaximum
    }

    static func incompatible(_ entry: Import) -> WasmInstantiationError {
        .unlinkable("incompatible import type for \(entry.module).\(entry.name)")
    }

    static func unknownOrIncompatible(_ entry: Import, _ found: ExternalValue?) -> WasmInstantiationError {
        found == nil ? .unlinkable("unknown import \(entry.module).\(entry.name)") : incompatible(entry)
    }

    static func evaluate(_ expression: ConstExpression, space: ObjectSpace, cells: [UInt64],
                         functionRefs: [FunctionReference]) throws -> UInt64 {
        var stack: [UInt64] = []
        for instruction in expression {
            switch instruction {
            case .i32Const(let value): stack.append(UInt64(UInt32(bitPattern: value)))
            case .i64Const(let value): stack.append(UInt64(bitPattern: value))
            case .f32Const(let value): stack.append(UInt64(value.bitPattern))
            case .f64Const(let value): stack.append(value.bitPattern)
            case .refNull: stack.append(0)
            case .refFunc(let index): stack.append(functionRefs[Int(index)])
            case .globalGet(let index): stack.append(space.load(UInt64.self, at: cells[Int(index)]))
            case .binary(let op):
                let b = stack.removeLast(), a = stack.removeLast()
                switch op {
                case .i32Add: stack.append(UInt64(UInt32(truncatingIfNeeded: a) &+ UInt32(truncatingIfNeeded: b)))
                case .i32Sub: stack.append(UInt64(UInt32(truncatingIfNeeded: a) &- UInt32(truncatingIfNeeded: b)))
                case .i32Mul: stack.append(UInt64(UInt32(truncatingIfNeeded: a) &* UInt32(truncatingIfNeeded: b)))
                case .i64Add: stack.append(a &+ b)
                case .i64Sub: stack.append(a &- b)
                case .i64Mul: stack.append(a &* b)
                default: throw Trap("unsupported constant expression")
                }
            case .end: break
            default: throw Trap("unsupported constant expression")
            }
        }
        return stack.last ?? 0
    }

    /// Builds the transient view of a stored instance (also used right after
    /// allocating a new one).
    init(restoring record: UInt64, id: UInt32, module: WasmModule, engine: WasmEngine,
         imports: HostModuleResolver? = nil, hostFunctions: [HostFunction?]? = nil) throws {
        let space = engine.space
        self.id = id
        self.module = module
        self.engine = engine
        self.record = record
        let validated = module.validated
        memoryRecord = space.field(record, InstanceRecord.memory)
        globalCells = space.loadArray(at: space.field(record, InstanceRecord.globals),
                                      count: Int(space.field(record, InstanceRecord.globalCount)))
        globalTypes = validated.context.globals
        tableRecords = space.loadArray(at: space.field(record, InstanceRecord.tables),
                                       count: Int(space.field(record, InstanceRecord.tableCount)))
        functionRefs = space.loadArray(at: space.field(record, InstanceRecord.functions),
                                       count: Int(space.field(record, InstanceRecord.functionCount)))
        dropped = space.field(record, InstanceRecord.dropped)
        importedFunctionCount = validated.importedFunctionCount
        typeIDs = validated.types.map { engine.typeID($0) }
        functionTypeIDs = validated.context.functions.map { engine.typeID($0) }
        if let hostFunctions {
            self.hostFunctions = hostFunctions
        } else {
            var hosts: [HostFunction?] = []
            for entry in validated.imports {
                guard case .function = entry.descriptor else { continue }
                let index = hosts.count
                if functionRefs[index] == UInt64(id) << 32 | UInt64(index) {
                    guard let host = imports?.resolve(module: entry.module, name: entry.name) else {
                        throw WasmInstantiationError.restore("instance \(id): host function \(entry.module).\(entry.name) is not available")
                    }
                    hosts.append(host)
                } else {
                    hosts.append(nil)
                }
            }
            self.hostFunctions = hosts
        }
        var exports: [[UInt8]: ExternalValue] = [:]
        for export in validated.exports {
            switch export.descriptor {
            case .function(let index): exports[Array(export.name.utf8)] = .function(functionRefs[Int(index)])
            case .table(let index): exports[Array(export.name.utf8)] = .table(tableRecords[Int(index)])
            case .memory: exports[Array(export.name.utf8)] = .memory(memoryRecord)
            case .global(let index): exports[Array(export.name.utf8)] = .global(globalCells[Int(index)], validated.context.globals[Int(index)])
            case .tag: break
            }
        }
        exportsByName = exports
        // Table element types, for import matching.
        engine.lock.lock()
        for (index, type) in validated.context.tables.enumerated() where index < tableRecords.count {
            if engine.tableTypes[tableRecords[index]] == nil { engine.tableTypes[tableRecords[index]] = type.elementType }
        }
        engine.lock.unlock()
        // Element segments evaluate to references (deterministic: only immutable globals).
        elementSegments = try validated.elements.map { segment in
            try segment.initializer.map { try Instance.evaluate($0, space: space, cells: globalCells, functionRefs: functionRefs) }
        }
    }

    func functionType(_ index: Int) -> FunctionType { module.validated.context.functions[index] }

    // MARK: - Segments

    func isDropped(data index: Int) -> Bool { space.load(UInt8.self, at: dropped + UInt64(index)) != 0 }
    func isDropped(element index: Int) -> Bool {
        space.load(UInt8.self, at: dropped + UInt64(module.validated.data.count + index)) != 0
    }
    func drop(data index: Int) { space.store(UInt8(1), at: dropped + UInt64(index)) }
    func drop(element index: Int) { space.store(UInt8(1), at: dropped + UInt64(module.validated.data.count + index)) }

    func memoryInit(bytes: ArraySlice<UInt8>, destination: UInt64, source: UInt64, count: UInt64) throws(Trap) {
        let size = memoryRecord == 0 ? 0 : space.field(memoryRecord, MemoryRecord.pages) * MemoryRecord.pageSize
        guard source + count <= UInt64(bytes.count), destination + count <= size else {
            throw Trap("out of bounds memory access")
        }
        guard count > 0 else { return }
        let data = space.field(memoryRecord, MemoryRecord.data)
        let start = bytes.startIndex + Int(source)
        bytes[start..<start + Int(count)].withUnsafeBytes { space.write($0, at: data + destination) }
    }

    func tableInit(table: Int, values: [UInt64], destination: UInt64, source: UInt64, count: UInt64) throws(Trap) {
        let record = tableRecords[table]
        let size = space.field(record, TableRecord.count)
        guard source + count <= UInt64(values.count), destination + count <= size else {
            throw Trap("out of bounds table access")
        }
        let elements = space.field(record, TableRecord.elements)
        for i in 0..<count {
            space.store(values[Int(source + i)], at: elements + (destination + i) * 8)
        }
    }

    // MARK: - Exports and invocation

    public func export(_ name: String) -> ExternalValue? { exportsByName[Array(name.utf8)] }

    /// Reads an exported global.
    public func global(_ name: String) -> RawValue? {
        guard case .global(let cell, _)? = export(name) else { return nil }
        return space.load(UInt64.self, at: cell)
    }

    /// Calls an exported function and runs it to completion (no fuel limit) on the
    /// engine's scratch thread. Traps come back as `.trapped`.
    public func invoke(_ name: String, _ arguments: [RawValue] = []) throws -> RunResult {
        guard case .function(let reference)? = export(name) else {
            throw WasmInstantiationError.unlinkable("no exported function \"\(name)\"")
        }
        let thread = try engine.scratchThread()
        return thread.call(reference, arguments: arguments)
    }

    /// Creates a persistent thread that will call the exported function `name`.
    public func makeThread(_ name: String, _ arguments: [RawValue] = [], stackSlots: Int = 1 << 18,
                           maximumDepth: Int = 20_000) throws -> WasmThread {
        guard case .function(let reference)? = export(name) else {
            throw WasmInstantiationError.unlinkable("no exported function \"\(name)\"")
        }
        let thread = try WasmThread(engine: engine, stackSlots: stackSlots, maximumDepth: maximumDepth)
        try thread.start(reference, arguments: arguments)
        return thread
    }

    /// The memory's bytes [address, address + count), for tests and hosts.
    public func readMemory(at address: UInt64, count: Int) -> [UInt8]? {
        guard memoryRecord != 0 else { return nil }
        let size = space.field(memoryRecord, MemoryRecord.pages) * MemoryRecord.pageSize
        guard address + UInt64(count) <= size else { return nil }
        return space.read(at: space.field(memoryRecord, MemoryRecord.data) + address, count: count)
    }

    public var memoryPages: UInt64 { memoryRecord == 0 ? 0 : space.field(memoryRecord, MemoryRecord.pages) }
}
