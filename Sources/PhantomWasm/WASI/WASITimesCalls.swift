#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `fd_filestat_set_times` and `path_filestat_set_times`: a file's access
/// and modification times.
///
/// `fstflags` says per timestamp whether to set it to the given value
/// (ATIM, MTIM), to now (ATIM_NOW, MTIM_NOW) or leave it (neither). Both for
/// one timestamp is EINVAL (witx: "ATIM and ATIM_NOW are mutually
/// exclusive"; wasmtime checks it before anything else), and so are unknown
/// bits. Timestamps are nanoseconds since the epoch.
///
/// Re-execution: setting a given time twice is setting it once; with *_NOW a
/// repeat after a restore sets a later "now", which is what a later call
/// would have done.
extension WASI {
    /// `fd_filestat_set_times(fd, atim, mtim, fst_flags)`, with `futimens`.
    func fdFilestatSetTimes(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let times = try WASI.timespecs(atim: a.u64(1), mtim: a.u64(2), flags: a.u32(3))
        let fd = a.u32(0)
        let d = try descriptor(fd)
        try require(d, WASIRights.fdFilestatSetTimes)
        guard futimens(try host(fd, d), times) == 0 else { throw WASIErrno(hostErrno: errno) }
        return .success
    }

    /// `path_filestat_set_times(fd, flags, path, path_len, atim, mtim, fst_flags)`,
    /// with `utimensat(…, AT_SYMLINK_NOFOLLOW)`: without SYMLINK_FOLLOW the
    /// times of a link itself change, with it those of the file it leads to
    /// (resolved inside the sandbox first).
    func pathFilestatSetTimes(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let times = try WASI.timespecs(atim: a.u64(4), mtim: a.u64(5), flags: a.u32(6))
        let path = try resolvePath(guest, fd: a.u32(0), path: a.pointer(2), length: a.u32(3),
                                   final: .target(follow: a.u32(1) & WASILookupflags.symlinkFollow != 0),
                                   rights: WASIRights.pathFilestatSetTimes)
        guard utimensat(path.lookup.directory, try path.lookup.hostName(), times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw WASIErrno(hostErrno: errno)
        }
        return .success
    }

    /// `UTIME_NOW` / `UTIME_OMIT` (macros the C module does not export).
    #if os(Linux)
    static let timeNow = Int((1 << 30) - 1), timeOmit = Int((1 << 30) - 2)
    #else
    static let timeNow = -1, timeOmit = -2
    #endif

    /// The two `timespec`s `futimens`/`utimensat` take (access, modification).
    static func timespecs(atim: UInt64, mtim: UInt64, flags raw: UInt32) throws(WASIErrno) -> [timespec] {
        guard raw & ~UInt32(0xf) == 0 else { throw .inval }
        let flags = UInt16(raw)
        func one(_ value: UInt64, set: UInt16, now: UInt16) throws(WASIErrno) -> timespec {
            switch (flags & set != 0, flags & now != 0) {
            case (true, true): throw .inval
            case (true, false):
                return timespec(tv_sec: Int(value / 1_000_000_000), tv_nsec: Int(value % 1_000_000_000))
            case (false, true): return timespec(tv_sec: 0, tv_nsec: timeNow)
            case (false, false): return timespec(tv_sec: 0, tv_nsec: timeOmit)
            }
        }
        return [try one(atim, set: WASIFstflags.atim, now: WASIFstflags.atimNow),
                try one(mtim, set: WASIFstflags.mtim, now: WASIFstflags.mtimNow)]
    }
}
