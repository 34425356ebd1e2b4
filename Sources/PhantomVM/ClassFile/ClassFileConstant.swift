extension ClassFile {
    /// A constant-pool entry (`c` record, compiler `ConstantPoolFileInfo`),
    /// which `const_pool index` pushes. The compiler writes only strings; the
    /// VM loads only non-container `.internal.string` constants and drops
    /// the rest, so other types are kept here for tools, not run.
    public struct Constant: Equatable, Sendable {
        public var index: Int32
        public var type: PhantomType
        /// The value's bytes: they run to the end of the record, with no length of their own.
        public var bytes: [UInt8]

        public init(index: Int32, type: PhantomType = .string, bytes: [UInt8]) {
            self.index = index
            self.type = type
            self.bytes = bytes
        }

        /// A string constant.
        public init(index: Int32, string: String) {
            self.init(index: index, type: .string, bytes: Array(string.utf8))
        }
    }
}
