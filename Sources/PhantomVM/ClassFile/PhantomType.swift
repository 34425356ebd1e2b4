/// A type as Phantom's class files record it: the return and argument types
/// of a method signature, the type of a field, the type of a constant.
///
/// On disk (compiler `PhantomType.save_to_file`, VM `pvm_load_type` in
/// `load_class.c`) it is an int32 `is_container` (0 or 1), then the main
/// class name and the contained class name, each an int32 byte count and the
/// bytes. A plain type names its class in `mainClassName` (`.internal.int`,
/// `.ru.dz.foo`) and leaves `containedClassName` empty; a container names the
/// container class (`.internal.container.array`, or nothing) and the class of
/// its elements.
public struct PhantomType: Hashable, Sendable {
    public var isContainer: Bool
    public var mainClassName: String
    public var containedClassName: String

    public init(isContainer: Bool, mainClassName: String, containedClassName: String) {
        self.isContainer = isContainer
        self.mainClassName = mainClassName
        self.containedClassName = containedClassName
    }

    /// A plain (non-container) type of class `name`.
    public init(_ name: String) {
        self.init(isContainer: false, mainClassName: name, containedClassName: "")
    }

    /// A container of `element`s, held in a `container` (Phantom's arrays are
    /// `.internal.container.array`).
    public static func container(of element: String, in container: String = ".internal.container.array") -> PhantomType {
        PhantomType(isContainer: true, mainClassName: container, containedClassName: element)
    }

    public static let void = PhantomType(".internal.void")
    public static let object = PhantomType(".internal.object")
    public static let int = PhantomType(".internal.int")
    /// The type of every constant Phantom's compiler writes, and the only one
    /// the VM loads into a constant pool.
    public static let string = PhantomType(".internal.string")
}
