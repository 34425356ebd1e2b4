import Foundation
import Testing
@testable import PhantomStore

/// Each kind of bad image gets a clear error, and nothing is written.
@Suite struct BadImageTests {
    private func validImage() throws -> MemoryBlockDevice {
        let device = MemoryBlockDevice(name: "test.img")
        let store = try Store.create(on: device)
        var model = PageModel()
        try store.commit(pages: Array(0..<300), version: 1, model: &model)
        return device
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    @Test func tooSmall() {
        let device = MemoryBlockDevice(name: "tiny.img", blockCount: 2)
        #expect(message { _ = try Store.open(device) }.contains("too small to be a Phantom image"))
    }

    @Test func foreignFile() {
        let device = MemoryBlockDevice(name: "photo.jpg", blockCount: 16)
        var generator = SplitMix64(seed: 7)
        for block in device.blocks.indices {
            device.blocks[block] = (0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }
        #expect(message { _ = try Store.open(device) }.contains("photo.jpg: not a Phantom image"))
    }

    @Test func zeroedSuperblockArea() throws {
        let device = try validImage()
        for slot in 0..<4 { device.blocks[slot] = [UInt8](repeating: 0, count: 4096) }
        let text = message { _ = try Store.open(device) }
        #expect(text.contains("no superblock in blocks 0–3"))
    }

    @Test func allSuperblocksDamaged() throws {
        let device = try validImage()
        for slot in 0..<2 { device.blocks[slot][77] ^= 0xFF }
        #expect(message { _ = try Store.open(device) }.contains("every superblock is damaged"))
    }

    @Test func futureFormatVersion() throws {
        let device = try validImage()
        var superblock = try Store.open(device).superblock
        superblock.formatVersion = 9
        device.blocks[1] = superblock.encode()
        let before = device.blocks
        #expect(message { _ = try Store.open(device) }.contains("format version 9 is newer"))
        #expect(device.blocks == before, "nothing was written")
    }

    @Test func truncatedImageFallsBackWithAWarningWhileAnIntactGenerationRemains() throws {
        let device = try validImage() // generations 0 (empty) and 1
        device.blocks.removeLast(device.blocks.count - 100)
        let store = try Store.open(device)
        #expect(store.current.generation == 0)
        #expect(store.warnings.contains { $0.contains("generation 1 is damaged") && $0.contains("truncated") })
    }

    @Test func truncatedImageWithNoIntactGeneration() throws {
        let device = MemoryBlockDevice(name: "test.img")
        let store = try Store.create(on: device)
        var model = PageModel()
        for version in 1...3 as ClosedRange<UInt64> { try store.commit(pages: Array(0..<300), version: version, model: &model) }
        device.blocks.removeLast(device.blocks.count - 100)
        let text = message { _ = try Store.open(device) }
        #expect(text.contains("no retained generation is readable") && text.contains("truncated"), "got: \(text)")
    }

    @Test func truncatedImageFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID()).img").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {   // closed (and unlocked) at the end of the block, before the image is reopened
            let store = try ImageFile.create(at: path, replacing: nil)
            var model = PageModel()
            for version in 1...3 as ClosedRange<UInt64> { try store.commit(pages: Array(0..<50), version: version, model: &model) }
        }
        truncate(path, 4096 * 20)
        let text = message { _ = try Store.open(FileBlockDevice(path: path)) }
        #expect(text.contains(path) && text.contains("truncated"), "got: \(text)")
    }

    @Test func noSpaceDuringCommitKeepsThePreviousGeneration() throws {
        let device = FaultInjectingDevice(name: "full-disk.img")
        let store = try Store.create(on: device)
        var model = PageModel()
        try store.commit(pages: [0, 1, 2], version: 1, model: &model)
        device.noSpaceAfterOperation = device.operationCount
        var attempted = model
        #expect(throws: StoreError.noSpace(path: "full-disk.img", neededBlocks: 2)) {
            try store.commit(pages: [1, 5], version: 2, model: &attempted)
        }
        #expect(try store.matches(model), "in memory: still the previous generation")
        #expect(try Store.open(device.survivor(.keepUnflushed)).matches(model))
        // Space comes back: the store is still usable.
        device.noSpaceAfterOperation = nil
        try store.commit(pages: [1, 5], version: 2, model: &model)
        #expect(try Store.open(device.survivor(.dropUnflushed)).matches(model))
    }

    @Test func imageLimitReached() throws {
        let device = MemoryBlockDevice(name: "small.img")
        let store = try Store.create(on: device, options: .init(retention: 2, maxBlocks: 40))
        var model = PageModel()
        try store.commit(pages: Array(0..<10), version: 1, model: &model)
        var attempted = model
        let text = message { try store.commit(pages: Array(0..<40), version: 2, model: &attempted) }
        #expect(text.contains("the image is full"), "got: \(text)")
        #expect(try Store.open(device).matches(model))
    }

    @Test func badRetentionIsRejected() {
        #expect(message { _ = try Store.create(on: MemoryBlockDevice(), options: .init(retention: 1)) }
            .contains("retention must be between 2"))
    }
}
