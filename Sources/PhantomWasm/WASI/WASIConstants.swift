// Numbers and layouts of WASI preview 1 (`wasi_snapshot_preview1.witx`).
// Only values are defined here; the calls live in the other files of WASI/.

/// A WASI error number (`errno`, u16). Host functions return it as their i32 result.
public struct WASIErrno: RawRepresentable, Equatable, Hashable, Sendable, Error, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let success = WASIErrno(rawValue: 0)
    public static let e2big = WASIErrno(rawValue: 1)
    public static let acces = WASIErrno(rawValue: 2)
    public static let again = WASIErrno(rawValue: 6)
    public static let badf = WASIErrno(rawValue: 8)
    public static let busy = WASIErrno(rawValue: 10)
    public static let exist = WASIErrno(rawValue: 20)
    public static let fault = WASIErrno(rawValue: 21)
    public static let fbig = WASIErrno(rawValue: 22)
    public static let ilseq = WASIErrno(rawValue: 25)
    public static let intr = WASIErrno(rawValue: 27)
    public static let inval = WASIErrno(rawValue: 28)
    public static let io = WASIErrno(rawValue: 29)
    public static let isdir = WASIErrno(rawValue: 31)
    public static let loop = WASIErrno(rawValue: 32)
    public static let mfile = WASIErrno(rawValue: 33)
    public static let mlink = WASIErrno(rawValue: 34)
    public static let nametoolong = WASIErrno(rawValue: 37)
    public static let nfile = WASIErrno(rawValue: 41)
    public static let nodev = WASIErrno(rawValue: 43)
    public static let noent = WASIErrno(rawValue: 44)
    public static let nomem = WASIErrno(rawValue: 48)
    public static let nospc = WASIErrno(rawValue: 51)
    public static let nosys = WASIErrno(rawValue: 52)
    public static let notdir = WASIErrno(rawValue: 54)
    public static let notempty = WASIErrno(rawValue: 55)
    public static let notsock = WASIErrno(rawValue: 57)
    public static let notsup = WASIErrno(rawValue: 58)
    public static let notty = WASIErrno(rawValue: 59)
    public static let nxio = WASIErrno(rawValue: 60)
    public static let overflow = WASIErrno(rawValue: 61)
    public static let perm = WASIErrno(rawValue: 63)
    public static let pipe = WASIErrno(rawValue: 64)
    public static let range = WASIErrno(rawValue: 68)
    public static let rofs = WASIErrno(rawValue: 69)
    public static let spipe = WASIErrno(rawValue: 70)
    public static let stale = WASIErrno(rawValue: 72)
    public static let txtbsy = WASIErrno(rawValue: 74)
    public static let xdev = WASIErrno(rawValue: 75)
    public static let notcapable = WASIErrno(rawValue: 76)

    public var description: String { "errno \(rawValue)" }
}

/// `filetype` (u8).
public enum WASIFiletype: UInt8, Sendable {
    case unknown = 0, blockDevice = 1, characterDevice = 2, directory = 3
    case regularFile = 4, socketDgram = 5, socketStream = 6, symbolicLink = 7
}

/// `rights` (u64 bit set).
public enum WASIRights {
    public static let fdDatasync: UInt64 = 1 << 0
    public static let fdRead: UInt64 = 1 << 1
    public static let fdSeek: UInt64 = 1 << 2
    public static let fdFdstatSetFlags: UInt64 = 1 << 3
    public static let fdSync: UInt64 = 1 << 4
    public static let fdTell: UInt64 = 1 << 5
    public static let fdWrite: UInt64 = 1 << 6
    public static let fdAdvise: UInt64 = 1 << 7
    public static let fdAllocate: UInt64 = 1 << 8
    public static let pathCreateDirectory: UInt64 = 1 << 9
    public static let pathCreateFile: UInt64 = 1 << 10
    public static let pathLinkSource: UInt64 = 1 << 11
    public static let pathLinkTarget: UInt64 = 1 << 12
    public static let pathOpen: UInt64 = 1 << 13
    public static let fdReaddir: UInt64 = 1 << 14
    public static let pathReadlink: UInt64 = 1 << 15
    public static let pathRenameSource: UInt64 = 1 << 16
    public static let pathRenameTarget: UInt64 = 1 << 17
    public static let pathFilestatGet: UInt64 = 1 << 18
    public static let pathFilestatSetSize: UInt64 = 1 << 19
    public static let pathFilestatSetTimes: UInt64 = 1 << 20
    public static let fdFilestatGet: UInt64 = 1 << 21
    public static let fdFilestatSetSize: UInt64 = 1 << 22
    public static let fdFilestatSetTimes: UInt64 = 1 << 23
    public static let pathSymlink: UInt64 = 1 << 24
    public static let pathRemoveDirectory: UInt64 = 1 << 25
    public static let pathUnlinkFile: UInt64 = 1 << 26
    public static let pollFdReadwrite: UInt64 = 1 << 27
    public static let sockShutdown: UInt64 = 1 << 28
    public static let sockAccept: UInt64 = 1 << 29

