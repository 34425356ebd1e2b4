extension ClassFile {
    /// A method's signature (`S` record). The VM parses and discards it; the
    /// compiler reads it back when it imports a class, to type-check calls.
    public struct Signature: Equatable, Sendable {
        public var name: String
        public var ordinal: Int32
        /// Whether the method is a constructor; nil in a signature of the old
        /// generation, which has no such field.
        public var isConstructor: Bool?
        public var returnType: PhantomType
        public var arguments: [Argument]

        public init(name: String, ordinal: Int32, isConstructor: Bool? = false, returnType: PhantomType,
                    arguments: [Argument] = []) {
            self.name = name
            self.ordinal = ordinal
            self.isConstructor = isConstructor
            self.returnType = returnType
            self.arguments = arguments
        }

        /// Which layout the record has (or will have when written).
        public var generation: SignatureGeneration { isConstructor == nil ? .old : .current }

        public struct Argument: Equatable, Sendable {
            public var name: String
            public var type: PhantomType
            public init(name: String, type: PhantomType) { self.name = name; self.type = type }
        }
    }

    /// The two layouts of the `S` record. Nothing in the record says which
    /// one it has: the parser tries both and keeps the one that consumes the
    /// payload exactly (see `ClassFileParser`).
    public enum SignatureGeneration: Sendable, Equatable {
        /// name, ordinal, n_args, `is_ctor`, return type, args: what the VM
        /// (`load_class.c`) and the compiler's `ClassInfoLoader` expect.
        case current
        /// The same without `is_ctor`: files of the older `MethodSignatureFileInfo`.
        case old
    }
}
