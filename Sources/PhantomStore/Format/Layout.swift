/// Fixed geometry of an image (format version 1).
///
/// ```
/// block 0…3   superblock slots; generation g is written to slot g % 4
/// block 4…    data pages and page-map nodes, allocated copy-on-write
/// ```
/// 4 KiB blocks match the page size of the object space and of both target
/// CPUs, so a dirty page is exactly one block write.
public enum Layout {
    public static let blockSize = 4096
    public static let pageSize = 4096
    public static let superblockSlots = 4
    public static let firstAllocatableBlock: UInt64 = 4
    public static let formatVersion: UInt32 = 1
    /// Entries per map node: a 16-byte header plus 255 16-byte entries fill a block.
    public static let entriesPerNode = 255
    public static let maxRetention = 64
    /// Largest space an image may describe: 2^28 pages (1 TiB). A record
    /// claiming more is damage, not a request to allocate its map.
    public static let maxPageCount: UInt64 = 1 << 28
}

/// Little-endian field access on a block buffer.
struct ByteWriter {
    var bytes: [UInt8]
    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
    }

    mutating func put(bytes source: [UInt8], at offset: Int) {
        bytes.replaceSubrange(offset..<offset + source.count, with: source)
    }
}

extension Array where Element == UInt8 {
    func readLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        precondition(offset + MemoryLayout<T>.size <= count)
        return withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}

/// CRC32C of a block whose own checksum field (4 bytes at `field`) counts as zero.
func blockChecksum(_ bytes: [UInt8], excludingFieldAt field: Int) -> UInt32 {
    bytes.withUnsafeBytes { raw in
        var crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<field]))
        let zero: UInt32 = 0
        crc = withUnsafeBytes(of: zero) { phantomCRCExtend(crc, $0) }
        return phantomCRCExtend(crc, UnsafeRawBufferPointer(rebasing: raw[(field + 4)...]))
    }
}

import CPhantomSupport
func phantomCRCExtend(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return crc }
    return phantom_crc32c(crc, base, buffer.count)
}
