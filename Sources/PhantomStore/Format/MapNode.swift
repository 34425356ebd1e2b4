/// A node of the page map: a radix tree whose leaves map page numbers to data
/// blocks and whose inner nodes map to child nodes, each entry carrying the
/// checksum of what it points to.
///
/// Layout (little-endian):
/// ```
///  0  magic 0x504D ("PM")   2
///  2  level                 1   (0 = leaf)
///  3  reserved              1
///  4  CRC32C of the block   4   (computed with this field zero)
///  8  generation            8   (that wrote the node; for diagnostics)
/// 16  255 entries: block (8), checksum (4), reserved (4)
/// ```
/// A block number of 0 means "no page here" (a page never written reads as zeros).
struct MapNode {
    static let magic: UInt16 = 0x504D
    static let checksumOffset = 4
    static let headerSize = 16

    var level: UInt8
    var generation: UInt64
    var entries: [BlockReference]

    func encode() -> [UInt8] {
        var writer = ByteWriter(count: Layout.blockSize)
        writer.put(MapNode.magic, at: 0)
        writer.put(level, at: 2)
        writer.put(generation, at: 8)
        for (index, entry) in entries.enumerated() where !entry.isNone {
            let base = MapNode.headerSize + index * 16
            writer.put(entry.block, at: base)
            writer.put(entry.checksum, at: base + 8)
        }
        let crc = blockChecksum(writer.bytes, excludingFieldAt: MapNode.checksumOffset)
        writer.put(crc, at: MapNode.checksumOffset)
        return writer.bytes
    }

    /// Decodes a node read from `reference.block`, checking it against the
    /// checksum its parent recorded and against its own.
    static func decode(_ bytes: [UInt8], reference: BlockReference, expectedLevel: Int) throws -> MapNode {
        let computed = blockChecksum(bytes, excludingFieldAt: checksumOffset)
        guard computed == reference.checksum else {
            throw StoreError.checksumMismatch(what: "page-map node", block: reference.block,
                                              expected: reference.checksum, found: computed)
        }
        guard bytes.readLE(UInt16.self, at: 0) == magic, Int(bytes[2]) == expectedLevel else {
            throw StoreError.checksumMismatch(what: "page-map node (bad header)", block: reference.block,
                                              expected: reference.checksum, found: computed)
        }
        var entries: [BlockReference] = []
        entries.reserveCapacity(Layout.entriesPerNode)
        for index in 0..<Layout.entriesPerNode {
            let base = headerSize + index * 16
            entries.append(BlockReference(block: bytes.readLE(UInt64.self, at: base),
                                          checksum: bytes.readLE(UInt32.self, at: base + 8)))
        }
        return MapNode(level: bytes[2], generation: bytes.readLE(UInt64.self, at: 8), entries: entries)
    }

    /// Levels needed to map `pageCount` pages.
    static func depth(forPageCount pageCount: UInt64) -> Int {
        guard pageCount > 0 else { return 0 }
        var depth = 1
        var capacity = UInt64(Layout.entriesPerNode)
        while capacity < pageCount {
            depth += 1
            capacity *= UInt64(Layout.entriesPerNode)
        }
        return depth
    }
}
