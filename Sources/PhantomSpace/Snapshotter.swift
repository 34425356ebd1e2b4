import Foundation
import PhantomStore
import Synchronization

/// How a snapshot captures the pages dirty at its cut.
public enum CaptureMode: Sendable, Equatable {
    /// The world stops only to swap the dirty maps (O(1), whatever the dirty
    /// set); the pages are copied after it resumed, each by the writer or by
    /// the first mutator about to change it (DESIGN.md invariant 4). The default.
    case copyOnWrite
    /// The world stays stopped while every dirty page is copied (~0.28 µs a
    /// page): the capture before copy-on-write, kept to measure against it
    /// (`phantom bench pause`) and as the fallback for a capture larger than
    /// the copy-on-write region.
    case stopAndCopy
}

/// What one snapshot did and how long each part took.
public struct SnapshotResult: Sendable {
    public var generation: GenerationRecord
    /// Pages captured.
    public var pages: Int
    /// How the pages were captured.
    public var mode: CaptureMode
    /// How long the world was stopped (safepoint + capture), in nanoseconds.
    public var pauseNanoseconds: UInt64
    /// Of which the capture: the copy of the dirty pages (stop-and-copy) or
    /// the swap of the dirty maps (copy-on-write).
    public var captureNanoseconds: UInt64
    /// Copy-on-write: the writer's copying after the world resumed (0 for stop-and-copy).
    public var copyNanoseconds: UInt64
    /// Copy-on-write: pages a mutator copied itself, having reached them before the writer.
    public var pagesCopiedByMutators: Int
    /// Writing and committing, done while programs ran.
    public var commitNanoseconds: UInt64
}

/// Points of a copy-on-write capture at which tests hold or observe the writer.
enum CaptureEvent: Sendable {
    /// The world has resumed; nothing is copied yet.
    case willCopy(pages: Int)
    /// The page of `slot` is in the buffer (copied by the writer or a mutator).
    case copied(slot: Int)
    /// Every page is in the buffer; the commit starts next.
    case didCopy
}

/// The snapshot protocol of DESIGN.md: safepoint → capture → background write
/// → commit. At most one commit is in flight; a new snapshot first waits for
/// it, so a failed commit can return its pages to the dirty set before
/// anything newer is captured (otherwise the next generation would silently
/// miss them). A snapshot due while the previous one is still being copied or
/// written therefore waits for it — before it stops the world, so programs
/// run meanwhile — and then captures everything dirtied since that cut: the
/// pause does not grow, the interval does.
///
/// Copy-on-write (the default): the pause swaps the dirty maps and resumes;
/// the writer copies the pages dirty at the cut into the capture region
/// (a mutator about to change one copies it first), then commits from there.
/// Memory a snapshot in flight holds: one page per page dirty at its cut (the
/// capture region; once committed, trimmed to the size of that capture, at
/// least 64 MiB), its page list (8 bytes a page). Stop-and-copy keeps the old behaviour: the world stays stopped
/// while the pages are copied into a reused buffer.
///
/// One snapshot is *started* at a time: callers on many threads pass through
/// `entry` one by one, in the order they arrived. Unserialised, two captures
/// would each take part of the dirty set and race for the writer's single job
/// slot — one job, its pages and its completion silently lost — and use one
/// capture buffer twice. Every completion is called exactly once.
///
/// Created eagerly with its space (a `lazy var` would be created by whichever
/// thread came first, unsynchronised).
final class Snapshotter: Sendable {
    private let dirty: DirtyTracker
    private let safepoints: SafepointCoordinator
    /// The space's base address, fixed for its life (only ever read through here).
    nonisolated(unsafe) private let base: UnsafeMutableRawPointer
    private let pageCountFloor: UInt64
    private let queue: CommitQueue
    /// Stop-and-copy's buffer, reused so the pause never waits for fresh
    /// memory; the previous commit, the only other reader, is waited for first.
    private let buffer = CaptureBuffer()
    /// Copy-on-write's region, reserved at the first such snapshot.
    private let region = Mutex<CaptureRegion?>(nil)
    private let regionCapacity: Int
    let mode: Mutex<CaptureMode>
    /// For tests: called by the writer at each `CaptureEvent`.
    let captureHook = Mutex<(@Sendable (CaptureEvent) -> Void)?>(nil)
    private let entry = FIFOGate()

    init(store: Store, dirty: DirtyTracker, safepoints: SafepointCoordinator,
         base: UnsafeMutableRawPointer, pageCountFloor: UInt64, mode: CaptureMode, regionPages: Int? = nil) {
        self.dirty = dirty
        self.safepoints = safepoints
        self.base = base
        self.pageCountFloor = pageCountFloor
        self.mode = Mutex(mode)
        // Pages dirty at a cut were all written, so they fit in memory: the
        // region need not be larger than the machine's, nor than the space.
        let memoryPages = Int(clamping: ProcessInfo.processInfo.physicalMemory / UInt64(ObjectSpace.pageSize))
        regionCapacity = max(1, regionPages ?? min(Int(clamping: dirty.pageLimit), memoryPages))
        queue = CommitQueue(store: store, dirty: dirty)
    }

