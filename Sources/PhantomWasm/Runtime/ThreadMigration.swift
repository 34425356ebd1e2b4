import PhantomSpace

/// Re-lays the stored threads of an image whose code was translated by another
/// translator (another release, or the test-only `TranslationLayout.alternate`):
/// the restore's counterpart of a JIT's deoptimisation (DESIGN.md invariant 10).
///
/// A restore re-translates every module from its stored bytes. When the
/// result's fingerprint (`ModuleRecord.checksum`) equals the stored one, the
/// frames on the stacks are already in the current layout and nothing happens.
/// When it differs, the image's frames are read through the resume maps the
/// *old* translator stored beside the module (`ResumeMapRecord`) into
/// WebAssembly terms (`WasmFrameState`: function, bytecode offset, locals and
/// operands by index), and written back in the current layout: constant slots
/// re-derived from the new code, pcs and return positions looked up by offset
/// in the new maps. Then the module records get the new fingerprint and maps,
/// so the image, once snapshotted, is one of the current translator.
///
/// Everything happens in the space in RAM, before any thread runs; the image
/// on disk changes only with the next snapshot, so a crash during a migration
/// leaves the old generation, which migrates again on the next open.
struct ThreadMigration {
    let engine: WasmEngine
    /// Old frame maps of the module records whose translation changed.
    var oldMaps: [UInt64: [FrameMap]] = [:]
    /// Their modules as translated now.
    var modules: [UInt64: WasmModule] = [:]

    var space: ObjectSpace { engine.space }
    var isNeeded: Bool { !oldMaps.isEmpty }

    init(engine: WasmEngine) { self.engine = engine }

    /// Reads the stored maps of `moduleRecord`, whose stored fingerprint
    /// differs from `module`'s translation.
    mutating func note(moduleRecord: UInt64, module: WasmModule, instance id: UInt32) throws(WasmInstantiationError) {
        if oldMaps[moduleRecord] != nil { return }
        modules[moduleRecord] = module
        let stored = UInt32(truncatingIfNeeded: space.field(moduleRecord, ModuleRecord.checksum))
        let name = "instance \(id): translated code checksum \(String(module.codeChecksum, radix: 16)) differs from the stored \(String(stored, radix: 16)) (the translator changed since the snapshot), and its stored"
        oldMaps[moduleRecord] = try ResumeMapRecord.decode(at: space.field(moduleRecord, ModuleRecord.resumeMap),
                                                           for: module, in: space, name: name)
    }

    /// The map a stored frame of `reference` was written with, and its parameter count.
    func storedMap(_ reference: FunctionReference) -> (map: FrameMap, parameters: Int)? {
        guard reference >> 32 <= UInt64(UInt32.max), let instance = engine.instance(id: UInt32(reference >> 32)) else { return nil }
        let index = Int(reference & 0xffff_ffff)
        guard index >= instance.importedFunctionCount, index < instance.functionTypeIDs.count else { return nil }
        let defined = index - instance.importedFunctionCount
        let parameters = instance.functionType(index).parameters.count
        let moduleRecord = space.field(instance.record, InstanceRecord.module)
        if let maps = oldMaps[moduleRecord] { return (maps[defined], parameters) }
        return (FrameMap(code: instance.module.functions[defined]), parameters)
    }

    /// Re-lays every running or blocked thread, then stores the new fingerprints and maps.
    func migrate() throws(WasmInstantiationError) {
        guard isNeeded else { return }
        let describe: (FunctionReference) -> String = { "function \($0 & 0xffff_ffff) of instance \($0 >> 32)" }
        for (id, record) in engine.storedThreads() {
            guard space.isAllocated(record, count: UInt64(ThreadRecord.size)),
                  let status = ThreadStatus(rawValue: space.field(record, ThreadRecord.status)),
                  status == .running || status == .blocked else { continue }
            let codec = FrameCodec(space: space, record: record, map: storedMap, describe: describe)
            do {
                let frames = try codec.read()
                let current = FrameCodec(space: space, record: record, map: { engine.currentMap($0) }, describe: describe)
                try current.write(frames) { engine.definedCode($0) }
            } catch {
                throw .restore("thread \(id): re-laying its frames for the current translator: \(error)")
            }
        }
        for (moduleRecord, module) in modules {
            let old = space.field(moduleRecord, ModuleRecord.resumeMap)
            let map: UInt64
            do { map = try ResumeMapRecord.store(module, in: space) } catch {
                throw .resource("no space for the resume maps of a re-translated module: \(error)")
            }
            if let bytes = ResumeMapRecord.byteCount(at: old, in: space) { space.free(old, byteCount: bytes) }
            space.setField(moduleRecord, ModuleRecord.resumeMap, map)
            space.setField(moduleRecord, ModuleRecord.checksum, UInt64(module.codeChecksum))
        }
    }
}

extension WasmEngine {
    /// The current translation of the defined function `reference` names.
    func definedCode(_ reference: FunctionReference) -> FunctionCode? {
        guard reference >> 32 <= UInt64(UInt32.max), let instance = instance(id: UInt32(reference >> 32)) else { return nil }
        let index = Int(reference & 0xffff_ffff)
        guard index >= instance.importedFunctionCount, index < instance.functionTypeIDs.count else { return nil }
        return instance.module.functions[index - instance.importedFunctionCount]
    }

    /// Its frame map in the current translation, and its parameter count.
    func currentMap(_ reference: FunctionReference) -> (map: FrameMap, parameters: Int)? {
        guard let code = definedCode(reference) else { return nil }
        return (FrameMap(code: code), code.parameterCount)
    }
}
