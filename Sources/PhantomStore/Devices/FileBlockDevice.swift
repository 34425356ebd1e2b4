#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An image kept in a regular file (grown on demand with `ftruncate`, so it is
/// sparse until written) or on a raw block device (fixed size).
public final class FileBlockDevice: BlockDevice {
    public let name: String
    public private(set) var blockCount: UInt64
    public let isGrowable: Bool
    public private(set) var byteCount: UInt64
    private let descriptor: Int32

    public enum Mode { case openExisting, createNew, createOrTruncate }

    public init(path: String, mode: Mode = .openExisting, readOnly: Bool = false) throws {
        name = path
        var flags: Int32 = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC
        switch mode {
        case .openExisting: break
        case .createNew: flags |= O_CREAT | O_EXCL
        case .createOrTruncate: flags |= O_CREAT | O_TRUNC
        }
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            if errno == EEXIST { throw StoreError.alreadyExists(path: path) }
            throw StoreError.io(path: path, operation: "open", errno: errno)
        }
        descriptor = fd
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            throw StoreError.io(path: path, operation: "stat", errno: code)
        }
        let isBlockDevice = (status.st_mode & S_IFMT) == S_IFBLK
        isGrowable = !isBlockDevice
        let size = isBlockDevice ? UInt64(max(0, lseek(fd, 0, SEEK_END))) : UInt64(status.st_size)
        blockCount = size / UInt64(Layout.blockSize)
        byteCount = size
    }

    deinit { close(descriptor) }

    public func read(block: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        let blocks = UInt64(buffer.count / Layout.blockSize)
        guard block + blocks <= blockCount else {
            throw StoreError.blockOutOfRange(what: "a read", block: block + blocks - 1, imageBlocks: blockCount)
        }
        var done = 0
        while done < buffer.count {
            let result = pread(descriptor, buffer.baseAddress! + done, buffer.count - done,
                               off_t(block) * off_t(Layout.blockSize) + off_t(done))
            if result < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: name, operation: "read of block \(block)", errno: errno)
            }
            if result == 0 {
                throw StoreError.blockOutOfRange(what: "a read", block: block, imageBlocks: blockCount)
            }
            done += result
        }
    }

    public func write(block: UInt64, from buffer: UnsafeRawBufferPointer) throws {
        let blocks = UInt64(buffer.count / Layout.blockSize)
        if block + blocks > blockCount { try resize(blockCount: block + blocks) }
        var done = 0
        while done < buffer.count {
            let result = pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done,
                                off_t(block) * off_t(Layout.blockSize) + off_t(done))
            if result < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC || errno == EDQUOT {
                    throw StoreError.noSpace(path: name, neededBlocks: blocks)
                }
                throw StoreError.io(path: name, operation: "write of block \(block)", errno: errno)
            }
            done += result
        }
    }

    public func flush() throws {
        #if canImport(Darwin)
        let result = fsync(descriptor)
        #else
        let result = fdatasync(descriptor)
        #endif
        guard result == 0 else {
            throw StoreError.io(path: name, operation: "flush (fdatasync)", errno: errno)
        }
    }

    public func resize(blockCount newCount: UInt64) throws {
        guard newCount > blockCount else { return }
        guard isGrowable else {
            throw StoreError.imageFull(path: name, maxBlocks: blockCount)
        }
        guard ftruncate(descriptor, off_t(newCount) * off_t(Layout.blockSize)) == 0 else {
            if errno == ENOSPC || errno == EFBIG { throw StoreError.noSpace(path: name, neededBlocks: newCount - blockCount) }
            throw StoreError.io(path: name, operation: "grow to \(newCount) blocks", errno: errno)
        }
        blockCount = newCount
        byteCount = newCount * UInt64(Layout.blockSize)
    }
}
