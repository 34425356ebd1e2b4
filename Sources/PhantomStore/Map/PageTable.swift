/// The page map of the generation the store currently builds on, held in RAM:
/// every page's data block, plus every map node's block, so that a commit can
/// rewrite exactly the leaves and inner nodes on the paths to changed pages
/// (copy-on-write) without reading anything back.
struct PageTable {
    /// `entries[page]`: the page's data block and checksum, or `.none` for a zero page.
    var entries: [BlockReference] = []
    /// `nodes[level][index]`: level 0 are leaves; `nodes[depth - 1][0]` is the root.
    var nodes: [[BlockReference]] = []

    var depth: Int { nodes.count }
    var pageCount: UInt64 { UInt64(entries.count) }
    var root: BlockReference { nodes.last?.first ?? .none }

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
        guard depth > 0, !record.root.isNone else {
            table.entries = Array(repeating: .none, count: Int(record.pageCount))
            return table
        }
        guard depth == MapNode.depth(forPageCount: record.pageCount) else {
            throw StoreError.invalidArgument("generation \(record.generation): depth \(depth) does not fit \(record.pageCount) pages")
        }
        table.entries = Array(repeating: .none, count: Int(record.pageCount))
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
                guard first + offset < entries.count else {
                    throw StoreError.invalidArgument("generation \(generation): map leaf at block \(reference.block) maps page \(first + offset), beyond the space's \(entries.count) pages")
                }
                entries[first + offset] = entry
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
