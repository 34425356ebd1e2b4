import Foundation
import Testing
@testable import PhantomStore

@Suite struct StoreTests {
    @Test func emptyImageOpensAtGenerationZero() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device)
        #expect(store.current.generation == 0)
        #expect(store.pageCount == 0)
        let reopened = try Store.open(device)
        #expect(reopened.current.generation == 0)
        #expect(reopened.warnings.isEmpty)
    }

    @Test func committedPagesReadBackAfterReopen() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device)
        var model = PageModel()
        try store.commit(pages: [0, 1, 7, 300], version: 1, model: &model)
        try store.commit(pages: [1, 2], version: 2, model: &model)
        #expect(try store.matches(model))
        let reopened = try Store.open(device)
        #expect(reopened.current.generation == 2)
        #expect(try reopened.matches(model))
        #expect(try reopened.page(5) == [UInt8](repeating: 0, count: 4096), "a page never written reads as zeros")
    }

    @Test func commitRewritesOnlyChangedPagesAndTheirMapPath() throws {
        let store = try Store.create(on: MemoryBlockDevice())
        var model = PageModel()
        try store.commit(pages: Array(0..<600), version: 1, model: &model) // depth 2: 3 leaves + root
        let record = try store.commit(pages: [42], version: 2, model: &model)
        #expect(record.depth == 2)
        #expect(record.writtenBytes == 3 * 4096, "one data block, one leaf, one root")
    }

    @Test func deepSparseTreeMapsHighPages() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device)
        var model = PageModel()
        try store.commit(pages: [3], version: 1, model: &model)
        try store.commit(pages: [70_000, 200], version: 2, model: &model) // depth grows 1 → 3
        #expect(store.current.depth == 3)
        let reopened = try Store.open(device)
        #expect(try reopened.page(70_000) == pageBytes(page: 70_000, version: 2))
        #expect(try reopened.page(3) == pageBytes(page: 3, version: 1))
        #expect(reopened.verify().isClean)
    }

    @Test func retentionFreesAndReusesBlocks() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device, options: .init(retention: 2))
        var model = PageModel()
        try store.commit(pages: Array(0..<100), version: 0, model: &model)
        for version in 1...20 as ClosedRange<UInt64> {
            try store.commit(pages: Array(0..<100).filter { $0 % 3 == version % 3 }, version: version, model: &model)
        }
        let extentAfterWarmup = device.blockCount
        for version in 21...60 as ClosedRange<UInt64> {
            try store.commit(pages: Array(0..<100).filter { $0 % 3 == version % 3 }, version: version, model: &model)
        }
        #expect(device.blockCount == extentAfterWarmup, "freed blocks are reused; the image stops growing")
        #expect(store.retained.count == 2)
        #expect(try store.matches(model))
        // Every block in use is accounted for exactly by the two retained generations.
        let reopened = try Store.open(device)
        #expect(reopened.info.usedBlocks == store.info.usedBlocks)
        #expect(reopened.verify().isClean)
    }

    @Test func discardedPagesLeaveTheMapAndTheirBlocksAreFreed() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device, options: .init(retention: 2))
        var model = PageModel()
        try store.commit(pages: Array(0..<600), version: 1, model: &model)
        let usedBefore = store.info.usedBlocks
        // Discard 100..<500, but write page 200 in the same commit: written wins.
        let buffer = pageBytes(page: 200, version: 2)
        try buffer.withUnsafeBytes { _ = try store.commit(pageNumbers: [200], pages: $0, pageCount: 600, discarding: [100..<500]) }
        for page in UInt64(100)..<500 where page != 200 { model.pages[page] = nil }
        model.pages[200] = 2
        #expect(try store.matches(model))
        // Once the generation that still had them is no longer retained, the blocks are free.
        try store.commit(pages: [0], version: 3, model: &model)
        #expect(store.info.usedBlocks < usedBefore - 350, "\(store.info.usedBlocks) of \(usedBefore) blocks still used")
        let reopened = try Store.open(device)
        #expect(try reopened.matches(model))
        #expect(reopened.info.usedBlocks == store.info.usedBlocks)
        #expect(reopened.verify().isClean)
    }

    @Test func rollbackMakesAnOlderGenerationCurrentWithoutOverwriting() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device, options: .init(retention: 4))
        var old = PageModel()
        let first = try store.commit(pages: [0, 1, 2], version: 1, model: &old)
        var new = old
        try store.commit(pages: [1], version: 2, model: &new)
        let rolled = try store.rollback(to: first.generation)
        #expect(rolled.generation == 3)
        #expect(try store.matches(old))
        let reopened = try Store.open(device)
        #expect(try reopened.matches(old))
        #expect(reopened.retained.map(\.generation) == [3, 2, 1, 0])
        // And forward again: generation 2 is still intact.
        try reopened.rollback(to: 2)
        #expect(try reopened.matches(new))
        #expect(throws: StoreError.self) { try reopened.rollback(to: 99) }
    }

    @Test func verifyLocatesAFlippedBitByGenerationAndBlock() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device)
        var model = PageModel()
        try store.commit(pages: [0, 1, 2], version: 1, model: &model)
        try store.commit(pages: [2], version: 2, model: &model)
        let target = store.table.entry(2).block // page 2 of generation 2 only
        device.blocks[Int(target)][100] ^= 0x10
        let report = try Store.open(device).verify()
        #expect(report.damage.count == 1)
        #expect(report.damage.first?.generation == 2)
        #expect(report.damage.first?.block == target)
        #expect(report.intactGenerations.contains(1))
        #expect(throws: StoreError.self) { try Store.open(device).page(2) }
    }

    @Test func corruptNewestMapFallsBackToThePreviousGenerationWithAWarning() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device)
        var previous = PageModel()
        try store.commit(pages: [0, 1], version: 1, model: &previous)
        var newest = previous
        try store.commit(pages: [1], version: 2, model: &newest)
        device.blocks[Int(store.current.root.block)][40] ^= 1
        let reopened = try Store.open(device)
        #expect(reopened.current.generation == 1)
        #expect(reopened.warnings.contains { $0.contains("generation 2 is damaged") })
        #expect(try reopened.matches(previous))
        // The damaged generation stays retained: nothing was written over it.
        #expect(reopened.retained.contains { $0.generation == 2 })
        var next = previous
        try reopened.commit(pages: [5], version: 3, model: &next)
        #expect(try Store.open(device).matches(next))
    }

    @Test func tornNewestSuperblockFallsBack() throws {
        let device = MemoryBlockDevice()
        let store = try Store.create(on: device)
        var previous = PageModel()
        try store.commit(pages: [0], version: 1, model: &previous)
        var newest = previous
        try store.commit(pages: [0], version: 2, model: &newest)
        for index in 2048..<4096 { device.blocks[2][index] = 0xAA } // slot of generation 2, torn
        let reopened = try Store.open(device)
        #expect(reopened.current.generation == 1)
        #expect(reopened.warnings.contains { $0.contains("slot 2 is damaged") })
        #expect(try reopened.matches(previous))
    }
}
