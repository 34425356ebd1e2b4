/// The fast registers of the running thread: the current frame's fields kept
/// in Swift locals while the interpreter runs, written back into the frame
/// (`Interpreter.writeBack`) at every safepoint, call, return and throw.
struct Registers {
    var thread = ObjectRef.null
    var frame = ObjectRef.null
    var this = ObjectRef.null
    var code = ObjectRef.null
    /// Object-space offset of the first bytecode byte.
    var codeStart: UInt64 = 0
    var codeLength = 0
    var ip = 0
    var objectStack = ObjectRef.null
    var objectDepth = 0
    var objectCapacity = 0
    /// Host addresses of the code and of the two stacks' slots, valid while
    /// this process runs (the space never moves) and never stored in the
    /// space. The stacks' pages are marked dirty whenever a frame is loaded
    /// or a stack replaced, which is at least once per slice: a snapshot is
    /// taken only between slices, so every slot written through these
    /// pointers is on a page marked since the last snapshot.
    var codeBytes = Registers.placeholder
    var objectSlots = UnsafeMutableRawPointer(mutating: Registers.placeholder)
    var integerSlots = UnsafeMutableRawPointer(mutating: Registers.placeholder)
    static var placeholder: UnsafeRawPointer { UnsafeRawPointer(bitPattern: 0x1000)! }
    var integerStack = ObjectRef.null
    var integerDepth = 0
    var integerCapacity = 0
    /// Set by `prefix_long`/`prefix_float`/`prefix_double` for the next
    /// instruction only; never stored, because no safepoint falls between a
    /// prefix and the instruction it modifies.
    var prefix = Prefix.none
}

/// The type a prefix opcode gives the next instruction's integer-stack operands.
enum Prefix {
    case none, long, float, double
    /// Longs and doubles take two integer-stack slots (high word pushed first).
    var isWide: Bool { self == .long || self == .double }
}

/// How control leaves an instruction other than by going on to the next one.
enum Interruption: Error {
    /// A Phantom exception: any object, thrown by `throw` or by the VM itself
    /// (a string such as "division by zero"), to be caught by a catcher.
    case exception(ObjectRef)
    /// A `sys` call cannot complete yet; the thread's state says why. The
    /// instruction pointer stays on the `sys`, which runs again when the
    /// thread is resumed (Phantom's restartable syscalls).
    case blocked
    /// The VM itself cannot go on (object space full, a corrupt object).
    case fault(VMError)
}
