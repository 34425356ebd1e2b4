/// Boxed numbers, strings, slot vectors and arrays: the objects the
/// interpreter makes itself (`i2o`, `sconst_bin`, `const_pool`, thrown
/// messages). Their classes are the internal classes in the root's slots.
extension Heap {
    func rootClass(_ slot: Int) -> ObjectRef { ref(root, slot) }

    // MARK: Numbers

    public func makeInt(_ value: Int32) throws(VMError) -> ObjectRef {
        let object = try allocate(kind: .int, class: rootClass(RootLayout.intClass), dataSize: 8)
        setWord(object, 0, UInt64(UInt32(bitPattern: value)))
        return object
    }

    public func makeLong(_ value: Int64) throws(VMError) -> ObjectRef {
        let object = try allocate(kind: .long, class: rootClass(RootLayout.longClass), dataSize: 8)
        setWord(object, 0, UInt64(bitPattern: value))
        return object
    }

    public func makeFloat(_ value: Float) throws(VMError) -> ObjectRef {
        let object = try allocate(kind: .float, class: rootClass(RootLayout.floatClass), dataSize: 8)
        setWord(object, 0, UInt64(value.bitPattern))
        return object
    }

    public func makeDouble(_ value: Double) throws(VMError) -> ObjectRef {
        let object = try allocate(kind: .double, class: rootClass(RootLayout.doubleClass), dataSize: 8)
        setWord(object, 0, value.bitPattern)
        return object
    }

    /// The number in a boxed int (nil if `object` is not one).
    public func intValue(_ object: ObjectRef) -> Int32? {
        kind(of: object) == .int ? Int32(bitPattern: UInt32(truncatingIfNeeded: word(object, 0))) : nil
    }

    public func longValue(_ object: ObjectRef) -> Int64? {
        kind(of: object) == .long ? Int64(bitPattern: word(object, 0)) : nil
    }

    public func floatValue(_ object: ObjectRef) -> Float? {
        kind(of: object) == .float ? Float(bitPattern: UInt32(truncatingIfNeeded: word(object, 0))) : nil
    }

    public func doubleValue(_ object: ObjectRef) -> Double? {
        kind(of: object) == .double ? Double(bitPattern: word(object, 0)) : nil
    }

    // MARK: Strings

    public func makeString(_ bytes: [UInt8]) throws(VMError) -> ObjectRef {
        let object = try allocate(kind: .string, class: rootClass(RootLayout.stringClass), dataSize: bytes.count)
        if !bytes.isEmpty { space.write(bytes, at: dataOffset(object)) }
        return object
    }

    public func makeString(_ text: String) throws(VMError) -> ObjectRef { try makeString(Array(text.utf8)) }

    /// The bytes of a string object (nil if `object` is not a string).
    public func stringBytes(_ object: ObjectRef) -> [UInt8]? {
        kind(of: object) == .string ? bytes(of: object) : nil
    }

    public func string(_ object: ObjectRef) -> String? {
        stringBytes(object).map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: Slot vectors and arrays

    /// A vector of `count` references, all null.
    public func makeSlots(_ count: Int) throws(VMError) -> ObjectRef {
        try allocate(kind: .slots, class: rootClass(RootLayout.pageClass), dataSize: count * 8, refWords: count)
    }

    public func slotCount(_ slots: ObjectRef) -> Int { dataSize(of: slots) / 8 }

    /// An array: word 0 its storage (a slot vector), word 1 its element count.
    public func makeArray(capacity: Int = 4) throws(VMError) -> ObjectRef {
        let storage = try makeSlots(max(capacity, 1))
        let array = try allocate(kind: .array, class: rootClass(RootLayout.arrayClass), dataSize: 16, refWords: 1)
        setRef(array, 0, storage)
        return array
    }

    public func arrayCount(_ array: ObjectRef) -> Int { Int(word(array, 1)) }

    public func arrayElement(_ array: ObjectRef, _ index: Int) -> ObjectRef? {
        guard index >= 0, index < arrayCount(array) else { return nil }
        return ref(ref(array, 0), index)
    }

    /// Sets element `index`, growing the array (with null elements) to reach it.
    public func setArrayElement(_ array: ObjectRef, _ index: Int, _ value: ObjectRef) throws(VMError) {
        precondition(index >= 0)
        var storage = ref(array, 0)
        let capacity = slotCount(storage)
        if index >= capacity {
            let grown = try makeSlots(max(index + 1, capacity * 2))
            for slot in 0..<arrayCount(array) { setRef(grown, slot, ref(storage, slot)) }
            setRef(array, 0, grown)
            storage = grown
        }
        setRef(storage, index, value)
        if index >= arrayCount(array) { setWord(array, 1, UInt64(index + 1)) }
    }

    public func appendToArray(_ array: ObjectRef, _ value: ObjectRef) throws(VMError) {
        try setArrayElement(array, arrayCount(array), value)
    }
}
