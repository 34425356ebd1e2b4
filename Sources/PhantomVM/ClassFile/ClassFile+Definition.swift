import Foundation

/// A parsed class file as the VM defines it. Phantom's loader keeps only
/// string constants ("unknown const" otherwise); so do we. Signatures and
/// line maps are for tools, not for running.
extension ClassFile {
    public var definition: ClassDefinition {
        var constantBytes: [Int: [UInt8]] = [:]
        for constant in constants where constant.type == .string { constantBytes[Int(constant.index)] = constant.bytes }
        var fieldNames: [Int: String] = [:]
        for field in fields { fieldNames[Int(field.ordinal)] = field.name }
        return ClassDefinition(
            name: name, parent: parentName, objectSlotCount: Int(objectSlotCount), methodSlotCount: Int(methodSlotCount),
            methods: methods.map { ClassDefinition.Method(name: $0.name, ordinal: Int($0.ordinal), code: $0.code) },
            constants: constantBytes, fields: fieldNames)
    }
}

/// The VM's class source over class files: a directory of `.pc` files or a
/// class bundle, chosen by what the path is.
public struct ClassFiles: ClassSource {
    public let files: any ClassFileSource

    public init(_ files: any ClassFileSource) { self.files = files }

    public func definition(of name: String) throws -> ClassDefinition? { try files.classFile(named: name)?.definition }

    /// A directory is a class directory; a file is a class bundle (read and
    /// checked whole now, so a bad bundle is refused before anything runs).
    public static func open(_ path: String) throws -> ClassFiles {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ClassDirectoryError(path: path, "no such file or directory (a directory of .pc files or a class bundle)")
        }
        if isDirectory.boolValue { return ClassFiles(ClassDirectory(path: path)) }
        guard let data = FileManager.default.contents(atPath: path) else { throw ClassDirectoryError(path: path, "cannot be read") }
        return ClassFiles(try ClassBundle(parsing: Array(data), source: path))
    }
}
