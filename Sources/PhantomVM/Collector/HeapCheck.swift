/// A consistency check of the heap, for the fuzzer and the tests: what the
/// collector and the interpreter rely on, verified from the outside.
///
/// Every object reachable from the root must be a live object — on the list
/// of all objects, or owned by a thread (frames and their stacks), or the root
/// itself — with a known kind, a class object as its class, and reference
/// words inside its data area. A reference to a freed block (whose first word
/// the allocator reuses as its free-list link, so its "class" is another free
/// block or null) fails these checks, which is how a use after free shows up.
/// A weak reference must hold null or a live object.
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
            if classRef == weakrefClass && kind == .internalRecord && heap.dataSize(of: object) >= 8 {
                let target = heap.ref(object, 0)
                guard target.isNull || listed.contains(target.offset) else {
                    throw VMError.corruptObject(object, "a weak reference to \(target), which is not a live object")
                }
            }
        }
    }
}
