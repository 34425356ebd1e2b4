import Foundation
import PhantomSpace

/// Errors of instantiation and restore (a trap during instantiation is `.trap`).
public enum WasmInstantiationError: Error, CustomStringConvertible, Equatable {
    case unlinkable(String)
    case trap(Trap)
    case resource(String)
    case restore(String)

    public var description: String {
        switch self {
        case .unlinkable(let message): "unlinkable: \(message)"
        case .trap(let trap): "trap: \(trap.message)"
        case .resource(let message): "resource limit: \(message)"
        case .restore(let message): "restore failed: \(message)"
        }
    }
}

/// The engine's transient view of one object space: the instances that live in
/// it, by id. All state that matters is in the space (see `Records.swift`); this
/// object only caches Swift objects (translated code, resolved host functions)
/// and is rebuilt by `WasmEngine.restore`.
public final class WasmEngine: @unchecked Sendable {
    public let space: ObjectSpace
    let registry: UInt64
    let lock = NSLock()
    var instances: [UInt32: Instance] = [:]
    var typeIDs: [FunctionType: Int] = [:]
    /// Element type of every table record (transient; rebuilt with the instances).
    var tableTypes: [UInt64: ReferenceType] = [:]
    var scratch: WasmThread?

    /// A reusable thread for `Instance.invoke` and start functions.
    func scratchThread() throws -> WasmThread {
        if let scratch { return scratch }
        let thread = try WasmThread(engine: self, stackSlots: 1 << 18, maximumDepth: 20_000)
        scratch = thread
        return thread
    }
    /// Module records already written, by module object (to share stored bytes).
    var moduleRecords: [ObjectIdentifier: UInt64] = [:]

    nonisolated(unsafe) static var engines: [ObjectIdentifier: WeakEngine] = [:]
    static let enginesLock = NSLock()

    struct WeakEngine { weak var engine: WasmEngine? }

    /// The engine of `space`, creating its registry on first use.
    public static func shared(for space: ObjectSpace, layout: TranslationLayout = .fromEnvironment) throws -> WasmEngine {
        enginesLock.lock()
        defer { enginesLock.unlock() }
        if let engine = engines[ObjectIdentifier(space)]?.engine, engine.space === space { return engine }
        let engine = try WasmEngine(space: space, layout: layout)
        engines[ObjectIdentifier(space)] = WeakEngine(engine: engine)
        return engine
    }

    /// The layout a restore translates stored modules for (`standard` except in tests).
    public let layout: TranslationLayout

    init(space: ObjectSpace, layout: TranslationLayout = .fromEnvironment) throws {
        self.space = space
        self.layout = layout
        var registry = space.root(WasmRoots.registry)
        if registry == 0 {
            registry = try space.allocate(RegistryRecord.size)
            space.setField(registry, RegistryRecord.magicField, RegistryRecord.magic)
            space.setField(registry, RegistryRecord.formatVersion, WasmFormat.version)
            space.setField(registry, RegistryRecord.nextInstance, 1)
            space.setField(registry, RegistryRecord.nextThread, 1)
            space.setRoot(WasmRoots.registry, registry)
        } else {
            try RestoreValidator.checkRegistryOffset(registry, in: space)
            guard space.field(registry, RegistryRecord.magicField) == RegistryRecord.magic else {
                throw WasmInstantiationError.restore("root \(WasmRoots.registry) does not point to a Wasm engine registry")
            }
            let version = WasmFormat.stored(in: registry, of: space)
            guard WasmFormat.readable.contains(version) else {
                let readable = WasmFormat.readable.map(String.init).joined(separator: ", ")
                throw WasmInstantiationError.restore(
                    "the Wasm engine registry (root \(WasmRoots.registry)) has format version \(version); this build reads version \(readable)"
                        + (version < WasmFormat.version ? " (images written before translator-neutral resume points are not supported)" : ""))
            }
        }
        self.registry = registry
    }

    /// Lets this engine, its instances and its space be freed. The engine and its
    /// instances refer to each other (an instance calls through its engine; the
    /// engine finds instances by id for cross-instance calls), and so do the
    /// engine and its scratch thread, so without this they live as long as the
    /// process. Nothing in the space changes: `restore` rebuilds an engine from
    /// it. This engine's instances and threads must not run afterwards.
    public func close() {
        lock.lock()
        instances.removeAll()
        scratch = nil
        moduleRecords.removeAll()
        lock.unlock()
        Self.enginesLock.lock()
        if Self.engines[ObjectIdentifier(space)]?.engine === self { Self.engines[ObjectIdentifier(space)] = nil }
        Self.enginesLock.unlock()
    }

    func typeID(_ type: FunctionType) -> Int {
        lock.lock(); defer { lock.unlock() }
        if let id = typeIDs[type] { return id }
        let id = typeIDs.count + 1
        typeIDs[type] = id
        return id
    }

    /// The instance `id`, for the interpreter: an id it meets comes from a
    /// function reference (a table element, a frame), and one naming no instance
    /// is a trap of the thread, never a crash of the host.
    @inline(__always)
    func instance(_ id: UInt32) throws(Trap) -> Instance {
        lock.lock(); defer { lock.unlock() }
        guard let instance = instances[id] else { throw Trap("invalid function reference: no instance \(id)") }
        return instance
    }

    public func instance(id: UInt32) -> Instance? {
        lock.lock(); defer { lock.unlock() }
        return instances[id]
    }

