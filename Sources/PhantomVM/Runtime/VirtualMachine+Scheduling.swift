/// Runs the threads of the thread list in turn, each for a slice of fuel
/// (Phantom's VM gives each thread an OS thread; ours share the caller's, so
/// that between two rounds every thread is stopped at an instruction
/// boundary with its registers written back — a consistent cut for a snapshot).
extension VirtualMachine {
    /// What a round found.
    public enum RoundResult: Equatable, Sendable {
        /// Some thread ran; call again.
        case ran
        /// Nothing can run before this wall-clock time (sleeping threads).
        case idle(until: UInt64)
        /// Threads remain, all waiting for each other: nothing will wake them.
        case deadlocked
        /// Every thread has ended.
        case finished
    }

    /// Runs each runnable thread once for up to `fuel` instructions. While the
    /// boot thread is unfinished it runs alone.
    public func runRound(fuel: Int = 10_000) throws(VMError) -> RoundResult {
        // A cycle's progress is transient: one cut short by a restart starts
        // over. So that frequent restarts cannot keep garbage forever, a
        // collection that is due when the VM resumes runs whole, before any
        // thread (resuming already costs time in proportion to the image).
        if collectWholeOnResume {
            collectWholeOnResume = false
            if bytesSinceCollection > collectionThreshold || collectionThreshold == 0 { collectGarbage() }
        }
        let bootThread = heap.ref(heap.root, RootLayout.bootThread)
        let candidates = !bootThread.isNull && !isEnded(bootThread) ? [bootThread] : threads
        var ran = false
        var earliestWake = UInt64.max
        var waiting = false
        let now = clock()
        for thread in candidates {
            switch state(of: thread) {
            case .finished, .failed:
                continue
            case .waiting:
                waiting = true
                continue
            case .sleeping:
                let wake = heap.word(thread, ThreadLayout.wakeTime)
                guard now >= wake else { earliestWake = min(earliestWake, wake); continue }
                heap.setWord(thread, ThreadLayout.state, ThreadState.runnable.rawValue)
            case .runnable:
                break
            }
            ran = true
            let end = try interpreter.run(thread, fuel: fuel)
            if case let .failed(message) = end {
                write("Unhandled exception in thread \(heap.word(thread, ThreadLayout.id)): \(message)\n")
            }
        }
        if !bootThread.isNull && isEnded(bootThread) { heap.setRef(heap.root, RootLayout.bootThread, .null) }
        removeEndedThreads()
        collectIncrementally()
        reclaimIfDue()
        collectIfNearTheLimit()
        if ran { return .ran }
        if earliestWake != .max { return .idle(until: earliestWake) }
        return waiting ? .deadlocked : .finished
    }

    private func isEnded(_ thread: ObjectRef) -> Bool {
        let state = state(of: thread)
        return state == .finished || state == .failed
    }

    /// Ended threads leave the thread list (the collector may then free them).
    private func removeEndedThreads() {
        let list = heap.ref(heap.root, RootLayout.threadList)
        let count = heap.arrayCount(list)
        let storage = heap.ref(list, 0)
        var kept = 0
        for index in 0..<count {
            let thread = heap.ref(storage, index)
            if !thread.isNull && !isEnded(thread) {
                if kept != index { heap.setRef(storage, kept, thread) }
                kept += 1
            }
        }
        guard kept != count else { return }
        for index in kept..<count { heap.setRef(storage, index, .null) }
        heap.setWord(list, 1, UInt64(kept))
    }

    /// Near `Heap.byteLimit` (a component's RAM quota), what counting cannot
    /// free is traced at once rather than when `collectionThreshold` says,
    /// so that an allocation fails only when the live objects need the
    /// memory — but not again before an eighth of the limit was allocated,
    /// so that a heap that is simply full does not trace after every round.
    func collectIfNearTheLimit() {
        let limit = heap.byteLimit
        guard limit != .max, heap.liveBytes > limit / 4 * 3, bytesSinceCollection > limit / 8 else { return }
        reclaimUnreferenced()
        collectGarbage()
    }
}
