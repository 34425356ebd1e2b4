import PhantomStore

public enum SpaceError: Error, CustomStringConvertible {
    case reserveFailed(bytes: UInt64, errno: Int32)
    /// The dirty tracker's byte-per-page map could not be reserved.
    case dirtyMapFailed(pages: UInt64, errno: Int32)
    /// A space limit no address space can hold (zero, or beyond what a pointer can address).
    case invalidLimit(bytes: UInt64)
    /// The allocator's state in the header (bump pointer, free lists) is not one it could have written.
    case corruptAllocator(String)
    /// A checked access (`markDirty`) outside `[0, limit)`.
    case outOfBounds(offset: UInt64, count: Int, limit: UInt64)
    case spaceFull(requested: UInt64, limit: UInt64)
    case imageLargerThanLimit(pages: UInt64, limitBytes: UInt64)
    case noRestorableGeneration(reasons: [String])
    case snapshotFailed(underlying: Error)
    case notAPhantomSpace(page0Magic: UInt64)

    public var description: String {
        switch self {
        case let .reserveFailed(bytes, code):
            return "could not reserve \(bytes >> 20) MiB of address space for the object space (errno \(code)); lower --space-limit"
        case let .dirtyMapFailed(pages, code):
            return "could not reserve the dirty map for \(pages) pages (\(pages >> 8) MiB of space limit) (errno \(code)); lower --space-limit"
        case let .invalidLimit(bytes):
            return "a space limit of \(bytes) bytes is impossible: it must be at least one page and at most \(ObjectSpace.maximumLimitBytes >> 40) TiB"
        case let .corruptAllocator(message):
            return "the object space's allocator state is corrupt: \(message)"
        case let .outOfBounds(offset, count, limit):
            return "object-space range at \(offset) + \(count) is beyond the limit \(limit)"
        case let .spaceFull(requested, limit):
            return "the object space is full: \(requested) more bytes requested, limit is \(limit >> 20) MiB"
        case let .imageLargerThanLimit(pages, limit):
            return "the image holds \(pages) pages (\(pages * 4096 >> 20) MiB), more than the space limit of \(limit >> 20) MiB; raise --space-limit"
        case let .noRestorableGeneration(reasons):
            return "no retained generation could be restored:\n  " + reasons.joined(separator: "\n  ")
        case let .snapshotFailed(underlying):
            return "snapshot failed: \(underlying)"
        case let .notAPhantomSpace(magic):
            return "page 0 of the image is not an object-space header (magic 0x\(String(magic, radix: 16)))"
        }
    }
}
