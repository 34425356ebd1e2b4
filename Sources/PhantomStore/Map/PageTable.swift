/// The page map of the generation the store currently builds on, held in RAM:
/// every page's data block, plus every map node's block, so that a commit can
/// rewrite exactly the leaves and inner nodes on the paths to changed pages
/// (copy-on-write) without reading anything back.
struct PageTable {
    /// The entries of each leaf (255 pages), or nil where no page was ever
    /// written: sparse, so a space spanning tens of GiB with few pages in use
    /// costs little RAM, and a commit copies only the leaves it changes.
    private(set) var leaves: [[BlockReference]?] = []
    /// Pages the map covers.
    private(set) var pageCount: UInt64 = 0
    /// `nodes[level][index]`: level 0 are leaves; `nodes[depth - 1][0]` is the root.
    var nodes: [[BlockReference]] = []

    var depth: Int { nodes.count }
    var root: BlockReference { nodes.last?.first ?? .none }

    /// The page's data block and checksum, or `.none` for a zero page.
    func entry(_ page: UInt64) -> BlockReference {
        guard page < pageCount, let leaf = leaves[Int(page / UInt64(Layout.entriesPerNode))] else { return .none }
        return leaf[Int(page % UInt64(Layout.entriesPerNode))]
    }

    mutating func setEntry(_ page: UInt64, _ reference: BlockReference) {
        precondition(page < pageCount)
        let index = Int(page / UInt64(Layout.entriesPerNode))
        if leaves[index] == nil { leaves[index] = Array(repeating: .none, count: Layout.entriesPerNode) }
        leaves[index]![Int(page % UInt64(Layout.entriesPerNode))] = reference
    }

    /// The 255 entries of leaf `index` (all `.none` if it has none).
    func leafEntries(_ index: Int) -> [BlockReference] {
        (index < leaves.count ? leaves[index] : nil) ?? Array(repeating: .none, count: Layout.entriesPerNode)
    }

    mutating func grow(toPageCount count: UInt64) {
        guard count > pageCount else { return }
        pageCount = count
        let needed = PageTable.nodeCount(level: 0, pageCount: count)
        if leaves.count < needed { leaves += Array(repeating: nil, count: needed - leaves.count) }
    }

    /// The pages in `range` that have a block, visiting only leaves that exist.
    func mappedPages(in range: Range<UInt64>) -> [UInt64] {
        let clipped = range.clamped(to: 0..<pageCount)
        guard !clipped.isEmpty else { return [] }
        let span = UInt64(Layout.entriesPerNode)
        var result: [UInt64] = []
        for leafIndex in Int(clipped.lowerBound / span)...Int((clipped.upperBound - 1) / span) {
            guard let leaf = leaves[leafIndex] else { continue }
            for (offset, entry) in leaf.enumerated() where !entry.isNone {
                let page = UInt64(leafIndex) * span + UInt64(offset)
                if clipped.contains(page) { result.append(page) }
            }
        }
        return result
    }

    /// Every page that has a block, with its entry, in page order.
    var mappedPages: [(page: UInt64, reference: BlockReference)] {
        var result: [(UInt64, BlockReference)] = []
        for (leafIndex, leaf) in leaves.enumerated() {
            guard let leaf else { continue }
            for (offset, entry) in leaf.enumerated() where !entry.isNone {
                result.append((UInt64(leafIndex * Layout.entriesPerNode + offset), entry))
            }
        }
        return result
    }

    /// Pages covered by one node at `level`.
    static func span(ofLevel level: Int) -> UInt64 {
        var span = UInt64(Layout.entriesPerNode)
        for _ in 0..<level { span *= UInt64(Layout.entriesPerNode) }
        return span
    }

    /// Nodes needed at `level` to cover `pageCount` pages.
    static func nodeCount(level: Int, pageCount: UInt64) -> Int {
        let span = span(ofLevel: level)
        return Int((pageCount + span - 1) / span)
    }

    /// Reads the tree of `record` from `device`, checking every node's checksum.
    /// `visit` sees every node reference with its level (for reference counting).
    static func load(_ record: GenerationRecord, from device: BlockDevice) throws -> PageTable {
        var table = PageTable()
        let depth = Int(record.depth)
        table.grow(toPageCount: record.pageCount)
        guard depth > 0, !record.root.isNone else { return table }
        guard depth == MapNode.depth(forPageCount: record.pageCount) else {
            throw StoreError.invalidArgument("generation \(record.generation): depth \(depth) does not fit \(record.pageCount) pages")
        }
        table.nodes = (0..<depth).map { level in
            Array(repeating: .none, count: nodeCount(level: level, pageCount: record.pageCount))
        }
        try table.loadNode(record.root, level: depth - 1, index: 0, generation: record.generation, from: device)
        return table
    }

    private mutating func loadNode(_ reference: BlockReference, level: Int, index: Int,
                                   generation: UInt64, from device: BlockDevice) throws {
        nodes[level][index] = reference
        let node = try readNode(reference, level: level, from: device)
        let first = index * Layout.entriesPerNode
        if level == 0 {
            for (offset, entry) in node.entries.enumerated() where !entry.isNone {
                guard UInt64(first + offset) < pageCount else {
                    throw StoreError.invalidArgument("generation \(generation): map leaf at block \(reference.block) maps page \(first + offset), beyond the space's \(pageCount) pages")
                }
                setEntry(UInt64(first + offset), entry)
            }
        } else {
            for (offset, child) in node.entries.enumerated() where !child.isNone {
                guard first + offset < nodes[level - 1].count else {
                    throw StoreError.invalidArgument("generation \(generation): map node at block \(reference.block) has a child beyond the space")
                }
                try loadNode(child, level: level - 1, index: first + offset, generation: generation, from: device)
            }
        }
    }
}

func readNode(_ reference: BlockReference, level: Int, from device: BlockDevice) throws -> MapNode {
    guard reference.block < device.blockCount else {
        throw StoreError.blockOutOfRange(what: "a page-map node", block: reference.block, imageBlocks: device.blockCount)
    }
    return try MapNode.decode(device.readBlock(reference.block), reference: reference, expectedLevel: level)
}
