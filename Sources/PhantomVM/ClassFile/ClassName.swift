/// How Phantom matches class names between the places a class may come
/// from: the VM compares bundle entry names with `.` and `/` as the same
/// separator and one leading separator ignored (`pvm_load_class_from_module`),
/// so `.ru.dz.foo`, `ru.dz.foo` and `/ru/dz/foo` are one class.
public enum ClassName {
    /// The form names are compared in: dots, no leading separator.
    public static func lookupKey(_ name: String) -> String {
        var key = Substring(name)
        if key.first == "." || key.first == "/" { key = key.dropFirst() }
        return String(key.map { $0 == "/" ? "." : $0 })
    }

    /// The name of a class's separate file in a class directory: `ru.dz.foo.pc`,
    /// the name `mkbulk` expects and the compiler writes. Nil for a name that
    /// is no file name (empty, or with a NUL).
    public static func fileName(_ name: String) -> String? {
        let key = lookupKey(name)
        guard !key.isEmpty, !key.utf8.contains(0) else { return nil }
        return key + ".pc"
    }
}
