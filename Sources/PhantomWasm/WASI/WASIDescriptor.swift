import PhantomSpace

/// One slot of the persistent descriptor table: a view onto 64 bytes of the
/// object space (writes go straight to the space).
///
/// ```
///  0  kind u8            1 filetype u8     2 fdflags u16     4 oflags u16 (as opened)
///  6  stdio host fd u8   7 open mode u8 (1 read, 2 write, 3 both)
///  8  rights base u64   16 rights inheriting u64
/// 24  position u64      (files: the authoritative offset; host fds are only read/written with pread/pwrite)
/// 32  path string offset u64, 40 path length u32   host path *relative to the preopen root*, "" = the root
/// 44  root (preopen index) u32
/// 48  host st_dev u64   56 host st_ino u64   (identity of the file when opened, checked on re-open)
/// ```
///
/// ROM descriptors (WASIROM.swift) use the same slot; they have no host side
/// at all, so nothing in them needs re-opening after a restore (invariant 6):
///
/// ```
///  0  kind 5 (rom) / 6 (romDirectory)   1 filetype (regular / directory)   2 fdflags   4 oflags
///  7  open mode 1 (read)   8 rights base   16 rights inheriting
/// 24  position u64                      (rom: offset into the module's current content)
/// 32  path string, 40 length            rom: the module's name; romDirectory: the guest name
///                                       when it is the preopen, "" when opened from it
/// 44  u32: 1 = the ROM preopen (romDirectory), else 0
/// 48  version last seen u64 (rom; where files keep st_dev)   56 unused (0)
/// ```
struct WASIDescriptor {
    static let size = 64

    enum Kind: UInt8 {
        case free = 0, stdio = 1, preopenDirectory = 2, file = 3, directory = 4
        /// A ROM module open for reading; `romDirectory`: the ROM preopen, or a directory opened from it.
        case rom = 5, romDirectory = 6
    }

    let space: ObjectSpace
    let offset: UInt64

    var kind: Kind {
        get { Kind(rawValue: space.load(UInt8.self, at: offset)) ?? .free }
        nonmutating set { space.store(newValue.rawValue, at: offset) }
    }
    var filetype: UInt8 {
        get { space.load(UInt8.self, at: offset + 1) }
        nonmutating set { space.store(newValue, at: offset + 1) }
    }
    var fdflags: UInt16 {
        get { space.load(UInt16.self, at: offset + 2) }
        nonmutating set { space.store(newValue, at: offset + 2) }
    }
    var oflags: UInt16 {
        get { space.load(UInt16.self, at: offset + 4) }
        nonmutating set { space.store(newValue, at: offset + 4) }
    }
    var stdioHostDescriptor: UInt8 {
        get { space.load(UInt8.self, at: offset + 6) }
        nonmutating set { space.store(newValue, at: offset + 6) }
    }
    var openMode: UInt8 {
        get { space.load(UInt8.self, at: offset + 7) }
        nonmutating set { space.store(newValue, at: offset + 7) }
    }
    var rightsBase: UInt64 {
        get { space.load(UInt64.self, at: offset + 8) }
        nonmutating set { space.store(newValue, at: offset + 8) }
    }
    var rightsInheriting: UInt64 {
        get { space.load(UInt64.self, at: offset + 16) }
        nonmutating set { space.store(newValue, at: offset + 16) }
    }
    var position: UInt64 {
        get { space.load(UInt64.self, at: offset + 24) }
        nonmutating set { space.store(newValue, at: offset + 24) }
    }
    var root: UInt32 {
        get { space.load(UInt32.self, at: offset + 44) }
        nonmutating set { space.store(newValue, at: offset + 44) }
    }
    var identity: (device: UInt64, inode: UInt64) {
        get { (space.load(UInt64.self, at: offset + 48), space.load(UInt64.self, at: offset + 56)) }
        nonmutating set {
            space.store(newValue.device, at: offset + 48)
            space.store(newValue.inode, at: offset + 56)
        }
    }

    /// The module version the program last caught up with (`path_open`, and
    /// every `fd_seek` that is not a mere tell): `poll_oneoff` reports a ROM
    /// readable while the current version differs, so a program can sleep
    /// until its config changes.
    var romVersionSeen: UInt64 {
        get { space.load(UInt64.self, at: offset + 48) }
        nonmutating set { space.store(newValue, at: offset + 48) }
    }
    /// The ROM directory that `fd_prestat_*` shows (the preopen, not one opened from it).
    var isROMPreopen: Bool {
        get { kind == .romDirectory && root == 1 }
        nonmutating set { root = newValue ? 1 : 0 }
    }

    /// The path relative to the preopen root ("" for the root itself).
    var relativePath: String {
        let count = Int(space.load(UInt32.self, at: offset + 40))
        guard count > 0 else { return "" }
        return String(decoding: space.read(at: space.load(UInt64.self, at: offset + 32), count: count), as: UTF8.self)
    }

    func setRelativePath(_ path: String) throws(WASIErrno) {
        freePath()
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else { return }
        do {
            space.store(try WASIState.storeString(bytes, in: space), at: offset + 32)
        } catch { throw .nomem }
        space.store(UInt32(bytes.count), at: offset + 40)
    }

    private func freePath() {
        let count = Int(space.load(UInt32.self, at: offset + 40))
        if count > 0 { space.free(space.load(UInt64.self, at: offset + 32), byteCount: count) }
        space.store(UInt64(0), at: offset + 32)
        space.store(UInt32(0), at: offset + 40)
    }

    /// Frees the path and zeroes the slot.
    func clear() {
        freePath()
        space.fill(at: offset, count: WASIDescriptor.size, with: 0)
    }

    /// Moves this slot's contents (path included) into `other`, leaving this one free.
    func move(to other: WASIDescriptor) {
        other.clear()
        space.write(space.read(at: offset, count: WASIDescriptor.size), at: other.offset)
        space.fill(at: offset, count: WASIDescriptor.size, with: 0)
    }

    var isDirectory: Bool { kind == .preopenDirectory || kind == .directory || kind == .romDirectory }
    /// ROM descriptors have no host file behind them.
    var isROM: Bool { kind == .rom || kind == .romDirectory }
}
