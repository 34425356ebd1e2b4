/// An image held in RAM: for tests, benchmarks of the store's own overhead,
/// and as the durable half of `FaultInjectingDevice`.
public final class MemoryBlockDevice: BlockDevice {
    public let name: String
    public var blocks: [[UInt8]]
    public let isGrowable = true
    public private(set) var flushCount = 0

    public init(name: String = "memory", blockCount: UInt64 = 0) {
        self.name = name
        blocks = Array(repeating: [UInt8](repeating: 0, count: Layout.blockSize), count: Int(blockCount))
    }

    public var blockCount: UInt64 { UInt64(blocks.count) }

    public func read(block: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try blocks.copyBlocks(from: block, into: buffer)
    }

    public func write(block: UInt64, from buffer: UnsafeRawBufferPointer) throws {
        let count = buffer.count / Layout.blockSize
        if block + UInt64(count) > blockCount { try resize(blockCount: block + UInt64(count)) }
        for index in 0..<count {
            let start = index * Layout.blockSize
            blocks[Int(block) + index] = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<start + Layout.blockSize]))
        }
    }

    public func flush() throws { flushCount += 1 }

    public func resize(blockCount newCount: UInt64) throws {
        while UInt64(blocks.count) < newCount {
            blocks.append([UInt8](repeating: 0, count: Layout.blockSize))
        }
    }
}

extension Array where Element == [UInt8] {
    /// Copies consecutive blocks out of an in-memory device's block array.
    func copyBlocks(from block: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let count = buffer.count / Layout.blockSize
        guard block + UInt64(count) <= UInt64(self.count) else {
            throw StoreError.blockOutOfRange(what: "a read", block: block + UInt64(count) - 1, imageBlocks: UInt64(self.count))
        }
        for index in 0..<count {
            self[Int(block) + index].withUnsafeBytes {
                (buffer.baseAddress! + index * Layout.blockSize).copyMemory(from: $0.baseAddress!, byteCount: Layout.blockSize)
            }
        }
    }
}
