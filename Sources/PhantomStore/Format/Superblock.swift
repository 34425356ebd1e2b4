/// One retained generation as the superblock records it: where its page map
/// starts and what it holds.
public struct GenerationRecord: Equatable, Sendable {
    public var generation: UInt64
    /// Nanoseconds since 1970 when the generation was committed.
    public var timestamp: UInt64
    /// Root node of the page map; 0 when the space was empty.
    public var root: BlockReference
    /// Levels of the map tree (1 = the root is a leaf); 0 when empty.
    public var depth: UInt32
    /// Pages in the space (the map covers page numbers below this).
    public var pageCount: UInt64
    /// Bytes this generation wrote (data and map), for `image info`.
    public var writtenBytes: UInt64

    static let encodedSize = 48
}

/// A pointer to a block together with the checksum the block must have: the
/// parent vouches for the child, so a stale, misdirected or rotten block is
/// caught on read (as in ZFS and Btrfs).
public struct BlockReference: Equatable, Sendable {
    public var block: UInt64
    public var checksum: UInt32
    public static let none = BlockReference(block: 0, checksum: 0)
    public var isNone: Bool { block == 0 }
}

/// The root of an image: written last in a commit, into slot `generation % 4`.
///
/// Layout (little-endian):
/// ```
///  0  magic "PHNTMIMG"          8
///  8  format version            4
/// 12  block size                4
/// 16  CRC32C of the block       4   (computed with this field zero)
/// 20  retention (K)             4
/// 24  image id                  16
/// 40  generation                8   (the newest of the list below)
/// 48  block count (extent)      8
/// 56  maximum block count       8
/// 64  retained generation count 4
/// 68  reserved                  12
/// 80  retained generations, newest first, 48 bytes each
/// ```
public struct Superblock: Equatable, Sendable {
    public static let magic: [UInt8] = Array("PHNTMIMG".utf8)
    static let checksumOffset = 16

    public var formatVersion: UInt32 = Layout.formatVersion
    public var retention: UInt32
    public var imageID: [UInt8]
    public var blockCount: UInt64
    public var maxBlocks: UInt64
    /// Newest first; `generations[0]` is the generation this superblock commits.
    public var generations: [GenerationRecord]

    public var generation: UInt64 { generations.first?.generation ?? 0 }

    public func encode() -> [UInt8] {
        var writer = ByteWriter(count: Layout.blockSize)
        writer.put(bytes: Superblock.magic, at: 0)
        writer.put(formatVersion, at: 8)
        writer.put(UInt32(Layout.blockSize), at: 12)
        writer.put(retention, at: 20)
        writer.put(bytes: imageID, at: 24)
        writer.put(generation, at: 40)
        writer.put(blockCount, at: 48)
        writer.put(maxBlocks, at: 56)
        writer.put(UInt32(generations.count), at: 64)
        for (index, record) in generations.enumerated() {
            let base = 80 + index * GenerationRecord.encodedSize
            writer.put(record.generation, at: base)
            writer.put(record.timestamp, at: base + 8)
            writer.put(record.root.block, at: base + 16)
            writer.put(record.root.checksum, at: base + 24)
            writer.put(record.depth, at: base + 28)
            writer.put(record.pageCount, at: base + 32)
            writer.put(record.writtenBytes, at: base + 40)
        }
        let crc = blockChecksum(writer.bytes, excludingFieldAt: Superblock.checksumOffset)
        writer.put(crc, at: Superblock.checksumOffset)
        return writer.bytes
    }

    /// What a superblock slot was found to hold.
    public enum Slot: Equatable {
        case empty
        case foreign
        case damaged(reason: String)
        case futureVersion(UInt32)
        case valid(Superblock)
    }

    public static func decode(_ bytes: [UInt8]) -> Slot {
        if bytes.allSatisfy({ $0 == 0 }) { return .empty }
        guard Array(bytes[0..<8]) == magic else { return .foreign }
        let stored = bytes.readLE(UInt32.self, at: checksumOffset)
        let computed = blockChecksum(bytes, excludingFieldAt: checksumOffset)
        guard stored == computed else {
            return .damaged(reason: "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        let version = bytes.readLE(UInt32.self, at: 8)
        guard version <= Layout.formatVersion else { return .futureVersion(version) }
        guard version >= 1 else { return .damaged(reason: "format version 0") }
        guard bytes.readLE(UInt32.self, at: 12) == UInt32(Layout.blockSize) else {
            return .damaged(reason: "block size \(bytes.readLE(UInt32.self, at: 12))")
        }
        let count = Int(bytes.readLE(UInt32.self, at: 64))
        guard count >= 1, count <= Layout.maxRetention + 1 else {
            return .damaged(reason: "\(count) retained generations")
        }
        var records: [GenerationRecord] = []
        for index in 0..<count {
            let base = 80 + index * GenerationRecord.encodedSize
            records.append(GenerationRecord(
                generation: bytes.readLE(UInt64.self, at: base),
                timestamp: bytes.readLE(UInt64.self, at: base + 8),
                root: BlockReference(block: bytes.readLE(UInt64.self, at: base + 16),
                                     checksum: bytes.readLE(UInt32.self, at: base + 24)),
                depth: bytes.readLE(UInt32.self, at: base + 28),
                pageCount: bytes.readLE(UInt64.self, at: base + 32),
                writtenBytes: bytes.readLE(UInt64.self, at: base + 40)))
        }
        for record in records {
            guard record.pageCount <= Layout.maxPageCount else {
                return .damaged(reason: "generation \(record.generation) claims \(record.pageCount) pages (more than \(Layout.maxPageCount))")
            }
            guard Int(record.depth) == MapNode.depth(forPageCount: record.pageCount) || record.root.isNone else {
                return .damaged(reason: "generation \(record.generation): map depth \(record.depth) does not fit \(record.pageCount) pages")
            }
        }
        guard zip(records, records.dropFirst()).allSatisfy({ $0.generation > $1.generation }) else {
            return .damaged(reason: "retained generations are not in descending order")
        }
        let retention = bytes.readLE(UInt32.self, at: 20)
        guard retention >= 2 && retention <= UInt32(Layout.maxRetention) else {
            return .damaged(reason: "retention \(retention)")
        }
        let superblock = Superblock(
            formatVersion: version,
            retention: retention,
            imageID: Array(bytes[24..<40]),
            blockCount: bytes.readLE(UInt64.self, at: 48),
            maxBlocks: bytes.readLE(UInt64.self, at: 56),
            generations: records)
        guard superblock.generation == bytes.readLE(UInt64.self, at: 40) else {
            return .damaged(reason: "generation field disagrees with its list")
        }
        return .valid(superblock)
    }
}
