import Foundation
import Synchronization

/// Software dirty bits: every store path of the object space marks the pages
/// it touches — before it writes them — and the snapshot captures exactly those.
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
///
/// Epochs. There are two flag maps. Stores test the *current* one; a
/// copy-on-write cut (`beginCopyOnWrite`) swaps them, which is O(1): the old
/// map becomes the capture's map of pages still to be copied, and the new
/// one — all clear, since the previous capture cleared it page by page — the
/// current epoch's. So the common case, a page already written this epoch,
/// costs exactly what it did before copy-on-write: one byte compare. The
/// first store to a page in an epoch takes the slow path anyway, and that is
/// where it checks whether the page still waits to be captured (and copies it
/// first; see CopyOnWriteCapture.swift). Whoever keeps the map's address in a
/// register (the Wasm interpreter) reloads it after every safepoint at which
/// it may have parked, since a cut happens only then.
public final class DirtyTracker: @unchecked Sendable {
    let pageLimit: UInt64
    /// The two flag maps, one byte per page: 0 clean, 1 dirty in that map's
    /// epoch (in the capture's map: 1 waiting to be copied, 2 being copied).
    let maps: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>)
    /// The current epoch's map (an address). Changes only at a copy-on-write
    /// cut, while every mutator is parked; atomic so that a thread outside the
    /// protocol reading it races with nothing.
    @usableFromInline let currentMap: Atomic<UInt>
    /// For each page, its index in the dirty list of the epoch that last
    /// marked it: where its copy goes in the capture buffer. Written under
    /// `lock` when a page is first marked in an epoch — after any copy of the
    /// page the previous capture still needed, which read the old index.
    let slots: UnsafeMutablePointer<UInt32>
    /// The space's base address (for copying pages out of it).
    nonisolated(unsafe) let base: UnsafeMutableRawPointer
    /// Whether a copy-on-write capture still has pages to copy.
    let captureInFlight = Atomic<Bool>(false)
    /// Where the capture in flight puts its pages (an address; 0 when none).
    let captureBuffer = Atomic<UInt>(0)
    /// Pages of the capture in flight that a mutator copied (a statistic, and
    /// for tests to see that the mutator's half of the hand-over ran).
    let mutatorCopies = Atomic<Int>(0)

    private let lock = NSLock()
    private var list: [UInt64] = []
    /// An empty list with room, made ready outside the pause for the next epoch.
    private var spare: [UInt64] = []
    private(set) var highestPage: UInt64 = 0
    private var anyPage = false

    /// Reserves one byte per page of the space for each flag map and four for
    /// its slot. `mmap` reports failure as `MAP_FAILED` (not nil): unchecked,
    /// the first mark would write through address -1 + page. So a refused
    /// reservation (a limit beyond the address space or `ulimit -v`) is an
    /// error here, not a crash at the first store. Only touched pages of the
    /// maps cost memory.
    init(pageLimit: UInt64, base: UnsafeMutableRawPointer) throws(SpaceError) {
        // The map's size must fit an `Int` and be worth asking `mmap` for.
        guard pageLimit > 0, pageLimit <= ObjectSpace.maximumLimitBytes else {
            throw .invalidLimit(bytes: pageLimit &* UInt64(ObjectSpace.pageSize))
        }
        self.pageLimit = pageLimit
        self.base = base
        let first = try Self.reserve(bytes: Int(pageLimit), pages: pageLimit)
        let second: UnsafeMutableRawPointer
        do { second = try Self.reserve(bytes: Int(pageLimit), pages: pageLimit) } catch {
            munmap(first, Int(pageLimit))
            throw error
        }
        let slotMap: UnsafeMutableRawPointer
        do { slotMap = try Self.reserve(bytes: Int(pageLimit) * 4, pages: pageLimit) } catch {
            munmap(first, Int(pageLimit))
            munmap(second, Int(pageLimit))
            throw error
        }
        maps = (first.bindMemory(to: UInt8.self, capacity: Int(pageLimit)),
                second.bindMemory(to: UInt8.self, capacity: Int(pageLimit)))
        slots = slotMap.bindMemory(to: UInt32.self, capacity: Int(pageLimit))
        currentMap = Atomic(UInt(bitPattern: maps.0))
    }

    private static func reserve(bytes: Int, pages: UInt64) throws(SpaceError) -> UnsafeMutableRawPointer {
        let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let raw, raw != MAP_FAILED else { throw .dirtyMapFailed(pages: pages, errno: errno) }
        return raw
    }

    deinit {
        munmap(maps.0, Int(pageLimit))
        munmap(maps.1, Int(pageLimit))
        munmap(slots, Int(pageLimit) * 4)
    }

    /// The current epoch's flags. A copy-on-write cut replaces it (while every
    /// mutator is parked): a cached copy is good only until the next safepoint.
    @inlinable
    public var flags: UnsafeMutablePointer<UInt8> {
        UnsafeMutablePointer(bitPattern: currentMap.load(ordering: .relaxed)).unsafelyUnwrapped
    }

    /// The map that is not current: during a copy-on-write capture, its pages still to copy.
    var captureMap: UnsafeMutablePointer<UInt8> { flags == maps.0 ? maps.1 : maps.0 }

    /// Unchecked: `page` must be below `pageLimit` (callers went through
    /// `ObjectSpace`'s bounds checks). Not public: a page beyond the map would
    /// be a write outside it; `ObjectSpace.markDirty` is the checked entry point.
    /// Called *before* the page is written: the slow path may first have to
    /// copy the page's contents at the last cut.
    @inlinable @inline(__always)
    func mark(page: UInt64) {
        if flags[Int(page)] == 0 { markSlow(page: page) }
    }

    @usableFromInline
    func markSlow(page: UInt64) {
        // Before the page may change: the capture in flight gets it as it was at the cut.
        settle(page: page)
        lock.lock()
        let flags = self.flags
        if flags[Int(page)] == 0 {
            flags[Int(page)] = 1
            slots[Int(page)] = UInt32(truncatingIfNeeded: list.count)
            list.append(page)
            if page > highestPage || !anyPage { highestPage = page; anyPage = true }
        }
        lock.unlock()
    }

    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return list.count
    }

    /// Stop-and-copy capture: hands over the dirty list and clears every bit of
    /// the current map (O(dirty pages)). Only while the world is stopped.
    func takeAll() -> [UInt64] {
        lock.lock(); defer { lock.unlock() }
        let pages = list
        let flags = self.flags
        for page in pages { flags[Int(page)] = 0 }
        list.removeAll(keepingCapacity: true)
        return pages
    }

    /// Gets an empty list with room for about as many pages as this epoch has,
    /// so that the cut does not allocate. Outside the pause.
    func prepareNextEpoch() {
        let wanted = count + count / 4 + 64
        if spareCapacity >= wanted { return }
        var fresh: [UInt64] = []
        fresh.reserveCapacity(wanted)
        lock.lock()
        spare = fresh
        lock.unlock()
    }

    private var spareCapacity: Int {
        lock.lock(); defer { lock.unlock() }
        return spare.capacity
    }

    /// Copy-on-write cut: hands over this epoch's dirty list, in slot order,
    /// and starts a new epoch by swapping the maps — O(1), whatever the dirty
    /// set. From here on a page of the list is copied into `buffer` at its
    /// slot by the writer (`copyPending`) or by the first mutator to mark it
    /// (`settle`). Only while the world is stopped, and only once the previous
    /// capture has copied everything (its map is then all clear).
    func beginCopyOnWrite(into buffer: UnsafeMutableRawPointer) -> [UInt64] {
        lock.lock(); defer { lock.unlock() }
        var pages = spare
        swap(&pages, &list)
        spare = []
        captureBuffer.store(UInt(bitPattern: buffer), ordering: .relaxed)
        currentMap.store(UInt(bitPattern: captureMap), ordering: .relaxed)
        captureInFlight.store(!pages.isEmpty, ordering: .releasing)
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
