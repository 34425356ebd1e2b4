/// Failures of the VM itself, as opposed to Phantom exceptions, which are
/// objects a program throws and catches. These end the run with a message;
/// none is a trap of the host process (DESIGN.md invariant 8).
public enum VMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The object space has no room for an object.
    case outOfSpace(String)
    /// An object larger than the heap allows (`Heap.maximumDataSize`): a
    /// program's request, which the interpreter turns into a Phantom
    /// exception for the program to catch.
    case objectTooLarge(bytes: Int, limit: Int)
    /// The image holds something that is not a Phantom VM heap this build reads.
    case notAPhantomHeap(String)
    /// A stored object does not have the layout its use requires.
    case corruptObject(ObjectRef, String)
    /// A class could not be found or loaded.
    case classNotFound(String)
    case invalidClass(String)

    public var description: String {
        switch self {
        case let .outOfSpace(message): "object space full: \(message)"
        case let .objectTooLarge(bytes, limit): "out of memory: an object of \(bytes) bytes is larger than the limit of \(limit)"
        case let .notAPhantomHeap(message): "not a Phantom VM heap: \(message)"
        case let .corruptObject(ref, message): "corrupt object \(ref): \(message)"
        case let .classNotFound(name): "class \(name) not found"
        case let .invalidClass(message): "invalid class: \(message)"
        }
    }
}
