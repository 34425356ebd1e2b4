import PhantomSpace

/// Phantom objects in the object space: allocation, the list of all objects
/// that the collector sweeps, and typed access to headers and data areas.
///
/// Every write goes through the space's accessors, which mark the page dirty,
/// so a snapshot sees it (DESIGN.md invariant 1). The heap's own bookkeeping
/// (list head, counters) lives in the root object, so it is snapshotted with
/// the objects it describes.
///
/// Not thread-safe: one VM runs its threads on one OS thread at a time
/// (`VirtualMachine` is the owner), as Phantom's VM ran on one CPU's worth of
/// interpreter per thread with the heap under its own lock.
public final class Heap {
    public let space: ObjectSpace
    /// The root object, set once the root exists.
    public internal(set) var root: ObjectRef = .null

    /// The collector's marking state while a cycle marks (`Collector`):
    /// stores into objects report the reference they overwrite (a
    /// snapshot-at-the-beginning barrier) and new objects are born marked.
    var isMarking = false
    var marked = Set<UInt64>()
    var grey: [UInt64] = []
    /// Objects made since the collector's last step: its next step does
    /// at least twice as much work, so a cycle always ends however fast the
    /// threads allocate.
    var allocationsSinceCollectorStep = 0
    /// Objects made since the last reclamation: the next one frees at least
    /// twice as many, so counting keeps up however fast the threads allocate.
    var allocationsSinceReclamation = 0
    /// The zero-count table of deferred reference counting: objects whose
    /// count is (or was) zero, which `reclaimUnreferenced` frees unless a
    /// stack holds them. Transient: a restored heap rebuilds it.
    var zeroCount: [UInt64] = []
    /// The largest data area an object may have. Strings, binaries and
    /// arrays grow at a program's request (a string doubled by `concat` in a
    /// loop, a binary of a size read from input): above this the request
    /// fails as a Phantom exception the program can catch (`objectTooLarge`)
    /// rather than taking the host's memory — natives copy such objects
    /// through host arrays — or filling the space for every other program.
    public var maximumDataSize = 1 << 28
    /// The most bytes all objects together may take (a kernel component's
    /// RAM quota): an allocation beyond it fails as the space being full.
    public var byteLimit = UInt64.max
    /// Bytes all objects take now (headers included).
    public var liveBytes: UInt64 { root.isNull ? 0 : rootWord(RootLayout.liveBytes) }

    init(space: ObjectSpace) { self.space = space }

    // MARK: Allocation

    /// A new zeroed object, linked into the list of all objects.
    public func allocate(kind: ObjectKind, class classRef: ObjectRef, dataSize: Int, refWords: Int = 0) throws(VMError) -> ObjectRef {
        try allocate(kind: kind, class: classRef, dataSize: dataSize, refWords: refWords, linked: true)
    }

    /// An object with one owner that frees it explicitly (a call frame, its
    /// stacks): not on the list of all objects, so the sweep never sees it;
    /// the collector still marks through it from its owner.
    func allocateOwned(kind: ObjectKind, class classRef: ObjectRef, dataSize: Int, refWords: Int) throws(VMError) -> ObjectRef {
        try allocate(kind: kind, class: classRef, dataSize: dataSize, refWords: refWords, linked: false)
    }

    private func allocate(kind: ObjectKind, class classRef: ObjectRef, dataSize: Int, refWords: Int, linked: Bool) throws(VMError) -> ObjectRef {
        precondition(refWords * 8 <= dataSize)
        guard dataSize >= 0, dataSize <= maximumDataSize else { throw VMError.objectTooLarge(bytes: dataSize, limit: maximumDataSize) }
        let bytes = UInt64(dataSize) + ObjectHeader.size
        if !root.isNull {
            let live = rootWord(RootLayout.liveBytes)
            guard live + bytes <= byteLimit else {
                throw VMError.outOfSpace("the heap's limit of \(byteLimit) bytes is reached (\(live) in use, \(bytes) more asked)")
            }
            setRootWord(RootLayout.liveBytes, live + bytes)
        }
        let offset: UInt64
        do { offset = try space.allocate(Int(ObjectHeader.size) + dataSize) } catch {
            throw VMError.outOfSpace("\(error)")
        }
        let object = ObjectRef(offset)
        space.store(classRef.offset, at: offset + ObjectHeader.classField)
        space.store(kind.rawValue, at: offset + ObjectHeader.kindField)
        space.store(UInt32(dataSize), at: offset + ObjectHeader.dataSizeField)
        space.store(UInt32(refWords), at: offset + ObjectHeader.refWordsField)
        if linked && isMarking { marked.insert(offset) }
        if linked { allocationsSinceCollectorStep &+= 1; allocationsSinceReclamation &+= 1 }
        if linked && !root.isNull {
            link(object)
            // Born with no counted reference: only a stack (or the native
            // that made it) holds it, which the next reclamation looks at.
            setFlags(object, ObjectFlags.inZeroCountTable)
            zeroCount.append(offset)
            setRootWord(RootLayout.objectCount, rootWord(RootLayout.objectCount) &+ 1)
            setRootWord(RootLayout.bytesSinceCollection, rootWord(RootLayout.bytesSinceCollection) &+ UInt64(dataSize) &+ ObjectHeader.size)
        }
        return object
    }

    /// Puts a new object at the head of the list of all objects.
    private func link(_ object: ObjectRef) {
        let head = rootWord(RootLayout.allObjects)
        space.store(head, at: object.offset + ObjectHeader.nextField)
        if head != 0 { space.store(object.offset, at: head + ObjectHeader.previousField) }
        setRootWord(RootLayout.allObjects, object.offset)
    }

