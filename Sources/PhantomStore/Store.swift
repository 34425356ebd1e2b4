import Foundation

/// A Phantom image: a sequence of committed generations of one page space.
///
/// A commit writes the changed pages into free blocks, then the changed map
/// nodes, then a superblock naming the new generation, flushing after each
/// step (DESIGN.md invariant 3). A generation exists once its superblock is
/// durable; until then every block it wrote is free space and the previous
/// generation is untouched. The last `retention` generations are kept; their
/// blocks are never overwritten.
///
/// A `Store` has one owner at a time (the snapshot writer); it is not
/// thread-safe.
public final class Store {
    public struct Options: Sendable {
        /// Generations kept (K ≥ 2): the current one plus K − 1 to fall back to.
        public var retention: Int
        /// Largest the image may grow to, in blocks.
        public var maxBlocks: UInt64

        public init(retention: Int = 3, maxBlocks: UInt64 = 16 << 20) {
            self.retention = retention
            self.maxBlocks = maxBlocks
        }
    }

    public let device: BlockDevice
    /// The newest superblock on disk (written by the last commit, or found on open).
    public private(set) var superblock: Superblock
    /// The generation new commits build on (normally the newest).
    public private(set) var current: GenerationRecord
    /// What opening found worth telling: damaged slots, skipped generations.
    public private(set) var warnings: [String] = []
    /// Number of generations to keep; applies from the next commit.
    public var retention: Int {
        didSet { retention = min(max(retention, 2), Layout.maxRetention) }
    }

    var table: PageTable
    var allocator: BlockAllocator
    private var nextGeneration: UInt64
    /// Set after a failed flush: what reached the disk is unknown, so no
    /// further commit may build on the in-memory state.
    private var failure: String?

    public var pageCount: UInt64 { table.pageCount }
    public var retained: [GenerationRecord] { superblock.generations }
    public var path: String { device.name }

    private init(device: BlockDevice, superblock: Superblock, current: GenerationRecord,
                 table: PageTable, allocator: BlockAllocator, nextGeneration: UInt64, warnings: [String]) {
        self.device = device
        self.superblock = superblock
        self.current = current
        self.table = table
        self.allocator = allocator
        self.nextGeneration = nextGeneration
        self.warnings = warnings
        retention = Int(superblock.retention)
    }

    // MARK: - Create and open

    /// Writes an empty image (generation 0) onto `device`.
    public static func create(on device: BlockDevice, options: Options = Options()) throws -> Store {
        guard options.retention >= 2, options.retention <= Layout.maxRetention else {
            throw StoreError.invalidArgument("retention must be between 2 and \(Layout.maxRetention), not \(options.retention)")
        }
        try device.resize(blockCount: Layout.firstAllocatableBlock)
        let empty = [UInt8](repeating: 0, count: Layout.blockSize)
        for slot in 1..<Layout.superblockSlots { try device.writeBlock(UInt64(slot), empty) }
        var imageID = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in imageID.indices { imageID[index] = UInt8.random(in: 0...255, using: &generator) }
        let record = GenerationRecord(generation: 0, timestamp: nowNanoseconds(), root: .none,
                                      depth: 0, pageCount: 0, writtenBytes: 0)
        let superblock = Superblock(retention: UInt32(options.retention), imageID: imageID,
                                    blockCount: device.blockCount,
                                    maxBlocks: max(options.maxBlocks, Layout.firstAllocatableBlock + 16),
                                    generations: [record])
        try device.writeBlock(0, superblock.encode())
        try device.flush()
        return try open(device)
    }

