#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `fd_*` calls. The descriptor table and file positions are persistent
/// (`WASIDescriptor`); host fds are transient (`WASIHostFiles`).
///
/// Re-execution (DESIGN.md invariant 5): none of these blocks except `fd_read`
/// on stdin. A call whose effects a snapshot did not capture is simply made
/// again by the restored program, with the position and table of that
/// snapshot:
/// - `fd_write`/`fd_pwrite` to a file write at an explicit offset (`pwrite`
///   at the stored position), so repeating one rewrites the same bytes in the
///   same place — idempotent — except with FDFLAGS_APPEND, where the repeat
///   appends a second copy (the file is outside the space; output commit
///   comes later). To stdout/stderr a repeated write is printed again.
/// - `fd_read` on stdin: nothing is consumed unless data is returned; when
///   there is none the call blocks (`.readable`) and is re-executed from the
///   start. Input consumed by a call whose return was not snapshotted is lost.
/// - `fd_seek`/`fd_tell`/`fd_fdstat_*`/`fd_prestat_*`/`fd_filestat_get`/
///   `fd_readdir`/`fd_advise`: only read the host, or set persistent state
///   to a value computed from the (same) persistent state.
/// - `fd_filestat_set_size`/`fd_allocate`: setting a size twice is setting it once.
/// - `fd_close`/`fd_renumber`: a repeat after a restore finds the slot as the
///   snapshot had it (open) and does the same thing again.
/// - `fd_sync`/`fd_datasync`: repeatable by nature.
extension WASI {
    /// At most this much is moved by one read or write (a short count, as POSIX allows).
    static let maxTransfer = 16 << 20

    func descriptor(_ fd: UInt32) throws(WASIErrno) -> WASIDescriptor {
        guard let d = state.open(fd) else { throw .badf }
        return d
    }

    func require(_ d: WASIDescriptor, _ rights: UInt64) throws(WASIErrno) {
        guard d.rightsBase & rights == rights else { throw .notcapable }
    }

    func rootHost(_ d: WASIDescriptor) throws(WASIErrno) -> String {
        guard let preopen = state.preopen(d.root) else { throw .badf }
        return preopen.host
    }

    func host(_ fd: UInt32, _ d: WASIDescriptor) throws(WASIErrno) -> Int32 {
        if d.kind == .stdio { return Int32(d.stdioHostDescriptor) }
        // A ROM descriptor has no host file (a call that gets here lacks a ROM case).
        if d.isROM { throw .notcapable }
        return try hostFiles.hostDescriptor(for: fd, d, rootHost: try rootHost(d))
    }

    // MARK: - Read and write

