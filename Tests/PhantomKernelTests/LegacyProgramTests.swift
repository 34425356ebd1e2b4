import Foundation
import PhantomSpace
import PhantomStore
import PhantomWasm
import Testing
@testable import PhantomKernel

/// An image written by `phantom run` before the kernel (its program in root
/// slot 9, record "PHWASICM") is adopted as a one-child system and its
/// program continues where it was (DESIGN.md invariant 10). The image is laid
/// out here exactly as the old `WASICommand.start` did (same engine records,
/// same WASI state, the record format in `LegacyProgram`).
@Suite struct LegacyProgramTests {
    /// Output of the program, collected from every write.
    final class Output: @unchecked Sendable {
        // @unchecked: `text` only under `condition`.
        private let condition = NSCondition()
        private var text = ""
        func append(_ bytes: [UInt8]) {
            condition.withLock { text += String(decoding: bytes, as: UTF8.self); condition.broadcast() }
        }
        var lines: [String] { condition.withLock { text.split(separator: "\n").map(String.init) } }
        /// Waits until `count` whole lines came (the limit only ends a hung test).
        func waitForLines(_ count: Int) -> [String] {
            let deadline = Date(timeIntervalSinceNow: 120)
            condition.lock(); defer { condition.unlock() }
            while text.split(separator: "\n").count <= count && condition.wait(until: deadline) {}
            return text.split(separator: "\n").map(String.init)
        }
        var io: WASIHostIO {
            WASIHostIO(write: { [self] _, bytes in append(bytes); return .wrote(bytes.count) }, input: { _ in .endOfFile })
        }
    }

    static func legacyImage(on device: MemoryBlockDevice, output: Output) throws -> Int {
        let space = try ObjectSpace(store: try Store.create(on: device), options: .init(limitBytes: 1 << 30))
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.directory("Programs/wasm/c/counter.wasm"))))
        let state = try WASIState.create(in: space, args: ["counter.wasm", "0", "100"], environment: [])
        let wasi = try WASI(space: space, stateOffset: state, io: output.io)
        let instance = try Instance.instantiate(try WasmModule(bytes: bytes), in: space, imports: wasi,
                                                options: InstanceOptions(memoryQuotaPages: 64))
        let thread = try instance.makeThread("_start")
        // Run until it printed some lines, mid-loop.
        while output.lines.count < 5 { _ = thread.run(fuel: 10_000) }
        let name = Array("counter.wasm".utf8)
        let nameOffset = try space.allocate(max(name.count, 8))
        space.write(name, at: nameOffset)
        let record = try space.allocate(LegacyProgram.size)
        space.store(LegacyProgram.magic, at: record)
        space.store(UInt64(instance.id), at: record + 8)
        space.store(UInt64(thread.id), at: record + 16)
        space.store(state, at: record + 24)
        space.store(UInt64(CRC32C.checksum(bytes)), at: record + 32)
        space.store(nameOffset, at: record + 40)
        space.store(UInt64(name.count), at: record + 48)
        space.setRoot(LegacyProgram.rootSlot, record)
        _ = try space.snapshot()
        let printed = output.lines.count
        instance.engine.close()
        return printed
    }

    @Test func aProgramAnEarlierRunStoredContinuesAsAOneChildSystem() throws {
        let device = MemoryBlockDevice()
        let before = Output()
        let printed = try Self.legacyImage(on: device, output: before)
        let lastBefore = before.lines[printed - 1]

        let space = try ObjectSpace(store: try Store.open(device), options: .init(limitBytes: 1 << 30))
        #expect(try Kernel.adoptLegacyProgram(in: space) == "counter.wasm")
        #expect(space.root(LegacyProgram.rootSlot) == 0)
        #expect(try Kernel.storedComponents(in: space)?.map(\.name) == ["counter.wasm"])
        #expect(try Kernel.adoptLegacyProgram(in: space) == nil, "adopted once")

        let after = Output()
        let log = KernelLog(writer: nil)
        let kernel = try Kernel.boot(space: space, configText: "", configSource: "run",
                                     options: .init(romDirectory: "/nonexistent", fileSystemRoot: "/nonexistent", stdio: .host(after.io)),
                                     log: log)
        kernel.run()
        defer { kernel.stop() }
        // It continues with the line after the last one before the snapshot: not from the start.
        let lines = after.waitForLines(3)
        #expect(lines.first == "count \((Int(lastBefore.split(separator: " ")[1]) ?? 0) + 100)", "\(lastBefore) then \(lines.prefix(3))")
        // Its environment sessions were opened as for any child.
        #expect(kernel.stateReport().contains("<session service=\"PD\" label=\"counter.wasm\""))
    }

    @Test func aDamagedRecordIsNamedAndNothingIsWritten() throws {
        let device = MemoryBlockDevice()
        let space = try ObjectSpace(store: try Store.create(on: device), options: .init(limitBytes: 1 << 30))
        let record = try space.allocate(LegacyProgram.size)
        space.store(LegacyProgram.magic, at: record)
        space.store(UInt64(1) << 40, at: record + 40) // the name outside the space
        space.store(UInt64(12), at: record + 48)
        space.setRoot(LegacyProgram.rootSlot, record)
        #expect(throws: KernelError.self) { try Kernel.adoptLegacyProgram(in: space) }
        #expect(space.root(KernelRecord.rootSlot) == 0)
        #expect(space.root(LegacyProgram.rootSlot) == record)
    }
}
