/// A call of an internal class's native method (Phantom's syscall function:
/// `this`, the arguments with the first one first, the calling thread).
struct NativeCall {
    let vm: VirtualMachine
    let thread: ObjectRef
    let this: ObjectRef
    let arguments: [ObjectRef]

    var heap: Heap { vm.heap }

    /// A Phantom exception with `message` (Phantom's `SYSCALL_THROW_STRING`).
    func fail(_ message: String) -> Interruption {
        do { return .exception(try heap.makeString(message)) } catch { return .fault(error) }
    }

    /// Phantom's `CHECK_PARAM_COUNT`: too few arguments throw; more are accepted.
    func require(_ count: Int) throws(Interruption) {
        guard arguments.count >= count else { throw fail("sys: need more parameters") }
    }

    func argument(_ index: Int) throws(Interruption) -> ObjectRef {
        try require(index + 1)
        return arguments[index]
    }

    func int(_ index: Int) throws(Interruption) -> Int32 {
        guard let value = heap.intValue(try argument(index)) else { throw fail("not an integer arg: argument \(index + 1)") }
        return value
    }

    func stringBytes(_ index: Int) throws(Interruption) -> [UInt8] {
        guard let value = heap.stringBytes(try argument(index)) else { throw fail("not a string arg: argument \(index + 1)") }
        charge(bytes: value.count)
        return value
    }

    /// An object's data area, read for a method that works through all of
    /// it (and charged to the slice for it).
    func bytes(of object: ObjectRef) -> [UInt8] {
        charge(bytes: heap.dataSize(of: object))
        return heap.bytes(of: object)
    }

    /// Charges the calling thread's slice for working through `bytes` bytes
    /// (`Interpreter.charge`).
    func charge(bytes: Int) { vm.interpreter.charge(bytes: bytes) }

    func string(_ index: Int) throws(Interruption) -> String { String(decoding: try stringBytes(index), as: UTF8.self) }

    @discardableResult
    func make(_ body: () throws(VMError) -> ObjectRef) throws(Interruption) -> ObjectRef {
        do { return try body() } catch {
            if case .objectTooLarge = error { throw fail("\(error)") }
            throw .fault(error)
        }
    }

    func makeInt(_ value: Int32) throws(Interruption) -> ObjectRef { try make { () throws(VMError) in try heap.makeInt(value) } }
    func makeString(_ text: String) throws(Interruption) -> ObjectRef { try make { () throws(VMError) in try heap.makeString(text) } }

    /// For a native method that waits: the thread's state and what it waits
    /// for are set; the `sys` runs again when the thread is woken.
    func block() -> Interruption { .blocked }
}

/// A native method: returns the result object or throws (a Phantom exception,
/// `.blocked` to wait and be re-executed, or a VM fault).
typealias NativeMethod = @Sendable (NativeCall) throws(Interruption) -> ObjectRef
