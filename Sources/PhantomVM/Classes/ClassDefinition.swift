/// A class as the VM defines it, independent of where it came from: a class
/// file's records (`ClassFile`), or a test's or tool's construction.
public struct ClassDefinition: Sendable, Equatable {
    public struct Method: Sendable, Equatable {
        public var name: String
        public var ordinal: Int
        public var code: [UInt8]
        public init(name: String, ordinal: Int, code: [UInt8]) { self.name = name; self.ordinal = ordinal; self.code = code }
    }

    /// Fully qualified with a leading dot, as class files name classes (`.ru.dz.phantom.system.boot`).
    public var name: String
    /// `.internal.object` or empty for a root class.
    public var parent: String
    /// Instance size in references, the parent's included.
    public var objectSlotCount: Int
    /// Method table size, the parent's ordinals included.
    public var methodSlotCount: Int
    public var methods: [Method]
    /// The constant pool: index → string bytes (Phantom's loader keeps only string constants).
    public var constants: [Int: [UInt8]]
    /// Object slot → field name.
    public var fields: [Int: String]

    public init(name: String, parent: String = ".internal.object", objectSlotCount: Int = 0, methodSlotCount: Int? = nil,
                methods: [Method] = [], constants: [Int: [UInt8]] = [:], fields: [Int: String] = [:]) {
        self.name = name
        self.parent = parent
        self.objectSlotCount = objectSlotCount
        self.methodSlotCount = methodSlotCount ?? max(UniversalOrdinal.firstUserOrdinal, (methods.map(\.ordinal).max() ?? -1) + 1)
        self.methods = methods
        self.constants = constants
        self.fields = fields
    }

    /// What makes a definition unusable, checked before anything is stored,
    /// so that a bad class loads nothing.
    public func validate() throws(VMError) {
        guard !name.isEmpty else { throw VMError.invalidClass("a class has no name") }
        guard (0...65536).contains(objectSlotCount) else {
            throw VMError.invalidClass("\(name): \(objectSlotCount) object slots (0...65536 allowed)")
        }
        guard (0...65536).contains(methodSlotCount) else {
            throw VMError.invalidClass("\(name): \(methodSlotCount) method slots (0...65536 allowed)")
        }
        for method in methods where !(0..<methodSlotCount).contains(method.ordinal) {
            throw VMError.invalidClass("\(name): method \(method.name) has ordinal \(method.ordinal), outside the \(methodSlotCount) method slots")
        }
        for (index, _) in constants where !(0..<65536).contains(index) {
            throw VMError.invalidClass("\(name): constant index \(index) outside 0..<65536")
        }
        for (slot, field) in fields where !(0..<objectSlotCount).contains(slot) {
            throw VMError.invalidClass("\(name): field \(field) has slot \(slot), outside the \(objectSlotCount) object slots")
        }
    }
}
