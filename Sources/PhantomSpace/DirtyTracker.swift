import Foundation

/// Software dirty bits: every store path of the object space marks the pages
/// it touches, and the snapshot captures exactly those.
///
/// Why software bits and not page protection: a protection fault costs a
/// signal round trip (microseconds) per first write to a page per snapshot
/// period and needs a signal handler that cooperates with the Swift runtime's
/// own; a software check is one byte load and a predictable branch per store
/// (measured in docs/BENCHMARKS.md), deterministic, and portable to bare metal.
///
/// The first write to a clean page also appends it to a list, so capturing
/// costs time in proportion to the dirty set, never to the size of the space
/// (DESIGN.md invariant 4). The fast path takes no lock: a racing second
/// writer either sees the byte set or takes the lock and re-checks.
public final class DirtyTracker: @unchecked Sendable {
    /// One byte per page: 0 clean, 1 dirty.
    public let flags: UnsafeMutablePointer<UInt8>
    let pageLimit: UInt64
    private let lock = NSLock()
    private var list: [UInt64] = []
    private(set) var highestPage: UInt64 = 0
    private var anyPage = false

    /// Reserves one byte per page of the space. `mmap` reports failure as
    /// `MAP_FAILED` (not nil): unchecked, the first mark would write through
    /// address -1 + page. So a refused reservation (a limit beyond the address
    /// space or `ulimit -v`) is an error here, not a crash at the first store.
    init(pageLimit: UInt64) throws(SpaceError) {
        // The map's size must fit an `Int` and be worth asking `mmap` for.
        guard pageLimit > 0, pageLimit <= ObjectSpace.maximumLimitBytes else {
            throw .invalidLimit(bytes: pageLimit &* UInt64(ObjectSpace.pageSize))
        }
        self.pageLimit = pageLimit
        let raw = mmap(nil, Int(pageLimit), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let raw, raw != MAP_FAILED else { throw .dirtyMapFailed(pages: pageLimit, errno: errno) }
        flags = raw.bindMemory(to: UInt8.self, capacity: Int(pageLimit))
    }

    deinit { munmap(flags, Int(pageLimit)) }

    /// Unchecked: `page` must be below `pageLimit` (callers went through
    /// `ObjectSpace`'s bounds checks). Not public: a page beyond the map would
    /// be a write outside it; `ObjectSpace.markDirty` is the checked entry point.
    @inlinable @inline(__always)
    func mark(page: UInt64) {
        if flags[Int(page)] == 0 { markSlow(page: page) }
    }

    @usableFromInline
    func markSlow(page: UInt64) {
        lock.lock()
        if flags[Int(page)] == 0 {
            flags[Int(page)] = 1
            list.append(page)
            if page > highestPage || !anyPage { highestPage = page; anyPage = true }
        }
        lock.unlock()
    }

    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return list.count
    }

    /// Hands over the dirty list and clears every bit. Only while the world is stopped.
    func takeAll() -> [UInt64] {
        lock.lock(); defer { lock.unlock() }
        let pages = list
        for page in pages { flags[Int(page)] = 0 }
        list.removeAll(keepingCapacity: true)
        return pages
    }

    private var discarded: [Range<UInt64>] = []

    /// Records whole pages whose contents were thrown away (they read as
    /// zeros): the next snapshot drops them from the image.
    func recordDiscarded(_ pages: Range<UInt64>) {
        guard !pages.isEmpty else { return }
        lock.lock()
        discarded.append(pages)
        lock.unlock()
    }

    /// Hands over the discarded ranges. Only while the world is stopped.
    func takeDiscarded() -> [Range<UInt64>] {
        lock.lock(); defer { lock.unlock() }
        let ranges = discarded
        discarded.removeAll()
        return ranges
    }

    /// Puts back discarded ranges whose commit failed.
    func recordDiscarded(contentsOf ranges: [Range<UInt64>]) {
        lock.lock()
        discarded.insert(contentsOf: ranges, at: 0)
        lock.unlock()
    }

    /// Marks pages dirty again after a failed commit, so the next snapshot retries them.
    func remark(_ pages: [UInt64]) {
        for page in pages { mark(page: page) }
    }

    /// Pages in use: one past the highest page ever marked, or `floor`.
    func pageCount(atLeast floor: UInt64) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return anyPage ? max(floor, highestPage + 1) : floor
    }
}
