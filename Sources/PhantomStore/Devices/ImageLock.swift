import CPhantomSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One writer per image (DESIGN.md invariant 9): the lock every `FileBlockDevice`
/// takes on the file (or block device) it opens, for as long as it is open.
///
/// **Which lock.** An open-file-description lock (Linux `F_OFD_SETLK`) on one
/// byte far beyond any image, exclusive for a writer, shared for a reader.
/// It is the lock discipline of SQLite and LMDB minus their known traps:
/// - POSIX `fcntl` locks (`F_SETLK`, SQLite's) belong to the *process*: a
///   second open of the image in the same process does not conflict, and
///   closing *any* descriptor of the file — say, a library reading it to
///   show its size — silently drops the lock (SQLite works around this with
///   a global table of inodes; we need not).
/// - `flock` (LMDB's) is per open file description like OFD locks, but on
///   NFS it is emulated with POSIX locks and so becomes per-process again.
/// OFD locks conflict between two opens in one process, survive the closing of
/// other descriptors, work on NFS as byte-range locks, and are released by the
/// kernel when the last descriptor goes — on exit, on `kill -9`, on a crash —
/// so a lock never outlives its holder and there is no stale lock file to
/// clean up. Descriptors are opened `O_CLOEXEC`, so a spawned child never
/// inherits (and keeps alive) the lock.
///
/// **Who holds it.** `F_OFD_GETLK` reports no pid (`l_pid` is -1), but it does
/// report the *start* of the conflicting lock. So the holder also locks one
/// byte at `writerPids + pid` (or `readerPids + pid` for a reader), and a
/// refused opener asks the kernel for any lock in that range: its offset is
/// the pid. This is as robust as the lock itself (it dies with the same
/// descriptor, no file to go stale, no pid reuse problem) and needs no POSIX
/// lock, which could be dropped by an unrelated `close`. The pid byte is taken
/// just after the image byte, so a prober may — for microseconds — find the
/// image locked and no pid yet; it retries briefly, then says "pid unknown".
/// Pids are those of the holder's pid namespace.
///
/// Locks are advisory: they exclude phantom processes (and anything else that
/// asks), not `dd`. A raw block device is locked the same way (the lock is on
/// the device node's inode); a writer also opens it `O_EXCL`, the kernel's
/// exclusive claim on the device itself, which catches a mounted file system
/// and another phantom reaching the device through a different node.
enum ImageLock {
    /// The byte every opener locks: exclusive to write, shared to read.
    /// Beyond any image (locks need not lie within the file), so they never
    /// interfere with the data.
    static let imageByte: Int64 = 1 << 62
    /// `writerPids + pid` is locked by the writer, `readerPids + pid` by each reader.
    static let writerPids: Int64 = imageByte + (1 << 32)
    static let readerPids: Int64 = imageByte + (2 << 32)
    static let pidRange: Int64 = 1 << 32

    /// Who holds a lock that refused us.
    struct Holder {
        var pid: Int32?
        var writing: Bool
    }

    /// Takes the lock on `descriptor` without waiting. Throws `imageInUse`
    /// (naming the holder) when another open file description holds a
    /// conflicting one.
    static func acquire(_ descriptor: Int32, exclusive: Bool, path: String) throws {
        guard phantom_ofd_locks_supported() == 1 else {
            // Darwin and other systems without OFD locks: flock has the same
            // per-open-file-description semantics, without a holder to name.
            guard flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
                let code = errno
                if code == EWOULDBLOCK { throw StoreError.imageInUse(path: path, pid: nil, holderWrites: true, wantedToWrite: exclusive) }
                throw StoreError.io(path: path, operation: "lock", errno: code)
            }
            return
        }
        if phantom_ofd_lock(descriptor, exclusive ? 1 : 0, imageByte, 1) != 0 {
            let code = errno
            guard code == EAGAIN || code == EACCES else {
                throw StoreError.io(path: path, operation: "lock (F_OFD_SETLK)", errno: code)
            }
            let holder = findHolder(descriptor)
            throw StoreError.imageInUse(path: path, pid: holder.pid, holderWrites: holder.writing, wantedToWrite: exclusive)
        }
        let pid = Int64(getpid())
        // Shared for a reader (its descriptor may be read-only, which cannot
        // take a write lock); unique per pid, so it never conflicts.
        if phantom_ofd_lock(descriptor, exclusive ? 1 : 0, (exclusive ? writerPids : readerPids) + pid, 1) != 0 {
            // Without the pid byte a refused opener says "pid unknown"; the
            // image lock itself is held, which is what matters.
        }
    }

    /// Whether anyone holds any lock on the image byte (a live writer or reader).
    static func isHeld(_ descriptor: Int32) -> Bool {
        var start: Int64 = 0
        return phantom_ofd_probe(descriptor, imageByte, 1, &start) == 1
    }

    /// The pid and role of whoever holds the image byte. Retries for a few
    /// milliseconds when the image byte is held but no pid byte is visible
    /// yet (the holder is between its two lock calls).
    static func findHolder(_ descriptor: Int32) -> Holder {
        var start: Int64 = 0
        for _ in 0..<50 {
            if phantom_ofd_probe(descriptor, writerPids, pidRange, &start) == 1 {
                return Holder(pid: Int32(truncatingIfNeeded: start - writerPids), writing: true)
            }
            if phantom_ofd_probe(descriptor, readerPids, pidRange, &start) == 1 {
                return Holder(pid: Int32(truncatingIfNeeded: start - readerPids), writing: false)
            }
            guard isHeld(descriptor) else { break }
            usleep(200)
        }
        return Holder(pid: nil, writing: true)
    }
}
