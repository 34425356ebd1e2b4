import CPhantomSupport
import Foundation

/// Images as named files: open one under its lock, or create one atomically
/// (DESIGN.md invariant 9: "a new image appears under its name only once it
/// is valid").
///
/// **Creation protocol** — the same as SQLite's and LMDB's writers of whole
/// files, and git's `index.lock`:
/// 1. Remove stale temporary files of earlier, killed creations of this image
///    (`NAME.creating-PID-XXXX`, beside it). A temporary file is locked by its
///    creator from the moment it exists, and the kernel drops that lock when
///    the creator dies, so "unlocked" means "abandoned": no pid or age guess,
///    no risk of deleting a live creation, none of pid reuse.
/// 2. Create the temporary file (`O_EXCL`), lock it exclusively, write an
///    empty image into it (generation 0: slots, superblock, `fdatasync`),
///    then `fsync` it.
/// 3. Rename it over the name, then `fsync` the directory so that the rename
///    is durable. Only now does the image exist under its name, complete.
///    When nothing was there, the rename is `RENAME_NOREPLACE` (a creation
///    racing ours loses cleanly instead of one silently replacing the other);
///    when an old file is being replaced, its lock is held all along, so no
///    other writer is using it.
///
/// **Locking across the rename**: the lock is on the inode, not on the name,
/// so the temporary file's lock simply becomes the image's lock when it is
/// renamed; the returned store keeps that descriptor. There is no moment at
/// which the name refers to an unlocked new image. A process that opened the
/// *old* file just before the rename gets its lock only after we release it,
/// on an inode that no longer has the name — `FileBlockDevice` checks for
/// exactly that after locking (same device and inode as the name?) and opens
/// again, finding the new, locked image.
///
/// A kill at any point leaves under the name either what was there before or
/// the complete new image, plus perhaps a temporary file that the next
/// creation removes. A full disk fails the creation with the name untouched.
///
/// A raw block device cannot be renamed: it is formatted in place (under its
/// lock and `O_EXCL` claim); an interrupted format may leave a torn superblock.
public enum ImageFile {
    /// What to do with a file found under the name that is provably not an
    /// image (empty, or all zeros — see `FileBlockDevice.unfinishedReason`).
    public enum Unfinished: Sendable {
        /// Refuse with `StoreError.unfinishedImage` (which says what replaces it).
        case refuse
        /// Replace it with a new image, reporting why through `replaced`.
        case replace
    }

    /// What `openOrCreate` did.
    public enum Outcome: Sendable, Equatable {
        case opened
        case created
        /// An unfinished file was replaced; the reason says what it was.
        case replacedUnfinished(String)
    }

    /// The prefix of temporary files of creations of the image `name`.
    static func temporaryPrefix(_ name: String) -> String { name + ".creating-" }

    /// Opens the image at `path` for writing — its lock held for the life of
    /// the returned store — creating it if there is no file, and dealing with
    /// an unfinished file as `unfinished` says. Nothing is written to an
    /// existing file unless it is replaced.
    public static func openOrCreate(_ path: String, options: Store.Options = Store.Options(),
                                    unfinished: Unfinished) throws -> (store: Store, outcome: Outcome) {
        removeStaleTemporaries(of: path)
        for _ in 0..<10 {
            let device: FileBlockDevice
            do {
                device = try FileBlockDevice(path: path, access: .exclusive)
            } catch StoreError.io(_, let operation, let code) where code == ENOENT && operation == "open" {
                do {
                    return (try create(at: path, options: options, replacing: nil), .created)
                } catch StoreError.alreadyExists {
                    continue   // another process created it meanwhile: open that one
                }
            }
            do {
                return (try Store.open(device), .opened)
            } catch let error as StoreError {
                // Only a file with no recognisable superblock at all is
                // examined further (a valid image is never scanned); a damaged
                // or future-version superblock is reported as it is.
                switch error {
                case .notAnImage, .tooSmall: break
                default: throw error
                }
                guard let reason = try device.unfinishedReason() else { throw error }
                guard case .replace = unfinished else { throw StoreError.unfinishedImage(path: path, reason: reason) }
                return (try create(at: path, options: options, replacing: device), .replacedUnfinished(reason))
            }
        }
        throw StoreError.io(path: path, operation: "open or create (it kept appearing and disappearing)", errno: EAGAIN)
    }

    /// Opens an existing image for reading, under a shared lock: no writer can
    /// hold the image meanwhile, so what is read is one committed generation
    /// and not one being replaced.
    public static func openForReading(_ path: String) throws -> Store {
        try Store.open(FileBlockDevice(path: path, access: .shared))
    }

    /// Writes a new, empty image and makes it appear under `path` atomically.
    ///
    /// - `replacing: nil`: there must be no file at `path`
    ///   (`StoreError.alreadyExists` otherwise, and nothing changes).
    /// - `replacing: device`: the file at `path`, opened (and so locked) by
    ///   the caller; it is replaced whatever it holds, so the caller decides
    ///   that it may be (see `replaceable`). It stays locked until the new image has
    ///   taken its name; the caller then drops it.
    ///
    /// `observe` (tests) is called after each step with a description of it,
    /// so a test can copy the directory as a kill at that moment would leave it.
    public static func create(at path: String, options: Store.Options = Store.Options(),
                              replacing old: FileBlockDevice?) throws -> Store {
        try create(at: path, options: options, replacing: old, observe: nil)
    }

