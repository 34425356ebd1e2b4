import PhantomSpace

/// Persistent records of the engine. Everything an instance or a thread needs to
/// continue after a restore lives in the object space in these records, linked by
/// offsets (DESIGN.md invariant 2). Every field is 8 bytes, little endian.
///
/// The engine registry is found through `space.root(WasmRoots.registry)`.
public enum WasmRoots {
    /// Root slot holding the offset of the engine registry.
    public static let registry = 8
}

/// A function reference as stored in tables, globals, frames and the pc:
/// `instance id << 32 | function index` (index in that instance's function
/// index space). 0 is the null reference; instance ids start at 1.
public typealias FunctionReference = UInt64

enum RegistryRecord {
    static let magic: UInt64 = 0x3130_4D53_4157_4850  // "PHWASM01"
    static let size = 64
    static let magicField: UInt64 = 0
    static let instanceTable: UInt64 = 8
    static let instanceCapacity: UInt64 = 16
    static let nextInstance: UInt64 = 24
    static let threadTable: UInt64 = 32
    static let threadCapacity: UInt64 = 40
    static let nextThread: UInt64 = 48
    /// The engine's record format version (`WasmFormat`); 0 in images written
    /// before the field existed (format 1).
    static let formatVersion: UInt64 = 56
}

/// The version of every record format of this engine in the object space
/// (registry, module records with their resume maps, instances, memories,
/// tables, threads and the frames on their stacks), stored in the registry.
/// One number for all of them because they are written and read together.
///
/// - 1: before resume maps (the registry's version field reads 0). Its
///   threads' frames can only be understood by the translator that wrote them,
///   so this build refuses such an image by name instead of misreading it.
/// - 2: module records carry a resume map (`ResumeMapRecord`): a stored
///   thread resumes under any later translator (DESIGN.md invariant 10).
///
/// Opening an image whose version is not in `readable` fails with a message
/// naming the record, its version and the versions this build reads. A future
/// format either upgrades the older ones it lists in `readable` on open or
/// leaves them out and is refused the same way.
public enum WasmFormat {
    public static let version: UInt64 = 2
    public static let readable: [UInt64] = [2]

    /// The version an image's registry says (0 there is version 1).
    static func stored(in registry: UInt64, of space: ObjectSpace) -> UInt64 {
        let raw = space.field(registry, RegistryRecord.formatVersion)
        return raw == 0 ? 1 : raw
    }
}

enum ModuleRecord {
    static let size = 32
    static let bytes: UInt64 = 0
    static let length: UInt64 = 8
    /// CRC32C of the translated code and its resume maps: the fingerprint of
    /// the translator that wrote this image's frames.
    static let checksum: UInt64 = 16
    /// Offset of the module's resume maps (`ResumeMapRecord`), as that translator made them.
    static let resumeMap: UInt64 = 24
}

enum InstanceRecord {
    static let size = 128
    static let module: UInt64 = 0
    static let id: UInt64 = 8
    static let memory: UInt64 = 16
    static let globals: UInt64 = 24
    static let globalCount: UInt64 = 32
    static let tables: UInt64 = 40
    static let tableCount: UInt64 = 48
    static let functions: UInt64 = 56
    static let functionCount: UInt64 = 64
    /// One byte per data segment, then one per element segment: 1 = dropped.
    static let dropped: UInt64 = 72
    static let dataCount: UInt64 = 80
    static let elementCount: UInt64 = 88
}

enum MemoryRecord {
    static let size = 32
    static let data: UInt64 = 0
    static let pages: UInt64 = 8
    /// Pages reserved at `data`: min(declared maximum, quota). `memory.grow` beyond fails.
    static let limitPages: UInt64 = 16
    static let declaredMaximum: UInt64 = 24
    static let pageSize: UInt64 = 65536
}

enum TableRecord {
    static let size = 32
    static let elements: UInt64 = 0
    static let count: UInt64 = 8
    static let capacity: UInt64 = 16
    static let maximum: UInt64 = 24
}

enum ThreadRecord {
    static let size = 128
    static let status: UInt64 = 0
    static let exitCode: UInt64 = 8
    static let stack: UInt64 = 16
    static let stackCapacity: UInt64 = 24
    static let sp: UInt64 = 32
    static let fp: UInt64 = 40
    static let pcFunction: UInt64 = 48
    static let pcPosition: UInt64 = 56
    static let callDepth: UInt64 = 64
    static let pendingCallState: UInt64 = 72
    static let entry: UInt64 = 80
    static let resultCount: UInt64 = 88
    static let trapMessage: UInt64 = 96
    static let trapLength: UInt64 = 104
    static let id: UInt64 = 112
    static let maximumDepth: UInt64 = 120
}

public enum ThreadStatus: UInt64, Sendable {
    /// Arguments pushed, entry function not entered yet.
    case ready = 0
    /// Between two instructions (yielded at a safepoint, or parked in one).
    case running = 1
    case finished = 2
    case trapped = 3
    case exited = 4
    /// A host call blocked; resuming re-executes it from its start.
    case blocked = 5
}

extension ObjectSpace {
    @inline(__always) func field(_ record: UInt64, _ field: UInt64) -> UInt64 { load(UInt64.self, at: record + field) }
    @inline(__always) func setField(_ record: UInt64, _ field: UInt64, _ value: UInt64) { store(value, at: record + field) }

    func storeArray(_ values: [UInt64]) throws -> UInt64 {
        let offset = try allocate(max(values.count * 8, 8))
        values.withUnsafeBytes { write($0, at: offset) }
        return offset
    }

    func loadArray(at offset: UInt64, count: Int) -> [UInt64] {
        (0..<count).map { load(UInt64.self, at: offset + UInt64($0) * 8) }
    }
}
