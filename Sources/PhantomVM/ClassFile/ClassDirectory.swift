import Foundation

/// A directory of separate class files, one per class, named as
/// `ClassName.fileName` gives (`ru.dz.phantom.system.shell.pc`): how the
/// compiler writes them, and where the VM looks before its bundle.
public struct ClassDirectory: ClassFileSource {
    public let path: String
    /// A larger file is refused rather than read whole into memory.
    public let maximumFileSize: Int

    public init(path: String, maximumFileSize: Int = 64 << 20) {
        self.path = path
        self.maximumFileSize = maximumFileSize
    }

    /// Where the class's file would be; nil for a name that can be no file's.
    public func filePath(forClass name: String) -> String? {
        ClassName.fileName(name).map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
    }

    public func classFile(named name: String) throws -> ClassFile? {
        guard let file = filePath(forClass: name) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        guard size <= maximumFileSize else {
            throw ClassDirectoryError(path: file, "\(size) bytes is more than the \(maximumFileSize) a class file may have here")
        }
        guard let data = FileManager.default.contents(atPath: file) else { throw ClassDirectoryError(path: file, "cannot be read") }
        return try ClassFile(parsing: Array(data), source: file)
    }
}

/// A class file of a `ClassDirectory` that could not be read at all.
public struct ClassDirectoryError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}
