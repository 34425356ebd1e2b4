import Foundation

/// `.internal.int`, `.long`, `.float`, `.double`: clone, equals (same class
/// and value), toString (`%d`, `%lld`, `%f`) and toXML.
enum NumberMethods {
    static let int = table(tag: "int")
    static let long = table(tag: "long")
    static let float = table(tag: "float")
    static let double = table(tag: "double")

    private static func table(tag: String) -> [Int: NativeMethod] {
        [
            UniversalOrdinal.clone: { call throws(Interruption) in
                try call.make { () throws(VMError) in
                    let copy = try call.heap.allocate(kind: call.heap.kind(of: call.this) ?? .int, class: call.heap.classOf(call.this), dataSize: 8)
                    call.heap.setWord(copy, 0, call.heap.word(call.this, 0))
                    return copy
                }
            },
            UniversalOrdinal.equals: { call throws(Interruption) in
                let other = try call.argument(0)
                let same = !other.isNull && call.heap.kind(of: other) == call.heap.kind(of: call.this)
                    && call.heap.word(other, 0) == call.heap.word(call.this, 0)
                return try call.makeInt(same ? 1 : 0)
            },
            UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString(text(call.heap, call.this)) },
            UniversalOrdinal.toXML: { call throws(Interruption) in try call.makeString("<\(tag)>\(text(call.heap, call.this))</\(tag)>") },
        ]
    }

    /// How Phantom prints a boxed number.
    static func text(_ heap: Heap, _ object: ObjectRef) -> String {
        if let value = heap.intValue(object) { return String(value) }
        if let value = heap.longValue(object) { return String(value) }
        if let value = heap.floatValue(object) { return String(format: "%f", Double(value)) }
        if let value = heap.doubleValue(object) { return String(format: "%f", value) }
        return "?"
    }
}