    static func create(at path: String, options: Store.Options, replacing old: FileBlockDevice?,
                       observe: ((String) -> Void)?) throws -> Store {
        if let old, !old.isRegularFile {
            // A block device: formatted in place, under the caller's lock and claim.
            return try Store.create(on: old, options: options)
        }
        removeStaleTemporaries(of: path)
        // Through a symbolic link, the file it names is replaced, not the link.
        let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let directory = url.deletingLastPathComponent().path
        var suffix = UInt16.random(in: 0...UInt16.max)
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            temporary = url.deletingLastPathComponent()
                .appendingPathComponent(temporaryPrefix(url.lastPathComponent) + "\(getpid())-\(String(suffix, radix: 16))").path
            fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
            suffix &+= 1
        }
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "create \(temporary)", errno: errno) }
        do {
            // Locked before anything is written; `removeStaleTemporaries` in
            // another process may have seen it unlocked in the instant between
            // open and lock, and unlinked it: then start over.
            try ImageLock.acquire(fd, exclusive: true, path: temporary)
            var opened = stat(), named = stat()
            guard fstat(fd, &opened) == 0, stat(temporary, &named) == 0,
                  opened.st_ino == named.st_ino, opened.st_dev == named.st_dev else {
                close(fd)
                return try create(at: path, options: options, replacing: old, observe: observe)
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        observe?("temporary file created and locked")
        let device = FileBlockDevice(adopting: fd, name: path)
        let observed: BlockDevice = observe.map { ObservedDevice(device, observe: $0) } ?? device
        do {
            _ = try Store.create(on: observed, options: options)
            try device.syncAll()
            observe?("temporary file synced")
            if old != nil {
                guard rename(temporary, path) == 0 else {
                    throw StoreError.io(path: path, operation: "rename \(temporary) over it", errno: errno)
                }
            } else {
                try renameNoReplace(temporary, path)
            }
            observe?("renamed")
        } catch {
            unlink(temporary)
            throw error
        }
        // From here the image exists under its name. The directory's fsync
        // makes that durable; if it fails the image is still valid and locked,
        // only perhaps not yet durable under its name, which is what the
        // error says.
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            defer { close(dfd) }
            if fsync(dfd) != 0 && errno != EINVAL {
                throw StoreError.io(path: path, operation: "fsync of its directory after the rename", errno: errno)
            }
        }
        observe?("directory synced")
        return try Store.open(device)
    }

    /// rename(2) that never replaces: RENAME_NOREPLACE, or where the file
    /// system lacks it, link(2) (which never replaces either) and unlink of
    /// the temporary name.
    private static func renameNoReplace(_ from: String, _ to: String) throws {
        if phantom_rename_noreplace(from, to) == 0 { return }
        var code = errno
        if code == EINVAL || code == ENOSYS {
            if link(from, to) == 0 {
                unlink(from)
                return
            }
            code = errno
        }
        if code == EEXIST { throw StoreError.alreadyExists(path: to) }
        throw StoreError.io(path: to, operation: "rename \(from) to it", errno: code)
    }

    /// Removes the temporary files that killed creations of `path` left beside
    /// it: those nobody holds locked (the kernel released their creator's lock
    /// when it died). Files still locked belong to a creation in progress and
    /// are left alone. Best effort: a file that cannot be examined stays.
    /// Returns the names removed.
    @discardableResult
    public static func removeStaleTemporaries(of path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let prefix = temporaryPrefix(url.lastPathComponent)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            let candidate = directory.appendingPathComponent(name).path
            var named = stat()
            guard lstat(candidate, &named) == 0, (named.st_mode & S_IFMT) == S_IFREG else { continue }
            let fd = open(candidate, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard (try? ImageLock.acquire(fd, exclusive: true, path: candidate)) != nil else { continue }
            var opened = stat()
            guard fstat(fd, &opened) == 0, lstat(candidate, &named) == 0,
                  opened.st_ino == named.st_ino, opened.st_dev == named.st_dev else { continue }
            if unlink(candidate) == 0 { removed.append(name) }
        }
        return removed
    }
}

/// A device that reports each write and flush (for `ImageFile.create`'s `observe`).
private final class ObservedDevice: BlockDevice {
    let base: BlockDevice
    let observe: (String) -> Void
    init(_ base: BlockDevice, observe: @escaping (String) -> Void) {
        self.base = base
        self.observe = observe
    }
    var name: String { base.name }
    var blockCount: UInt64 { base.blockCount }
    var byteCount: UInt64 { base.byteCount }
    var isGrowable: Bool { base.isGrowable }
    func read(block: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws { try base.read(block: block, into: buffer) }
    func write(block: UInt64, from buffer: UnsafeRawBufferPointer) throws {
        try base.write(block: block, from: buffer)
        observe("write of block \(block)")
    }
    func flush() throws {
        try base.flush()
        observe("flush")
    }
    func resize(blockCount: UInt64) throws {
        try base.resize(blockCount: blockCount)
        observe("resize to \(blockCount) blocks")
    }
}
