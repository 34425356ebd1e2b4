/// Why a class file was refused: names the file, the record (its index,
/// counted from 0, its type tag and where it starts) and the byte offset of
/// the problem, so that a broken file can be looked at with a hex dump.
/// Nothing of a refused file is loaded.
public struct ClassFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file (or bundle entry) the bytes came from, as the caller named it.
    public var source: String
    /// The record the problem is in; nil when it is not inside one (a file
    /// without a class header).
    public var record: Record?
    /// Byte offset of the problem in the file.
    public var offset: Int
    public var message: String

    public struct Record: Equatable, Sendable {
        public var index: Int
        /// The type tag; nil when the file ends before it.
        public var tag: UInt8?
        /// Where the record starts.
        public var offset: Int
        public init(index: Int, tag: UInt8?, offset: Int) { self.index = index; self.tag = tag; self.offset = offset }
    }

    public init(source: String, record: Record?, offset: Int, _ message: String) {
        self.source = source
        self.record = record
        self.offset = offset
        self.message = message
    }

    public var description: String {
        guard let record else { return "\(source): at offset \(offset): \(message)" }
        let tag = record.tag.map { ClassFileRecord.describe($0) + " " } ?? ""
        return "\(source): record \(record.index) (\(tag)at offset \(record.offset)): at offset \(offset): \(message)"
    }
}
