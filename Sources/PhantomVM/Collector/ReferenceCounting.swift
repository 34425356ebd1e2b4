/// Reference counting for the common case (Phantom's `ref_inc`/`ref_dec`),
/// deferred in the manner of Deutsch and Bobrow: only references stored in
/// objects are counted, never those on a thread's stacks or in its frames,
/// which change at every instruction. An object whose count falls to zero
/// goes into the zero-count table; between two scheduling rounds, when every
/// thread's registers are in its frames, `reclaimUnreferenced` frees those
/// that no stack holds either, and what they referenced in turn. Garbage in
/// cycles never reaches zero; the tracing collector (`Collector`) frees it.
///
/// What is counted: every reference word (`refWords`) of every object except
/// frames and their stacks (owned by their thread, freed by returns). A
/// thread's frame pointer is not a reference word for the same reason, and
/// the class in a header is not counted (classes are never freed). The count
/// lives in the header, so it is snapshotted with the references it counts;
/// the zero-count table is transient and rebuilt from the counts on resume.
///
/// Phantom OS counted stack references too and freed at once at zero; with
/// stacks of host pointers (`Registers`) that would cost two stores per push
/// and pop, and it frees nothing a deferred count does not free a round later.
extension Heap {
    /// A store into a reference word: the collector's barrier, then the
    /// counts of the new and the old referent.
    @inline(never)
    func storeReference(in object: ObjectRef, at address: UInt64, _ value: UInt64) {
        let old = space.load(UInt64.self, at: address)
        if isMarking { shadeOverwritten(old) }
        space.store(value, at: address)
        guard old != value, countsReferences(of: object) else { return }
        if value != 0 { retain(value) }
        if old != 0 { release(old) }
    }

    /// Whether `object`'s reference words are counted (not a frame or a stack).
    @inline(__always) func countsReferences(of object: ObjectRef) -> Bool {
        switch kind(of: object) {
        case .callFrame, .objectStack, .integerStack, .exceptionStack, nil: false
        default: true
        }
    }

    @inline(__always) func referenceCount(of object: ObjectRef) -> UInt32 {
        space.load(UInt32.self, at: object.offset + ObjectHeader.referenceCountField)
    }

    /// One more counted reference. A count that reached the top stays there:
    /// the object is left to the tracing collector.
    func retain(_ offset: UInt64) {
        let field = offset + ObjectHeader.referenceCountField
        let count = space.load(UInt32.self, at: field)
        if count != .max { space.store(count + 1, at: field) }
    }

    /// One counted reference fewer; at zero the object joins the zero-count table.
    func release(_ offset: UInt64) {
        if decrementReachingZero(offset) { zeroCount.append(offset) }
    }

    /// One counted reference fewer; true when that left the object at zero
    /// and not yet in the zero-count table — it is flagged as in it now, and
    /// the caller puts it in whichever list it is working through.
    func decrementReachingZero(_ offset: UInt64) -> Bool {
        let field = offset + ObjectHeader.referenceCountField
        let count = space.load(UInt32.self, at: field)
        guard count != .max, count != 0 else { return false }
        space.store(count - 1, at: field)
        guard count == 1 else { return false }
        let flags = flags(of: ObjectRef(offset))
        guard flags & ObjectFlags.inZeroCountTable == 0 else { return false }
        setFlags(ObjectRef(offset), flags | ObjectFlags.inZeroCountTable)
        return true
    }

    /// Marks `object` as the target of a weak reference (see `ObjectFlags.weakTarget`).
    func noteWeakTarget(_ object: ObjectRef) {
        guard !object.isNull else { return }
        setFlags(object, flags(of: object) | ObjectFlags.weakTarget)
    }

    /// A restored heap: the table lists every object whose count is zero.
    /// Its flags were the table of the process that wrote the image.
    func rebuildZeroCountTable() {
        zeroCount = []
        var current = ObjectRef(rootWord(RootLayout.allObjects))
        while !current.isNull {
            var flags = flags(of: current) & ~ObjectFlags.inZeroCountTable
            if referenceCount(of: current) == 0 {
                flags |= ObjectFlags.inZeroCountTable
                zeroCount.append(current.offset)
            }
            setFlags(current, flags)
            current = next(of: current)
        }
    }
}

