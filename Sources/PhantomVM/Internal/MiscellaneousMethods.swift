import Foundation

/// `.internal.binary`: a byte buffer. getByte(index), setByte(index, byte),
/// setRange(source, toPosition, fromPosition, length).
enum BinaryMethods {
    static let table: [Int: NativeMethod] = [
        UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString("(binary)") },
        8: { call throws(Interruption) in
            let index = Int(try call.int(0))
            guard index >= 0, index < call.heap.dataSize(of: call.this) else { throw call.fail("binary index out of bounds") }
            return try call.makeInt(Int32(call.heap.space.load(UInt8.self, at: call.heap.dataOffset(call.this) + UInt64(index))))
        },
        9: { call throws(Interruption) in
            let index = Int(try call.int(0)), byte = try call.int(1)
            guard index >= 0, index < call.heap.dataSize(of: call.this) else { throw call.fail("binary index out of bounds") }
            call.heap.space.store(UInt8(truncatingIfNeeded: byte), at: call.heap.dataOffset(call.this) + UInt64(index))
            return .null
        },
        10: { call throws(Interruption) in
            let source = try call.argument(0)
            let to = Int(try call.int(1)), from = Int(try call.int(2)), length = Int(try call.int(3))
            let heap = call.heap
            guard heap.kind(of: source) == .binary else { throw call.fail("binary copy: the source is not a binary") }
            guard to >= 0, length >= 0, to + length <= heap.dataSize(of: call.this) else { throw call.fail("binary copy dest index/len out of bounds") }
            guard from >= 0, from + length <= heap.dataSize(of: source) else { throw call.fail("binary copy src index/len out of bounds") }
            if length > 0 {
                call.charge(bytes: length)
                heap.space.write(heap.space.read(at: heap.dataOffset(source) + UInt64(from), count: length), at: heap.dataOffset(call.this) + UInt64(to))
            }
            return .null
        },
    ]
}

/// The smaller internal classes.
enum MiscellaneousMethods {
    /// `.internal.closure`: an object and a method ordinal.
    static let closure: [Int: NativeMethod] = [
        9: { call throws(Interruption) in try call.makeInt(Int32(truncatingIfNeeded: call.heap.word(call.this, 1))) },
        10: { call throws(Interruption) in call.heap.setWord(call.this, 1, UInt64(UInt32(bitPattern: try call.int(0)))); return .null },
        11: { call throws(Interruption) in call.heap.setRef(call.this, 0, try call.argument(0)); return .null },
    ]

    /// `.internal.weakref`: get() → the object, or null once it was collected.
    /// set(object) (ordinal 9) is ours: Phantom makes weak references only in C.
    static let weakref: [Int: NativeMethod] = [
        8: { call throws(Interruption) in
            // A target handed out while a cycle marks is strongly referenced
            // again, from a stack the cycle will not look at again: shaded,
            // or the cycle frees it under the program (snapshot at the
            // beginning keeps only what was strongly reachable then).
            let target = ObjectRef(call.heap.word(call.this, 0))
            call.heap.shade(target)
            return target
        },
        9: { call throws(Interruption) in
            let target = try call.argument(0)
            call.heap.shade(target)  // a collection in progress keeps it this time
            call.heap.noteWeakTarget(target)
            call.heap.setWord(call.this, 0, target.offset)
            return .null
        },
    ]

    /// `.internal.world`: getMyThread(), startThread(runnable, argument) → 0, log(text).
    static let world: [Int: NativeMethod] = [
        8: { call throws(Interruption) in call.thread },
        9: { call throws(Interruption) in
            let target = try call.argument(0)
            guard !target.isNull else { return try call.makeInt(22) }  // EINVAL, as Phantom's
            _ = try call.vm.startThread(calling: UniversalOrdinal.defaultOperation1, on: target, argument: try call.argument(1))
            return try call.makeInt(0)
        },
        10: { call throws(Interruption) in
            let argument = try call.argument(0)
            call.charge(bytes: call.heap.kind(of: argument) == .string ? call.heap.dataSize(of: argument) : 0)
            call.vm.write(call.vm.printable(argument) + "\n")
            return .null
        },
    ]

    /// `.internal.time`: time() → milliseconds since 1970 as a long (Phantom's throws "not implemented").
    static let time: [Int: NativeMethod] = [
        16: { call throws(Interruption) in
            let milliseconds = Int64(call.vm.clock() / 1_000_000)
            return try call.make { () throws(VMError) in try call.heap.makeLong(milliseconds) }
        },
    ]

    /// `.internal.stat`: we keep no kernel statistics yet; every counter reads 0, idle() 100.
    static let stat: [Int: NativeMethod] = [
        16: { call throws(Interruption) in
            guard (0...4).contains(try call.int(1)) else { throw call.fail("invalid stat counter number") }
            return try call.makeInt(0)
        },
        17: { call throws(Interruption) in try call.makeInt(100) },
    ]

    /// `.internal.thread`.
    static let thread: [Int: NativeMethod] = [
        10: { call throws(Interruption) in throw call.fail("Thread can pause itself only") },
        11: { call throws(Interruption) in throw call.fail("Not this way") },
        12: { _ throws(Interruption) in .null },
        13: { _ throws(Interruption) in .null },
        14: { call throws(Interruption) in call.heap.ref(call.heap.root, RootLayout.osEntry) },
    ]

    /// `.internal.class`: instanceOf(object) at 14 overrides setImmutable.
    static let classMethods: [Int: NativeMethod] = [
        8: { call throws(Interruption) in throw call.fail("newClass is not supported") },
        14: { call throws(Interruption) in
            let object = try call.argument(0)
            var current = object.isNull ? .null : call.heap.classOf(object)
            while call.heap.kind(of: current) == .class {
                if current == call.this { return try call.makeInt(1) }
                current = call.heap.ref(current, ClassLayout.parent)
            }
            return try call.makeInt(0)
        },
    ]
}
