/// Runs Phantom bytecode (`phantom/vm/exec.c`'s semantics) for one thread at a
/// time: loads the thread's registers from its current frame, executes up to
/// a fuel budget of instructions, and writes the registers back, so that
/// between two slices everything a thread is lives in the object space.
///
/// One instruction at a time; operands are read from the code object in the
/// space with bounds checks, so malformed code throws a Phantom exception
/// ("code ends inside an operand") instead of reading past it.
final class Interpreter {
    unowned let vm: VirtualMachine
    let heap: Heap
    var r = Registers()
    /// `Opcode.byByte`, held here so that decoding does not go through the
    /// static's lazy-initialisation check on every instruction.
    let opcodes: ContiguousArray<Opcode?> = ContiguousArray(Opcode.byByte)
    /// What is left of the running slice's fuel: an instruction costs one,
    /// and a native method that works through many bytes costs more
    /// (`charge`).
    var fuelLeft = 0
    /// Whether `runIntegerFastPath` runs (tests compare it with `step()` alone).
    var usesFastPath = true
    /// Largest a frame's stack may grow (in slots): a runaway recursion or
    /// push loop throws "stack overflow" instead of filling the space.
    static let stackLimit = 1 << 20
    /// Deepest call chain before "call stack overflow" is thrown.
    static let callDepthLimit = 100_000
    /// Most catchers one frame may hold. A throw looks at every catcher above
    /// the one that takes it, and those stay, so each throw in a frame pays
    /// for all of its catchers: the fuzzer's loop that pushed a catcher and
    /// threw, over and over, made every instruction slower than the last
    /// (seconds a slice). Compiled code nests a catcher per `try`.
    static let catcherLimit = 64

    init(vm: VirtualMachine) {
        self.vm = vm
        heap = vm.heap
    }

    /// How a slice ended.
    enum SliceEnd: Equatable {
        case yielded
        /// The thread's state now says what it waits for.
        case blocked
        case finished
        /// An exception nobody caught ended the thread.
        case failed(String)
    }

    /// Runs `thread` for up to `fuel` instructions.
    func run(_ thread: ObjectRef, fuel: Int) throws(VMError) -> SliceEnd {
        r = Registers()
        r.thread = thread
        let frame = heap.ref(thread, ThreadLayout.frame)
        guard !frame.isNull else { return .finished }
        load(frame)
        fuelLeft = fuel
        while true {
            do {
                // A prefix and the instruction it modifies are one unit: the
                // slice never ends between them (the prefix is not stored).
                if fuelLeft <= 0 && r.prefix == .none { writeBack(); return .yielded }
                if usesFastPath && r.prefix == .none {
                    runIntegerFastPath()
                    if fuelLeft <= 0 { continue }
                }
                fuelLeft -= 1
                try step()
            } catch {
                switch error {
                case let .exception(thrown):
                    // The failed instruction took its prefix with it. Left
                    // set, it kept the slice from ending (no slice ends
                    // after a prefix): the fuzzer's catcher that ran into
                    // `prefix_long; <unknown opcode>` again and again never
                    // yielded, throwing until the space was full.
                    r.prefix = .none
                    if let message = try deliver(thrown) { return .failed(message) }
                case .blocked:
                    r.prefix = .none
                    writeBack()
                    return .blocked
                case let .fault(error):
                    throw error
                }
            }
            if r.frame.isNull { return .finished }
        }
    }

    /// Bytes of work a unit of fuel pays for, beyond the instruction itself.
    static let bytesPerFuel = 1024

    /// Charges the running slice for working through `bytes` bytes (a
    /// native method's string or binary, a `copy`) or allocating them (a
    /// binary, an array's storage, an instance). Fuel counted only
    /// instructions, so one slice could call `hashCode` on a 128 MiB string
    /// a thousand times: the fuzzer's loop of those took minutes a slice.
    /// Now such an instruction ends the slice, and every slice is bounded in
    /// time as in instructions — and in what it allocates, so that the
    /// collector, which runs between rounds, keeps up (a loop of
    /// `createBinary(100 MB)` filled a 1 GiB space in its first slice, with
    /// garbage, and stopped the VM).
    func charge(bytes: Int) {
        fuelLeft -= bytes / Self.bytesPerFuel
    }

    // MARK: Frames