extension VirtualMachine {
    /// What one reclamation freed.
    public struct ReclamationStatistics: Equatable, Sendable {
        public var freed = 0
        public var freedBytes = 0
    }

    /// Frees the objects of the zero-count table that no thread's frame or
    /// stack holds, and whatever that leaves unreferenced — at most `budget`
    /// objects: dropping the last reference to a long list frees it over
    /// several rounds, never in one pause longer than a collector step; the
    /// rest stays in the table for the next reclamation. Between rounds the
    /// budget is `reclamationBudget` plus twice the objects made since the
    /// last reclamation (as the collector's steps), so that threads making
    /// garbage faster than a fixed budget frees it cannot outrun counting.
    /// Only between rounds (every register written back) and while no
    /// tracing cycle runs: the cycle's grey list and sweep position must not
    /// meet a freed block.
    @discardableResult
    public func reclaimUnreferenced(budget: Int = .max) -> ReclamationStatistics {
        var statistics = ReclamationStatistics()
        reclamationPending = false
        heap.allocationsSinceReclamation = 0
        guard !collector.isCollecting, !heap.zeroCount.isEmpty else { return statistics }
        let onStacks = stackReferences()
        let weakTarget = ObjectFlags.weakTarget
        var work = heap.zeroCount
        var kept: [UInt64] = []
        heap.zeroCount = []
        while statistics.freed < budget, let offset = work.popLast() {
            let object = ObjectRef(offset)
            let flags = heap.flags(of: object)
            guard heap.referenceCount(of: object) == 0, flags & weakTarget == 0, object != heap.root,
                  heap.kind(of: object) != .class else {
                heap.setFlags(object, flags & ~ObjectFlags.inZeroCountTable)
                continue
            }
            // Held only by a stack: it stays in the table, and goes when the stack lets go.
            if onStacks.contains(offset) { kept.append(offset); continue }
            for index in 0..<heap.refWords(of: object) {
                let referent = heap.word(object, index)
                if referent != 0 && heap.decrementReachingZero(referent) { work.append(referent) }
            }
            let bytes = Int(ObjectHeader.size) + heap.dataSize(of: object)
            heap.unlink(object)
            heap.free(object)
            statistics.freed += 1
            statistics.freedBytes += bytes
        }
        heap.zeroCount = kept
        zeroCountBaseline = kept.count
        if !work.isEmpty {
            // Out of budget: the rest (all flagged) waits for the next round.
            heap.zeroCount += work
            reclamationPending = true
        }
        // Tracing is for what counting cannot free: only growth it leaves counts.
        let since = heap.rootWord(RootLayout.bytesSinceCollection)
        heap.setRootWord(RootLayout.bytesSinceCollection, since - min(since, UInt64(statistics.freedBytes)))
        reclaimed.freed += statistics.freed
        reclaimed.freedBytes += statistics.freedBytes
        return statistics
    }

    /// Between rounds: a reclamation once the zero-count table has grown past
    /// `zeroCountThreshold` (each one scans every thread's stacks).
    ///
    /// A program that drops a large structure and then computes without
    /// allocating grows the table by one entry: so any growth is also
    /// reclaimed after `reclamationInterval` rounds.
    func reclaimIfDue() {
        roundsSinceReclamation += 1
        let grown = heap.zeroCount.count - zeroCountBaseline
        guard !collector.isCollecting,
              reclamationPending || grown >= zeroCountThreshold || (grown > 0 && roundsSinceReclamation >= reclamationInterval) else { return }
        roundsSinceReclamation = 0
        reclaimUnreferenced(budget: reclamationBudget + 2 * heap.allocationsSinceReclamation)
    }

    /// Every object a frame or a stack of a thread on the thread list holds.
    func stackReferences() -> Set<UInt64> {
        var references = Set<UInt64>()
        for thread in threads {
            for frame in heap.frames(of: thread) { heap.forEachReference(inFrame: frame) { references.insert($0) } }
        }
        references.remove(0)
        return references
    }
}
