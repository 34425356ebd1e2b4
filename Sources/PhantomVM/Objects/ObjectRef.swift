/// A reference to a Phantom object: its offset in the object space
/// (DESIGN.md invariant 2, positions not pointers). Offset 0 is page 0, the
/// space header, where no object can be, so it serves as null: Phantom's
/// `summon_null` and `os_isnull` are this value, and a call on it throws.
public struct ObjectRef: Hashable, Sendable, CustomStringConvertible {
    public var offset: UInt64
    public init(_ offset: UInt64) { self.offset = offset }
    public static let null = ObjectRef(0)
    public var isNull: Bool { offset == 0 }
    public var description: String { isNull ? "null" : "@\(offset)" }
}
