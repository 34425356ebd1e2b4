/// A Phantom class file (`.pc`) as values: what the compiler (`plc`) writes
/// and the VM's loader (`phantom/vm/load_class.c`) builds a class from.
///
/// On disk a class file is a sequence of records (`ClassFileRecord`): one
/// class header (`C`), then a code record (`M`) per method with its
/// signature (`S`) and line-number map (`l`), field descriptions (`f`) and
/// constant-pool entries (`c`). Each array here holds its records in file
/// order, so that `ClassFile(parsing: x.encoded())` gives `x` back.
///
/// Names are the byte strings of the file read as UTF-8 (Latin-1 when they
/// are not UTF-8: the VM treats them as opaque bytes); code and constants
/// stay bytes.
public struct ClassFile: Equatable, Sendable {
    /// Fully qualified, with a leading dot: `.ru.dz.phantom.system.shell`.
    public var name: String
    /// Object slots of an instance, inherited ones included (`n_object_slots`).
    public var objectSlotCount: Int32
    /// Method slots of the class's interface (VMT), inherited ones included (`n_method_slots`).
    public var methodSlotCount: Int32
    /// `.internal.object` when the class has no parent of its own.
    public var parentName: String
    /// The compiler's build stamp (`yyyyMMddHHmmssSSS`); absent in files of
    /// older compilers. The VM does not read it.
    public var version: String?
    public var methods: [Method]
    public var signatures: [Signature]
    public var lineMaps: [LineMap]
    public var fields: [Field]
    public var constants: [Constant]

    public init(name: String, parentName: String = ".internal.object", objectSlotCount: Int32 = 0,
                methodSlotCount: Int32 = 0, version: String? = nil, methods: [Method] = [],
                signatures: [Signature] = [], lineMaps: [LineMap] = [], fields: [Field] = [],
                constants: [Constant] = []) {
        self.name = name
        self.parentName = parentName
        self.objectSlotCount = objectSlotCount
        self.methodSlotCount = methodSlotCount
        self.version = version
        self.methods = methods
        self.signatures = signatures
        self.lineMaps = lineMaps
        self.fields = fields
        self.constants = constants
    }

    /// A method's code (`M` record): the VM stores it in the interface slot
    /// `ordinal`, and its name in `method_names[ordinal]` (which `dynamic_invoke` searches).
    public struct Method: Equatable, Sendable {
        public var name: String
        public var ordinal: Int32
        /// The bytecode; offset 0 is the first instruction, and jumps are relative within it.
        public var code: [UInt8]

        public init(name: String, ordinal: Int32, code: [UInt8]) {
            self.name = name
            self.ordinal = ordinal
            self.code = code
        }
    }

    /// The method with this ordinal, if the class defines one.
    public func method(ordinal: Int32) -> Method? { methods.first { $0.ordinal == ordinal } }
}
