import PhantomSpace
import PhantomStore
import PhantomWasm
import WAT

/// Fuzzes restoring the Wasm engine past the checksums. Random bytes almost
/// never get through an image's checksums, so the input here is not an
/// image but a list of forgeries: a real thread paused three frames deep
/// (`main` → `call` → `call_indirect` → a loop) has words of the records a
/// restore reads — thread record, its stack and frame headers, the instance
/// record and its module, memory and table records, the registry — set to
/// values from the input, through the space's accessors, so the snapshot
/// checksums them. The image is then reopened and restored; an accepted one
/// runs a slice. Any outcome but a crash (or a hang) is fine.
///
/// Input: 9-byte forgeries, one byte choosing the word, eight the value
/// (little endian). The seed `restore-none` forges nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRestore(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let module = Fixture.module,
          let paused = try? Fixture.paused(module) else { return 0 }
    let targets = paused.targets
    var offset = 0
    while offset + 9 <= size {
        let target = targets[Int(data[offset]) % targets.count]
        var value: UInt64 = 0
        for byte in 0..<8 { value |= UInt64(data[offset + 1 + byte]) << (8 * UInt64(byte)) }
        paused.space.store(value, at: target)
        offset += 9
    }
    defer { paused.engine.close() }
    guard (try? paused.space.snapshot()) != nil,
          let reopened = try? ObjectSpace(store: Store.open(paused.device), options: Fixture.options),
          let engine = try? WasmEngine.restore(reopened) else { return 0 }
    defer { engine.close() }
    for (id, _) in engine.storedThreads() {
        guard let thread = try? WasmThread.restore(engine, id: id) else { continue }
        _ = thread.run(fuel: 300)
    }
    return 0
}

enum Fixture {
    static let options = ObjectSpace.Options(limitBytes: 64 << 20)
    static let module: WasmModule? = try? WasmModule(bytes: wat2wasm("""
        (module
          (type $unary (func (param i32) (result i32)))
          (memory 1)
          (table 1 funcref)
          (elem (i32.const 0) $spin)
          (global $g (mut i32) (i32.const 7))
          (func $spin (type $unary) (local $i i32)
            (loop $next
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (i32.store (i32.const 0) (local.get $i))
              (global.set $g (local.get $i))
              (br_if $next (i32.lt_u (local.get $i) (local.get 0))))
            (local.get $i))
          (func $middle (param $n i32) (result i32)
            (i32.add (i32.const 1) (call_indirect (type $unary) (local.get $n) (i32.const 0))))
          (func (export "main") (param $n i32) (result i32)
            (i32.add (i32.const 1) (call $middle (local.get $n)))))
        """))

    struct Paused {
        let device: MemoryBlockDevice
        let space: ObjectSpace
        let engine: WasmEngine
        /// Offsets of the 8-byte words an input may forge.
        let targets: [UInt64]
    }

    static func paused(_ module: WasmModule) throws -> Paused {
        let device = MemoryBlockDevice()
        let space = try ObjectSpace(store: Store.create(on: device), options: options)
        let instance = try Instance.instantiate(module, in: space, options: InstanceOptions(memoryQuotaPages: 2))
        let thread = try instance.makeThread("main", [1_000_000], stackSlots: 512)
        _ = thread.run(fuel: 20)
        let registry = space.root(WasmRoots.registry)
        func words(_ at: UInt64, _ count: UInt64) -> [UInt64] { (0..<count).map { at + $0 * 8 } }
        // Record layouts: Sources/PhantomWasm/Runtime/Records.swift.
        let record = instance.record
        let module = space.load(UInt64.self, at: record)
        let memory = space.load(UInt64.self, at: record + 16)
        let tables = space.load(UInt64.self, at: record + 40)
        let table = space.load(UInt64.self, at: tables)
        let stack = space.load(UInt64.self, at: thread.record + 16)
        let fp = space.load(UInt64.self, at: thread.record + 40)
        var targets = words(thread.record, 16) + words(record, 12) + words(registry, 7)
        targets += words(module, 3) + words(memory, 4) + words(table, 4) + words(tables, 1)
        targets += words(space.load(UInt64.self, at: record + 56), 3)  // function references
        targets += words(space.load(UInt64.self, at: registry + 32), 2)  // thread table
        targets += words(stack, 24) + words(stack + fp * 8, 12)  // the frames
        targets += words(space.load(UInt64.self, at: table), 1)  // the table element
        return Paused(device: device, space: space, engine: instance.engine, targets: targets)
    }
}
