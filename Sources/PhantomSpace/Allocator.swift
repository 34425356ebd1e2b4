import PhantomStore

/// Page 0 of every object space: how to find things after a restore, and
/// the allocator's state. Like everything else it lives in the space, so it
/// is snapshotted with it.
///
/// ```
///   0  magic "PHSPACE1"          8
///   8  header version            4
///  16  bump: first never-allocated offset   8
///  24  live bytes                8
///  32  free-list heads, one per size class 2^(k+4), k = 0..<40    320
/// 512  roots: 64 offsets that engines and the kernel name their data by
/// ```
public enum SpaceHeader {
    public static let magic: UInt64 = 0x3145_4341_5053_4850 // "PHSPACE1" little-endian
    static let version: UInt32 = 1
    static let bumpOffset: UInt64 = 16
    static let liveBytesOffset: UInt64 = 24
    static let freeListsOffset: UInt64 = 32
    static let sizeClasses = 40
    static let rootsOffset: UInt64 = 512
    public static let rootCount = 64
}

extension ObjectSpace {
    func formatHeader() {
        store(SpaceHeader.magic, at: 0)
        store(SpaceHeader.version, at: 8)
        store(UInt64(ObjectSpace.pageSize), at: SpaceHeader.bumpOffset)
    }

    /// Checks what the allocator will trust: a restored image's checksums say
    /// its bytes are the ones written, not that they make sense. A bump
    /// pointer beyond the limit or a free-list head outside the allocated
    /// space would make the first `allocate` trap on an out-of-bounds access.
    func checkHeader() throws {
        let magic = load(UInt64.self, at: 0)
        guard magic == SpaceHeader.magic else { throw SpaceError.notAPhantomSpace(page0Magic: magic) }
        let bump = load(UInt64.self, at: SpaceHeader.bumpOffset)
        guard bump >= UInt64(ObjectSpace.pageSize), bump <= limitBytes else {
            throw SpaceError.corruptAllocator("the allocator's bump pointer \(bump) is outside [\(ObjectSpace.pageSize), \(limitBytes)]")
        }
        for sizeClass in 0..<SpaceHeader.sizeClasses {
            let head = load(UInt64.self, at: SpaceHeader.freeListsOffset + UInt64(sizeClass) * 8)
            guard head == 0 || isFreeBlock(head, sizeClass: sizeClass) else {
                throw SpaceError.corruptAllocator("free list \(sizeClass) starts at \(head), not a block of its size class")
            }
        }
    }

    /// Whether `offset` can be a free block of `sizeClass`: aligned as
    /// `allocate` aligns it, and inside what the bump pointer handed out.
    func isFreeBlock(_ offset: UInt64, sizeClass: Int) -> Bool {
        let size = UInt64(1) << UInt64(sizeClass + 4)
        let alignment = min(size, UInt64(ObjectSpace.pageSize))
        let bump = min(load(UInt64.self, at: SpaceHeader.bumpOffset), limitBytes)
        return offset >= UInt64(ObjectSpace.pageSize) && offset % alignment == 0 && offset <= bump && size <= bump - offset
    }

    /// A named entry point into the space (0 = unset).
    public func root(_ index: Int) -> UInt64 {
        precondition(index >= 0 && index < SpaceHeader.rootCount)
        return load(UInt64.self, at: SpaceHeader.rootsOffset + UInt64(index) * 8)
    }

    public func setRoot(_ index: Int, _ offset: UInt64) {
        precondition(index >= 0 && index < SpaceHeader.rootCount)
        store(offset, at: SpaceHeader.rootsOffset + UInt64(index) * 8)
    }

    public var liveBytes: UInt64 { load(UInt64.self, at: SpaceHeader.liveBytesOffset) }

    /// Size class `k` holds blocks of 2^(k+4) bytes. Power-of-two blocks that
    /// are also aligned to their size never straddle a page unless larger
    /// than one, so a small object dirties one page.
    static func sizeClass(for byteCount: UInt64) -> Int {
        let size = max(byteCount, 16)
        let bits = 64 - (size - 1).leadingZeroBitCount
        return bits - 4
    }

    /// Allocates `byteCount` zeroed bytes and returns their offset. Blocks are
    /// segregated by power-of-two size class with free lists threaded through
    /// the free blocks themselves (a persistent variant of a simple
    /// segregated-fit allocator).
    public func allocate(_ byteCount: Int) throws -> UInt64 {
        let sizeClass = ObjectSpace.sizeClass(for: UInt64(byteCount))
        precondition(sizeClass < SpaceHeader.sizeClasses, "allocation of \(byteCount) bytes is too large")
        let size = UInt64(1) << UInt64(sizeClass + 4)
        allocationLock.lock()
        defer { allocationLock.unlock() }
        let headOffset = SpaceHeader.freeListsOffset + UInt64(sizeClass) * 8
        var offset = load(UInt64.self, at: headOffset)
        if offset != 0 {
            // The link lives in the free block itself, i.e. in memory an image
            // (or a stray write) could have changed: checked before it is followed.
            let next = load(UInt64.self, at: offset)
            guard next == 0 || isFreeBlock(next, sizeClass: sizeClass) else {
                throw SpaceError.corruptAllocator("free list \(sizeClass): the block at \(offset) links to \(next), not a block of its size class")
            }
            store(next, at: headOffset)
            if size >= UInt64(ObjectSpace.pageSize) {
                // Discarded when freed: only the free-list link is not zero.
                store(UInt64(0), at: offset)
            } else {
                fill(at: offset, count: Int(size), with: 0)
            }
        } else {
            let alignment = min(size, UInt64(ObjectSpace.pageSize))
            let bump = load(UInt64.self, at: SpaceHeader.bumpOffset)
            offset = (bump + alignment - 1) & ~(alignment - 1)
            guard offset + size <= limitBytes else {
                throw SpaceError.spaceFull(requested: size, limit: limitBytes)
            }
            store(offset + size, at: SpaceHeader.bumpOffset)
        }
        store(liveBytes &+ size, at: SpaceHeader.liveBytesOffset)  // a statistic: a forged value must not trap
        return offset
    }

    /// Returns a block to its size class. `byteCount` is what was asked for.
    public func free(_ offset: UInt64, byteCount: Int) {
        let sizeClass = ObjectSpace.sizeClass(for: UInt64(byteCount))
        let size = UInt64(1) << UInt64(sizeClass + 4)
        allocationLock.lock()
        defer { allocationLock.unlock() }
        let headOffset = SpaceHeader.freeListsOffset + UInt64(sizeClass) * 8
        // Blocks of a page or more give their memory back (and their image blocks, at the next snapshot).
        if size >= UInt64(ObjectSpace.pageSize) { discard(offset, count: Int(size)) }
        store(load(UInt64.self, at: headOffset), at: offset)
        store(offset, at: headOffset)
        store(liveBytes &- size, at: SpaceHeader.liveBytesOffset)
    }
}
