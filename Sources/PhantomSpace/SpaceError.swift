import PhantomStore

public enum SpaceError: Error, CustomStringConvertible {
    case reserveFailed(bytes: UInt64, errno: Int32)
    case spaceFull(requested: UInt64, limit: UInt64)
    case imageLargerThanLimit(pages: UInt64, limitBytes: UInt64)
    case noRestorableGeneration(reasons: [String])
    case snapshotFailed(underlying: Error)
    case notAPhantomSpace(page0Magic: UInt64)

    public var description: String {
        switch self {
        case let .reserveFailed(bytes, code):
            return "could not reserve \(bytes >> 20) MiB of address space for the object space (errno \(code)); lower --space-limit"
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
