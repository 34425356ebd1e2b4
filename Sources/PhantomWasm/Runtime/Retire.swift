import PhantomSpace

/// Retiring an instance: the kernel's teardown of a component whose program
/// ended, trapped or was removed. Its records leave the registry (so a
/// restore no longer looks for its host functions, which nobody provides
/// any more) and every block it owns goes back to the space's allocator —
/// the linear memory's pages are discarded at once and leave the image at
/// the next snapshot. Without this, every restart of a component would grow
/// the image by its whole memory reservation.
///
/// Only what the instance *owns* is freed: an imported memory, table or
/// global belongs to its exporter, and a module record shared with another
/// stored instance stays. An instance that another live instance imports
/// from, or whose functions another's function space names, is refused:
/// freeing it would leave that instance's references dangling (a restore
/// would then refuse the whole image).
public enum WasmRetireError: Error, CustomStringConvertible, Equatable {
    case referenced(instance: UInt32, by: UInt32)
    case unknownInstance(UInt32)

    public var description: String {
        switch self {
        case let .referenced(instance, by):
            "instance \(instance) cannot be retired: instance \(by) refers to it"
        case let .unknownInstance(id):
            "no instance \(id) to retire"
        }
    }
}

extension WasmEngine {
    /// Removes `instance` and `threads` from the registry and frees their
    /// records. The caller runs as a registered mutator (the space's
    /// safepoints) and no thread of the instance runs any more.
    public func retire(instance id: UInt32, threads: [UInt32]) throws(WasmRetireError) {
        lock.lock()
        guard let instance = instances[id] else { lock.unlock(); throw .unknownInstance(id) }
        let others = instances.filter { $0.key != id }.map(\.value)
        lock.unlock()
        let owned = OwnedRecords(instance)
        for other in others where owned.isReferenced(by: other, engine: self) {
            throw .referenced(instance: id, by: other.id)
        }
        for thread in threads { retireThread(thread) }
        freeRecords(of: instance)
        lock.lock()
        instances[id] = nil
        for table in owned.tables { tableTypes[table] = nil }
        lock.unlock()
    }

    private func retireThread(_ id: UInt32) {
        let table = space.field(registry, RegistryRecord.threadTable)
        guard id > 0, UInt64(id) < space.field(registry, RegistryRecord.nextThread) else { return }
        let record = space.load(UInt64.self, at: table + UInt64(id) * 8)
        guard record != 0 else { return }
        let stackSlots = space.field(record, ThreadRecord.stackCapacity)
        space.free(space.field(record, ThreadRecord.stack), byteCount: Int(stackSlots) * 8)
        let trapLength = space.field(record, ThreadRecord.trapLength)
        if space.field(record, ThreadRecord.trapMessage) != 0 {
            space.free(space.field(record, ThreadRecord.trapMessage), byteCount: max(Int(trapLength), 8))
        }
        space.free(record, byteCount: ThreadRecord.size)
        space.store(UInt64(0), at: table + UInt64(id) * 8)
    }

    private func freeRecords(of instance: Instance) {
        let record = instance.record
        let validated = instance.module.validated
        let owned = OwnedRecords(instance)

        if let memory = owned.memory {
            let limit = space.field(memory, MemoryRecord.limitPages)
            space.free(space.field(memory, MemoryRecord.data), byteCount: max(Int(limit * MemoryRecord.pageSize), 16))
            space.free(memory, byteCount: MemoryRecord.size)
        }
        for table in owned.tables {
            space.free(space.field(table, TableRecord.elements), byteCount: Int(space.field(table, TableRecord.capacity)) * 8)
            space.free(table, byteCount: TableRecord.size)
        }
        // The defined globals are one block, starting at the first of them.
        if let first = owned.globals.first {
            space.free(first, byteCount: validated.globals.count * 8)
        }
        space.free(space.field(record, InstanceRecord.globals), byteCount: max(instance.globalCells.count * 8, 8))
        space.free(space.field(record, InstanceRecord.tables), byteCount: max(instance.tableRecords.count * 8, 8))
        space.free(space.field(record, InstanceRecord.functions), byteCount: max(instance.functionRefs.count * 8, 8))
        let segments = Int(space.field(record, InstanceRecord.dataCount) + space.field(record, InstanceRecord.elementCount))
        space.free(space.field(record, InstanceRecord.dropped), byteCount: max(segments, 8))

        let moduleRecord = space.field(record, InstanceRecord.module)
        let instanceTable = space.field(registry, RegistryRecord.instanceTable)
        space.store(UInt64(0), at: instanceTable + UInt64(instance.id) * 8)
        let stillUsed = registeredOffsets(table: RegistryRecord.instanceTable, next: RegistryRecord.nextInstance)
            .contains { space.field($0.1, InstanceRecord.module) == moduleRecord }
        if !stillUsed {
            space.free(space.field(moduleRecord, ModuleRecord.bytes), byteCount: max(Int(space.field(moduleRecord, ModuleRecord.length)), 8))
            let map = space.field(moduleRecord, ModuleRecord.resumeMap)
            if let bytes = ResumeMapRecord.byteCount(at: map, in: space) { space.free(map, byteCount: bytes) }
            space.free(moduleRecord, byteCount: ModuleRecord.size)
            lock.lock()
            moduleRecords = moduleRecords.filter { $0.value != moduleRecord }
            lock.unlock()
        }
        space.free(record, byteCount: InstanceRecord.size)
    }
}

/// The records an instance owns, as opposed to those it imported (which its
/// exporter owns): the index spaces list imports first (spec 2.5.1).
private struct OwnedRecords {
    let id: UInt32
    let memory: UInt64?
    let tables: [UInt64]
    let globals: [UInt64]

    init(_ instance: Instance) {
        let validated = instance.module.validated
        let importedTables = validated.context.tables.count - validated.tables.count
        let importedGlobals = validated.context.globals.count - validated.globals.count
        let ownsMemory = validated.context.memories.count == validated.memories.count
        id = instance.id
        memory = ownsMemory && instance.memoryRecord != 0 ? instance.memoryRecord : nil
        tables = Array(instance.tableRecords.dropFirst(importedTables))
        globals = Array(instance.globalCells.dropFirst(importedGlobals))
    }

    /// Whether `other` names one of these records or one of this instance's
    /// functions (in its function space or as an element of one of its tables).
    func isReferenced(by other: Instance, engine: WasmEngine) -> Bool {
        let space = engine.space
        let mine = UInt64(id)
        if other.functionRefs.contains(where: { $0 >> 32 == mine }) { return true }
        if let memory, other.memoryRecord == memory { return true }
        if !Set(tables).isDisjoint(with: other.tableRecords) || !Set(globals).isDisjoint(with: other.globalCells) { return true }
        for table in other.tableRecords where Instance.tableElementType(space, table, engine: engine) == .funcRef {
            let elements = space.field(table, TableRecord.elements)
            let count = space.field(table, TableRecord.count)
            for index in 0..<count where space.load(UInt64.self, at: elements + index * 8) >> 32 == mine { return true }
        }
        return false
    }
}
