/// The current frame's object and integer stacks. Underflow and bad slot
/// numbers come from malformed bytecode: they throw a Phantom exception into
/// the program, never trap the host.
extension Interpreter {
    // MARK: Object stack

    @inline(__always) func push(_ value: ObjectRef) throws(Interruption) {
        if r.objectDepth == r.objectCapacity { try growObjectStack() }
        r.objectSlots.storeBytes(of: value.offset.littleEndian, toByteOffset: r.objectDepth * 8, as: UInt64.self)
        r.objectDepth += 1
    }

    @inline(__always) func pop() throws(Interruption) -> ObjectRef {
        guard r.objectDepth > 0 else { throw try fail("object stack underflow") }
        r.objectDepth -= 1
        let value = objectSlotValue(r.objectDepth)
        // Cleared so that the collector does not keep what was popped alive.
        r.objectSlots.storeBytes(of: UInt64(0), toByteOffset: r.objectDepth * 8, as: UInt64.self)
        return value
    }

    func peek(_ depth: Int = 0) throws(Interruption) -> ObjectRef {
        guard depth >= 0, depth < r.objectDepth else { throw try fail("object stack has no slot \(depth) below the top") }
        return objectSlotValue(r.objectDepth - 1 - depth)
    }

    /// Absolute slot `index` counted from the frame's stack bottom (locals, `os_get32`).
    @inline(__always) func objectSlot(_ index: Int) throws(Interruption) -> ObjectRef {
        guard index >= 0, index < r.objectDepth else { throw try fail("object stack slot \(index) is not in use (depth \(r.objectDepth))") }
        return objectSlotValue(index)
    }

    @inline(__always) private func objectSlotValue(_ index: Int) -> ObjectRef {
        ObjectRef(UInt64(littleEndian: r.objectSlots.load(fromByteOffset: index * 8, as: UInt64.self)))
    }

    @inline(__always) func setObjectSlot(_ index: Int, _ value: ObjectRef) throws(Interruption) {
        guard index >= 0, index < r.objectDepth else { throw try fail("object stack slot \(index) is not in use (depth \(r.objectDepth))") }
        r.objectSlots.storeBytes(of: value.offset.littleEndian, toByteOffset: index * 8, as: UInt64.self)
    }

    private func growObjectStack() throws(Interruption) {
        let capacity = max(16, r.objectCapacity * 2)
        guard capacity <= Interpreter.stackLimit else { throw try fail("object stack overflow (\(Interpreter.stackLimit) slots)") }
        let grown = try owned(kind: .objectStack, classSlot: RootLayout.objectStackClass, dataSize: capacity * 8, refWords: capacity)
        for slot in 0..<r.objectDepth { heap.setOwnedWord(grown, slot, heap.word(r.objectStack, slot)) }
        if !r.objectStack.isNull { heap.free(r.objectStack) }
        r.objectStack = grown
        r.objectCapacity = capacity
        heap.setOwnedWord(r.frame, FrameLayout.objectStack, grown.offset)
        attachStacks()
    }

    // MARK: Integer stack

    @inline(__always) func pushInt(_ value: Int32) throws(Interruption) {
        if r.integerDepth == r.integerCapacity { try growIntegerStack() }
        r.integerSlots.storeBytes(of: UInt32(bitPattern: value).littleEndian, toByteOffset: r.integerDepth * 4, as: UInt32.self)
        r.integerDepth += 1
    }

    @inline(__always) func popInt() throws(Interruption) -> Int32 {
        guard r.integerDepth > 0 else { throw try fail("integer stack underflow") }
        r.integerDepth -= 1
        return integerSlotValue(r.integerDepth)
    }

    @inline(__always) func peekInt() throws(Interruption) -> Int32 {
        guard r.integerDepth > 0 else { throw try fail("integer stack is empty") }
        return integerSlotValue(r.integerDepth - 1)
    }

    /// A long or double: the high word was pushed first, the low word is on top.
    func pushWide(_ value: UInt64) throws(Interruption) {
        try pushInt(Int32(bitPattern: UInt32(truncatingIfNeeded: value >> 32)))
        try pushInt(Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
    }

    func popWide() throws(Interruption) -> UInt64 {
        let low = UInt64(UInt32(bitPattern: try popInt()))
        let high = UInt64(UInt32(bitPattern: try popInt()))
        return high << 32 | low
    }

    @inline(__always) func integerSlot(_ index: Int) throws(Interruption) -> Int32 {
        guard index >= 0, index < r.integerDepth else { throw try fail("integer stack slot \(index) is not in use (depth \(r.integerDepth))") }
        return integerSlotValue(index)
    }

    @inline(__always) private func integerSlotValue(_ index: Int) -> Int32 {
        Int32(bitPattern: UInt32(littleEndian: r.integerSlots.load(fromByteOffset: index * 4, as: UInt32.self)))
    }

    @inline(__always) func setIntegerSlot(_ index: Int, _ value: Int32) throws(Interruption) {
        guard index >= 0, index < r.integerDepth else { throw try fail("integer stack slot \(index) is not in use (depth \(r.integerDepth))") }
        r.integerSlots.storeBytes(of: UInt32(bitPattern: value).littleEndian, toByteOffset: index * 4, as: UInt32.self)
    }

    private func growIntegerStack() throws(Interruption) {
        let capacity = max(16, r.integerCapacity * 2)
        guard capacity <= Interpreter.stackLimit else { throw try fail("integer stack overflow (\(Interpreter.stackLimit) slots)") }
        let grown = try owned(kind: .integerStack, classSlot: RootLayout.integerStackClass, dataSize: capacity * 4, refWords: 0)
        if r.integerDepth > 0 {
            heap.space.write(heap.space.read(at: heap.dataOffset(r.integerStack), count: r.integerDepth * 4), at: heap.dataOffset(grown))
        }
        if !r.integerStack.isNull { heap.free(r.integerStack) }
        r.integerStack = grown
        r.integerCapacity = capacity
        heap.setOwnedWord(r.frame, FrameLayout.integerStack, grown.offset)
        attachStacks()
    }

    /// An object owned by one frame or thread (not on the list of all objects).
    func owned(kind: ObjectKind, classSlot: Int, dataSize: Int, refWords: Int) throws(Interruption) -> ObjectRef {
        do {
            return try heap.allocateOwned(kind: kind, class: heap.rootClass(classSlot), dataSize: dataSize, refWords: refWords)
        } catch { throw .fault(error) }
    }
}
