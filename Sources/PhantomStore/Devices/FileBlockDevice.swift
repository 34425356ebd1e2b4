#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An image kept in a regular file (grown on demand with `ftruncate`, so it is
/// sparse until written) or on a raw block device (fixed size).
///
/// Opening takes the image's lock (`ImageLock`) and keeps it until the device
/// is released: exclusive for `.exclusive` (read and write), shared for
/// `.shared` (read only). A second writer — in another process or through a
/// second open in this one — is refused at once, naming the holder, before
/// anything is read or written. New images are made by `ImageFile`, which
/// builds them beside their name and renames them into place.
public final class FileBlockDevice: BlockDevice {
    public enum Access: Sendable {
        /// Read and write, under the exclusive lock: the one writer.
        case exclusive
        /// Read only, under a shared lock: excludes a writer, not other readers.
        case shared
    }

    public let name: String
    public private(set) var blockCount: UInt64
    public let isGrowable: Bool
    public private(set) var byteCount: UInt64
    public let access: Access
    let descriptor: Int32
    /// A writer's `O_EXCL` descriptor of a block device (the kernel's
    /// exclusive claim), held beside the lock; -1 for a regular file.
    private let claim: Int32

    /// Opens an existing image and takes its lock. The lock is taken before
    /// anything is read, and the open is retried if the file was replaced
    /// between `open` and the lock (an image being recreated renames a new
    /// file over the old one: a lock on the old, unlinked file would guard
    /// nothing).
    public init(path: String, access: Access = .exclusive) throws {
        name = path
        self.access = access
        var attempt = 0
        while true {
            let fd = open(path, (access == .exclusive ? O_RDWR : O_RDONLY) | O_CLOEXEC)
            guard fd >= 0 else { throw StoreError.io(path: path, operation: "open", errno: errno) }
            do {
                try ImageLock.acquire(fd, exclusive: access == .exclusive, path: path)
            } catch {
                close(fd)
                throw error
            }
            var opened = stat(), named = stat()
            if fstat(fd, &opened) == 0, stat(path, &named) == 0,
               opened.st_dev == named.st_dev, opened.st_ino == named.st_ino {
                descriptor = fd
                break
            }
            close(fd)
            attempt += 1
            if attempt >= 20 {
                throw StoreError.io(path: path, operation: "open (the file kept being replaced while it was locked)", errno: EAGAIN)
            }
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw StoreError.io(path: path, operation: "stat", errno: code)
        }
        let isBlockDevice = (status.st_mode & S_IFMT) == S_IFBLK
        var claim: Int32 = -1
        if isBlockDevice && access == .exclusive {
            claim = open(path, O_RDWR | O_EXCL | O_CLOEXEC)
            guard claim >= 0 else {
                let code = errno
                close(descriptor)
                if code == EBUSY {
                    throw StoreError.imageInUse(path: path, pid: nil, holderWrites: true, wantedToWrite: true)
                }
                throw StoreError.io(path: path, operation: "open (exclusive claim of the block device)", errno: code)
            }
        }
        self.claim = claim
        isGrowable = !isBlockDevice
        let size = isBlockDevice ? UInt64(max(0, lseek(descriptor, 0, SEEK_END))) : UInt64(status.st_size)
        blockCount = size / UInt64(Layout.blockSize)
        byteCount = size
    }

    /// Adopts a new, empty, already locked regular file (`ImageFile`'s
    /// temporary file); `name` is the path it will have.
    init(adopting fd: Int32, name: String) {
        self.name = name
        access = .exclusive
        descriptor = fd
        claim = -1
        isGrowable = true
        blockCount = 0
        byteCount = 0
    }

    deinit {
        if claim >= 0 { close(claim) }
        close(descriptor)
    }

    /// Whether this is a regular file (not a block device).
    public var isRegularFile: Bool { isGrowable }

    /// `fsync`, metadata included: a new file's size and blocks, before it is
    /// renamed into place.
    func syncAll() throws {
        guard fsync(descriptor) == 0 else {
            throw StoreError.io(path: name, operation: "fsync", errno: errno)
        }
    }

    /// Why this file is provably not a committed image — it is empty, or
    /// every byte of it is zero — or nil when it may be one. Holes of a
    /// sparse file are skipped (`SEEK_DATA`), so a large zeroed file is cheap.
    public func unfinishedReason() throws -> String? {
        if byteCount == 0 { return "the file is empty (0 bytes)" }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        let end = off_t(byteCount)
        while offset < end {
            #if os(Linux)
            let data = lseek(descriptor, offset, 3 /* SEEK_DATA, behind _GNU_SOURCE */)
            if data < 0 {
                if errno == ENXIO { break }   // only holes from here to the end
                // SEEK_DATA unsupported: read everything.
            } else {
                offset = data
                if offset >= end { break }
            }
            #endif
            let count = Int(min(off_t(buffer.count), end - offset))
            let result = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, count, offset) }
            if result < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: name, operation: "read", errno: errno)
            }
            if result == 0 { break }
            if buffer[0..<result].contains(where: { $0 != 0 }) { return nil }
            offset += off_t(result)
        }
        return "every one of its \(byteCount) bytes is zero"
    }


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
