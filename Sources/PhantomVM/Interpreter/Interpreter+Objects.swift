/// Fields, instances, constants and class tests.
extension Interpreter {
    /// `this`'s object slot `index` (inherited slots included).
    func field(_ index: Int) throws(Interruption) -> ObjectRef {
        guard heap.kind(of: r.this) == .instance, index >= 0, index < heap.refWords(of: r.this) else {
            throw try fail("no field \(index) in \(describe(r.this))")
        }
        return heap.ref(r.this, index)
    }

    func setField(_ index: Int, _ value: ObjectRef) throws(Interruption) {
        guard heap.kind(of: r.this) == .instance, index >= 0, index < heap.refWords(of: r.this) else {
            throw try fail("no field \(index) in \(describe(r.this))")
        }
        heap.setRef(r.this, index, value)
    }

    /// `new`: an object of `classRef`, its fields null. Internal classes make
    /// their own kind of object (an int 0, an empty string, a mutex).
    ///
    /// The classes whose objects only the VM makes (class, code, thread,
    /// call frame, the stacks, interface) refuse `new` with a Phantom
    /// exception: the program asked for something impossible, which must not
    /// stop the VM (the fuzzer's `summon_code_class; new` did, as a `VMError`).
    func instantiate(_ classRef: ObjectRef) throws(Interruption) -> ObjectRef {
        guard heap.kind(of: classRef) == .class else { throw try fail("new: \(describe(classRef)) is not a class") }
        do {
            let object = try vm.classes.instantiate(classRef)
            charge(bytes: heap.dataSize(of: object))
            return object
        } catch {
            if case let .invalidClass(message) = error { throw try fail("new: \(message)") }
            throw .fault(error)
        }
    }

    /// `copy` (first-generation VMs only): a shallow copy of the data area.
    func shallowCopy(_ object: ObjectRef) throws(Interruption) -> ObjectRef {
        guard let kind = heap.kind(of: object), kind != .class, kind != .callFrame, kind != .thread else {
            throw try fail("copy: \(describe(object)) cannot be copied")
        }
        let size = heap.dataSize(of: object)
        let copy = try heapOp { () throws(VMError) in
            try heap.allocate(kind: kind, class: heap.classOf(object), dataSize: size, refWords: heap.refWords(of: object))
        }
        charge(bytes: size)
        // A weak reference copied while a cycle marks is born marked, so the
        // cycle never lists it among the weak references to clear: its
        // target must survive the cycle (as `set` makes sure for a new one).
        if kind == .internalRecord && heap.classOf(object) == heap.rootClass(RootLayout.weakrefClass) && size >= 8 {
            heap.shade(ObjectRef(heap.word(object, 0)))
        }
        if size > 0 { heap.space.write(heap.space.read(at: heap.dataOffset(object), count: size), at: heap.dataOffset(copy)) }
        // The copied reference words are new counted references.
        if heap.countsReferences(of: copy) {
            for index in 0..<heap.refWords(of: copy) where heap.word(copy, index) != 0 { heap.retain(heap.word(copy, index)) }
        }
        return copy
    }

    /// `const_pool index`: from the constant pool of `this`'s class, as
    /// Phantom's VM reads it, then of its parents (which Phantom does not do:
    /// an inherited method's constants would be missing in a subclass).
    func constant(_ index: Int) throws(Interruption) -> ObjectRef {
        var current = heap.classOf(r.this)
        while heap.kind(of: current) == .class {
            let pool = heap.ref(current, ClassLayout.constants)
            if index >= 0, !pool.isNull, index < heap.slotCount(pool), !heap.ref(pool, index).isNull {
                return heap.ref(pool, index)
            }
            current = heap.ref(current, ClassLayout.parent)
        }
        throw try fail("no constant \(index) in class \(className(heap.classOf(r.this)))")
    }

    /// Whether `object`'s class is `classRef` or derives from it.
    func isInstance(_ object: ObjectRef, of classRef: ObjectRef) -> Bool {
        var current = heap.classOf(object)
        var steps = 0
        while heap.kind(of: current) == .class && steps < 10_000 {
            if current == classRef { return true }
            current = heap.ref(current, ClassLayout.parent)
            steps += 1
        }
        return false
    }

    /// `summon_by_name`: internal classes, loaded classes, then the class source.
    func classNamed(_ name: String) throws(Interruption) -> ObjectRef {
        do { return try vm.classes.lookup(name) } catch {
            switch error {
            case .classNotFound, .invalidClass: throw try fail("\(error)")
            default: throw .fault(error)
            }
        }
    }

    func className(_ classRef: ObjectRef) -> String { vm.classes.name(of: classRef) }

    /// A short description of a value for messages.
    func describe(_ object: ObjectRef) -> String { vm.describe(object) }
}