    public static let all: UInt64 = (1 << 30) - 1
    /// What a regular file may be asked for.
    public static let regularFile: UInt64 = fdDatasync | fdRead | fdSeek | fdFdstatSetFlags | fdSync
        | fdTell | fdWrite | fdAdvise | fdAllocate | fdFilestatGet | fdFilestatSetSize
        | fdFilestatSetTimes | pollFdReadwrite
    /// What a directory may be asked for (its own rights; files below inherit `all`).
    public static let directory: UInt64 = fdFdstatSetFlags | fdSync | fdAdvise | pathCreateDirectory
        | pathCreateFile | pathLinkSource | pathLinkTarget | pathOpen | fdReaddir | pathReadlink
        | pathRenameSource | pathRenameTarget | pathFilestatGet | pathFilestatSetSize
        | pathFilestatSetTimes | fdFilestatGet | fdFilestatSetTimes | pathSymlink
        | pathRemoveDirectory | pathUnlinkFile | fdDatasync
    /// stdin/stdout/stderr.
    public static let stdio: UInt64 = fdRead | fdWrite | fdFdstatSetFlags | fdFilestatGet | pollFdReadwrite
}

/// `fdflags` (u16).
public enum WASIFdflags {
    public static let append: UInt16 = 1 << 0
    public static let dsync: UInt16 = 1 << 1
    public static let nonblock: UInt16 = 1 << 2
    public static let rsync: UInt16 = 1 << 3
    public static let sync: UInt16 = 1 << 4
}

/// `oflags` (u16).
public enum WASIOflags {
    public static let creat: UInt16 = 1 << 0
    public static let directory: UInt16 = 1 << 1
    public static let excl: UInt16 = 1 << 2
    public static let trunc: UInt16 = 1 << 3
}

/// `fstflags` (u16): which timestamps `*_filestat_set_times` sets, and to what.
public enum WASIFstflags {
    /// Set the access time to the `atim` argument.
    public static let atim: UInt16 = 1 << 0
    /// Set the access time to the current time.
    public static let atimNow: UInt16 = 1 << 1
    /// Set the modification time to the `mtim` argument.
    public static let mtim: UInt16 = 1 << 2
    /// Set the modification time to the current time.
    public static let mtimNow: UInt16 = 1 << 3
}

/// `sdflags` (u8) of `sock_shutdown`.
public enum WASISdflags {
    public static let rd: UInt8 = 1 << 0
    public static let wr: UInt8 = 1 << 1
}

/// `lookupflags` (u32).
public enum WASILookupflags {
    public static let symlinkFollow: UInt32 = 1 << 0
}

/// `whence` (u8).
public enum WASIWhence: UInt8 { case set = 0, cur = 1, end = 2 }

/// `clockid` (u32).
public enum WASIClockID: UInt32 { case realtime = 0, monotonic = 1, processCputime = 2, threadCputime = 3 }

/// `eventtype` (u8) and `subclockflags` (u16).
public enum WASIEventType: UInt8 { case clock = 0, fdRead = 1, fdWrite = 2 }
public enum WASISubclockflags { public static let abstime: UInt16 = 1 }
/// `eventrwflags` (u16).
public enum WASIEventRWFlags { public static let hangup: UInt16 = 1 }

/// Byte layouts of the structs the calls read and write in guest memory.
public enum WASILayout {
    /// iovec/ciovec: buf u32 @0, buf_len u32 @4.
    public static let iovecSize: UInt64 = 8
    /// fdstat: fs_filetype u8 @0, fs_flags u16 @2, fs_rights_base u64 @8, fs_rights_inheriting u64 @16.
    public static let fdstatSize = 24
    /// prestat: tag u8 @0 (0 = dir), pr_name_len u32 @4.
    public static let prestatSize = 8
    /// filestat: dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56.
    public static let filestatSize = 64
    /// dirent: d_next @0, d_ino @8, d_namlen u32 @16, d_type u8 @20, name follows @24.
    public static let direntSize = 24
    /// subscription: userdata @0, tag u8 @8, clock {id u32 @16, timeout u64 @24, precision @32,
    /// flags u16 @40} or fd_readwrite {fd u32 @16}.
    public static let subscriptionSize: UInt64 = 48
    /// event: userdata @0, error u16 @8, type u8 @10, fd_readwrite {nbytes u64 @16, flags u16 @24}.
    public static let eventSize: UInt64 = 32
}
