import Dispatch

/// The tracing collector, incremental: it marks everything reachable from
/// the root object — the internal classes, the class directory, the thread
/// list (and through each thread its frames and their stacks), the restart
/// list and the kernel environment — and frees every object on the list of
/// all objects that was not reached, cycles included (Phantom OS's own cycle
/// collector was never finished). The work is cut into steps of a bounded
/// number of objects, one step between two scheduling rounds, so the VM
/// never stands still for a whole collection.
///
/// Correctness while threads run between steps (snapshot at the beginning):
/// - when a cycle begins, every thread's frames and stacks are scanned at
///   once, so what the stacks held then is marked however they change;
/// - a store into an object reports the reference it overwrites
///   (`Heap.shadeOverwritten`), so what the heap held then is marked too;
/// - objects made during marking are born marked; objects made during the
///   sweep are put before the sweep's position and are not looked at.
///
/// Marks are a transient set, never written to the space: marking dirties no
/// page and grows no snapshot, and a restart in mid-cycle only means the
/// next cycle starts afresh. Weak references to freed objects are cleared.
final class Collector {
    unowned let vm: VirtualMachine
    var heap: Heap { vm.heap }

    private enum Phase { case idle, marking, sweeping(cursor: ObjectRef) }
    private var phase = Phase.idle
    private var weakReferences: [ObjectRef] = []
    private var statistics = VirtualMachine.CollectionStatistics()
    private var started: UInt64 = 0

    init(vm: VirtualMachine) { self.vm = vm }

    var isCollecting: Bool { if case .idle = phase { false } else { true } }
    var isSweeping: Bool { if case .sweeping = phase { true } else { false } }

    /// Begins a cycle: the root and every thread's frames and stacks.
    func begin() {
        guard case .idle = phase else { return }
        statistics = VirtualMachine.CollectionStatistics()
        started = DispatchTime.now().uptimeNanoseconds
        let pause = started
        heap.marked = [heap.root.offset]
        // Sized for every object now, so that growing the set (rehashing a
        // million entries) does not fall into one step.
        heap.marked.reserveCapacity(vm.objectCount + vm.objectCount / 4 + 1024)
        heap.grey = []
        heap.allocationsSinceCollectorStep = 0  // what came before the cycle is not the cycle's debt
        weakReferences = []
        heap.isMarking = true
        trace(heap.root)
        for thread in vm.threads { scanFrames(of: thread) }
        phase = .marking
        notePause(since: pause)
    }

    /// One bounded step; true when the cycle has finished.
    @discardableResult
    func step(budget: Int) -> Bool {
        let pause = DispatchTime.now().uptimeNanoseconds
        let budget = budget == .max ? budget : budget + 2 * heap.allocationsSinceCollectorStep
        heap.allocationsSinceCollectorStep = 0
        defer { notePause(since: pause) }
        switch phase {
        case .idle:
            return true
        case .marking:
            var done = 0
            while done < budget, let offset = heap.grey.popLast() {
                guard heap.marked.insert(offset).inserted || offset == heap.root.offset else { continue }
                trace(ObjectRef(offset))
                done += 1
            }
            guard heap.grey.isEmpty else { return false }
            finishMarking()
            return false
        case let .sweeping(cursor):
            var current = cursor, done = 0
            while !current.isNull && done < budget {
                let next = heap.next(of: current)
                if !heap.marked.contains(current.offset) {
                    releaseLiveReferents(of: current)
                    statistics.freed += 1
                    statistics.freedBytes += Int(ObjectHeader.size) + heap.dataSize(of: current)
                    heap.unlink(current)
                    heap.free(current)
                }
                current = next
                done += 1
            }
            if !current.isNull {
                phase = .sweeping(cursor: current)
                return false
            }
            phase = .idle
            heap.marked = []
            statistics.nanoseconds = DispatchTime.now().uptimeNanoseconds - started
            vm.onCollection?(statistics)
            return true
        }
    }

    /// The whole cycle at once (for `collectGarbage`).
    func collectNow() -> VirtualMachine.CollectionStatistics {
        begin()
        while !step(budget: .max) {}
        return statistics
    }