    func fdWrite(_ guest: WASIGuest, _ a: WASIArguments, at offset: UInt64?) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0)
        let resultPointer = a.pointer(offset == nil ? 3 : 4)
        let d = try descriptor(fd)
        if offset != nil && d.kind == .stdio { throw .spipe }
        // POSIX's answer for a descriptor not open for writing: a ROM never is.
        if d.kind == .rom { throw .badf }
        try require(d, WASIRights.fdWrite | (offset == nil ? 0 : WASIRights.fdSeek))
        let iovecs = try guest.iovecs(a.pointer(1), a.u32(2))
        try guest.check(resultPointer, 4)
        var bytes: [UInt8] = []
        for (base, length) in iovecs where bytes.count < WASI.maxTransfer {
            bytes += try guest.read(base, Int(min(length, UInt64(WASI.maxTransfer - bytes.count))))
        }
        var written = 0
        switch d.kind {
        case .stdio:
            guard offset == nil else { throw .spipe }
            guard d.stdioHostDescriptor != 0 else { throw .badf }
            switch io.write(Int32(d.stdioHostDescriptor), bytes) {
            case let .wrote(count): written = count
            case .wouldBlock: return .block(.writable(hostDescriptor: Int32(d.stdioHostDescriptor)))
            case let .failed(error): throw error
            }
        case .file:
            let host = try host(fd, d)
            var position: UInt64
            if let offset {
                position = offset
            } else if d.fdflags & WASIFdflags.append != 0 {
                var info = stat()
                guard fstat(host, &info) == 0 else { throw WASIErrno(hostErrno: errno) }
                position = UInt64(info.st_size)
            } else {
                position = d.position
            }
            written = try WASI.pwriteAll(host, bytes, at: position)
            position += UInt64(written)
            if d.fdflags & (WASIFdflags.sync | WASIFdflags.dsync | WASIFdflags.rsync) != 0 { _ = fdatasync(host) }
            if offset == nil { d.position = position }
        case .preopenDirectory, .directory, .romDirectory:
            throw .isdir
        case .free, .rom:
            throw .badf
        }
        try guest.store32(UInt32(written), resultPointer)
        return .success
    }

    static func pwriteAll(_ host: Int32, _ bytes: [UInt8], at position: UInt64) throws(WASIErrno) -> Int {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(host, $0.baseAddress! + done, bytes.count - done, off_t(position) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                if done > 0 { break }
                throw WASIErrno(hostErrno: errno)
            }
            done += n
        }
        return done
    }

    func fdRead(_ guest: WASIGuest, _ a: WASIArguments, at offset: UInt64?) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0)
        let resultPointer = a.pointer(offset == nil ? 3 : 4)
        let d = try descriptor(fd)
        if offset != nil && d.kind == .stdio { throw .spipe }
        try require(d, WASIRights.fdRead | (offset == nil ? 0 : WASIRights.fdSeek))
        let iovecs = try guest.iovecs(a.pointer(1), a.u32(2))
        try guest.check(resultPointer, 4)
        let wanted = min(iovecs.reduce(0) { $0 + Int($1.1) }, WASI.maxTransfer)
        var bytes: [UInt8]
        switch d.kind {
        case .stdio:
            guard offset == nil else { throw .spipe }
            guard d.stdioHostDescriptor == 0 else { throw .badf }
            if wanted == 0 { bytes = [] } else {
                switch io.input(wanted) {
                case .data(let data): bytes = Array(data.prefix(wanted))
                case .endOfFile: bytes = []
                case .failed(let error): throw error
                case .wouldBlock:
                    if d.fdflags & WASIFdflags.nonblock != 0 { throw .again }
                    return .block(.readable(hostDescriptor: io.stdinDescriptor))
                }
            }
        case .file:
            let host = try host(fd, d)
            let position = offset ?? d.position
            bytes = [UInt8](repeating: 0, count: wanted)
            var got = 0
            while got < wanted {
                let n = bytes.withUnsafeMutableBytes { pread(host, $0.baseAddress! + got, wanted - got, off_t(position) + off_t(got)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    if got > 0 { break }
                    throw WASIErrno(hostErrno: errno)
                }
                if n == 0 { break }
                got += n
            }
            bytes.removeLast(wanted - got)
            if offset == nil { d.position = position + UInt64(got) }
        case .rom:
            let position = offset ?? d.position
            bytes = romRead(d, at: position, max: wanted)
            if offset == nil { d.position = position + UInt64(bytes.count) }
        case .preopenDirectory, .directory, .romDirectory:
            throw .isdir
        case .free:
            throw .badf
        }
        // Scatter into the iovecs.
        var done = 0
        for (base, length) in iovecs where done < bytes.count {
            let n = min(Int(length), bytes.count - done)
            try guest.write(Array(bytes[done..<done + n]), base)
            done += n
        }
        try guest.store32(UInt32(bytes.count), resultPointer)
        return .success
    }

    // MARK: - Position

    func fdSeek(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0), delta = Int64(bitPattern: a.u64(1)), resultPointer = a.pointer(3)
        let d = try descriptor(fd)
        guard let whence = WASIWhence(rawValue: UInt8(truncatingIfNeeded: a.u32(2))), a.u32(2) <= 2 else { throw .inval }
        if d.kind == .stdio { throw .spipe }
        let tellOnly = delta == 0 && whence == .cur
        guard d.rightsBase & WASIRights.fdSeek != 0 || (tellOnly && d.rightsBase & WASIRights.fdTell != 0) else {
            throw .notcapable
        }
        guard d.kind == .file || d.kind == .rom else { throw .badf }
        try guest.check(resultPointer, 8)
        let rom = d.kind == .rom ? romCurrent(d) : nil
        let base: Int64
        switch whence {
        case .set: base = 0
        case .cur: base = Int64(bitPattern: d.position)
        case .end:
            if let rom {
                base = Int64(rom.content.count)
            } else {
                var info = stat()
                guard fstat(try host(fd, d), &info) == 0 else { throw WASIErrno(hostErrno: errno) }
                base = Int64(info.st_size)
            }
        }
        let (target, overflow) = base.addingReportingOverflow(delta)
        guard !overflow, target >= 0 else { throw .inval }
        d.position = UInt64(target)
        // Seeking (rewinding, above all) is how a program catches up with a
        // changed ROM; asking where it is (offset 0 from the current position) is not.
        if let version = rom?.version, !tellOnly { d.romVersionSeen = version }
        try guest.store64(UInt64(target), resultPointer)
        return .success
    }

    func fdTell(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let d = try descriptor(a.u32(0))
        if d.kind == .stdio { throw .spipe }
        try require(d, WASIRights.fdTell)
        guard d.kind == .file || d.kind == .rom else { throw .badf }
        try guest.store64(d.position, a.pointer(1))
        return .success
    }

    // MARK: - Descriptor table

    func fdClose(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0)
        let d = try descriptor(fd)
        hostFiles.close(fd)
        d.clear()
        return .success
    }

    func fdRenumber(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let from = a.u32(0), to = a.u32(1)
        let source = try descriptor(from)
        let target = try descriptor(to)
        guard from != to else { return .success }
        hostFiles.renumber(from: from, to: to)
        source.move(to: target)
        return .success
    }

    func fdSync(_ a: WASIArguments, dataOnly: Bool) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0)
        let d = try descriptor(fd)
        try require(d, dataOnly ? WASIRights.fdDatasync : WASIRights.fdSync)
        if d.kind == .stdio { return .success }
        let host = try host(fd, d)
        let result = dataOnly ? fdatasync(host) : fsync(host)
        guard result == 0 else { throw WASIErrno(hostErrno: errno) }
        return .success
    }

    func fdFdstatGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let d = try descriptor(a.u32(0))
        let address = a.pointer(1)
        try guest.check(address, UInt64(WASILayout.fdstatSize))
        var bytes = [UInt8](repeating: 0, count: WASILayout.fdstatSize)
        bytes[0] = d.filetype
        bytes[2] = UInt8(truncatingIfNeeded: d.fdflags)
        bytes[3] = UInt8(truncatingIfNeeded: d.fdflags >> 8)
        WASI.put(d.rightsBase, into: &bytes, at: 8)
        WASI.put(d.rightsInheriting, into: &bytes, at: 16)
        try guest.write(bytes, address)
        return .success
    }

    func fdFdstatSetFlags(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let d = try descriptor(a.u32(0))
        try require(d, WASIRights.fdFdstatSetFlags)
        let flags = UInt16(truncatingIfNeeded: a.u32(1))
        guard flags & ~UInt16(0x1f) == 0 else { throw .inval }
        d.fdflags = flags
        return .success
    }

    func fdFdstatSetRights(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let d = try descriptor(a.u32(0))
        let base = a.u64(1), inheriting = a.u64(2)
        // Rights can only be dropped.
        guard base & ~d.rightsBase == 0, inheriting & ~d.rightsInheriting == 0 else { throw .notcapable }
        d.rightsBase = base
        d.rightsInheriting = inheriting
        return .success
    }

    func fdFilestatGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0)
        let d = try descriptor(fd)
        try require(d, WASIRights.fdFilestatGet)
        try guest.check(a.pointer(1), UInt64(WASILayout.filestatSize))
        if d.kind == .rom {
            try guest.write(WASI.romFilestat(.regularFile, size: UInt64(romCurrent(d).content.count)), a.pointer(1))
            return .success
        }
        if d.kind == .romDirectory {
            try guest.write(WASI.romFilestat(.directory, size: 0), a.pointer(1))
            return .success
        }
        var info = stat()
        guard fstat(try host(fd, d), &info) == 0 else { throw WASIErrno(hostErrno: errno) }
        try guest.write(WASI.filestat(info), a.pointer(1))
        return .success
    }

    func fdFilestatSetSize(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0)
        let d = try descriptor(fd)
        try require(d, WASIRights.fdFilestatSetSize)
        guard d.kind == .file else { throw d.isDirectory ? .isdir : .inval }
        guard a.u64(1) <= UInt64(Int64.max) else { throw .fbig }
        guard ftruncate(try host(fd, d), off_t(a.u64(1))) == 0 else { throw WASIErrno(hostErrno: errno) }
        return .success
    }

    func fdAdvise(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let d = try descriptor(a.u32(0))
        try require(d, WASIRights.fdAdvise)
        guard a.u32(3) <= 5 else { throw .inval }
        guard d.kind == .file else { throw d.isDirectory ? .isdir : .spipe }
        return .success // advice only; nothing to do
    }

    func fdAllocate(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0)
        let d = try descriptor(fd)
        try require(d, WASIRights.fdAllocate)
        guard d.kind == .file else { throw d.isDirectory ? .isdir : .inval }
        let (end, overflow) = a.u64(1).addingReportingOverflow(a.u64(2))
        guard !overflow, end <= UInt64(Int64.max) else { throw .fbig }
        let host = try host(fd, d)
        var info = stat()
        guard fstat(host, &info) == 0 else { throw WASIErrno(hostErrno: errno) }
        if UInt64(info.st_size) < end {
            guard ftruncate(host, off_t(end)) == 0 else { throw WASIErrno(hostErrno: errno) }
        }
        return .success
    }

    // MARK: - Preopens

    /// The name a preopen shows the program (the ROM preopen keeps its own in its slot).
    func preopenGuestName(_ d: WASIDescriptor) throws(WASIErrno) -> [UInt8] {
        if d.isROMPreopen { return Array(d.relativePath.utf8) }
        guard d.kind == .preopenDirectory, let preopen = state.preopen(d.root) else { throw .badf }
        return preopen.guest
    }

    func fdPrestatGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let name = try preopenGuestName(try descriptor(a.u32(0)))
        try guest.check(a.pointer(1), UInt64(WASILayout.prestatSize))
        try guest.write([0, 0, 0, 0], a.pointer(1))
        try guest.store32(UInt32(name.count), a.pointer(1) + 4)
        return .success
    }

    func fdPrestatDirName(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let name = try preopenGuestName(try descriptor(a.u32(0)))
        guard UInt64(a.u32(2)) >= UInt64(name.count) else { throw .nametoolong }
        try guest.check(a.pointer(1), UInt64(name.count))
        try guest.write(name, a.pointer(1))
        return .success
    }

    // MARK: - Directories

    /// Entries are listed afresh on every call, sorted by name with "." and ".."
    /// first; the cookie of an entry is its index + 1 in that order. A
    /// re-executed call lists the same entries (if the directory did not
    /// change meanwhile; if it did, entries may be skipped or repeated, as
    /// with a POSIX readdir under concurrent changes).
    func fdReaddir(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        let fd = a.u32(0), buffer = a.pointer(1), length = UInt64(a.u32(2)), cookie = a.u64(3), usedPointer = a.pointer(4)
        let d = try descriptor(fd)
        guard d.isDirectory else { throw .notdir }
        try require(d, WASIRights.fdReaddir)
        try guest.check(buffer, length)
        try guest.check(usedPointer, 4)
        let entries = d.kind == .romDirectory ? WASI.romDirectoryEntries : try WASI.listDirectory(try host(fd, d))
        var out: [UInt8] = []
        var index = cookie
        while index < UInt64(entries.count), UInt64(out.count) < length {
            let entry = entries[Int(index)]
            var record = [UInt8](repeating: 0, count: WASILayout.direntSize)
            WASI.put(index + 1, into: &record, at: 0)
            WASI.put(entry.inode, into: &record, at: 8)
            WASI.put(UInt64(entry.name.count), into: &record, at: 16) // u32 d_namlen + 4 bytes padding (d_type set next)
            record[20] = entry.type.rawValue
            out += record + entry.name
            index += 1
        }
        if UInt64(out.count) > length { out.removeLast(out.count - Int(length)) }
        try guest.write(out, buffer)
        try guest.store32(UInt32(out.count), usedPointer)
        return .success
    }

    struct DirectoryEntry {
        var name: [UInt8]
        var inode: UInt64
        var type: WASIFiletype
    }

    static func listDirectory(_ host: Int32) throws(WASIErrno) -> [DirectoryEntry] {
        let copy = dup(host)
        guard copy >= 0 else { throw WASIErrno(hostErrno: errno) }
        guard let stream = fdopendir(copy) else {
            let error = WASIErrno(hostErrno: errno)
            _ = close(copy)
            throw error
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var entries: [DirectoryEntry] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            var type: WASIFiletype
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): type = .regularFile
            case Int32(DT_DIR): type = .directory
            case Int32(DT_LNK): type = .symbolicLink
            case Int32(DT_CHR): type = .characterDevice
            case Int32(DT_BLK): type = .blockDevice
            case Int32(DT_SOCK): type = .socketStream
            default: type = .unknown
            }
            if type == .unknown {
                var info = stat()
                if fstatat(host, name.map { CChar(bitPattern: $0) } + [0], &info, AT_SYMLINK_NOFOLLOW) == 0 {
                    type = WASI.filetype(mode: info.st_mode)
                }
            }
            entries.append(DirectoryEntry(name: name, inode: UInt64(entry.pointee.d_ino), type: type))
        }
        func rank(_ name: [UInt8]) -> Int { name == [46] ? 0 : name == [46, 46] ? 1 : 2 }
        entries.sort { lhs, rhs in
            let l = rank(lhs.name), r = rank(rhs.name)
            return l != r ? l < r : lhs.name.lexicographicallyPrecedes(rhs.name)
        }
        return entries
    }

    // MARK: - Encoding

    static func put(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    static func filetype(mode: mode_t) -> WASIFiletype {
        switch mode & S_IFMT {
        case S_IFREG: .regularFile
        case S_IFDIR: .directory
        case S_IFLNK: .symbolicLink
        case S_IFCHR: .characterDevice
        case S_IFBLK: .blockDevice
        case S_IFSOCK: .socketStream
        default: .unknown
        }
    }

    static func filestat(_ info: stat) -> [UInt8] {
        func nanoseconds(_ time: timespec) -> UInt64 {
            UInt64(max(0, time.tv_sec)) * 1_000_000_000 + UInt64(max(0, time.tv_nsec))
        }
        var bytes = [UInt8](repeating: 0, count: WASILayout.filestatSize)
        put(UInt64(info.st_dev), into: &bytes, at: 0)
        put(UInt64(info.st_ino), into: &bytes, at: 8)
        bytes[16] = filetype(mode: info.st_mode).rawValue
        put(UInt64(info.st_nlink), into: &bytes, at: 24)
        put(UInt64(max(0, info.st_size)), into: &bytes, at: 32)
        put(nanoseconds(info.st_atim), into: &bytes, at: 40)
        put(nanoseconds(info.st_mtim), into: &bytes, at: 48)
        put(nanoseconds(info.st_ctim), into: &bytes, at: 56)
        return bytes
    }
}
