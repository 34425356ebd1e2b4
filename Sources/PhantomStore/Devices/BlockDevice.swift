/// The store's only view of the disk: numbered blocks of `Layout.blockSize`
/// bytes, written in place and made durable by `flush()`.
///
/// The store never assumes that an unflushed write survives a crash, nor that
/// writes reach the disk in order; that is exactly what the fault-injecting
/// device in the tests breaks on purpose.
public protocol BlockDevice: AnyObject {
    /// A name for messages: the path of the image.
    var name: String { get }
    /// Blocks currently addressable.
    var blockCount: UInt64 { get }
    /// Size in bytes, which for a damaged file need not be a whole number of blocks.
    var byteCount: UInt64 { get }
    /// True when `resize` can grow the device (a regular file can, a disk cannot).
    var isGrowable: Bool { get }

    /// Reads `buffer.count / blockSize` consecutive blocks starting at `block`.
    func read(block: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws
    /// Writes `buffer.count / blockSize` consecutive blocks starting at `block`.
    func write(block: UInt64, from buffer: UnsafeRawBufferPointer) throws
    /// Makes every completed write durable.
    func flush() throws
    /// Grows the device to `blockCount` blocks (never shrinks).
    func resize(blockCount: UInt64) throws
}

extension BlockDevice {
    public var byteCount: UInt64 { blockCount * UInt64(Layout.blockSize) }

    /// Reads one block into a fresh array.
    public func readBlock(_ block: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Layout.blockSize)
        try bytes.withUnsafeMutableBytes { try read(block: block, into: $0) }
        return bytes
    }

    public func writeBlock(_ block: UInt64, _ bytes: [UInt8]) throws {
        precondition(bytes.count == Layout.blockSize)
        try bytes.withUnsafeBytes { try write(block: block, from: $0) }
    }
}
