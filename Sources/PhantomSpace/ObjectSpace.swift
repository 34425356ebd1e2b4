import Foundation
import PhantomStore
import Synchronization

/// The object space: one page-granular, persistent address space in RAM that
/// engines keep all their state in — objects, linear memories, stacks, program
/// counters — addressed by offsets (DESIGN.md invariant 2).
///
/// Opening it restores the newest intact generation of the image; writes go
/// through the accessors here, which mark pages dirty; `snapshot()` commits a
/// consistent cut taken at a global safepoint. Offsets are bounds-checked
/// against the space limit; an engine's own bounds checks (a Wasm memory's
/// size) come on top.
public final class ObjectSpace: @unchecked Sendable {
    public struct Options: Sendable {
        /// Largest the space may grow to. Only touched pages cost memory.
        public var limitBytes: UInt64
        /// How snapshots capture dirty pages (changeable later: `captureMode`).
        public var capture: CaptureMode
        /// Pages the copy-on-write region holds at most (default: as many as
        /// the space or the machine's memory). A capture with more dirty pages
        /// falls back to stop-and-copy; tests set it small to reach that path.
        public var captureRegionPages: Int?
        public init(limitBytes: UInt64 = 64 << 30, capture: CaptureMode = .copyOnWrite, captureRegionPages: Int? = nil) {
            self.limitBytes = limitBytes
            self.capture = capture
            self.captureRegionPages = captureRegionPages
        }
    }

    public static let pageSize = Layout.pageSize
    /// The largest limit worth trying: 2^57 bytes, the user address space of
    /// 64-bit Linux with 5-level page tables. Beyond it (and for rounding up to
    /// a page not to overflow) a limit is refused before any `mmap`.
    public static let maximumLimitBytes: UInt64 = 1 << 57

    /// Host address of offset 0. Valid for this process only: never store it.
    public let base: UnsafeMutableRawPointer
    public let limitBytes: UInt64
    public let dirty: DirtyTracker
    public let safepoints = SafepointCoordinator()
    public let store: Store
    /// What restoring had to work around (damaged generations skipped).
    public private(set) var warnings: [String] = []
    /// The generation the space was restored from.
    public let restoredGeneration: GenerationRecord
    /// Time spent restoring, for `phantom` to report and the benchmarks.
    public let restoreNanoseconds: UInt64

    private let memory: AddressSpace
    let allocationLock = NSLock()
    /// Created with the space, before it is shared with any thread.
    let snapshotter: Snapshotter

    /// Restores the current generation of `store`, falling back to older
    /// retained generations (with a warning) if its pages fail their checksums.
    public init(store: Store, options: Options = Options()) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        self.store = store
        guard options.limitBytes > 0, options.limitBytes <= Self.maximumLimitBytes else {
            throw SpaceError.invalidLimit(bytes: options.limitBytes)
        }
        limitBytes = (options.limitBytes + 4095) & ~4095
        memory = try AddressSpace(byteCount: limitBytes)
        base = memory.base
        dirty = try DirtyTracker(pageLimit: limitBytes / 4096, base: memory.base)
        warnings = store.warnings