    /// Opens the newest generation that is intact, falling back (with a
    /// warning) past a torn or corrupt newest one. Writes nothing.
    public static func open(_ device: BlockDevice) throws -> Store {
        guard device.blockCount >= Layout.firstAllocatableBlock else {
            throw StoreError.tooSmall(path: device.name, bytes: device.byteCount)
        }
        var warnings: [String] = []
        var valid: [(slot: Int, superblock: Superblock)] = []
        var damaged: [Int] = []
        var foreign = 0
        for slot in 0..<Layout.superblockSlots {
            switch Superblock.decode(try device.readBlock(UInt64(slot))) {
            case .empty: break
            case .foreign: foreign += 1
            case let .damaged(reason):
                damaged.append(slot)
                warnings.append("superblock slot \(slot) is damaged (\(reason)); if it held the newest generation, that generation is lost")
            case let .futureVersion(version):
                throw StoreError.futureVersion(path: device.name, found: version, supported: Layout.formatVersion)
            case let .valid(superblock):
                valid.append((slot, superblock))
            }
        }
        guard !valid.isEmpty else {
            if !damaged.isEmpty { throw StoreError.superblocksDamaged(path: device.name, slots: damaged) }
            throw StoreError.notAnImage(path: device.name)
        }
        if foreign > 0 && !valid.isEmpty {
            warnings.append("\(foreign) superblock slot(s) hold foreign data")
        }
        valid.sort { $0.superblock.generation > $1.superblock.generation }
        let imageID = valid[0].superblock.imageID
        for entry in valid.dropFirst() where entry.superblock.imageID != imageID {
            warnings.append("superblock slot \(entry.slot) belongs to another image; ignored")
        }
        valid.removeAll { $0.superblock.imageID != imageID }
        let nextGeneration = valid[0].superblock.generation + 1

        // Try the generations the newest superblock retains, newest first.
        // Older superblocks name generations that may no longer be retained
        // (their blocks reused): falling back to them would pass off a stale
        // state as current, so they are not candidates.
        // One warning per damaged generation: a newer one that was skipped is
        // not reported again when its blocks are counted below.
        var reasons: [String] = []
        var skipped: Set<UInt64> = []
        let superblock = valid[0].superblock
        for record in superblock.generations {
            do {
                let table = try PageTable.load(record, from: device)
                var allocator = BlockAllocator(extent: device.blockCount,
                                               maxBlocks: max(superblock.maxBlocks, device.blockCount))
                for slot in 0..<Layout.superblockSlots { allocator.acquire(UInt64(slot)) }
                for other in superblock.generations where other.generation != record.generation {
                    do {
                        try acquireTree(other, device: device, allocator: &allocator)
                    } catch where !skipped.contains(other.generation) {
                        warnings.append("retained generation \(other.generation) is damaged (\(error)); its unreadable blocks may be reused")
                    } catch {}
                }
                try acquireTree(record, device: device, allocator: &allocator)
                var opened = superblock
                opened.blockCount = device.blockCount
                return Store(device: device, superblock: opened, current: record, table: table,
                             allocator: allocator, nextGeneration: nextGeneration, warnings: warnings)
            } catch {
                reasons.append("generation \(record.generation): \(error)")
                skipped.insert(record.generation)
                warnings.append("generation \(record.generation) is damaged (\(error)); skipped, an older one is opened")
            }
        }
        throw StoreError.noUsableGeneration(path: device.name, reasons: reasons)
    }

    /// Counts the references of a retained generation's tree, descending only
    /// into nodes seen for the first time (shared subtrees are counted once).
    private static func acquireTree(_ record: GenerationRecord, device: BlockDevice,
                                    allocator: inout BlockAllocator) throws {
        guard !record.root.isNone else { return }
        guard record.root.block < device.blockCount else {
            throw StoreError.blockOutOfRange(what: "generation \(record.generation)'s map root", block: record.root.block, imageBlocks: device.blockCount)
        }
        if allocator.acquire(record.root.block) {
            try acquireChildren(of: record.root, level: Int(record.depth) - 1, device: device, allocator: &allocator)
        }
    }

    private static func acquireChildren(of reference: BlockReference, level: Int, device: BlockDevice,
                                        allocator: inout BlockAllocator) throws {
        let node = try readNode(reference, level: level, from: device)
        for child in node.entries where !child.isNone {
            guard child.block >= Layout.firstAllocatableBlock, child.block < device.blockCount else {
                throw StoreError.blockOutOfRange(what: "map node at block \(reference.block)", block: child.block, imageBlocks: device.blockCount)
            }
            if allocator.acquire(child.block), level > 0 {
                try acquireChildren(of: child, level: level - 1, device: device, allocator: &allocator)
            }
        }
    }

