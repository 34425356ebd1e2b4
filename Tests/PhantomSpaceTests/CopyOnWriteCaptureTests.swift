import Foundation
import Synchronization
import Testing
@testable import PhantomSpace
@testable import PhantomStore

/// Copy-on-write capture (DESIGN.md invariant 4): the world resumes right
/// after the cut, and the generation committed is still the space exactly as
/// it was at the cut — whether the writer or a mutator copied a page first,
/// and with both running at once. The writer is held at `CaptureEvent`s
/// (semaphores, no timing) to force each order.
@Suite struct CopyOnWriteCaptureTests {
    /// Three words per page — first, middle, last — so that a copy taken
    /// halfway through a rewrite would show.
    static func write(_ space: ObjectSpace, pages: Range<UInt64>, value: UInt64) {
        for page in pages {
            space.store(value &+ page, at: page * 4096)
            space.store(value, at: page * 4096 + 2048)
            space.store(value &* 3 &+ page, at: page * 4096 + 4088)
        }
    }

    static func holds(_ space: ObjectSpace, pages: some Sequence<UInt64>, value: UInt64) -> Bool {
        pages.allSatisfy { page in
            space.load(UInt64.self, at: page * 4096) == value &+ page
                && space.load(UInt64.self, at: page * 4096 + 2048) == value
                && space.load(UInt64.self, at: page * 4096 + 4088) == value &* 3 &+ page
        }
    }

    /// A space whose next snapshot's list is exactly `pages`, in order (slot i is page lowerBound + i).
    static func spaceWithPages(_ device: BlockDevice, _ pages: Range<UInt64>, value: UInt64) throws -> ObjectSpace {
        let space = try freshSpace(device)
        try space.snapshot()   // the header page, out of the way
        write(space, pages: pages, value: value)
        return space
    }

    /// Takes a snapshot in the background with `hook` installed; returns its result once committed.
    static func snapshot(_ space: ObjectSpace, hook: @escaping @Sendable (CaptureEvent) -> Void,
                         afterCut: () -> Void) throws -> SnapshotResult {
        space.setCaptureHook(hook)
        defer { space.setCaptureHook(nil) }
        let result = Mutex<Result<SnapshotResult, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        space.snapshotInBackground { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        afterCut()
        done.wait()
        return try result.withLock { $0! }.get()
    }

    @Test func aMutatorThatReachesAPageFirstCopiesItItself() throws {
        let device = MemoryBlockDevice()
        let pages: Range<UInt64> = 16..<80
        let space = try Self.spaceWithPages(device, pages, value: 1)
        let atCut = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0)
        let result = try Self.snapshot(space, hook: { event in
            if case .willCopy = event { atCut.signal(); go.wait() }
        }, afterCut: {
            atCut.wait()
            // The world runs again and the writer has copied nothing: every kind of write.
            Self.write(space, pages: 16..<48, value: 2)                       // store
            space.write([UInt8](repeating: 0xAB, count: 8192), at: 48 * 4096)  // write, across pages 48 and 49
            space.fill(at: 50 * 4096 + 100, count: 10, with: 0xCD)           // fill
            space.discard(52 * 4096, count: 4 * 4096)                         // discard, pages 52..<56
            go.signal()
        })
        #expect(result.mode == .copyOnWrite)
        #expect(result.pages == pages.count)
        #expect(result.pagesCopiedByMutators == 32 + 2 + 1 + 4)
        #expect(Self.holds(try reopen(device), pages: pages, value: 1), "the generation is the space at the cut")

        // The changes after the cut belong to the next generation.
        try space.snapshot()
        let next = try reopen(device)
        #expect(Self.holds(next, pages: 16..<48, value: 2))
        #expect(next.read(at: 48 * 4096, count: 8192) == [UInt8](repeating: 0xAB, count: 8192))
        #expect(next.read(at: 50 * 4096 + 100, count: 10) == [UInt8](repeating: 0xCD, count: 10))
        #expect(next.read(at: 52 * 4096, count: 4 * 4096).allSatisfy { $0 == 0 })
        #expect(Self.holds(next, pages: 56..<80, value: 1))
    }

