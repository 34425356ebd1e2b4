/// Everything that can go wrong with an image. Each message names the image
/// (or block, or generation) and says what to do, because the person reading it
/// is usually an operator after a power cut, not the author of this code.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case io(path: String, operation: String, errno: Int32)
    case noSpace(path: String, neededBlocks: UInt64)
    case imageFull(path: String, maxBlocks: UInt64)
    case tooSmall(path: String, bytes: UInt64)
    case notAnImage(path: String)
    case superblocksDamaged(path: String, slots: [Int])
    case futureVersion(path: String, found: UInt32, supported: UInt32)
    case unsupportedBlockSize(path: String, found: UInt32)
    case noUsableGeneration(path: String, reasons: [String])
    case checksumMismatch(what: String, block: UInt64, expected: UInt32, found: UInt32)
    case blockOutOfRange(what: String, block: UInt64, imageBlocks: UInt64)
    case unknownGeneration(UInt64, retained: [UInt64])
    case storeFailed(reason: String)
    case alreadyExists(path: String)
    case invalidArgument(String)
    /// Another open holds the image's lock (invariant 9); `pid` is nil when it cannot be told.
    case imageInUse(path: String, pid: Int32?, holderWrites: Bool, wantedToWrite: Bool)
    /// An empty or all-zero file where an image should be: what an interrupted
    /// creation by an older phantom, or one on a full disk, left behind.
    case unfinishedImage(path: String, reason: String)
    /// Asked to replace a file that might hold data (a damaged image, a foreign file).
    case notReplaceable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        case let .noSpace(path, needed):
            return "\(path): no space left on the device while writing \(needed) blocks; the previous generation is intact. Free disk space, then snapshot again"
        case let .imageFull(path, maxBlocks):
            return "\(path): the image is full (its limit is \(maxBlocks) blocks of 4 KiB); the previous generation is intact. Lower the retention or create a larger image"
        case let .tooSmall(path, bytes):
            return "\(path): \(bytes) bytes is too small to be a Phantom image (truncated, or not an image)"
        case let .notAnImage(path):
            return "\(path): not a Phantom image — no superblock in blocks 0–3 (a foreign file, or the superblock area was erased)"
        case let .superblocksDamaged(path, slots):
            return "\(path): every superblock is damaged (slots \(slots.map(String.init).joined(separator: ", ")) fail their checksum); nothing was written. Try `phantom image verify`"
        case let .futureVersion(path, found, supported):
            return "\(path): image format version \(found) is newer than this phantom understands (\(supported)); use a newer phantom. Nothing was written"
        case let .unsupportedBlockSize(path, found):
            return "\(path): unsupported block size \(found) (this phantom uses 4096)"
        case let .noUsableGeneration(path, reasons):
            return "\(path): no retained generation is readable:\n  " + reasons.joined(separator: "\n  ")
        case let .checksumMismatch(what, block, expected, found):
            return "checksum mismatch in \(what) at block \(block): expected \(hex(expected)), found \(hex(found))"
        case let .blockOutOfRange(what, block, imageBlocks):
            return "\(what) refers to block \(block), beyond the end of the image (\(imageBlocks) blocks): the image is truncated"
        case let .unknownGeneration(generation, retained):
            return "generation \(generation) is not retained (retained: \(retained.map(String.init).joined(separator: ", ")))"
        case let .storeFailed(reason):
            return "the image can no longer be written safely (\(reason)); restart phantom to reopen it from the last committed generation"
        case let .alreadyExists(path):
            return "\(path) already exists; pass --force to overwrite it"
        case let .invalidArgument(message):
            return message
        case let .imageInUse(path, pid, holderWrites, wantedToWrite):
            let who = pid.map { "process \($0)" } ?? "another process (its pid cannot be told)"
            let mine = (pid != nil && pid == getpid()) ? " (this very process, through another open)" : ""
            if holderWrites {
                let what = wantedToWrite
                    ? "a second writer would destroy it (one writer per image)"
                    : "a read-only command takes a shared lock, so that it never reads a generation while it is being replaced"
                return "\(path) is in use: \(who)\(mine) is writing it; \(what). Nothing was done. Stop that process first (Ctrl-C or SIGTERM takes a final snapshot), or use another image"
            }
            return "\(path) is in use: \(who)\(mine) is reading it (`phantom image info/verify/generations`); nothing was done. Try again when it has finished"
        case let .unfinishedImage(path, reason):
            return "\(path): \(reason), not a Phantom image: most likely the remains of an image creation that was interrupted (a kill, a full disk). Nothing was written. `--fresh` (or `phantom image create --force \(path)`) replaces it with a new image"
        case let .notReplaceable(path, reason):
            return "\(path): \(reason); phantom replaces only an image or an empty or all-zero file, never one that might hold data. Nothing was written. Move it away yourself if it is not needed"
        }
    }
}

func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
