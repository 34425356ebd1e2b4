import Testing
@testable import PhantomStore

/// Crash consistency (DESIGN.md invariant 3): power is cut at every write and
/// every flush of a workload, and whatever the disk kept of unflushed writes,
/// reopening yields exactly one committed generation — the last acknowledged
/// one, or the one in flight if its superblock made it — never a mix.
@Suite struct CrashConsistencyTests {
    enum Step: Sendable {
        case commit(pages: [UInt64])
        case rollback(toGeneration: UInt64)
        /// Writes `pages` and drops `discarding` from the map in one commit.
        case discard(discarding: Range<UInt64>, pages: [UInt64])
    }

    /// Commits over two and three map levels, overwrites, growth, and a rollback.
    static let steps: [Step] = {
        var generator = SplitMix64(seed: 2026)
        var steps: [Step] = []
        for index in 0..<9 {
            var pages = Set<UInt64>()
            let count = 1 + Int(generator.next() % 40)
            for _ in 0..<count { pages.insert(generator.next() % 700) }
            if index == 4 { pages.insert(70_000) }
            steps.append(.commit(pages: pages.sorted()))
            if index == 6 { steps.append(.rollback(toGeneration: 6)) }
            if index == 7 { steps.append(.discard(discarding: 100..<400, pages: [150, 650])) }
        }
        return steps
    }()

    static let survivals: [FaultInjectingDevice.Survival] = [
        .dropUnflushed, .keepUnflushed,
        .randomSubset(seed: 1), .randomSubset(seed: 2), .randomSubset(seed: 3),
        .tornLastWrite(sectors: 1), .tornLastWrite(sectors: 4), .tornLastWrite(sectors: 7),
    ]

    /// The state after each generation: `states[g]` is generation g.
    static func expectedStates(retention: Int) -> [PageModel] {
        var states = [PageModel()]
        for (index, step) in steps.enumerated() {
            var model = states.last!
            switch step {
            case let .commit(pages):
                for page in pages { model.pages[page] = UInt64(index + 1) }
                model.pageCount = max(model.pageCount, pages.max()! + 1)
            case let .rollback(generation):
                model = states[Int(generation)]
            case let .discard(range, pages):
                for page in range { model.pages[page] = nil }
                for page in pages { model.pages[page] = UInt64(index + 1) }
                model.pageCount = max(model.pageCount, pages.max()! + 1)
            }
            states.append(model)
        }
        return states
    }

    /// Runs the workload on `device`; returns how many steps were acknowledged.
    static func run(on device: FaultInjectingDevice, retention: Int) -> Int {
        var acknowledged = 0
        do {
            let store = try Store.open(device)
            store.retention = retention
            for (index, step) in steps.enumerated() {
                switch step {
                case let .commit(pages):
                    var model = PageModel()
                    model.pageCount = store.pageCount
                    try store.commit(pages: pages, version: UInt64(index + 1), model: &model)
                case let .rollback(generation):
                    try store.rollback(to: generation)
                case let .discard(range, pages):
                    let buffer = pages.flatMap { pageBytes(page: $0, version: UInt64(index + 1)) }
                    try buffer.withUnsafeBytes {
                        _ = try store.commit(pageNumbers: pages, pages: $0,
                                             pageCount: max(store.pageCount, pages.max()! + 1), discarding: [range])
                    }
                }
                acknowledged += 1
            }
        } catch {}
        return acknowledged
    }

    static func freshImage() throws -> [[UInt8]] {
        let memory = MemoryBlockDevice(name: "crash.img")
        _ = try Store.create(on: memory)
        return memory.blocks
    }

