/// A class object's data area (Phantom's `data_area_4_class`): what a class
/// file's `C`, `M`, `c` and `f` records become once loaded, plus the
/// internal class it stands for if it is one of the VM's own.
///
/// Words 0..<6 are references; the rest are numbers.
public enum ClassLayout {
    static let name = 0               // string
    static let parent = 1             // class, or null for a root class
    static let methods = 2            // slots: a code object per method ordinal (the "interface")
    static let methodNames = 3        // slots: a string per ordinal
    static let constants = 4          // slots: the constant pool
    static let fieldNames = 5         // slots: a string per object slot
    static let refWords = 6
    static let objectSlotCount = 6    // instance size in references, inherited slots included
    static let methodSlotCount = 7
    /// `InternalClass.rawValue`, or 0 for a class loaded from a class file.
    static let internalKind = 8
    static let wordCount = 9
}

/// The universal method ordinals every object answers (Phantom's
/// `syscall_table_4_void`, whose methods every class inherits).
public enum UniversalOrdinal {
    public static let construct = 0
    public static let destruct = 1
    public static let getClass = 2
    public static let clone = 3
    public static let equals = 4
    public static let toString = 5
    public static let toXML = 6
    public static let fromXML = 7
    public static let defaultOperation1 = 8
    public static let defaultOperation2 = 9
    public static let toImmutable = 14
    public static let hashCode = 15
    /// The first ordinal a class file's own methods may use.
    public static let firstUserOrdinal = 16
}