    deinit { queue.shutDown() }

    /// Finishes the commit in flight and stops the writer thread; see `CommitQueue.shutDown`.
    func shutDown() { queue.shutDown() }

    func snapshot(whileStopped: (() -> Void)?) throws -> SnapshotResult {
        let outcome = Outcome()
        snapshotInBackground(whileStopped: whileStopped) { result in outcome.set(result) }
        return try outcome.wait().get()
    }

    /// The region, reserved on first use; nil if the address space refuses it
    /// (then every snapshot stops and copies).
    private func copyOnWriteRegion() -> CaptureRegion? {
        region.withLock { region in
            if region == nil { region = CaptureRegion(capacityPages: regionCapacity) }
            return region
        }
    }

    func snapshotInBackground(whileStopped: (() -> Void)?,
                              completion: @escaping @Sendable (Result<SnapshotResult, Error>) -> Void) {
        entry.enter()
        defer { entry.leave() }
        queue.waitUntilIdle()
        let region = mode.withLock { $0 } == .copyOnWrite ? copyOnWriteRegion() : nil
        // Get ready outside the pause; pages dirtied meanwhile may still grow it inside.
        if region != nil {
            dirty.prepareNextEpoch()
        } else {
            buffer.reserve(pages: dirty.count + 64)
        }

        let pauseStart = DispatchTime.now().uptimeNanoseconds
        safepoints.stopTheWorld()
        whileStopped?()
        let captureStart = DispatchTime.now().uptimeNanoseconds
        let pages: [UInt64]
        let source: CommitQueue.Source
        if let region, dirty.count <= region.capacityPages {
            pages = dirty.beginCopyOnWrite(into: region.memory)
            source = .copyOnWrite(region)
        } else {
            pages = dirty.takeAll()
            buffer.reserve(pages: pages.count)
            for (index, page) in pages.enumerated() {
                (buffer.memory + index * ObjectSpace.pageSize)
                    .copyMemory(from: base + Int(page) * ObjectSpace.pageSize, byteCount: ObjectSpace.pageSize)
            }
            source = .copied(buffer)
        }
        let discarded = dirty.takeDiscarded()
        let pageCount = dirty.pageCount(atLeast: pageCountFloor)
        let captureEnd = DispatchTime.now().uptimeNanoseconds
        safepoints.resumeTheWorld()

        queue.submit(CommitQueue.Job(source: source, pages: pages, discarded: discarded, pageCount: pageCount,
                                     pause: captureEnd - pauseStart, capture: captureEnd - captureStart,
                                     hook: captureHook.withLock { $0 }, completion: completion))
    }

    func waitUntilIdle() { queue.waitUntilIdle() }
}

/// Admits one caller at a time, in arrival order: a queue of waiters under a
/// `Mutex`, each woken by its own semaphore when the one before it leaves (a
/// plain lock promises no order, and a later snapshot request overtaking an
/// earlier one would make "the snapshot I asked for" ambiguous).
final class FIFOGate: Sendable {
    private struct State: ~Copyable {
        var occupied = false
        var waiters: [DispatchSemaphore] = []
    }
    private let state = Mutex(State())

    func enter() {
        let turn: DispatchSemaphore? = state.withLock { state in
            guard state.occupied else {
                state.occupied = true
                return nil
            }
            let semaphore = DispatchSemaphore(value: 0)
            state.waiters.append(semaphore)
            return semaphore
        }
        turn?.wait()   // woken by `leave`, which hands the gate over still occupied
    }

    /// Callers waiting to enter (for tests).
    var waiting: Int { state.withLock { $0.waiters.count } }

    func leave() {
        let next: DispatchSemaphore? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.occupied = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.signal()
    }
}

/// The result of one snapshot, handed from the writer thread to the waiting caller.
private final class Outcome: Sendable {
    private let result = Mutex<Result<SnapshotResult, Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)
    func set(_ value: Result<SnapshotResult, Error>) {
        result.withLock { $0 = value }
        done.signal()
    }
    func wait() -> Result<SnapshotResult, Error> {
        done.wait()
        return result.withLock { $0! }
    }
}

/// The background writer: one thread that commits captured pages to the
/// store while programs run (protocol steps 4–5).
///
/// `@unchecked Sendable`: every mutable property is read and written only
/// with `condition` locked (the writer thread and `Snapshotter`, which submits
/// one job at a time through its `FIFOGate`); `store` is used only by the
/// writer thread, one commit at a time.
final class CommitQueue: @unchecked Sendable {
    /// Where a job's pages are.
    enum Source {
        /// Copied during the pause, page `pages[i]` at index i.
        case copied(CaptureBuffer)
        /// Still to be copied into the region (`DirtyTracker.copyPending`).
        case copyOnWrite(CaptureRegion)
    }

    struct Job {
        var source: Source
        var pages: [UInt64]
        var discarded: [Range<UInt64>]
        var pageCount: UInt64
        var pause: UInt64
        var capture: UInt64
        var hook: (@Sendable (CaptureEvent) -> Void)?
        var completion: @Sendable (Result<SnapshotResult, Error>) -> Void
    }