    // MARK: - Reading

    /// Reads one page of the current generation (zeros if never written).
    public func readPage(_ page: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(buffer.count == Layout.pageSize)
        let entry = table.entry(page)
        guard !entry.isNone else {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            return
        }
        try device.read(block: entry.block, into: buffer)
        let found = CRC32C.checksum(UnsafeRawBufferPointer(buffer))
        guard found == entry.checksum else {
            throw StoreError.checksumMismatch(what: "page \(page) of generation \(current.generation)",
                                              block: entry.block, expected: entry.checksum, found: found)
        }
    }

    /// Restores every non-zero page of the current generation into `base`
    /// (page p at `base + p * 4096`), checking each checksum. Pages that are
    /// consecutive both on disk and in the space are read straight into place
    /// in runs of up to 1 MiB; the runs are split between `threads` threads.
    /// Pages that are not stored are left untouched (they must already be zero).
    public func restoreAllPages(into base: UnsafeMutableRawPointer, threads: Int = 2) throws {
        let pages = table.mappedPages.sorted { $0.reference.block < $1.reference.block }
        var runs: [Range<Int>] = []
        var start = 0
        while start < pages.count {
            var end = start + 1
            while end < pages.count, end - start < 256,
                  pages[end].reference.block == pages[end - 1].reference.block + 1,
                  pages[end].page == pages[end - 1].page + 1 { end += 1 }
            runs.append(start..<end)
            start = end
        }
        let generation = current.generation
        nonisolated(unsafe) let device = self.device
        let failures = FirstError()
        let workers = max(1, min(threads, runs.count))
        nonisolated(unsafe) let destination = base
        let shares = (0..<workers).map { worker in
            runs[(runs.count * worker / workers)..<(runs.count * (worker + 1) / workers)]
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for run in shares[worker] {
                guard !failures.happened else { return }
                let first = pages[run.lowerBound]
                let target = destination + Int(first.page) * Layout.pageSize
                do {
                    try device.read(block: first.reference.block,
                                    into: UnsafeMutableRawBufferPointer(start: target, count: run.count * Layout.pageSize))
                    for index in run {
                        let page = pages[index]
                        let bytes = UnsafeRawBufferPointer(start: destination + Int(page.page) * Layout.pageSize, count: Layout.pageSize)
                        let found = CRC32C.checksum(bytes)
                        if found != page.reference.checksum {
                            throw StoreError.checksumMismatch(what: "page \(page.page) of generation \(generation)",
                                                              block: page.reference.block, expected: page.reference.checksum, found: found)
                        }
                    }
                } catch {
                    failures.record(error)
                }
            }
        }
        if let error = failures.error { throw error }
    }

    // MARK: - Commit