    private func finishMarking() {
        statistics.reachable = heap.marked.count
        for weak in weakReferences {
            let target = heap.word(weak, 0)
            if target != 0 && !heap.marked.contains(target) { heap.setWord(weak, 0, 0) }
        }
        heap.isMarking = false
        heap.setRootWord(RootLayout.bytesSinceCollection, 0)
        // The sweep frees what is not marked: those leave the zero-count
        // table first, which must never hold a freed block.
        heap.zeroCount.removeAll { !heap.marked.contains($0) }
        // Objects made during the sweep go before its position (at the head).
        phase = .sweeping(cursor: ObjectRef(heap.rootWord(RootLayout.allObjects)))
    }

    /// A garbage object's counted references to live objects go away with
    /// it. References to other garbage are left: that is freed in this sweep
    /// too (perhaps already), and its count no longer matters.
    private func releaseLiveReferents(of garbage: ObjectRef) {
        guard heap.countsReferences(of: garbage) else { return }
        for index in 0..<heap.refWords(of: garbage) {
            let referent = heap.word(garbage, index)
            if referent != 0 && heap.marked.contains(referent) { heap.release(referent) }
        }
    }

    /// Queues what `object` references. Frames and stacks reached through a
    /// thread are scanned at once instead (they may be freed before a later step).
    private func trace(_ object: ObjectRef) {
        let classRef = heap.classOf(object)
        if !classRef.isNull && !heap.marked.contains(classRef.offset) { heap.grey.append(classRef.offset) }
        switch heap.kind(of: object) {
        case .thread:
            scanFrames(of: object)
        case .internalRecord where classRef == heap.rootClass(RootLayout.weakrefClass):
            weakReferences.append(object)
        default:
            break
        }
        for index in 0..<heap.refWords(of: object) {
            let reference = heap.word(object, index)
            guard reference != 0, !heap.marked.contains(reference) else { continue }
            switch heap.kind(of: ObjectRef(reference)) {
            case .callFrame, .objectStack, .integerStack, .exceptionStack: continue  // scanFrames' business
            default: heap.grey.append(reference)
            }
        }
    }

    /// Every frame of a thread and the references in its stacks.
    private func scanFrames(of thread: ObjectRef) {
        for frame in heap.frames(of: thread) {
            guard heap.marked.insert(frame.offset).inserted else { break }
            heap.forEachReference(inFrame: frame) { shadeLinked(ObjectRef($0)) }
        }
    }

    private func shadeLinked(_ object: ObjectRef) {
        if !object.isNull && !heap.marked.contains(object.offset) { heap.grey.append(object.offset) }
    }

    private func notePause(since start: UInt64) {
        statistics.longestStepNanoseconds = max(statistics.longestStepNanoseconds, DispatchTime.now().uptimeNanoseconds - start)
        statistics.steps += 1
    }
}

extension VirtualMachine {
    public struct CollectionStatistics: Equatable, Sendable {
        public var reachable = 0
        public var freed = 0
        public var freedBytes = 0
        /// From the cycle's beginning to its end, threads running in between.
        public var nanoseconds: UInt64 = 0
        /// The longest the VM stood still for one step: the pause that counts.
        public var longestStepNanoseconds: UInt64 = 0
        public var steps = 0
    }

    /// A whole collection at once: every unreachable object is freed when it returns.
    @discardableResult
    public func collectGarbage() -> CollectionStatistics {
        if collector.isCollecting { while !collector.step(budget: .max) {} }
        return collector.collectNow()
    }

    /// A whole cycle in steps of `budget` objects (what the VM does between
    /// rounds, here without threads running in between): for measuring the
    /// longest step, the pause that threads see.
    @discardableResult
    public func collectInSteps(budget: Int) -> CollectionStatistics {
        if collector.isCollecting { while !collector.step(budget: .max) {} }
        collector.begin()
        var statistics = CollectionStatistics()
        let previous = onCollection
        onCollection = { statistics = $0 }
        defer { onCollection = previous }
        while !collector.step(budget: budget) {}
        return statistics
    }

    /// Between rounds: a step of the cycle in progress, or a new cycle once
    /// `collectionThreshold` bytes were allocated since the last.
    func collectIncrementally() {
        if !collector.isCollecting {
            guard bytesSinceCollection > collectionThreshold else { return }
            collector.begin()
        }
        collector.step(budget: collectionStepBudget)
    }

    var collectorIsSweeping: Bool { collector.isSweeping }

    /// Objects on the list of all objects (owned frames and stacks are not).
    public var objectCount: Int { Int(heap.rootWord(RootLayout.objectCount)) }

    /// Bytes allocated since the last collection.
    var bytesSinceCollection: UInt64 { heap.rootWord(RootLayout.bytesSinceCollection) }
}
