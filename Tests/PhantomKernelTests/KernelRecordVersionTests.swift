import Foundation
import PhantomSpace
import PhantomStore
import PhantomWasm
import Testing
@testable import PhantomKernel

/// The kernel's table record follows the versioning rule (`RecordVersion`):
/// version 1 (before Phantom VM components; no checksum) is upgraded when it
/// is opened and written as version 2 at the next cut; a future version and a
/// tables blob that does not match its checksum are refused by name.
@Suite struct KernelRecordVersionTests {
    static let config = KernelTests.config([IsolationTests.counter])

    /// A running system, snapshotted and stopped; returns the device.
    func storedSystem() throws -> MemoryBlockDevice {
        let harness = try KernelHarness(config: Self.config)
        #expect(harness.waitForLine { $0.hasPrefix("[init -> counter] count ") } != nil)
        try harness.snapshot()
        harness.kernel.stop()
        (try? WasmEngine.shared(for: harness.space))?.close()
        harness.space.waitForCommits()
        return harness.device
    }

    /// Rewrites the record in place of the stored one, as `edit` says, and commits.
    func rewriteRecord(on device: MemoryBlockDevice, _ edit: (ObjectSpace, UInt64) throws -> Void) throws {
        let space = try ObjectSpace(store: try Store.open(device), options: .init(limitBytes: 1 << 30))
        try edit(space, space.root(KernelRecord.rootSlot))
        _ = try space.snapshot()
        space.waitForCommits()
    }

    func reopen(_ device: MemoryBlockDevice) throws -> ObjectSpace {
        try ObjectSpace(store: try Store.open(device), options: .init(limitBytes: 1 << 30))
    }

    @Test func aVersionOneRecordIsUpgradedAndTheSystemRunsOn() throws {
        let device = try storedSystem()
        var original: KernelImage?
        try rewriteRecord(on: device) { space, _ in
            // What version 1 wrote: a 32-byte record and tables saying version 1.
            var tables = try #require(try KernelRecord.load(from: space))
            original = tables
            tables.formatVersion = 1
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let bytes = Array(try encoder.encode(tables))
            let blob = try space.allocate(bytes.count)
            space.write(bytes, at: blob)
            let record = try space.allocate(32)
            space.store(KernelRecord.magic, at: record)
            space.store(blob, at: record + 8)
            space.store(UInt64(bytes.count), at: record + 16)
            space.store(UInt64(1), at: record + 24)
            space.setRoot(KernelRecord.rootSlot, record)
        }
        let space = try reopen(device)
        let upgraded = try #require(try KernelRecord.load(from: space))
        #expect(upgraded.formatVersion == 2)
        #expect(upgraded.components == original?.components)
        // The next cut writes version 2 with its checksum, which loads again.
        try KernelRecord.store(upgraded, in: space)
        let record = space.root(KernelRecord.rootSlot)
        #expect(space.load(UInt64.self, at: record + 24) == 2)
        #expect(try KernelRecord.load(from: space) == upgraded)
        // And the system boots from the upgraded tables and continues.
        let log = KernelLog(writer: nil)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-upgrade-\(UUID().uuidString)").path
        let kernel = try Kernel.boot(space: space, model: try InitModel(root: Self.config, syntax: .xml, source: "test config"), text: "",
                                     stored: upgraded, options: .init(romDirectory: Fixtures.directory("Programs/wasm/c"), fileSystemRoot: root),
                                     log: log)
        kernel.run()
        defer { kernel.stop() }
        #expect(log.waitForLine(timeout: 120) { $0.hasPrefix("[init -> counter] count ") } != nil)
    }

    @Test func aFutureVersionIsRefusedByName() throws {
        let device = try storedSystem()
        try rewriteRecord(on: device) { space, record in space.store(UInt64(3), at: record + 24) }
        #expect(throws: KernelError.restore("the kernel's table record is format version 3 (written by a newer build); this build reads versions 1–2")) {
            _ = try KernelRecord.load(from: try reopen(device))
        }
    }

    @Test func tablesThatDoNotMatchTheirChecksumAreRefused() throws {
        let device = try storedSystem()
        try rewriteRecord(on: device) { space, record in
            // A digit changed inside the tables: still valid JSON, a different number.
            let offset = space.load(UInt64.self, at: record + 8), length = space.load(UInt64.self, at: record + 16)
            let bytes = space.read(at: offset, count: Int(length))
            let digit = try #require(bytes.firstIndex { (0x31...0x38).contains($0) })
            space.store(bytes[digit] + 1, at: offset + UInt64(digit))
        }
        let error = #expect(throws: KernelError.self) { _ = try KernelRecord.load(from: try reopen(device)) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("do not match their checksum"))
    }
}