    /// Commits a new generation: the current one with `pageNumbers` replaced
    /// by the consecutive 4 KiB pages of `pages`, the pages of `discarding`
    /// (other than those written) dropped from the map — they read as zeros
    /// again, and their blocks are freed once no retained generation needs
    /// them — and the space grown to `pageCount` pages. Returns once the
    /// generation is durable.
    ///
    /// On an error before the superblock is written (no space, a write error)
    /// nothing changes and the store stays usable. An error while writing or
    /// flushing the superblock leaves the store failed until reopened.
    @discardableResult
    public func commit(pageNumbers: [UInt64], pages: UnsafeRawBufferPointer, pageCount: UInt64,
                       discarding: [Range<UInt64>] = []) throws -> GenerationRecord {
        if let failure { throw StoreError.storeFailed(reason: failure) }
        precondition(pages.count == pageNumbers.count * Layout.pageSize, "one 4 KiB page per page number")
        let generation = nextGeneration
        let newPageCount = max(pageCount, table.pageCount, (pageNumbers.max().map { $0 + 1 }) ?? 0)
        let oldTable = table
        var claimed: [UInt64] = []
        var newNodes: [(reference: BlockReference, node: MapNode)] = []
        do {
            // 1. Data pages into free blocks, then flush. The pages' checksums
            //    (needed only for the map) are computed on another core meanwhile.
            let dataBlocks = try claim(pageNumbers.count)
            claimed += dataBlocks
            let checksums = PageChecksums(pages: pages)
            try device.resize(blockCount: allocator.extent)
            try writeRuns(blocks: dataBlocks, buffer: pages)
            try device.flush()
            let pageChecksums = checksums.wait()

            // 2. The map nodes on the paths to changed pages, then flush.
            table.grow(toPageCount: newPageCount)
            for (index, page) in pageNumbers.enumerated() {
                table.setEntry(page, BlockReference(block: dataBlocks[index], checksum: pageChecksums[index]))
            }
            var discardedLeaves = Set<Int>()
            if !discarding.isEmpty {
                let written = Set(pageNumbers)
                for range in discarding {
                    for page in table.mappedPages(in: range) where !written.contains(page) {
                        table.setEntry(page, .none)
                        discardedLeaves.insert(Int(page) / Layout.entriesPerNode)
                    }
                }
            }
            let depth = MapNode.depth(forPageCount: newPageCount)
            let oldDepth = table.depth
            while table.nodes.count < depth { table.nodes.append([]) }
            for level in 0..<depth {
                let needed = PageTable.nodeCount(level: level, pageCount: newPageCount)
                if table.nodes[level].count < needed {
                    table.nodes[level] += Array(repeating: .none, count: needed - table.nodes[level].count)
                }
            }
            // Bottom-up, so that each parent encodes its children's new blocks.
            var dirty = Set(pageNumbers.map { Int($0) / Layout.entriesPerNode }).union(discardedLeaves)
            var mapBuffer: [UInt8] = []
            for level in 0..<depth {
                if level >= oldDepth && level > 0 { dirty.insert(0) }
                let indices = dirty.sorted()
                let blocks = try claim(indices.count)
                claimed += blocks
                for (index, block) in zip(indices, blocks) {
                    var children: [BlockReference]
                    if level == 0 {
                        children = table.leafEntries(index)
                    } else {
                        let source = table.nodes[level - 1]
                        let first = index * Layout.entriesPerNode
                        children = Array(source[first..<max(first, min(first + Layout.entriesPerNode, source.count))])
                        children += Array(repeating: .none, count: Layout.entriesPerNode - children.count)
                    }
                    let node = MapNode(level: UInt8(level), generation: generation, entries: children)
                    let bytes = node.encode()
                    let reference = BlockReference(block: block, checksum: bytes.readLE(UInt32.self, at: MapNode.checksumOffset))
                    table.nodes[level][index] = reference
                    newNodes.append((reference, node))
                    mapBuffer += bytes
                }
                dirty = Set(indices.map { $0 / Layout.entriesPerNode })
            }
            try device.resize(blockCount: allocator.extent)
            try mapBuffer.withUnsafeBytes { try writeRuns(blocks: newNodes.map(\.reference.block), buffer: $0) }
            try device.flush()
        } catch {
            table = oldTable
            allocator.unclaim(claimed)
            if let storeError = error as? StoreError, case .imageFull = storeError {
                throw StoreError.imageFull(path: device.name, maxBlocks: allocator.maxBlocks)
            }
            throw error
        }

        // 3. The superblock, then flush: from here on the generation exists.
        let written = UInt64(claimed.count * Layout.blockSize)
        let record = GenerationRecord(generation: generation, timestamp: nowNanoseconds(), root: table.root,
                                      depth: UInt32(table.depth), pageCount: newPageCount, writtenBytes: written)
        var newSuperblock = superblock
        newSuperblock.retention = UInt32(retention)
        newSuperblock.blockCount = allocator.extent
        newSuperblock.generations = Array(([record] + superblock.generations).prefix(retention))
        let dropped = superblock.generations.filter { old in !newSuperblock.generations.contains { $0.generation == old.generation } }
        do {
            try device.writeBlock(generation % UInt64(Layout.superblockSlots), newSuperblock.encode())
            try device.flush()
        } catch {
            failure = "committing generation \(generation) failed: \(error)"
            table = oldTable
            throw error
        }

        // 4. Account the new references, then free what the dropped generations alone used.
        for (_, node) in newNodes {
            for child in node.entries where !child.isNone { allocator.acquire(child.block) }
        }
        if !record.root.isNone { allocator.acquire(record.root.block) }
        allocator.unclaim(claimed)
        for old in dropped { releaseTree(old) }
        superblock = newSuperblock
        current = record
        nextGeneration = generation + 1
        return record
    }

