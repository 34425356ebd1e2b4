import Foundation
import PhantomSpace
import PhantomWasm

/// Images that `phantom run` wrote before the kernel existed kept their one
/// program in root slot 9, a record of their own (below). DESIGN.md
/// invariant 10 says programs outlive the software that runs them, so such an
/// image is not refused: its program is *adopted* as the one child of the
/// system `phantom run` boots today (`Kernel.singleProgramConfig`), with the
/// same instance, thread and WASI state — nothing of the program changes,
/// only who names it. The conversion happens in the space when the image is
/// opened and becomes durable with the next snapshot; a crash before that
/// leaves the old image, which is adopted again.
///
/// The retired record at `root(9)` (little endian):
/// ```
///  0 magic "PHWASICM"   8 instance id   16 thread id   24 WASI state
/// 32 module CRC32C     40 name offset  48 name length
/// 56 ended (0 = not yet, 1 = exited, 2 = trapped)   60 exit code (u32)
/// ```
enum LegacyProgram {
    static let rootSlot = 9
    static let magic: UInt64 = 0x4D43_4953_4157_4850 // "PHWASICM"
    static let size = 64
    static let maximumNameLength: UInt64 = 1 << 16
    /// Its RAM quota as a child: the old `run` capped memory itself (the
    /// reservation in its memory record stays what it was).
    static let ramQuota: UInt64 = 4 << 30

    struct Record {
        var name: String
        var instance: UInt32
        var thread: UInt32
        var wasiState: UInt64
        var moduleChecksum: UInt32
        var state: ComponentImage.State
    }

    /// The record root 9 names, or nil when it names none. Throws for a
    /// record that is there but does not read (a damaged or forged image).
    static func read(from space: ObjectSpace) throws -> Record? {
        let record = space.root(rootSlot)
        guard record != 0 else { return nil }
        guard space.isAllocated(record, count: UInt64(size)), space.load(UInt64.self, at: record) == magic else {
            throw KernelError.restore("root \(rootSlot) does not point to a program record of an earlier `phantom run`")
        }
        let nameOffset = space.load(UInt64.self, at: record + 40), nameLength = space.load(UInt64.self, at: record + 48)
        guard nameLength <= maximumNameLength, space.isAllocated(nameOffset, count: nameLength) else {
            throw KernelError.restore("the earlier `phantom run` record names its program outside the space")
        }
        let instance = space.load(UInt64.self, at: record + 8), thread = space.load(UInt64.self, at: record + 16)
        guard instance <= UInt64(UInt32.max), thread <= UInt64(UInt32.max) else {
            throw KernelError.restore("the earlier `phantom run` record names instance \(instance), thread \(thread): not ids")
        }
        let state: ComponentImage.State
        switch space.load(UInt32.self, at: record + 56) {
        case 1: state = .exited(code: space.load(UInt32.self, at: record + 60))
        case 2: state = .trapped(message: "trapped under an earlier version of phantom")
        default: state = .running
        }
        return Record(name: String(decoding: space.read(at: nameOffset, count: Int(nameLength)), as: UTF8.self),
                      instance: UInt32(instance), thread: UInt32(thread), wasiState: space.load(UInt64.self, at: record + 24),
                      moduleChecksum: UInt32(truncatingIfNeeded: space.load(UInt64.self, at: record + 32)), state: state)
    }
}

extension Kernel {
    /// Adopts the program an earlier `phantom run` stored in `space` (root
    /// slot 9) as the one child of a `phantom run` system: writes kernel
    /// tables naming its instance, thread and WASI state, and retires the old
    /// record. Returns the program's name, or nil when the image holds no
    /// such program or already has kernel tables.
    @discardableResult
    public static func adoptLegacyProgram(in space: ObjectSpace) throws -> String? {
        guard space.root(KernelRecord.rootSlot) == 0, let legacy = try LegacyProgram.read(from: space) else { return nil }
        let wasi = try WASIState(space: space, offset: legacy.wasiState)
        let argv = wasi.arguments
        let config = singleProgramConfig(name: legacy.name, binary: legacy.name, arguments: Array(argv.dropFirst()),
                                         environment: [], ram: LegacyProgram.ramQuota)
        let model = try InitModel.parse(config, source: "the adopted program's config")
        guard let spec = model.starts.first else { throw KernelError.restore("the adopted program's config has no start node") }
        var image = KernelImage(configText: config)
        image.components = [ComponentImage(
            id: 1, name: spec.name, binary: spec.binary, version: spec.version, moduleChecksum: legacy.moduleChecksum,
            ramQuota: LegacyProgram.ramQuota, capsQuota: spec.caps, configText: spec.configText, configVersion: 1,
            instance: legacy.instance, thread: legacy.thread, wasiState: legacy.wasiState, state: legacy.state)]
        image.nextComponent = 2
        space.safepoints.register()
        defer { space.safepoints.unregister() }
        try KernelRecord.store(image, in: space)
        let record = space.root(LegacyProgram.rootSlot)
        space.free(space.load(UInt64.self, at: record + 40), byteCount: max(Int(space.load(UInt64.self, at: record + 48)), 8))
        space.free(record, byteCount: LegacyProgram.size)
        space.setRoot(LegacyProgram.rootSlot, 0)
        return legacy.name
    }
}
