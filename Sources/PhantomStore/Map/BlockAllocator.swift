/// Free space, derived from the retained generations rather than stored:
/// a block is free when no retained generation reaches it and no commit in
/// progress has claimed it. Because the counts are rebuilt from the retained
/// maps on open, there is no free-space structure on disk to keep crash-safe.
///
/// `referenceCounts[b]` counts the references to block `b` from retained
/// generation records and from distinct map nodes. Sharing is what makes
/// copy-on-write cheap: an unchanged page's block is referenced by the leaf of
/// every generation that kept it, and dropping a generation frees exactly the
/// blocks whose count falls to zero (the reference-counted-tree scheme of
/// Rodeh's "B-trees, Shadowing, and Clones", as used by Btrfs).
struct BlockAllocator {
    private(set) var referenceCounts: [UInt32]
    private var claimed: [Bool]
    /// Blocks the device has now; allocation beyond grows it.
    private(set) var extent: UInt64
    let maxBlocks: UInt64
    private var cursor: UInt64 = Layout.firstAllocatableBlock
    private(set) var usedBlocks: UInt64 = 0

    init(extent: UInt64, maxBlocks: UInt64) {
        self.extent = max(extent, Layout.firstAllocatableBlock)
        self.maxBlocks = max(maxBlocks, self.extent)
        referenceCounts = Array(repeating: 0, count: Int(self.extent))
        claimed = Array(repeating: false, count: Int(self.extent))
    }

    var freeBlocks: UInt64 { maxBlocks - Layout.firstAllocatableBlock - usedBlocks }

    func referenceCount(_ block: UInt64) -> UInt32 {
        block < UInt64(referenceCounts.count) ? referenceCounts[Int(block)] : 0
    }

    private mutating func ensureCapacity(_ count: UInt64) {
        if UInt64(referenceCounts.count) < count {
            referenceCounts += Array(repeating: 0, count: Int(count) - referenceCounts.count)
            claimed += Array(repeating: false, count: Int(count) - claimed.count)
        }
    }

    /// Adds a reference; returns true when the block was unreferenced before.
    @discardableResult
    mutating func acquire(_ block: UInt64) -> Bool {
        ensureCapacity(block + 1)
        referenceCounts[Int(block)] += 1
        if referenceCounts[Int(block)] == 1 {
            usedBlocks += 1
            return true
        }
        return false
    }

    /// Drops a reference; returns true when the block became free.
    mutating func release(_ block: UInt64) -> Bool {
        guard block < UInt64(referenceCounts.count), referenceCounts[Int(block)] > 0 else { return false }
        referenceCounts[Int(block)] -= 1
        if referenceCounts[Int(block)] == 0 {
            usedBlocks -= 1
            return true
        }
        return false
    }

    /// Claims `count` free blocks, preferring consecutive ones after the last
    /// allocation (next-fit) so that a commit becomes a few long sequential writes.
    /// May raise `extent`; the caller grows the device to match before writing.
    mutating func claim(_ count: Int) throws -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(count)
        var scanned: UInt64 = 0
        let scannable = extent - Layout.firstAllocatableBlock
        while result.count < count && scanned < scannable {
            if cursor >= extent { cursor = Layout.firstAllocatableBlock }
            let index = Int(cursor)
            if referenceCounts[index] == 0 && !claimed[index] {
                claimed[index] = true
                result.append(cursor)
            }
            cursor += 1
            scanned += 1
        }
        if result.count < count {
            let missing = UInt64(count - result.count)
            let grown = min(maxBlocks, max(extent + missing, extent + extent / 4, extent + 256))
            guard grown - extent >= missing else {
                unclaim(result)
                throw StoreError.imageFull(path: "", maxBlocks: maxBlocks)
            }
            ensureCapacity(grown)
            for block in extent..<(extent + missing) {
                claimed[Int(block)] = true
                result.append(block)
            }
            cursor = extent + missing
            extent = grown
        }
        return result
    }

    /// Returns claimed blocks: either now referenced (after a commit) or unused (after a failure).
    mutating func unclaim(_ blocks: [UInt64]) {
        for block in blocks { claimed[Int(block)] = false }
    }
}
