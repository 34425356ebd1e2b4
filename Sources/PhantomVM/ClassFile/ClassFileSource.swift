/// Somewhere the class loader finds classes by name: a bundle, a directory
/// of `.pc` files, or several of them in turn (the VM first tries a separate
/// file, then the boot bundle: `pvm_load_class_from_module`).
public protocol ClassFileSource: Sendable {
    /// The class file of that class, or nil when this source has none.
    /// Throws when it has one that cannot be read or parsed.
    func classFile(named name: String) throws -> ClassFile?
}

extension ClassBundle: ClassFileSource {
    /// Parses the entry of that name, named in errors as `BUNDLE[ENTRY]`.
    public func classFile(named name: String) throws -> ClassFile? {
        guard let entry = entry(named: name) else { return nil }
        return try ClassFile(parsing: entry.bytes, source: "\(source)[\(entry.name)]")
    }
}