    /// Makes `frame` current.
    func load(_ frame: ObjectRef) {
        r.frame = frame
        r.this = heap.ref(frame, FrameLayout.this)
        r.code = heap.ref(frame, FrameLayout.code)
        r.codeStart = heap.dataOffset(r.code)
        r.codeLength = heap.dataSize(of: r.code)
        r.ip = Int(heap.word(frame, FrameLayout.ip))
        r.objectStack = heap.ref(frame, FrameLayout.objectStack)
        r.objectDepth = Int(heap.word(frame, FrameLayout.objectDepth))
        r.objectCapacity = r.objectStack.isNull ? 0 : heap.dataSize(of: r.objectStack) / 8
        r.integerStack = heap.ref(frame, FrameLayout.integerStack)
        r.integerDepth = Int(heap.word(frame, FrameLayout.integerDepth))
        r.integerCapacity = r.integerStack.isNull ? 0 : heap.dataSize(of: r.integerStack) / 4
        r.codeBytes = UnsafeRawPointer(heap.space.unsafePointer(at: r.codeStart, count: r.codeLength))
        attachStacks()
        r.prefix = .none
    }

    /// Points the stack registers at the current stacks and marks their
    /// pages dirty, for the slots written through the pointers.
    func attachStacks() {
        let objectBytes = r.objectCapacity * 8, integerBytes = r.integerCapacity * 4
        r.objectSlots = heap.space.unsafePointer(at: heap.dataOffset(r.objectStack), count: objectBytes)
        r.integerSlots = heap.space.unsafePointer(at: heap.dataOffset(r.integerStack), count: integerBytes)
        try? heap.space.markDirty(heap.dataOffset(r.objectStack), count: objectBytes)
        try? heap.space.markDirty(heap.dataOffset(r.integerStack), count: integerBytes)
    }

    /// Stores the registers into the current frame (a safepoint).
    func writeBack() {
        guard !r.frame.isNull else { return }
        heap.setOwnedWord(r.frame, FrameLayout.ip, UInt64(r.ip))
        heap.setOwnedWord(r.frame, FrameLayout.objectDepth, UInt64(r.objectDepth))
        heap.setOwnedWord(r.frame, FrameLayout.integerDepth, UInt64(r.integerDepth))
    }

    // MARK: Code

    @inline(__always) func codeByte() throws(Interruption) -> UInt8 {
        guard r.ip < r.codeLength else { throw try fail("code ends inside an instruction at \(r.ip)") }
        defer { r.ip += 1 }
        return r.codeBytes.load(fromByteOffset: r.ip, as: UInt8.self)
    }

    func codeInt32() throws(Interruption) -> Int32 {
        guard r.ip + 4 <= r.codeLength else { throw try fail("code ends inside an operand at \(r.ip)") }
        let raw = r.codeBytes.loadUnaligned(fromByteOffset: r.ip, as: UInt32.self)
        r.ip += 4
        return Int32(bitPattern: UInt32(bigEndian: raw))
    }

    func codeInt64() throws(Interruption) -> Int64 {
        let high = UInt64(UInt32(bitPattern: try codeInt32()))
        let low = UInt64(UInt32(bitPattern: try codeInt32()))
        return Int64(bitPattern: high << 32 | low)
    }

    func codeString() throws(Interruption) -> [UInt8] {
        let count = Int(try codeInt32())
        guard count >= 0, r.ip + count <= r.codeLength else { throw try fail("string operand of \(count) bytes runs past the code at \(r.ip)") }
        defer { r.ip += count }
        return heap.space.read(at: r.codeStart + UInt64(r.ip), count: count)
    }

    /// A jump target: the displacement is relative to its own field.
    func codeTarget() throws(Interruption) -> Int {
        let field = r.ip
        return field + Int(try codeInt32())
    }

    func jump(to target: Int) throws(Interruption) {
        guard target >= 0, target < r.codeLength else { throw try fail("jump to \(target), outside the method's \(r.codeLength) bytes") }
        r.ip = target
    }

    // MARK: Exceptions made by the VM

    /// A string exception with `message`, for the program to catch.
    func fail(_ message: String) throws(Interruption) -> Interruption {
        do { return .exception(try heap.makeString(message)) } catch { return .fault(error) }
    }

    /// Wraps a heap operation: an object too large is the program's error
    /// (a Phantom exception), any other failure the VM's own.
    @inline(__always) func heapOp<T>(_ body: () throws(VMError) -> T) throws(Interruption) -> T {
        do { return try body() } catch {
            if case .objectTooLarge = error { throw try fail("\(error)") }
            throw .fault(error)
        }
    }
}
