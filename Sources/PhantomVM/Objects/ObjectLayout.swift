/// How a Phantom object lies in the object space (Phantom's
/// `pvm_object_storage`: a header with class, reference count, flags and size,
/// then the data area).
///
/// ```
///  0  class            u64  the object's class object
///  8  next             u64  the next object in the heap's list of all objects (for the sweep)
/// 16  previous         u64  the one before it (so reference counting unlinks in O(1))
/// 24  kind             u16  ObjectKind: how the data area is laid out
/// 26  flags            u16  ObjectFlags (reference counting's bookkeeping)
/// 28  reference count  u32  counted references to this object (ReferenceCounting.swift)
/// 32  data size        u32  bytes in the data area
/// 36  ref words        u32  leading 8-byte words of the data area that are references
/// 40  data
/// ```
///
/// "ref words" is what lets one tracing collector walk every kind of object
/// without knowing it: the first `refWords` words of the data are object
/// references, the rest are plain bytes (numbers, characters, code).
public enum ObjectHeader {
    static let classField: UInt64 = 0
    static let nextField: UInt64 = 8
    static let previousField: UInt64 = 16
    static let kindField: UInt64 = 24
    static let flagsField: UInt64 = 26
    static let referenceCountField: UInt64 = 28
    static let dataSizeField: UInt64 = 32
    static let refWordsField: UInt64 = 36
    public static let size: UInt64 = 40
}

/// Bits of the header's flags word.
enum ObjectFlags {
    /// The object is in the zero-count table (`Heap.zeroCount`), so a
    /// second decrement to zero does not list it twice. Transient in
    /// meaning: a restored heap clears it (`Heap.rebuildZeroCountTable`).
    static let inZeroCountTable: UInt16 = 1
    /// A weak reference once pointed here. Weak references are not counted,
    /// so reference counting leaves such an object to the tracing collector,
    /// which clears the weak references when it frees it.
    static let weakTarget: UInt16 = 2
}

/// What an object's data area holds. Phantom marks internal objects by the
/// internal flag of their class; we record the layout in the object itself so
/// that the collector and the restore checks need no class lookup.
public enum ObjectKind: UInt16, Sendable {
    /// An instance of a class from a class file: `n_object_slots` references.
    case instance = 1
    /// A boxed 32-bit integer (`.internal.int`).
    case int = 2
    case long = 3
    case float = 4
    case double = 5
    /// Bytes of text (`.internal.string`), immutable once made.
    case string = 6
    /// `.internal.container.array`: a count and a reference to its slot vector.
    case array = 7
    /// A vector of references (Phantom's `.internal.page`; an array's storage).
    case slots = 8
    case `class` = 9
    /// Bytecode of one method (`.internal.code`).
    case code = 10
    case thread = 11
    case callFrame = 12
    case objectStack = 13
    case integerStack = 14
    case exceptionStack = 15
    /// Raw bytes (`.internal.binary`).
    case binary = 16
    /// The root object (Phantom's `root.h` slots).
    case root = 17
    /// An object of an internal class whose data is its own small record
    /// (boot, tty, mutex, cond, sema, weakref, closure, time, world, ...).
    case internalRecord = 18
}
