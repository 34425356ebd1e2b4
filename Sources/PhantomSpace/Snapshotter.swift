import Foundation
import PhantomStore
import Synchronization

/// What one snapshot did and how long each part took.
public struct SnapshotResult: Sendable {
    public var generation: GenerationRecord
    /// Pages captured.
    public var pages: Int
    /// How long the world was stopped (safepoint + capture), in nanoseconds.
    public var pauseNanoseconds: UInt64
    /// Of which the copy of the dirty pages.
    public var captureNanoseconds: UInt64
    /// Writing and committing, done while programs ran.
    public var commitNanoseconds: UInt64
}

/// The snapshot protocol of DESIGN.md: safepoint → capture → background write
/// → commit. At most one commit is in flight; a new snapshot first waits for
/// it, so a failed commit can return its pages to the dirty set before
/// anything newer is captured (otherwise the next generation would silently
/// miss them).
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
    /// Two capture buffers, reused so the pause never waits for fresh memory.
    /// Buffer `i` is used by every other snapshot; the previous commit, which
    /// may still be reading the other, is waited for before capturing.
    private let buffers: [CaptureBuffer] = [CaptureBuffer(), CaptureBuffer()]
    private let nextBuffer = Mutex<Int>(0)
    private let entry = FIFOGate()

    init(store: Store, dirty: DirtyTracker, safepoints: SafepointCoordinator,
         base: UnsafeMutableRawPointer, pageCountFloor: UInt64) {
        self.dirty = dirty
        self.safepoints = safepoints
        self.base = base
        self.pageCountFloor = pageCountFloor
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

    func snapshotInBackground(whileStopped: (() -> Void)?,
                              completion: @escaping @Sendable (Result<SnapshotResult, Error>) -> Void) {
        entry.enter()
        defer { entry.leave() }
        queue.waitUntilIdle()
        let buffer = nextBuffer.withLock { next in
            defer { next = (next + 1) % 2 }
            return buffers[next]
        }
        // Grow outside the pause; pages dirtied meanwhile may still grow it inside.
        buffer.reserve(pages: dirty.count + 64)

        let pauseStart = DispatchTime.now().uptimeNanoseconds
        safepoints.stopTheWorld()
        whileStopped?()
        let captureStart = DispatchTime.now().uptimeNanoseconds
        let pages = dirty.takeAll()
        let discarded = dirty.takeDiscarded()
        buffer.reserve(pages: pages.count)
        for (index, page) in pages.enumerated() {
            (buffer.memory + index * ObjectSpace.pageSize)
                .copyMemory(from: base + Int(page) * ObjectSpace.pageSize, byteCount: ObjectSpace.pageSize)
        }
        let pageCount = dirty.pageCount(atLeast: pageCountFloor)
        let captureEnd = DispatchTime.now().uptimeNanoseconds
        safepoints.resumeTheWorld()

        queue.submit(CommitQueue.Job(buffer: buffer, pages: pages, discarded: discarded, pageCount: pageCount,
                                     pause: captureEnd - pauseStart, capture: captureEnd - captureStart,
                                     completion: completion))
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
    struct Job {
        var buffer: CaptureBuffer
        var pages: [UInt64]
        var discarded: [Range<UInt64>]
        var pageCount: UInt64
        var pause: UInt64
        var capture: UInt64
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
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let record = try store.commit(
                pageNumbers: job.pages,
                pages: UnsafeRawBufferPointer(start: job.buffer.memory, count: job.pages.count * ObjectSpace.pageSize),
                pageCount: job.pageCount, discarding: job.discarded)
            return .success(SnapshotResult(generation: record, pages: job.pages.count,
                                           pauseNanoseconds: job.pause, captureNanoseconds: job.capture,
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