    @Test(arguments: [2, 3])
    func crashAtEveryWriteAndFlush(retention: Int) throws {
        let image = try Self.freshImage()
        let states = Self.expectedStates(retention: retention)
        // A dry run counts the operations.
        let dry = FaultInjectingDevice(name: "crash.img", blocks: image)
        #expect(Self.run(on: dry, retention: retention) == Self.steps.count)
        let operations = dry.operationCount
        #expect(operations > 40)

        var checked = 0
        for crashPoint in 1...operations {
            let device = FaultInjectingDevice(name: "crash.img", blocks: image)
            device.crashAtOperation = crashPoint
            let acknowledged = Self.run(on: device, retention: retention)
            #expect(device.hasCrashed)
            for survival in Self.survivals {
                let survivor = device.survivor(survival)
                let store: Store
                do {
                    store = try Store.open(survivor)
                } catch {
                    Issue.record("crash at operation \(crashPoint), \(survival): reopening failed: \(error)")
                    continue
                }
                let generation = Int(store.current.generation)
                let context = "crash at operation \(crashPoint) of \(operations), \(survival), \(acknowledged) steps acknowledged, reopened at generation \(generation)"
                #expect(generation == acknowledged || generation == acknowledged + 1, "\(context)")
                if case .dropUnflushed = survival {
                    #expect(generation == acknowledged, "without the cache, only acknowledged generations exist: \(context)")
                }
                #expect(try store.matches(states[generation]), "content is exactly generation \(generation): \(context)")
                let report = store.verify()
                #expect(report.damage.allSatisfy { $0.generation == nil }, "retained generations intact: \(context): \(report.damage)")
                // Life goes on: the recovered store commits and reopens.
                if crashPoint % 7 == 0 {
                    var next = states[generation]
                    try store.commit(pages: [1, 650], version: 99, model: &next)
                    #expect(try Store.open(survivor).matches(next), "commit after recovery: \(context)")
                }
                checked += 1
            }
        }
        #expect(checked == operations * Self.survivals.count)
    }

    /// A power cut while the image is being created leaves either no image
    /// (a clear error) or the empty generation 0.
    @Test func crashWhileCreating() throws {
        for crashPoint in 1...8 {
            for survival in Self.survivals {
                let device = FaultInjectingDevice(name: "new.img")
                device.crashAtOperation = crashPoint
                _ = try? Store.create(on: device)
                let survivor = device.survivor(survival)
                do {
                    let store = try Store.open(survivor)
                    #expect(store.current.generation == 0 && store.pageCount == 0)
                } catch let error as StoreError {
                    switch error {
                    case .notAnImage, .tooSmall, .superblocksDamaged: break
                    default: Issue.record("unexpected error after crash at \(crashPoint): \(error)")
                    }
                }
            }
        }
    }

    /// A flipped bit anywhere is caught: by verify, and on read. Opening either
    /// fails clearly, or yields a generation whose every page reads back
    /// exactly or fails its checksum — never wrong bytes.
    @Test func bitFlipsInEveryBlockAreCaught() throws {
        let memory = MemoryBlockDevice(name: "flip.img")
        _ = try Store.create(on: memory)
        let device = FaultInjectingDevice(name: "flip.img", blocks: memory.blocks)
        #expect(Self.run(on: device, retention: 3) == Self.steps.count)
        let clean = device.survivor(.keepUnflushed)
        let states = Self.expectedStates(retention: 3)
        let reference = try Store.open(clean)
        #expect(reference.verify().isClean)
        var generator = SplitMix64(seed: 99)
        var caughtByVerify = 0
        for block in 0..<Int(clean.blockCount) {
            let referenced = reference.allocator.referenceCount(UInt64(block)) > 0
            let damaged = MemoryBlockDevice(name: "flip.img")
            damaged.blocks = clean.blocks
            let bit = Int(generator.next() % UInt64(Layout.blockSize * 8))
            damaged.blocks[block][bit / 8] ^= UInt8(1 << (bit % 8))
            guard let store = try? Store.open(damaged) else { continue }
            let report = store.verify()
            if referenced && !damaged.blocks[block].allSatisfy({ $0 == 0 }) {
                #expect(!report.isClean, "flip of bit \(bit) in block \(block) not reported by verify")
                if !report.isClean { caughtByVerify += 1 }
            }
            let expected = states[Int(store.current.generation)]
            for page in Set(expected.pages.keys).union(store.table.mappedPages.map(\.page)) {
                if let bytes = try? store.page(page) {
                    #expect(bytes == expected.expected(page), "block \(block) flipped: page \(page) read wrong bytes")
                }
            }
        }
        #expect(caughtByVerify > 50)
    }
}