    /// Takes an object off the list of all objects (before freeing it).
    func unlink(_ object: ObjectRef) {
        let previous = space.load(UInt64.self, at: object.offset + ObjectHeader.previousField)
        let next = space.load(UInt64.self, at: object.offset + ObjectHeader.nextField)
        if previous == 0 { setRootWord(RootLayout.allObjects, next) } else { space.store(next, at: previous + ObjectHeader.nextField) }
        if next != 0 { space.store(previous, at: next + ObjectHeader.previousField) }
        setRootWord(RootLayout.objectCount, rootWord(RootLayout.objectCount) &- 1)
    }

    /// Gives an object's memory back; only the collectors, or the owner of an
    /// object nothing else can reference (a frame, a replaced stack), call
    /// it. A listed object must be unlinked first.
    func free(_ object: ObjectRef) {
        let bytes = Int(ObjectHeader.size) + dataSize(of: object)
        if !root.isNull && object != root { setRootWord(RootLayout.liveBytes, rootWord(RootLayout.liveBytes) &- UInt64(bytes)) }
        space.free(object.offset, byteCount: bytes)
    }

    // MARK: Header

    @inline(__always) public func kind(of object: ObjectRef) -> ObjectKind? {
        object.isNull ? nil : ObjectKind(rawValue: space.load(UInt16.self, at: object.offset + ObjectHeader.kindField))
    }

    @inline(__always) public func classOf(_ object: ObjectRef) -> ObjectRef {
        ObjectRef(space.load(UInt64.self, at: object.offset + ObjectHeader.classField))
    }

    func setClass(_ object: ObjectRef, _ classRef: ObjectRef) {
        space.store(classRef.offset, at: object.offset + ObjectHeader.classField)
    }

    @inline(__always) public func dataSize(of object: ObjectRef) -> Int {
        Int(space.load(UInt32.self, at: object.offset + ObjectHeader.dataSizeField))
    }

    @inline(__always) func refWords(of object: ObjectRef) -> Int {
        Int(space.load(UInt32.self, at: object.offset + ObjectHeader.refWordsField))
    }

    @inline(__always) func next(of object: ObjectRef) -> ObjectRef {
        ObjectRef(space.load(UInt64.self, at: object.offset + ObjectHeader.nextField))
    }

    @inline(__always) func flags(of object: ObjectRef) -> UInt16 { space.load(UInt16.self, at: object.offset + ObjectHeader.flagsField) }
    func setFlags(_ object: ObjectRef, _ flags: UInt16) { space.store(flags, at: object.offset + ObjectHeader.flagsField) }

    // MARK: Data

    @inline(__always) public func dataOffset(_ object: ObjectRef) -> UInt64 { object.offset + ObjectHeader.size }

    /// Word `index` of the data area (a reference or a number, by the kind's layout).
    @inline(__always) public func word(_ object: ObjectRef, _ index: Int) -> UInt64 {
        space.load(UInt64.self, at: dataOffset(object) + UInt64(index) * 8)
    }

    /// A reference word goes through `storeReference` (the collector's
    /// barrier and reference counting); any other word is stored as is.
    @inline(__always) public func setWord(_ object: ObjectRef, _ index: Int, _ value: UInt64) {
        let address = dataOffset(object) + UInt64(index) * 8
        if index < refWords(of: object) { storeReference(in: object, at: address, value) } else { space.store(value, at: address) }
    }

    /// A store into a frame or a stack, which a thread owns: no barrier
    /// (a tracing cycle scans every frame and stack when it begins) and no
    /// counting (their references are not counted, ReferenceCounting.swift).
    /// The call path stores a dozen such words per call.
    @inline(__always) func setOwnedWord(_ object: ObjectRef, _ index: Int, _ value: UInt64) {
        space.store(value, at: dataOffset(object) + UInt64(index) * 8)
    }

    @inline(__always) public func ref(_ object: ObjectRef, _ index: Int) -> ObjectRef { ObjectRef(word(object, index)) }
    @inline(__always) public func setRef(_ object: ObjectRef, _ index: Int, _ value: ObjectRef) { setWord(object, index, value.offset) }

    /// The whole data area as bytes (strings, code, binaries).
    public func bytes(of object: ObjectRef) -> [UInt8] {
        space.read(at: dataOffset(object), count: dataSize(of: object))
    }

    /// The write barrier: the reference word about to be overwritten is
    /// queued for marking, so that everything reachable when the cycle began
    /// is marked although the mutator moves references around meanwhile.
    /// Frames and stacks are not queued: the cycle scanned them all when it
    /// began, and they may be freed before the marker would reach them.
    func shadeOverwritten(_ old: UInt64) {
        guard old != 0, !marked.contains(old) else { return }
        switch kind(of: ObjectRef(old)) {
        case .callFrame, .objectStack, .integerStack, .exceptionStack, nil: return
        default: grey.append(old)
        }
    }

    /// Marks `object` for the cycle in progress (a weak reference's new target).
    func shade(_ object: ObjectRef) {
        if isMarking && !object.isNull && !marked.contains(object.offset) { grey.append(object.offset) }
    }

    // MARK: Root bookkeeping

    func rootWord(_ index: Int) -> UInt64 { word(root, index) }
    func setRootWord(_ index: Int, _ value: UInt64) { setWord(root, index, value) }
}