        var reasons: [String] = []
        var restored: GenerationRecord?
        let candidates = [store.current.generation] + store.retained.map(\.generation).filter { $0 < store.current.generation }
        for generation in candidates {
            do {
                if generation != store.current.generation { try store.select(generation: generation) }
                guard store.pageCount * 4096 <= limitBytes else {
                    throw SpaceError.imageLargerThanLimit(pages: store.pageCount, limitBytes: limitBytes)
                }
                memory.discard(offset: 0, byteCount: limitBytes)
                memory.preferHugePages(byteCount: store.pageCount * 4096)
                try store.restoreAllPages(into: memory.base)
                restored = store.current
                break
            } catch let error as SpaceError {
                throw error
            } catch {
                reasons.append("generation \(generation): \(error)")
                warnings.append("generation \(generation) could not be restored (\(error)); trying an older one")
            }
        }
        guard let restored else { throw SpaceError.noRestorableGeneration(reasons: reasons) }
        restoredGeneration = restored
        pageCountFloor = restored.pageCount
        snapshotter = Snapshotter(store: store, dirty: dirty, safepoints: safepoints,
                                  base: base, pageCountFloor: restored.pageCount, mode: options.capture,
                                  regionPages: options.captureRegionPages)
        restoreNanoseconds = DispatchTime.now().uptimeNanoseconds - start
        if restored.pageCount == 0 { formatHeader() } else { try checkHeader() }
    }

    /// The writer thread finishes its commit and lets go of the store before
    /// the store itself is released, so the image is closed — and its lock
    /// released — when the last reference to the space goes.
    deinit { snapshotter.shutDown() }

    /// Pages the space spans; grows as pages are written.
    public var pageCount: UInt64 { dirty.pageCount(atLeast: pageCountFloor) }
    private let pageCountFloor: UInt64

    // MARK: - Access

    @inlinable @inline(__always)
    func checkBounds(_ offset: UInt64, _ count: Int) {
        precondition(offset <= limitBytes && UInt64(count) <= limitBytes - offset,
                     "object-space access at \(offset) + \(count) is beyond the limit \(limitBytes)")
    }

    /// Whether `[offset, offset + count)` lies inside the space, without
    /// trapping on overflow: for checking offsets read from the space itself
    /// (a restored record) before using them.
    @inlinable
    public func contains(_ offset: UInt64, count: UInt64) -> Bool {
        offset <= limitBytes && count <= limitBytes - offset
    }

    /// Whether `[offset, offset + count)` lies in what the allocator has handed
    /// out: past the header page and below its bump pointer. A record read back
    /// from an image must point there — into the header it could rewrite the
    /// allocator's free lists, beyond the bump it names nothing ever written.
    public func isAllocated(_ offset: UInt64, count: UInt64) -> Bool {
        let end = min(load(UInt64.self, at: SpaceHeader.bumpOffset), limitBytes)
        return offset >= UInt64(Self.pageSize) && offset <= end && count <= end - offset
    }

    /// Marks the pages under `[offset, offset + count)` as written — before
    /// writing them: with a copy-on-write capture in flight, marking is what
    /// saves a page's contents at the cut before they change. Checked: a range
    /// outside the space is refused, since its pages have no dirty flags
    /// (marking one would write past the tracker's map).
    public func markDirty(_ offset: UInt64, count: Int) throws(SpaceError) {
        guard count >= 0, contains(offset, count: UInt64(count)) else {
            throw .outOfBounds(offset: offset, count: count, limit: limitBytes)
        }
        markDirtyUnchecked(offset, count: count)
    }

    /// `markDirty` without the bounds check, for this module's accessors and the
    /// engines' hot paths, which have checked the range already (a Wasm store
    /// against its memory's validated size). Package-only: from outside, a
    /// wrong offset would corrupt memory instead of failing.
    @inlinable @inline(__always)
    package func markDirtyUnchecked(_ offset: UInt64, count: Int) {
        guard count > 0 else { return }
        var page = offset >> 12
        let last = (offset + UInt64(count) - 1) >> 12
        while page <= last {
            dirty.mark(page: page)
            page += 1
        }
    }

    @inlinable @inline(__always)
    public func load<T: FixedWidthInteger>(_: T.Type, at offset: UInt64) -> T {
        checkBounds(offset, MemoryLayout<T>.size)
        return T(littleEndian: base.loadUnaligned(fromByteOffset: Int(offset), as: T.self))
    }

    // Every writer below marks first and writes second: marking may copy the
    // page's contents at the last cut for the capture in flight.

    @inlinable @inline(__always)
    public func store<T: FixedWidthInteger>(_ value: T, at offset: UInt64) {
        checkBounds(offset, MemoryLayout<T>.size)
        markDirtyUnchecked(offset, count: MemoryLayout<T>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: Int(offset), as: T.self)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) {
        checkBounds(offset, bytes.count)
        guard let source = bytes.baseAddress else { return }
        markDirtyUnchecked(offset, count: bytes.count)
        (base + Int(offset)).copyMemory(from: source, byteCount: bytes.count)
    }

    public func write(_ bytes: [UInt8], at offset: UInt64) {
        bytes.withUnsafeBytes { write($0, at: offset) }
    }

    public func read(at offset: UInt64, count: Int) -> [UInt8] {
        checkBounds(offset, count)
        return Array(UnsafeRawBufferPointer(start: base + Int(offset), count: count))
    }

    public func fill(at offset: UInt64, count: Int, with byte: UInt8) {
        checkBounds(offset, count)
        markDirtyUnchecked(offset, count: count)
        (base + Int(offset)).initializeMemory(as: UInt8.self, repeating: byte, count: count)
    }

    /// Throws away the contents of `[offset, offset + count)`: afterwards it
    /// reads as zeros, its whole pages go back to the kernel at once, and the
    /// next snapshot drops them from the image (their blocks are freed once
    /// no retained generation needs them). Partial pages at the ends are
    /// zeroed like any write. For freed objects and released memory — much
    /// cheaper than writing zeros, which would dirty and store every page.
    public func discard(_ offset: UInt64, count: Int) {
        checkBounds(offset, count)
        let end = offset + UInt64(count)
        let firstWhole = (offset + 4095) / 4096
        let endWhole = end / 4096
        guard firstWhole < endWhole else {
            fill(at: offset, count: count, with: 0)
            return
        }
        if offset < firstWhole * 4096 { fill(at: offset, count: Int(firstWhole * 4096 - offset), with: 0) }
        if endWhole * 4096 < end { fill(at: endWhole * 4096, count: Int(end - endWhole * 4096), with: 0) }
        // A page the capture in flight still needs is copied before it goes.
        dirty.settle(pages: firstWhole..<endWhole)
        memory.discard(offset: firstWhole * 4096, byteCount: (endWhole - firstWhole) * 4096)
        dirty.recordDiscarded(firstWhole..<endWhole)
    }

    /// Direct access for engine hot loops. The space never moves within a
    /// process (`base` is fixed until the space is released), so the pointer
    /// stays valid that long; it must never be stored *in* the space
    /// (invariant 2). The caller either marks a page (`markDirty`) before it
    /// writes it, or — for a region it writes store by store without marking,
    /// such as an interpreter's stack — calls `prepareUncheckedWrites` for the
    /// region after every safepoint at which it may have parked, and marks
    /// what it wrote before its next safepoint: a snapshot captures only pages
    /// marked by then, and a copy-on-write capture needs each page it holds
    /// saved before it changes.
    @inlinable
    public func unsafePointer(at offset: UInt64, count: Int) -> UnsafeMutableRawPointer {
        checkBounds(offset, count)
        return base + Int(offset)
    }

    /// Saves for the copy-on-write capture in flight, if any, every page of
    /// `[offset, offset + count)` it still has to copy, so that the caller may
    /// then write the range without marking each store (see `unsafePointer`),
    /// until it next parks at a safepoint. Nothing to do (one atomic load)
    /// when no capture is in flight. A range beyond the space is clipped.
    public func prepareUncheckedWrites(_ offset: UInt64, count: Int) {
        guard count > 0, offset < limitBytes else { return }
        let end = min(limitBytes, offset &+ UInt64(count) < offset ? limitBytes : offset + UInt64(count))
        dirty.settle(pages: (offset >> 12)..<((end + 4095) >> 12))
    }

    // MARK: - Snapshots

    /// How the next snapshots capture their pages. Changing it takes effect at
    /// the next snapshot (one in flight finishes as it started).
    public var captureMode: CaptureMode {
        get { snapshotter.mode.withLock { $0 } }
        set { snapshotter.mode.withLock { $0 = newValue } }
    }

    /// For tests: called on the writer thread at each step of a copy-on-write capture.
    func setCaptureHook(_ hook: (@Sendable (CaptureEvent) -> Void)?) {
        snapshotter.captureHook.withLock { $0 = hook }
    }

    /// Takes a snapshot: stops the world at a safepoint, captures the dirty
    /// pages, resumes, and commits them in the background. Returns when the
    /// generation is durable. Must not be called from a registered mutator.
    /// Safe from any number of threads at once: snapshots start one at a
    /// time, in the order they were asked for.
    @discardableResult
    public func snapshot(whileStopped: (() -> Void)? = nil) throws -> SnapshotResult {
        try snapshotter.snapshot(whileStopped: whileStopped)
    }

    /// Starts a snapshot and returns after the capture (the pause); the commit
    /// completes on the writer thread, which then calls `completion` (exactly
    /// once, success or failure). Concurrent callers are queued in order;
    /// each first waits for the commit before it.
    public func snapshotInBackground(whileStopped: (() -> Void)? = nil,
                                     completion: @escaping @Sendable (Result<SnapshotResult, Error>) -> Void) {
        snapshotter.snapshotInBackground(whileStopped: whileStopped, completion: completion)
    }

    /// Waits for a background commit in flight.
    public func waitForCommits() { snapshotter.waitUntilIdle() }
}
