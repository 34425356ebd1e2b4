import PhantomSpace
import PhantomStore
import PhantomWasm
import WasmParser

/// Fuzzes the engine end to end: any input must be accepted or rejected with an
/// error, never crash the host; a valid module is also translated (every
/// fusion of the translator), instantiated and each exported function run for a
/// bounded slice with zero arguments, so the interpreter's handlers meet code
/// no compiler would write. A trap is a fine outcome; a crash is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModule(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let module = try? WasmModule(bytes: bytes) else { return 0 }
    // Imports would need a host; a start function would run unbounded in instantiate.
    guard module.validated.imports.isEmpty, module.validated.start == nil,
          let store = try? Store.create(on: MemoryBlockDevice()),
          let space = try? ObjectSpace(store: store, options: .init(limitBytes: 1 << 30)),
          let instance = try? Instance.instantiate(module, in: space, options: InstanceOptions(memoryQuotaPages: 16))
    else { return 0 }
    for export in module.validated.exports {
        guard case .function(let index) = export.descriptor else { continue }
        let parameters = module.functions[Int(index)].type.parameters.count
        guard let thread = try? instance.makeThread(export.name, Array(repeating: 0, count: parameters),
                                                    stackSlots: 1 << 14, maximumDepth: 500) else { continue }
        _ = thread.run(fuel: 5_000)
    }
    instance.engine.close()  // so that the engine, the instance and the space are freed
    return 0
}
