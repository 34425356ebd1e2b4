import Testing
@testable import PhantomStore

/// Fuzzing the decoder past the checksums: superblocks and map nodes whose
/// checksums are *valid* but whose fields are nonsense (as a buggy writer or
/// a malicious image could produce). Opening, verifying, reading and
/// committing must each either work or fail with a `StoreError` — never
/// crash, hang, or allocate without bound.
@Suite struct ForgedImageTests {
    private func image() throws -> MemoryBlockDevice {
        let device = MemoryBlockDevice(name: "forged.img")
        let store = try Store.create(on: device)
        var model = PageModel()
        try store.commit(pages: Array(0..<300), version: 1, model: &model)
        try store.commit(pages: [5, 299, 1000], version: 2, model: &model)
        return device
    }

    private func exercise(_ device: MemoryBlockDevice) {
        guard let store = try? Store.open(device) else { return }
        _ = store.verify()
        for page in store.table.mappedPages.prefix(20) { _ = try? store.page(page.page) }
        var model = PageModel()
        model.pageCount = store.pageCount
        _ = try? store.commit(pages: [1, 2], version: 9, model: &model)
    }

    @Test func forgedSuperblockFields() throws {
        let original = try image()
        let superblock = try Store.open(original).superblock
        var generator = SplitMix64(seed: 4242)
        for _ in 0..<400 {
            var forged = superblock
            let record = Int(generator.next() % UInt64(forged.generations.count))
            switch generator.next() % 9 {
            case 0: forged.generations[record].pageCount = generator.next() >> (generator.next() % 64)
            case 1: forged.generations[record].depth = UInt32(truncatingIfNeeded: generator.next() % 12)
            case 2: forged.generations[record].root.block = generator.next() % 2000
            case 3: forged.generations[record].root.block = generator.next()
            case 4: forged.generations[record].generation = generator.next() % 5
            case 5: forged.retention = UInt32(truncatingIfNeeded: generator.next() % 100)
            case 6: forged.maxBlocks = generator.next() % 50
            case 7: forged.generations = Array(repeating: forged.generations[record], count: 1 + Int(generator.next() % 4))
            default: forged.generations[record].root.checksum = UInt32(truncatingIfNeeded: generator.next())
            }
            let device = MemoryBlockDevice(name: "forged.img")
            device.blocks = original.blocks
            device.blocks[Int(forged.generation % 4)] = forged.encode()
            exercise(device)
        }
    }

    @Test func forgedMapNodes() throws {
        let original = try image()
        let store = try Store.open(original)
        let root = store.current.root
        let node = try readNode(root, level: Int(store.current.depth) - 1, from: original)
        var generator = SplitMix64(seed: 77)
        for _ in 0..<300 {
            var forged = node
            let index = Int(generator.next() % UInt64(Layout.entriesPerNode))
            switch generator.next() % 4 {
            case 0: forged.entries[index].block = generator.next() % 3000
            case 1: forged.entries[index].block = generator.next()
            case 2: forged.entries[index].block = root.block // a cycle
            default: forged.level = UInt8(truncatingIfNeeded: generator.next() % 5)
            }
            let bytes = forged.encode()
            // Re-point the superblock at the forged root, checksums recomputed.
            let device = MemoryBlockDevice(name: "forged.img")
            device.blocks = original.blocks
            device.blocks[Int(root.block)] = bytes
            var superblock = store.superblock
            superblock.generations[0].root.checksum = bytes.readLE(UInt32.self, at: MapNode.checksumOffset)
            device.blocks[Int(superblock.generation % 4)] = superblock.encode()
            exercise(device)
        }
    }
}
