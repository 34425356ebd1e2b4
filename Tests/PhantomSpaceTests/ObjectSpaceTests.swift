import Foundation
import Testing
@testable import PhantomSpace
@testable import PhantomStore

func freshSpace(_ device: BlockDevice = MemoryBlockDevice(), limit: UInt64 = 1 << 30) throws -> ObjectSpace {
    try ObjectSpace(store: Store.create(on: device), options: .init(limitBytes: limit))
}

func reopen(_ device: BlockDevice, limit: UInt64 = 1 << 30) throws -> ObjectSpace {
    try ObjectSpace(store: Store.open(device), options: .init(limitBytes: limit))
}

@Suite struct ObjectSpaceTests {
    @Test func writesSurviveASnapshotAndReopen() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)
        let object = try space.allocate(100)
        space.store(UInt64(0xDEAD_BEEF), at: object)
        space.store(UInt8(7), at: object + 99)
        space.write(Array("hello".utf8), at: 3 * 4096 + 4090) // crosses a page boundary
        space.setRoot(3, object)
        try space.snapshot()

        let restored = try reopen(device)
        #expect(restored.root(3) == object)
        #expect(restored.load(UInt64.self, at: object) == 0xDEAD_BEEF)
        #expect(restored.load(UInt8.self, at: object + 99) == 7)
        #expect(restored.read(at: 3 * 4096 + 4090, count: 5) == Array("hello".utf8))
        #expect(restored.load(UInt64.self, at: 500 * 4096) == 0, "never-written memory reads as zeros")
    }

    @Test func aSnapshotCapturesExactlyTheDirtyPages() throws {
        let space = try freshSpace()
        try space.snapshot()
        space.store(UInt32(1), at: 10 * 4096)
        space.store(UInt32(2), at: 10 * 4096 + 8) // same page
        space.store(UInt32(3), at: 20 * 4096)
        space.write([UInt8](repeating: 1, count: 2), at: 31 * 4096 - 1) // two pages
        let result = try space.snapshot()
        #expect(result.pages == 4)
        #expect(try space.snapshot().pages == 0, "dirty bits were cleared")
    }

    @Test func unsnapshottedChangesAreGoneAfterReopen() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)
        space.store(UInt64(1), at: 8192)
        try space.snapshot()
        space.store(UInt64(2), at: 8192)
        let restored = try reopen(device)
        #expect(restored.load(UInt64.self, at: 8192) == 1)
    }

    @Test func allocatorReusesFreedBlocksAndPersistsItsState() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)
        let a = try space.allocate(24)
        let b = try space.allocate(24)
        #expect(a != b && a % 32 == 0 && b % 32 == 0)
        space.store(UInt64(99), at: a)
        space.free(a, byteCount: 24)
        let c = try space.allocate(30)
        #expect(c == a, "same size class: reused")
        #expect(space.load(UInt64.self, at: c) == 0, "reused blocks are zeroed")
        let page = try space.allocate(5000)
        #expect(page % 4096 == 0)
        try space.snapshot()
        let restored = try reopen(device)
        #expect(try restored.allocate(24) != b, "the restored allocator knows what is in use")
        #expect(restored.liveBytes == space.liveBytes + 32)
        #expect(throws: SpaceError.self) { _ = try restored.allocate(1 << 34) }
    }

    @Test func discardedMemoryReadsAsZerosAndLeavesTheImage() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)
        let region = try space.allocate(64 * 4096)
        for page in 0..<64 { space.store(UInt64(page + 1), at: region + UInt64(page) * 4096 + 24) }
        try space.snapshot()
        let used = space.store.info.usedBlocks
        // Discard a range that starts and ends mid-page: whole pages are dropped, the edges zeroed.
        space.discard(region + 100, count: 40 * 4096)
        #expect(space.load(UInt64.self, at: region + 24) == 1, "before the range: kept")
        #expect(space.load(UInt64.self, at: region + 4096 + 24) == 0)
        #expect(space.load(UInt64.self, at: region + 41 * 4096 + 24) == 42, "after the range: kept")
        try space.snapshot()
        try space.snapshot() // the generation that still had them drops out of retention
        try space.snapshot()
        #expect(space.store.info.usedBlocks < used - 30, "\(space.store.info.usedBlocks) of \(used)")
        let restored = try reopen(device)
        #expect(restored.load(UInt64.self, at: region + 24) == 1)
        for page in 1..<40 { #expect(restored.load(UInt64.self, at: region + UInt64(page) * 4096 + 24) == 0) }
        #expect(restored.load(UInt64.self, at: region + 41 * 4096 + 24) == 42)
    }

    @Test func freedLargeBlocksAreReusedZeroedWithoutRewritingThem() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)
        let big = try space.allocate(256 * 4096)
        space.fill(at: big, count: 256 * 4096, with: 0xAB)
        try space.snapshot()
        space.free(big, byteCount: 256 * 4096)
        let again = try space.allocate(256 * 4096)
        #expect(again == big)
        #expect(space.read(at: again, count: 8) == [UInt8](repeating: 0, count: 8))
        #expect(space.read(at: again + 100 * 4096, count: 16) == [UInt8](repeating: 0, count: 16))
        let result = try space.snapshot()
        #expect(result.pages < 8, "reuse did not rewrite 256 pages of zeros (\(result.pages) captured)")
        let restored = try reopen(device)
        #expect(restored.read(at: big + 200 * 4096, count: 16) == [UInt8](repeating: 0, count: 16))
    }

    @Test func largeSparseSpacesCostOnlyWhatIsTouched() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device, limit: 64 << 30)
        let far: UInt64 = 40 << 30
        space.store(UInt64(42), at: far)
        try space.snapshot()
        #expect(space.store.info.usedBlocks < 64, "two pages of data, a few map nodes")
        let restored = try reopen(device, limit: 64 << 30)
        #expect(restored.load(UInt64.self, at: far) == 42)
        #expect(restored.pageCount == far / 4096 + 1)
    }

    @Test func anImageLargerThanTheLimitIsRefusedClearly() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)
        space.store(UInt8(1), at: 100 << 20)
        try space.snapshot()
        #expect(throws: SpaceError.self) { _ = try reopen(device, limit: 64 << 20) }
    }

    @Test func aFailedCommitReturnsItsPagesToTheNextSnapshot() throws {
        let device = FaultInjectingDevice(name: "full.img")
        let space = try freshSpace(device)
        space.store(UInt64(1), at: 4096)
        space.store(UInt64(7), at: 20 * 4096)
        try space.snapshot()
        space.store(UInt64(2), at: 4096)
        space.store(UInt64(3), at: 9 * 4096)
        space.discard(20 * 4096, count: 4096)
        device.noSpaceAfterOperation = device.operationCount
        #expect(throws: SpaceError.self) { try space.snapshot() }
        device.noSpaceAfterOperation = nil
        let retry = try space.snapshot()
        #expect(retry.pages == 2, "both pages of the failed snapshot are retried")
        let restored = try reopen(device.survivor(.dropUnflushed))
        #expect(restored.load(UInt64.self, at: 4096) == 2)
        #expect(restored.load(UInt64.self, at: 9 * 4096) == 3)
        #expect(restored.load(UInt64.self, at: 20 * 4096) == 0, "the discard of the failed snapshot is retried too")
    }

    @Test func corruptPagesOfTheNewestGenerationFallBackToThePreviousOne() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)
        space.store(UInt64(1), at: 4096)
        try space.snapshot()
        space.store(UInt64(2), at: 4096)
        try space.snapshot()
        let block = space.store.table.entry(1).block
        device.blocks[Int(block)][0] ^= 0xFF
        let restored = try reopen(device)
        #expect(restored.restoredGeneration.generation == 1)
        #expect(restored.load(UInt64.self, at: 4096) == 1)
        #expect(restored.warnings.contains { $0.contains("generation 2 could not be restored") })
    }
}

