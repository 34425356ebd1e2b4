import Foundation
import PhantomStore

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
final class Snapshotter: @unchecked Sendable {
    private unowned let space: ObjectSpace
    private let queue: CommitQueue
    /// Two capture buffers, reused so the pause never waits for fresh memory.
    private let buffers: [CaptureBuffer] = [CaptureBuffer(), CaptureBuffer()]
    private var nextBuffer = 0

    init(space: ObjectSpace) {
        self.space = space
        queue = CommitQueue(store: space.store, dirty: space.dirty)
    }

    deinit { queue.shutDown() }

    func snapshot(whileStopped: (() -> Void)?) throws -> SnapshotResult {
        let done = NSCondition()
        nonisolated(unsafe) var outcome: Result<SnapshotResult, Error>?
        snapshotInBackground(whileStopped: whileStopped) { result in
            done.lock(); outcome = result; done.signal(); done.unlock()
        }
        done.lock()
        while outcome == nil { done.wait() }
        done.unlock()
        return try outcome!.get()
    }

    func snapshotInBackground(whileStopped: (() -> Void)?,
                              completion: @escaping @Sendable (Result<SnapshotResult, Error>) -> Void) {
        queue.waitUntilIdle()
        let buffer = buffers[nextBuffer]
        nextBuffer = (nextBuffer + 1) % buffers.count
        // Grow outside the pause; pages dirtied meanwhile may still grow it inside.
        buffer.reserve(pages: space.dirty.count + 64)

        let pauseStart = DispatchTime.now().uptimeNanoseconds
        space.safepoints.stopTheWorld()
        whileStopped?()
        let captureStart = DispatchTime.now().uptimeNanoseconds
        let pages = space.dirty.takeAll()
        let discarded = space.dirty.takeDiscarded()
        buffer.reserve(pages: pages.count)
        let base = space.base
        for (index, page) in pages.enumerated() {
            (buffer.memory + index * ObjectSpace.pageSize)
                .copyMemory(from: base + Int(page) * ObjectSpace.pageSize, byteCount: ObjectSpace.pageSize)
        }
        let pageCount = space.pageCount
        let captureEnd = DispatchTime.now().uptimeNanoseconds
        space.safepoints.resumeTheWorld()

        queue.submit(CommitQueue.Job(buffer: buffer, pages: pages, discarded: discarded, pageCount: pageCount,
                                     pause: captureEnd - pauseStart, capture: captureEnd - captureStart,
                                     completion: completion))
    }

    func waitUntilIdle() { queue.waitUntilIdle() }
}

/// The background writer: one thread that commits captured pages to the
/// store while programs run (protocol steps 4–5).
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

    private let store: Store
    private let dirty: DirtyTracker
    private let condition = NSCondition()
    private var pending: Job?
    private var busy = false
    private var stopping = false
    private var started = false

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
            let thread = Thread { [self] in run() }
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

    func shutDown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending == nil && !stopping { condition.wait() }
            guard let job = pending else { condition.unlock(); return }
            pending = nil
            condition.unlock()

            let start = DispatchTime.now().uptimeNanoseconds
            let result: Result<SnapshotResult, Error>
            do {
                let record = try store.commit(
                    pageNumbers: job.pages,
                    pages: UnsafeRawBufferPointer(start: job.buffer.memory, count: job.pages.count * ObjectSpace.pageSize),
                    pageCount: job.pageCount, discarding: job.discarded)
                result = .success(SnapshotResult(generation: record, pages: job.pages.count,
                                                 pauseNanoseconds: job.pause, captureNanoseconds: job.capture,
                                                 commitNanoseconds: DispatchTime.now().uptimeNanoseconds - start))
            } catch {
                dirty.remark(job.pages)
                dirty.recordDiscarded(contentsOf: job.discarded)
                result = .failure(SpaceError.snapshotFailed(underlying: error))
            }
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
            job.completion(result)
        }
    }
}

/// Page-aligned memory for captured pages, grown (and pre-faulted) as needed
/// so that copying into it during the pause never page-faults after warm-up.
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
