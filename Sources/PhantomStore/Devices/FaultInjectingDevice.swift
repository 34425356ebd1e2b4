/// A block device with a volatile write cache that can be made to fail, for
/// proving crash safety (see Tests/PhantomStoreTests/CrashConsistencyTests).
///
/// It models what real disks are allowed to do: a write is only guaranteed to
/// survive a power cut after a flush; unflushed writes may survive in any
/// subset and any order; the write in flight may be torn at a sector boundary;
/// and bits can rot. `crash(after:)` turns the N-th write or flush into a power
/// cut, and `survivor(_:)` builds the device as it would be found afterwards.
public final class FaultInjectingDevice: BlockDevice {
    public struct PowerCut: Error, CustomStringConvertible {
        public let operation: Int
        public var description: String { "simulated power cut at operation \(operation)" }
    }

    /// What became of unflushed writes when the power was cut.
    public enum Survival: Sendable {
        /// Every unflushed write is lost.
        case dropUnflushed
        /// Every unflushed write made it (the cache was written back in time).
        case keepUnflushed
        /// An arbitrary subset survived, chosen by `seed`.
        case randomSubset(seed: UInt64)
        /// All earlier unflushed writes survived, and the last one was torn
        /// after `sectors` of its 512-byte sectors.
        case tornLastWrite(sectors: Int)
    }

    public let name: String
    public let isGrowable = true
    /// What is guaranteed to be on the platter.
    private var durable: [[UInt8]]
    /// Writes since the last flush, in issue order, one block each.
    private var unflushed: [(block: UInt64, bytes: [UInt8])] = []
    private var current: [[UInt8]]
    /// Writes and flushes performed so far.
    public private(set) var operationCount = 0
    /// When set, the operation with this number (1-based) cuts the power instead.
    public var crashAtOperation: Int?
    /// When set, writes after this many operations fail with ENOSPC.
    public var noSpaceAfterOperation: Int?
    public private(set) var hasCrashed = false

    public init(name: String = "fault-injecting", blocks: [[UInt8]] = []) {
        self.name = name
        durable = blocks
        current = blocks
    }

    public var blockCount: UInt64 { UInt64(current.count) }

    public func read(block: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try current.copyBlocks(from: block, into: buffer)
    }

    private func nextOperation() throws {
        guard !hasCrashed else { throw PowerCut(operation: operationCount) }
        operationCount += 1
        if operationCount == crashAtOperation {
            hasCrashed = true
            throw PowerCut(operation: operationCount)
        }
    }

    public func write(block: UInt64, from buffer: UnsafeRawBufferPointer) throws {
        try nextOperation()
        let count = buffer.count / Layout.blockSize
        if let limit = noSpaceAfterOperation, operationCount > limit {
            throw StoreError.noSpace(path: name, neededBlocks: UInt64(count))
        }
        if block + UInt64(count) > blockCount { try resize(blockCount: block + UInt64(count)) }
        for index in 0..<count {
            let start = index * Layout.blockSize
            let bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<start + Layout.blockSize]))
            current[Int(block) + index] = bytes
            unflushed.append((block + UInt64(index), bytes))
        }
    }

    public func flush() throws {
        try nextOperation()
        for (block, bytes) in unflushed { durable[Int(block)] = bytes }
        unflushed.removeAll()
    }

    public func resize(blockCount newCount: UInt64) throws {
        let zero = [UInt8](repeating: 0, count: Layout.blockSize)
        while UInt64(current.count) < newCount { current.append(zero) }
        while UInt64(durable.count) < newCount { durable.append(zero) }
    }

    /// The device as found after the power cut (or now, if none happened).
    public func survivor(_ survival: Survival) -> MemoryBlockDevice {
        var blocks = durable
        switch survival {
        case .dropUnflushed:
            break
        case .keepUnflushed:
            for (block, bytes) in unflushed { blocks[Int(block)] = bytes }
        case let .randomSubset(seed):
            var generator = SplitMix64(seed: seed)
            for (block, bytes) in unflushed where generator.next() & 1 == 1 { blocks[Int(block)] = bytes }
        case let .tornLastWrite(sectors):
            for (block, bytes) in unflushed.dropLast() { blocks[Int(block)] = bytes }
            if let (block, bytes) = unflushed.last {
                let cut = min(Layout.blockSize, max(0, sectors) * 512)
                blocks[Int(block)].replaceSubrange(0..<cut, with: bytes[0..<cut])
            }
        }
        let device = MemoryBlockDevice(name: name)
        device.blocks = blocks
        return device
    }

    /// Number of writes not yet flushed.
    public var unflushedWriteCount: Int { unflushed.count }
}

/// A small deterministic generator so that fault scenarios can be replayed by seed.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