/// Invariant 1: a snapshot is one consistent cut, even with several threads
/// mutating the space while snapshots are taken.
@Suite struct ConsistentCutTests {
    @Test func concurrentMutatorsAreCapturedAtOneSafepoint() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)
        // Thread t owns 8 counters on 8 pages; all must always be equal at a safepoint.
        let threads = 3
        let counters = 8
        let stop = Stop()
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            Thread {
                space.safepoints.register()
                var value: UInt64 = 0
                while !stop.isSet {
                    value += 1
                    for counter in 0..<counters {
                        space.store(value, at: UInt64(1 + thread * counters + counter) * 4096)
                    }
                    space.safepoints.poll()
                }
                space.safepoints.unregister()
                group.leave()
            }.start()
        }
        var generations: [UInt64] = []
        for _ in 0..<20 {
            usleep(2000)
            generations.append(try space.snapshot().generation.generation)
        }
        stop.set()
        group.wait()

        // Every retained generation — and the last one re-opened — is a consistent cut.
        let store = try Store.open(device)
        for record in store.retained {
            try store.select(generation: record.generation)
            for thread in 0..<threads {
                var values = Set<UInt64>()
                for counter in 0..<counters {
                    var page = [UInt8](repeating: 0, count: 4096)
                    try page.withUnsafeMutableBytes { try store.readPage(UInt64(1 + thread * counters + counter), into: $0) }
                    values.insert(page.withUnsafeBytes { $0.load(as: UInt64.self) })
                }
                #expect(values.count == 1, "generation \(record.generation), thread \(thread): counters \(values)")
            }
        }
        #expect(generations == Array(generations.sorted()))
    }

    @Test func aBlockedThreadDoesNotHoldUpASnapshot() throws {
        let space = try freshSpace()
        space.safepoints.register()
        space.safepoints.enterBlocking() // e.g. sleeping in poll_oneoff
        let result = try space.snapshot()
        space.safepoints.leaveBlocking()
        space.safepoints.unregister()
        #expect(result.pauseNanoseconds < 1_000_000_000)
    }
}

final class Stop: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    func set() { lock.lock(); flag = true; lock.unlock() }
}
