extension ClassFile {
    /// Which source line each code offset of a method came from (`l`
    /// record, compiler `MethodLineNumbersFileInfo`), for stack traces and
    /// debuggers. The compiler writes its entries in hash-map order, so
    /// they are kept in file order, not sorted.
    public struct LineMap: Equatable, Sendable {
        /// The method's ordinal.
        public var ordinal: Int32
        public var entries: [Entry]

        public init(ordinal: Int32, entries: [Entry]) {
            self.ordinal = ordinal
            self.entries = entries
        }

        /// An int64 code offset and an int32 line on disk (12 bytes). The VM's
        /// disabled reader would read int32 + int32; the compiler, which
        /// writes them, is followed.
        public struct Entry: Equatable, Sendable {
            public var offset: Int64
            public var line: Int32
            public init(offset: Int64, line: Int32) { self.offset = offset; self.line = line }
        }
    }
}
