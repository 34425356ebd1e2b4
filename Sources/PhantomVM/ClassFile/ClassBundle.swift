/// A class bundle ("bulk" file, Phantom's `include/vm/bulk.h` and the
/// `mkbulk` tool): many `.pc` files in one, which the VM reads at boot to
/// find the classes it has no separate file for.
///
/// There is no bundle header, count or trailer. Each entry is a 512-byte
/// NUL-padded class name (`PVM_BULK_CN_LENGTH`, written with `strncpy`),
/// the data length as a little-endian u32 (`mkbulk` fwrites the struct in
/// host order, on little-endian x86; unlike the big-endian class files), then
/// the class file's bytes unchanged. `mkbulk` names an entry after its file
/// (`ru.dz.phantom.system.shell`, no leading dot).
public struct ClassBundle: Equatable, Sendable {
    public static let nameFieldSize = 512
    public static let entryHeaderSize = nameFieldSize + 4

    public struct Entry: Equatable, Sendable {
        public var name: String
        /// A `.pc` file.
        public var bytes: [UInt8]
        public init(name: String, bytes: [UInt8]) { self.name = name; self.bytes = bytes }
    }

    public var entries: [Entry]
    /// Where the bundle came from, to name in errors about its entries; not
    /// part of its value (`==` compares the entries).
    public var source: String

    public init(entries: [Entry] = [], source: String = "bundle") {
        self.entries = entries
        self.source = source
    }

    public static func == (lhs: ClassBundle, rhs: ClassBundle) -> Bool { lhs.entries == rhs.entries }

    /// Reads a bundle. `source` names it in errors. Unlike the VM, which
    /// stops quietly at a short read, a truncated entry is an error.
    public init(parsing bytes: [UInt8], source: String) throws(ClassBundleError) {
        var entries: [Entry] = []
        var start = 0
        while start < bytes.count {
            let left = bytes.count - start
            guard left >= Self.entryHeaderSize else {
                throw ClassBundleError(source: source, entry: entries.count, offset: start,
                                       "the bundle ends inside an entry header (\(left) of \(Self.entryHeaderSize) bytes)")
            }
            let field = bytes[start..<start + Self.nameFieldSize]
            guard let end = field.firstIndex(of: 0) else {
                throw ClassBundleError(source: source, entry: entries.count, offset: start,
                                       "the class name is not NUL-terminated within \(Self.nameFieldSize) bytes")
            }
            let name = ClassFile.text(bytes[start..<end])
            var length = 0
            for byte in bytes[start + Self.nameFieldSize..<start + Self.entryHeaderSize].reversed() { length = length << 8 | Int(byte) }
            guard length <= left - Self.entryHeaderSize else {
                throw ClassBundleError(source: source, entry: entries.count, offset: start + Self.nameFieldSize,
                                       "entry '\(name)' declares \(length) bytes, only \(left - Self.entryHeaderSize) follow")
            }
            let data = start + Self.entryHeaderSize
            entries.append(Entry(name: name, bytes: Array(bytes[data..<data + length])))
            start = data + length
        }
        self.entries = entries
        self.source = source
    }

    /// The bundle's bytes; refuses a name that does not fit the name field
    /// with its terminating NUL, or a class file over 4 GiB.
    public func encoded() throws(ClassBundleError) -> [UInt8] {
        var output: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            let name = Array(entry.name.utf8)
            guard name.count < Self.nameFieldSize, !name.contains(0) else {
                throw ClassBundleError(source: source, entry: index, offset: output.count,
                                       "the class name '\(entry.name)' does not fit the \(Self.nameFieldSize)-byte NUL-terminated name field")
            }
            guard let length = UInt32(exactly: entry.bytes.count) else {
                throw ClassBundleError(source: source, entry: index, offset: output.count,
                                       "entry '\(entry.name)' is larger than a u32 length allows")
            }
            output += name
            output += repeatElement(0, count: Self.nameFieldSize - name.count)
            output += [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)]
            output += entry.bytes
        }
        return output
    }

    /// The first entry of that name, as the VM's scan finds it
    /// (`pvm_load_class_from_module`): `.` and `/` are the same, and one
    /// leading separator is ignored on either side.
    public func entry(named name: String) -> Entry? {
        let key = ClassName.lookupKey(name)
        return entries.first { ClassName.lookupKey($0.name) == key }
    }
}

/// Why a bundle was refused: names the bundle, the entry (counted from 0) and the byte offset.
public struct ClassBundleError: Error, Equatable, Sendable, CustomStringConvertible {
    public var source: String
    public var entry: Int
    public var offset: Int
    public var message: String

    public init(source: String, entry: Int, offset: Int, _ message: String) {
        self.source = source
        self.entry = entry
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(source): entry \(entry): at offset \(offset): \(message)" }
}
