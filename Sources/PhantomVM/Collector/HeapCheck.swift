/// A consistency check of the heap, for the fuzzer and the tests: what the
/// collector and the interpreter rely on, verified from the outside.
///
/// Every object reachable from the root must be a live object — on the list
/// of all objects, or owned by a thread (frames and their stacks), or the root
/// itself — with a known kind, a class object as its class, and reference
/// words inside its data area. A reference to a freed block (whose first word
/// the allocator reuses as its free-list link, so its "class" is another free
/// block or null) fails these checks, which is how a use after free shows up.
/// A weak reference must hold null or a live object. Every reachable
/// object's reference count must equal the counted references to it
/// (ReferenceCounting.swift) from the objects on the list and the root:
/// a store that bypassed `setWord`, or a free that forgot its referents,
/// shows up here.
extension VirtualMachine {
    /// Throws `corruptObject` for the first problem found.
    public func verifyHeap() throws(VMError) {
        let root = heap.root
        var listed = Set<UInt64>()
        var current = heap.ref(root, RootLayout.allObjects)
        while !current.isNull {
            guard heap.space.contains(current.offset, count: ObjectHeader.size), listed.insert(current.offset).inserted else {
                throw VMError.corruptObject(current, "the list of all objects runs outside the space or in a circle")
            }
            current = heap.next(of: current)
        }
        let owned: Set<ObjectKind> = [.callFrame, .objectStack, .integerStack, .exceptionStack]
        var seen = Set<UInt64>()
        var pending: [(object: ObjectRef, from: ObjectRef)] = [(root, .null)]
        let weakrefClass = heap.rootClass(RootLayout.weakrefClass)
        while let (object, from) = pending.popLast() {
            guard !object.isNull, seen.insert(object.offset).inserted else { continue }
            guard heap.space.contains(object.offset, count: ObjectHeader.size),
                  heap.space.contains(heap.dataOffset(object), count: UInt64(heap.dataSize(of: object))) else {
                throw VMError.corruptObject(object, "outside the space (referenced from \(from))")
            }
            guard let kind = heap.kind(of: object) else {
                throw VMError.corruptObject(object, "no object kind (a freed block?), referenced from \(from)")
            }
            guard object == root || listed.contains(object.offset) || owned.contains(kind) else {
                throw VMError.corruptObject(object, "a \(kind) object not on the list of all objects (freed?), referenced from \(from)")
            }
            let classRef = heap.classOf(object)
            guard object == root || heap.kind(of: classRef) == .class else {
                throw VMError.corruptObject(object, "its class \(classRef) is not a class object (referenced from \(from))")
            }
            guard heap.refWords(of: object) * 8 <= heap.dataSize(of: object) else {
                throw VMError.corruptObject(object, "\(heap.refWords(of: object)) reference words in \(heap.dataSize(of: object)) bytes")
            }
            pending.append((classRef, object))
            for index in 0..<heap.refWords(of: object) { pending.append((heap.ref(object, index), object)) }
            if kind == .thread { pending.append((heap.ref(object, ThreadLayout.frame), object)) }
            if classRef == weakrefClass && kind == .internalRecord && heap.dataSize(of: object) >= 8 {
                let target = heap.ref(object, 0)
                guard target.isNull || listed.contains(target.offset) else {
                    throw VMError.corruptObject(object, "a weak reference to \(target), which is not a live object")
                }
            }
        }
        try verifyReferenceCounts(listed: listed, reachable: seen)
        try verifyLiveBytes(listed: listed)
    }

    /// The byte count a quota is checked against: every listed object, and
    /// every frame and stack of the threads on the thread list.
    private func verifyLiveBytes(listed: Set<UInt64>) throws(VMError) {
        func bytes(_ offset: UInt64) -> UInt64 { ObjectHeader.size + UInt64(heap.dataSize(of: ObjectRef(offset))) }
        var total = listed.reduce(0) { $0 + bytes($1) }
        for thread in threads {
            for frame in heap.frames(of: thread) {
                total += heap.ownedObjects(ofFrame: frame).reduce(0) { $0 + bytes($1.offset) }
            }
        }
        guard total == heap.liveBytes else {
            throw VMError.corruptObject(heap.root, "the heap counts \(heap.liveBytes) live bytes, its objects take \(total)")
        }
    }

    /// Counts recomputed from every counted reference word. In the middle
    /// of a sweep only reachable objects are compared: garbage still counts
    /// references from garbage that was already freed.
    private func verifyReferenceCounts(listed: Set<UInt64>, reachable: Set<UInt64>) throws(VMError) {
        var expected: [UInt64: UInt32] = [:]
        for holder in listed.union([heap.root.offset]) where heap.countsReferences(of: ObjectRef(holder)) {
            for index in 0..<heap.refWords(of: ObjectRef(holder)) {
                let referent = heap.word(ObjectRef(holder), index)
                guard referent != 0 else { continue }
                expected[referent, default: 0] &+= 1
                // Garbage, too, may reference only live blocks (a block freed
                // too early is found here even when nothing reachable sees it).
                guard collectorIsSweeping || listed.contains(referent) || referent == heap.root.offset else {
                    throw VMError.corruptObject(ObjectRef(holder), "word \(index) references \(ObjectRef(referent)), which is not a live object")
                }
            }
        }
        // Outside a sweep every listed object's count is exact, garbage's too.
        let checked = collectorIsSweeping ? reachable.intersection(listed) : listed
        for offset in checked {
            let object = ObjectRef(offset)
            let count = heap.referenceCount(of: object)
            guard count == .max || count == expected[offset, default: 0] else {
                throw VMError.corruptObject(object, "reference count \(count), but \(expected[offset, default: 0]) counted references to it")
            }
            let flags = heap.flags(of: object)
            guard count != 0 || flags & (ObjectFlags.inZeroCountTable | ObjectFlags.weakTarget) != 0
                    || heap.kind(of: object) == .class || collectorIsSweeping else {
                throw VMError.corruptObject(object, "count zero but not in the zero-count table (reference counting would never free it)")
            }
        }
    }
}