    private func claim(_ count: Int) throws -> [UInt64] {
        guard count > 0 else { return [] }
        return try allocator.claim(count)
    }

    /// Writes `buffer` (one block per entry of `blocks`) as runs of consecutive blocks.
    private func writeRuns(blocks: [UInt64], buffer: UnsafeRawBufferPointer) throws {
        var start = 0
        while start < blocks.count {
            var end = start + 1
            while end < blocks.count, blocks[end] == blocks[end - 1] + 1 { end += 1 }
            try device.write(block: blocks[start],
                             from: UnsafeRawBufferPointer(rebasing: buffer[start * Layout.blockSize..<end * Layout.blockSize]))
            start = end
        }
    }

    private func releaseTree(_ record: GenerationRecord) {
        guard !record.root.isNone else { return }
        release(record.root, level: Int(record.depth) - 1)
    }

    /// Drops one reference; a node whose count reaches zero drops its children.
    /// A node that cannot be read leaks its children until the next open
    /// recounts from the retained maps.
    private func release(_ reference: BlockReference, level: Int) {
        guard allocator.release(reference.block), level >= 0 else { return }
        guard let node = try? readNode(reference, level: level, from: device) else { return }
        for child in node.entries where !child.isNone { release(child, level: level - 1) }
    }

    // MARK: - Generations

    /// Makes `generation` (a retained one) the base of the next commit, in
    /// memory only. Used to fall back past a generation whose pages are damaged.
    public func select(generation: UInt64) throws {
        guard let record = superblock.generations.first(where: { $0.generation == generation }) else {
            throw StoreError.unknownGeneration(generation, retained: superblock.generations.map(\.generation))
        }
        table = try PageTable.load(record, from: device)
        current = record
    }

    /// Rolls back to a retained generation by committing a new generation
    /// identical to it. Nothing is overwritten: the newer generations stay
    /// retained (until retention drops them), so a rollback can be undone.
    @discardableResult
    public func rollback(to generation: UInt64) throws -> GenerationRecord {
        try select(generation: generation)
        return try [UInt8]().withUnsafeBytes { try commit(pageNumbers: [], pages: $0, pageCount: current.pageCount) }
    }

    public var info: StoreInfo {
        StoreInfo(path: device.name, blockSize: Layout.blockSize, extentBlocks: allocator.extent,
                  maxBlocks: allocator.maxBlocks, usedBlocks: allocator.usedBlocks,
                  retention: retention, current: current.generation, generations: superblock.generations,
                  imageID: superblock.imageID)
    }
}

/// The first error of several threads.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Error?
    var happened: Bool { lock.lock(); defer { lock.unlock() }; return first != nil }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return first }
    func record(_ error: Error) {
        lock.lock()
        if first == nil { first = error }
        lock.unlock()
    }
}

public struct StoreInfo: Sendable {
    public var path: String
    public var blockSize: Int
    public var extentBlocks: UInt64
    public var maxBlocks: UInt64
    public var usedBlocks: UInt64
    public var retention: Int
    public var current: UInt64
    public var generations: [GenerationRecord]
    public var imageID: [UInt8]
    public var freeBlocks: UInt64 { maxBlocks - usedBlocks }
}

/// Wall-clock time (CLOCK_REALTIME) in nanoseconds since 1970: generation
/// timestamps, deadlines of blocked calls, benchmark stamps across processes.
public func nowNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