    /// Appends `offset` to one of the registry's tables and returns its id (from 1).
    func register(_ offset: UInt64, table: UInt64, capacity: UInt64, next: UInt64) throws -> UInt32 {
        let id = space.field(registry, next)
        var tableOffset = space.field(registry, table)
        let currentCapacity = space.field(registry, capacity)
        if id >= currentCapacity {
            let newCapacity = max(16, currentCapacity * 2)
            let newTable = try space.allocate(Int(newCapacity) * 8)
            if tableOffset != 0 {
                let old = space.read(at: tableOffset, count: Int(currentCapacity) * 8)
                space.write(old, at: newTable)
                space.free(tableOffset, byteCount: Int(currentCapacity) * 8)
            }
            tableOffset = newTable
            space.setField(registry, table, newTable)
            space.setField(registry, capacity, newCapacity)
        }
        space.store(offset, at: tableOffset + id * 8)
        space.setField(registry, next, id + 1)
        return UInt32(id)
    }

    func registeredOffsets(table: UInt64, next: UInt64) -> [(UInt32, UInt64)] {
        let count = space.field(registry, next)
        let tableOffset = space.field(registry, table)
        guard count > 1 else { return [] }
        return (1..<count).compactMap { id in
            let offset = space.load(UInt64.self, at: tableOffset + id * 8)
            return offset == 0 ? nil : (UInt32(id), offset)
        }
    }

    /// Rebuilds every instance stored in `space` after a restore: reads the module
    /// bytes back from the space, validates and translates them again, compares the
    /// code checksum, and resolves host imports by name through `imports`.
    @discardableResult
    public static func restore(_ space: ObjectSpace, imports: HostModuleResolver? = nil,
                               layout: TranslationLayout = .fromEnvironment) throws -> WasmEngine {
        try restore(space, importsFor: { _ in imports }, layout: layout)
    }

    /// Like `restore(_:imports:)`, with each instance's host imports resolved by
    /// a resolver of its own: the kernel gives every component its own WASI and
    /// session calls, which see only that component (DESIGN.md invariant 7).
    /// `layout` is test-only (`TranslationLayout`): the translator the stored
    /// modules are translated by; stored threads are re-laid for it when the
    /// image was written by another (`ThreadMigration`).
    @discardableResult
    public static func restore(_ space: ObjectSpace, importsFor: (_ instance: UInt32) -> HostModuleResolver?,
                               layout: TranslationLayout = .fromEnvironment) throws -> WasmEngine {
        guard space.root(WasmRoots.registry) != 0 else {
            throw WasmInstantiationError.restore("no Wasm engine registry at root \(WasmRoots.registry)")
        }
        let engine = try shared(for: space, layout: layout)
        // A refused image must not leave a half-restored engine behind: its
        // instances and it refer to each other and would live (with the space)
        // as long as the process. An engine that already had instances stays.
        engine.lock.lock()
        let fresh = engine.instances.isEmpty
        engine.lock.unlock()
        do {
            try restoreInstances(of: engine, importsFor: importsFor)
        } catch {
            if fresh { engine.close() }
            throw error
        }
        return engine
    }

    private static func restoreInstances(of engine: WasmEngine, importsFor: (UInt32) -> HostModuleResolver?) throws {
        let space = engine.space
        // Every record is checked before it is used (RestoreValidation.swift).
        let validator = RestoreValidator(engine: engine)
        try validator.validateRegistry()
        var modules: [UInt64: WasmModule] = [:]
        var restored: [Instance] = []
        var migration = ThreadMigration(engine: engine)
        for (id, record) in engine.registeredOffsets(table: RegistryRecord.instanceTable, next: RegistryRecord.nextInstance) {
            if engine.instance(id: id) != nil { continue }
            try validator.validateInstanceRecord(id: id, record: record)
            let moduleRecord = space.field(record, InstanceRecord.module)
            let module: WasmModule
            if let cached = modules[moduleRecord] {
                module = cached
            } else {
                let bytes = space.read(at: space.field(moduleRecord, ModuleRecord.bytes),
                                       count: Int(space.field(moduleRecord, ModuleRecord.length)))
                do { module = try WasmModule(bytes: bytes, layout: engine.layout) } catch {
                    throw WasmInstantiationError.restore("instance \(id): stored module no longer validates: \(error)")
                }
                let stored = UInt32(truncatingIfNeeded: space.field(moduleRecord, ModuleRecord.checksum))
                if stored != module.codeChecksum {
                    // Another translator wrote this image: its frames are re-laid below.
                    try migration.note(moduleRecord: moduleRecord, module: module, instance: id)
                }
                try validator.validateResumeMap(of: moduleRecord, instance: id)
                modules[moduleRecord] = module
                engine.moduleRecords[ObjectIdentifier(module)] = moduleRecord
            }
            try validator.validateInstanceState(id: id, record: record, module: module)
            let instance = try Instance(restoring: record, id: id, module: module, engine: engine, imports: importsFor(id))
            engine.lock.lock()
            engine.instances[id] = instance
            engine.lock.unlock()
            restored.append(instance)
        }
        // Cross-instance references and threads once every instance is back.
        for instance in restored { try validator.validateImportedFunctions(of: instance) }
        try migration.migrate()
        for (id, record) in engine.storedThreads() { try validator.validateThread(id: id, record: record) }
        try validator.validateDisjoint()
    }

    /// Threads stored in the space, by id (the offset of each thread record).
    public func storedThreads() -> [(id: UInt32, record: UInt64)] {
        registeredOffsets(table: RegistryRecord.threadTable, next: RegistryRecord.nextThread).map { ($0.0, $0.1) }
    }
}