    @Test func aPageTheWriterCopiedFirstIsNotCopiedAgain() throws {
        let device = MemoryBlockDevice()
        let pages: Range<UInt64> = 16..<80
        let space = try Self.spaceWithPages(device, pages, value: 1)
        let copied = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0)
        let result = try Self.snapshot(space, hook: { event in
            if case .didCopy = event { copied.signal(); go.wait() }
        }, afterCut: {
            copied.wait()
            Self.write(space, pages: pages, value: 2)
            go.signal()
        })
        #expect(result.pagesCopiedByMutators == 0)
        #expect(Self.holds(try reopen(device), pages: pages, value: 1))
        try space.snapshot()
        #expect(Self.holds(try reopen(device), pages: pages, value: 2))
    }

    /// The writer copies the first half, the mutator reaches the second half first.
    @Test func writerAndMutatorSplitTheCapture() throws {
        let device = MemoryBlockDevice()
        let pages: Range<UInt64> = 16..<80
        let space = try Self.spaceWithPages(device, pages, value: 1)
        let halfway = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0)
        let result = try Self.snapshot(space, hook: { event in
            if case .copied(slot: 31) = event { halfway.signal(); go.wait() }
        }, afterCut: {
            halfway.wait()
            Self.write(space, pages: pages, value: 2)
            go.signal()
        })
        #expect(result.pagesCopiedByMutators == 32)
        #expect(Self.holds(try reopen(device), pages: pages, value: 1))
    }

    /// A registered mutator thread rewrites the captured pages (from the far
    /// end, towards the writer) while the writer copies them.
    @Test(arguments: [1, 2, 3])
    func aMutatorWritingWhileTheWriterCopies(round: Int) throws {
        let device = MemoryBlockDevice()
        let pages: Range<UInt64> = 16..<(16 + 4096)
        let space = try Self.spaceWithPages(device, pages, value: 1)
        let writerStarted = DispatchSemaphore(value: 0), mutatorStarted = DispatchSemaphore(value: 0)
        let mutatorDone = DispatchSemaphore(value: 0)
        let result = try Self.snapshot(space, hook: { event in
            // Both run from here on: the writer goes on once the mutator has begun.
            if case .copied(slot: 0) = event { writerStarted.signal(); mutatorStarted.wait() }
        }, afterCut: {
            Thread {
                space.safepoints.register()
                writerStarted.wait()
                var first = true
                for value in UInt64(2)...UInt64(1 + round) {
                    for page in pages.reversed() {
                        Self.write(space, pages: page..<(page + 1), value: value)
                        if first { mutatorStarted.signal(); first = false }
                    }
                }
                space.safepoints.unregister()
                mutatorDone.signal()
            }.start()
        })
        mutatorDone.wait()
        #expect(result.pages == pages.count)
        #expect(result.pagesCopiedByMutators >= 1 && result.pagesCopiedByMutators < pages.count)
        #expect(Self.holds(try reopen(device), pages: pages, value: 1), "the generation is the space at the cut")
        try space.snapshot()
        #expect(Self.holds(try reopen(device), pages: pages, value: UInt64(1 + round)))
    }

    /// The next snapshot, asked for while one is being copied, waits for it
    /// (without stopping the world meanwhile) and then takes what changed since its cut.
    @Test func theNextSnapshotWaitsForTheOneInFlight() throws {
        let device = MemoryBlockDevice()
        let pages: Range<UInt64> = 16..<48
        let space = try Self.spaceWithPages(device, pages, value: 1)
        let atCut = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0)
        space.setCaptureHook { event in
            if case .willCopy = event { atCut.signal(); go.wait() }
        }
        let first = Mutex<SnapshotResult?>(nil)
        space.snapshotInBackground { result in first.withLock { $0 = try? result.get() } }
        atCut.wait()
        space.setCaptureHook(nil)
        Self.write(space, pages: pages, value: 2)
        let second = DispatchSemaphore(value: 0)
        let secondResult = Mutex<SnapshotResult?>(nil)
        Thread {
            secondResult.withLock { $0 = try? space.snapshot() }
            second.signal()
        }.start()
        // The world is not stopped while the second waits: this thread keeps writing
        // (it would hang here if the second snapshot had stopped the world).
        Self.write(space, pages: 100..<101, value: 7)
        go.signal()
        second.wait()
        #expect(first.withLock { $0?.generation.generation } == 2)
        #expect(secondResult.withLock { $0?.generation.generation } == 3)
        let reopened = try reopen(device)
        #expect(Self.holds(reopened, pages: pages, value: 2))
        #expect(Self.holds(reopened, pages: 100..<101, value: 7))
        let previous = try Store.open(device)
        try previous.select(generation: 2)
        let atFirstCut = try ObjectSpace(store: previous, options: .init(limitBytes: 1 << 30))
        #expect(Self.holds(atFirstCut, pages: pages, value: 1))
    }

    /// Stop-and-copy, kept as an option, still captures the cut; the two modes alternate freely.
    @Test func stopAndCopyRemainsAvailable() throws {
        let device = MemoryBlockDevice()
        let space = try Self.spaceWithPages(device, 16..<32, value: 1)
        space.captureMode = .stopAndCopy
        let old = try space.snapshot()
        #expect(old.mode == .stopAndCopy && old.pages == 16 && old.copyNanoseconds == 0)
        Self.write(space, pages: 16..<32, value: 2)
        space.captureMode = .copyOnWrite
        let new = try space.snapshot()
        #expect(new.mode == .copyOnWrite && new.pages == 16)
        Self.write(space, pages: 16..<24, value: 3)
        space.captureMode = .stopAndCopy
        #expect(try space.snapshot().pages == 8)
        let reopened = try reopen(device)
        #expect(Self.holds(reopened, pages: 16..<24, value: 3))
        #expect(Self.holds(reopened, pages: 24..<32, value: 2))
    }

    /// A cut with more dirty pages than the region holds falls back to
    /// stop-and-copy for that snapshot; the next ones that fit capture
    /// copy-on-write again, and every generation holds its cut — with the
    /// world changing the pages right after each cut.
    @Test func aCaptureLargerThanTheRegionFallsBackToStopAndCopy() throws {
        let device = MemoryBlockDevice()
        let space = try ObjectSpace(store: Store.create(on: device), options: .init(limitBytes: 1 << 24, captureRegionPages: 8))
        try space.snapshot()   // the header page, out of the way
        Self.write(space, pages: 16..<32, value: 1)
        let large = try space.snapshot()
        #expect(large.mode == .stopAndCopy && large.pages == 16)
        Self.write(space, pages: 16..<20, value: 2)
        let small = try Self.snapshot(space, hook: { _ in }, afterCut: {
            Self.write(space, pages: 16..<32, value: 3)   // after the cut: not in this generation
        })
        #expect(small.mode == .copyOnWrite && small.pages == 4)
        var reopened = try reopen(device, limit: 1 << 24)
        #expect(Self.holds(reopened, pages: 16..<20, value: 2))
        #expect(Self.holds(reopened, pages: 20..<32, value: 1))
        // The pages written after that cut (16 of them) are the next
        // snapshot's, too many again: stop-and-copy, then copy-on-write.
        let next = try space.snapshot()
        #expect(next.mode == .stopAndCopy && next.pages == 16)
        Self.write(space, pages: 24..<28, value: 4)
        #expect(try space.snapshot().mode == .copyOnWrite)
        reopened = try reopen(device, limit: 1 << 24)
        #expect(Self.holds(reopened, pages: 16..<24, value: 3))
        #expect(Self.holds(reopened, pages: 24..<28, value: 4))
        #expect(Self.holds(reopened, pages: 28..<32, value: 3))
    }

    /// A failed commit of a copy-on-write capture returns its pages to the next snapshot.
    @Test func aFailedCopyOnWriteCommitIsRetried() throws {
        let image = MemoryBlockDevice()
        _ = try Self.spaceWithPages(image, 16..<32, value: 1).snapshot()
        let device = FaultInjectingDevice(blocks: image.blocks)
        let space = try ObjectSpace(store: Store.open(device), options: .init(limitBytes: 1 << 30))
        Self.write(space, pages: 16..<32, value: 2)
        device.noSpaceAfterOperation = device.operationCount
        #expect(throws: SpaceError.self) { try space.snapshot() }
        device.noSpaceAfterOperation = nil
        #expect(try space.snapshot().pages == 16)
        #expect(Self.holds(try reopen(device.survivor(.dropUnflushed)), pages: 16..<32, value: 2))
    }

    static let survivals: [FaultInjectingDevice.Survival] = [
        .dropUnflushed, .keepUnflushed, .randomSubset(seed: 1), .randomSubset(seed: 2),
        .tornLastWrite(sectors: 1), .tornLastWrite(sectors: 7),
    ]

    /// A power cut at every write and flush of a copy-on-write capture's commit,
    /// with a mutator changing and discarding captured pages after the cut and
    /// before the writer copied them: reopening always finds exactly one
    /// committed generation — the previous one, or the new one holding the
    /// space as it was at the cut, never a page written after it.
    @Test func aCrashDuringACopyOnWriteCaptureLeavesOneGenerationAsAtTheCut() throws {
        let image = MemoryBlockDevice()
        _ = try Self.spaceWithPages(image, 16..<48, value: 1).snapshot()   // generation 2: 1s
        let blocks = image.blocks

        /// Cut at value 2, then (the writer held) 3s and a discard; true once committed.
        func run(_ device: FaultInjectingDevice) throws -> Bool {
            let space = try ObjectSpace(store: Store.open(device), options: .init(limitBytes: 1 << 30))
            Self.write(space, pages: 16..<48, value: 2)
            let atCut = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0)
            let result = try? Self.snapshot(space, hook: { event in
                if case .willCopy = event { atCut.signal(); go.wait() }
            }, afterCut: {
                atCut.wait()
                Self.write(space, pages: 16..<40, value: 3)
                space.discard(40 * 4096, count: 4 * 4096)
                go.signal()
            })
            if let result { #expect(result.pagesCopiedByMutators == 28) }
            return result != nil
        }

        let dry = FaultInjectingDevice(blocks: blocks)
        #expect(try run(dry))
        let operations = dry.operationCount
        #expect(operations >= 5)
        var checked = 0
        for crashPoint in 1...operations {
            let device = FaultInjectingDevice(blocks: blocks)
            device.crashAtOperation = crashPoint
            let committed = try run(device)
            #expect(!committed && device.hasCrashed)
            for survival in Self.survivals {
                let context = "power cut at operation \(crashPoint) of \(operations), \(survival)"
                let reopened = try reopen(device.survivor(survival))
                let generation = reopened.restoredGeneration.generation
                #expect(generation == 2 || generation == 3, "\(context): generation \(generation)")
                if case .dropUnflushed = survival { #expect(generation == 2, "\(context)") }
                #expect(Self.holds(reopened, pages: 16..<48, value: generation == 2 ? 1 : 2),
                        "\(context): generation \(generation) is not the space at its cut")
                #expect(try Store.open(device.survivor(survival)).verify().damage.allSatisfy { $0.generation == nil },
                        "\(context)")
                checked += 1
            }
        }
        #expect(checked == operations * Self.survivals.count)
    }
}
