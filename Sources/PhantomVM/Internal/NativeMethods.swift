/// The native method tables of the internal classes. A class's own table
/// comes first; the universal ordinals 0–15 fall back to the void class's
/// methods (Phantom's tables repeat them in every class). An ordinal neither
/// has throws "invalid syscall called" into the program.
final class NativeMethods {
    private var tables: [InternalClass: [Int: NativeMethod]] = [:]
    unowned let vm: VirtualMachine

    init(vm: VirtualMachine) {
        self.vm = vm
        tables[.void] = UniversalMethods.table
        tables[.int] = NumberMethods.int
        tables[.long] = NumberMethods.long
        tables[.float] = NumberMethods.float
        tables[.double] = NumberMethods.double
        tables[.string] = StringMethods.table
        tables[.array] = ArrayMethods.table
        tables[.directory] = DirectoryMethods.table
        tables[.boot] = BootMethods.table
        tables[.tty] = TtyMethods.table
        tables[.mutex] = SynchronizationMethods.mutex
        tables[.cond] = SynchronizationMethods.condition
        tables[.sema] = SynchronizationMethods.semaphore
        tables[.binary] = BinaryMethods.table
        tables[.closure] = MiscellaneousMethods.closure
        tables[.weakref] = MiscellaneousMethods.weakref
        tables[.world] = MiscellaneousMethods.world
        tables[.time] = MiscellaneousMethods.time
        tables[.stat] = MiscellaneousMethods.stat
        tables[.thread] = MiscellaneousMethods.thread
        tables[.class] = MiscellaneousMethods.classMethods
    }

    func method(_ index: Int, forClass classRef: ObjectRef) -> NativeMethod? {
        guard let builtin = vm.classes.internalClass(of: classRef) else { return nil }
        if let method = tables[builtin]?[index] { return method }
        if index < UniversalOrdinal.firstUserOrdinal { return tables[.void]?[index] ?? invalid }
        return invalid
    }

    private let invalid: NativeMethod = { call throws(Interruption) in throw call.fail("invalid syscall called") }
}

/// `syscall_table_4_void`: what every object answers.
enum UniversalMethods {
    static let table: [Int: NativeMethod] = [
        UniversalOrdinal.construct: { _ throws(Interruption) in .null },
        UniversalOrdinal.destruct: { _ throws(Interruption) in .null },
        UniversalOrdinal.getClass: { call throws(Interruption) in call.heap.classOf(call.this) },
        UniversalOrdinal.clone: { call throws(Interruption) in throw call.fail("void clone called") },
        UniversalOrdinal.equals: { call throws(Interruption) in try call.makeInt(try call.argument(0) == call.this ? 1 : 0) },
        UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString(call.vm.text(of: call.this)) },
        UniversalOrdinal.toXML: { call throws(Interruption) in try call.makeString("<void>") },
        UniversalOrdinal.fromXML: { call throws(Interruption) in try call.makeString("(void)") },
        UniversalOrdinal.toImmutable: { call throws(Interruption) in try call.makeInt(0) },
        UniversalOrdinal.hashCode: { call throws(Interruption) in
            try call.makeInt(Int32(bitPattern: fnv1a(call.bytes(of: call.this))))
        },
    ]

    /// FNV-1a over the data area: a value hash, as Phantom's is.
    static func fnv1a(_ bytes: [UInt8]) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }
}
