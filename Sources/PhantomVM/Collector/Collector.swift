import Dispatch

/// The tracing collector: marks everything reachable from the root object —
/// which holds the internal classes, the class directory, the thread list
/// (and through each thread its frames and their stacks), the restart list
/// and the kernel environment — then frees every object on the list of all
/// objects that was not reached, cycles included (Phantom OS's own cycle
/// collector was never finished).
///
/// It runs between scheduling rounds, when every thread's registers are in
/// its frames, so nothing live is held only in Swift. Marks are kept in a
/// transient set rather than in object headers: marking then writes nothing
/// to the space and dirties no page, so a collection does not grow the next
/// snapshot. Weak references whose target is freed are cleared.
extension VirtualMachine {
    public struct CollectionStatistics: Equatable, Sendable {
        public var reachable = 0
        public var freed = 0
        public var freedBytes = 0
        /// How long the VM stood still for it.
        public var nanoseconds: UInt64 = 0
    }

    @discardableResult
    public func collectGarbage() -> CollectionStatistics {
        let start = DispatchTime.now().uptimeNanoseconds
        var statistics = CollectionStatistics()
        var marked = Set<UInt64>()
        var pending: [ObjectRef] = [heap.root]
        var weakReferences: [ObjectRef] = []
        let weakrefClass = heap.rootClass(RootLayout.weakrefClass)
        while let object = pending.popLast() {
            guard !object.isNull, marked.insert(object.offset).inserted else { continue }
            let classRef = heap.classOf(object)
            if !classRef.isNull { pending.append(classRef) }
            if classRef == weakrefClass && heap.kind(of: object) == .internalRecord { weakReferences.append(object) }
            let references = heap.refWords(of: object)
            for index in 0..<references {
                let reference = heap.word(object, index)
                if reference != 0 && !marked.contains(reference) { pending.append(ObjectRef(reference)) }
            }
        }
        statistics.reachable = marked.count
        for weak in weakReferences {
            let target = heap.word(weak, 0)
            if target != 0 && !marked.contains(target) { heap.setWord(weak, 0, 0) }
        }

        var previous = ObjectRef.null
        var current = ObjectRef(heap.rootWord(RootLayout.allObjects))
        var remaining: UInt64 = 0
        while !current.isNull {
            let next = heap.next(of: current)
            if marked.contains(current.offset) {
                previous = current
                remaining += 1
            } else {
                if previous.isNull { heap.setRootWord(RootLayout.allObjects, next.offset) } else { heap.setNext(previous, next) }
                statistics.freed += 1
                statistics.freedBytes += Int(ObjectHeader.size) + heap.dataSize(of: current)
                heap.free(current)
            }
            current = next
        }
        heap.setRootWord(RootLayout.objectCount, remaining)
        heap.setRootWord(RootLayout.bytesSinceCollection, 0)
        statistics.nanoseconds = DispatchTime.now().uptimeNanoseconds - start
        onCollection?(statistics)
        return statistics
    }

    /// Objects on the list of all objects (owned frames and stacks are not).
    public var objectCount: Int { Int(heap.rootWord(RootLayout.objectCount)) }

    /// Bytes allocated since the last collection.
    var bytesSinceCollection: UInt64 { heap.rootWord(RootLayout.bytesSinceCollection) }
}
