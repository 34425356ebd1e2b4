extension ClassFile {
    /// A field of the class's own (`f` record, compiler `FieldFileInfo`): the
    /// VM records its name in `field_names[ordinal]`. Inherited fields are
    /// described by the parent's class file.
    public struct Field: Equatable, Sendable {
        public var name: String
        /// The object slot it occupies (counting the parent's slots first).
        public var ordinal: Int32
        public var type: PhantomType

        public init(name: String, ordinal: Int32, type: PhantomType) {
            self.name = name
            self.ordinal = ordinal
            self.type = type
        }
    }
}