    /// Dropped by `shutDown`, so that once the space is gone nothing here
    /// keeps the store — and with it the image's descriptor and lock — open.
    private var store: Store?
    private let dirty: DirtyTracker
    private let condition = NSCondition()
    private var pending: Job?
    private var busy = false
    private var stopping = false
    private var started = false
    private var running = false
    /// The writer thread, once running (to recognise a shutdown from a completion).
    private var writer: pthread_t?

    init(store: Store, dirty: DirtyTracker) {
        self.store = store
        self.dirty = dirty
    }

    func submit(_ job: Job) {
        condition.lock()
        busy = true
        pending = job
        if !started {
            started = true
            running = true
            // Weak: once `run` returns, the thread holds nothing of ours.
            let thread = Thread { [weak self] in self?.run() }
            thread.name = "phantom-snapshot-writer"
            thread.start()
        }
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilIdle() {
        condition.lock()
        while busy { condition.wait() }
        condition.unlock()
    }

    /// Stops the writer after the commit in flight (if any) and waits for it
    /// to finish, then lets go of the store. Called when the space goes away,
    /// so that its image is closed — and unlocked — by then, not some time later.
    func shutDown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        // A completion may drop the last reference to the space, on the writer
        // thread itself: then there is no commit in flight to wait for, and
        // waiting for the thread to end would wait for ourselves.
        let onWriter = writer.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        while running && !onWriter { condition.wait() }
        store = nil
        condition.unlock()
    }

    private func run() {
        condition.lock()
        writer = pthread_self()
        condition.unlock()
        while true {
            condition.lock()
            while pending == nil && !stopping { condition.wait() }
            guard let job = pending, let store else {
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            pending = nil
            condition.unlock()

            let result = commit(job, to: store)
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
            job.completion(result)
        }
    }

    private func commit(_ job: Job, to store: Store) -> Result<SnapshotResult, Error> {
        var copyTime: UInt64 = 0
        var mutatorCopies = 0
        let memory: UnsafeMutableRawPointer
        let mode: CaptureMode
        switch job.source {
        case let .copied(buffer):
            memory = buffer.memory
            mode = .stopAndCopy
        case let .copyOnWrite(region):
            let start = DispatchTime.now().uptimeNanoseconds
            job.hook?(.willCopy(pages: job.pages.count))
            var afterPage: ((Int) -> Void)?
            if let hook = job.hook { afterPage = { hook(.copied(slot: $0)) } }
            dirty.copyPending(job.pages, afterPage: afterPage)
            mutatorCopies = dirty.takeMutatorCopies()
            region.used(pages: job.pages.count)
            job.hook?(.didCopy)
            copyTime = DispatchTime.now().uptimeNanoseconds - start
            memory = region.memory
            mode = .copyOnWrite
        }
        defer { if case let .copyOnWrite(region) = job.source { region.trim() } }
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let record = try store.commit(
                pageNumbers: job.pages,
                pages: UnsafeRawBufferPointer(start: memory, count: job.pages.count * ObjectSpace.pageSize),
                pageCount: job.pageCount, discarding: job.discarded)
            return .success(SnapshotResult(generation: record, pages: job.pages.count, mode: mode,
                                           pauseNanoseconds: job.pause, captureNanoseconds: job.capture,
                                           copyNanoseconds: copyTime, pagesCopiedByMutators: mutatorCopies,
                                           commitNanoseconds: DispatchTime.now().uptimeNanoseconds - start))
        } catch {
            dirty.remark(job.pages)
            dirty.recordDiscarded(contentsOf: job.discarded)
            return .failure(SpaceError.snapshotFailed(underlying: error))
        }
    }
}

/// Page-aligned memory for captured pages, grown (and pre-faulted) as needed
/// so that copying into it during the pause never page-faults after warm-up.
///
/// Used by stop-and-copy captures.
///
/// `@unchecked Sendable`: it is written only by the snapshot holding the
/// `FIFOGate`, and read by the writer thread only for the job it was
/// submitted with; the next snapshot that reuses it first waits until that
/// commit is done (`CommitQueue.waitUntilIdle`).
final class CaptureBuffer: @unchecked Sendable {
    private(set) var memory: UnsafeMutableRawPointer
    private var capacityPages: Int

    init(pages: Int = 256) {
        capacityPages = pages
        memory = UnsafeMutableRawPointer.allocate(byteCount: pages * ObjectSpace.pageSize, alignment: 4096)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: pages * ObjectSpace.pageSize)
    }

    func reserve(pages: Int) {
        guard pages > capacityPages else { return }
        memory.deallocate()
        capacityPages = max(pages, capacityPages * 2)
        memory = UnsafeMutableRawPointer.allocate(byteCount: capacityPages * ObjectSpace.pageSize, alignment: 4096)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: capacityPages * ObjectSpace.pageSize)
    }

    deinit { memory.deallocate() }
}
