extension ClassFile {
    /// Parses a `.pc` file. `source` names it in errors (a path, or a bundle
    /// entry). Any input either gives a class file or throws: every read is
    /// bounds-checked and no length is trusted before it is checked against
    /// the bytes that are there.
    public init(parsing bytes: [UInt8], source: String) throws(ClassFileError) {
        self = try ClassFileParser(bytes: bytes, source: source).parse()
    }

    /// A byte string of a class file as text: UTF-8, or Latin-1 when the
    /// bytes are not UTF-8 (Phantom treats names as opaque bytes; its Java
    /// compiler writes them in the platform charset).
    static func text(_ bytes: some Collection<UInt8>) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }
}

/// Reads a class file record by record, the way `load_class.c` does, but
/// strictly: the class header first, unknown uppercase records refused,
/// every record's payload consumed exactly, ordinals inside the slot counts
/// the header declares (the VM would write past its arrays).
struct ClassFileParser {
    let bytes: [UInt8]
    let source: String

    private struct Header {
        var name: String
        var objectSlotCount: Int32
        var methodSlotCount: Int32
        var parentName: String
        var version: String?
        var index: Int
    }

    func parse() throws(ClassFileError) -> ClassFile {
        var header: Header?
        var methods: [ClassFile.Method] = []
        var methodRecords: [Int32: Int] = [:]
        var signatures: [ClassFile.Signature] = []
        var lineMaps: [ClassFile.LineMap] = []
        var fields: [ClassFile.Field] = []
        var constants: [ClassFile.Constant] = []
        var start = 0
        var index = 0
        while start < bytes.count {
            let left = bytes.count - start
            let tag = left > 5 ? bytes[start + 5] : nil
            let location = ClassFileError.Record(index: index, tag: tag, offset: start)
            guard left >= ClassFileRecord.headerSize else {
                throw error(location, at: start, "the file ends inside a record header (\(left) of \(ClassFileRecord.headerSize) bytes)")
            }
            guard bytes[start..<start + 5].elementsEqual(ClassFileRecord.marker) else {
                let found = bytes[start..<start + 5].map(ClassFileRecord.hex).joined(separator: " ")
                throw error(location, at: start, "no record marker 'phfr:' (found \(found))")
            }
            var length = 0
            for byte in bytes[start + 6..<start + 10] { length = length << 8 | Int(byte) }
            let signedLength = Int(Int32(truncatingIfNeeded: length))
            guard signedLength >= ClassFileRecord.minimumLength else {
                throw error(location, at: start + 6, "record length \(signedLength) is below the minimum of \(ClassFileRecord.minimumLength)")
            }
            guard length <= left else {
                throw error(location, at: start + 6, "record length \(length) runs past the end of the file (\(left) bytes left)")
            }
            var payload = Payload(code: Array(bytes[start + ClassFileRecord.headerSize..<start + length]),
                                  base: start + ClassFileRecord.headerSize, record: location, source: source)
            let known = tag.flatMap(ClassFileRecord.Tag.init(rawValue:))
            if let known, known != .classHeader, header == nil {
                throw error(location, at: start, "record \(ClassFileRecord.describe(known.rawValue)) comes before the class header 'C'")
            }
            switch known {
            case .classHeader:
                if let header { throw error(location, at: start, "a second class header (the first is record \(header.index))") }
                header = try classHeader(&payload, index: index)
            case .method:
                let method = try method(&payload, slots: header?.methodSlotCount ?? 0)
                if let first = methodRecords[method.ordinal] {
                    throw error(location, at: payload.base + payload.fieldOffset,
                                "method ordinal \(method.ordinal) is defined twice (first by record \(first))")
                }
                methodRecords[method.ordinal] = index
                methods.append(method)
            case .signature: signatures.append(try signature(payload))
            case .lineMap: lineMaps.append(try lineMap(&payload))
            case .field: fields += try fieldList(&payload, slots: header?.objectSlotCount ?? 0)
            case .constant: constants.append(try constant(&payload))
            case nil:
                guard let tag, ClassFileRecord.isIgnorable(tag) else {
                    throw error(location, at: start + 5, "unknown record type \(ClassFileRecord.describe(tag ?? 0)) (only lowercase types may be skipped)")
                }
            }
            start += length
            index += 1
        }
        guard let header else {
            throw ClassFileError(source: source, record: nil, offset: bytes.count,
                                 bytes.isEmpty ? "the file is empty: no class header 'C'" : "no class header 'C' in \(index) records")
        }
        return ClassFile(name: header.name, parentName: header.parentName, objectSlotCount: header.objectSlotCount,
                         methodSlotCount: header.methodSlotCount, version: header.version, methods: methods,
                         signatures: signatures, lineMaps: lineMaps, fields: fields, constants: constants)
    }

    private func error(_ record: ClassFileError.Record, at offset: Int, _ message: String) -> ClassFileError {
        ClassFileError(source: source, record: record, offset: offset, message)
    }

    private func classHeader(_ payload: inout Payload, index: Int) throws(ClassFileError) -> Header {
        let name = try payload.text("class name")
        let objects = try payload.count("object slot count")
        let methods = try payload.count("method slot count")
        let parent = try payload.text("parent class name")
        let version = payload.isAtEnd ? nil : try payload.text("class version")
        try payload.expectEnd("after the class version")
        return Header(name: name, objectSlotCount: objects, methodSlotCount: methods, parentName: parent,
                      version: version, index: index)
    }

    private func method(_ payload: inout Payload, slots: Int32) throws(ClassFileError) -> ClassFile.Method {
        let name = try payload.text("method name")
        let ordinal = try payload.ordinal("method ordinal", below: slots, "method slots")
        return ClassFile.Method(name: name, ordinal: ordinal, code: payload.rest())
    }

    /// The `S` record in whichever generation consumes the payload exactly;
    /// the current one when both would (the VM assumes it).
    private func signature(_ payload: Payload) throws(ClassFileError) -> ClassFile.Signature {
        let current: ClassFileError
        do {
            var attempt = payload
            return try signature(&attempt, constructorFlag: true)
        } catch { current = error }
        do {
            var attempt = payload
            return try signature(&attempt, constructorFlag: false)
        } catch {
            throw ClassFileError(source: source, record: payload.record, offset: current.offset,
                                 "the signature fits neither generation: with is_ctor, \(current.message) "
                                 + "(at offset \(current.offset)); without it, \(error.message) (at offset \(error.offset))")
        }
    }

    private func signature(_ payload: inout Payload, constructorFlag: Bool) throws(ClassFileError) -> ClassFile.Signature {
        let name = try payload.text("method name")
        let ordinal = try payload.count("method ordinal")
        // Each argument takes at least 16 bytes, and is_ctor and the return type
        // 16 or 12 more: a count the payload cannot hold is refused before anything is reserved for it.
        let count = try payload.count("argument count", eachTaking: 16, after: constructorFlag ? 16 : 12)
        var isConstructor: Bool?
        if constructorFlag { isConstructor = try payload.flag("is_ctor") }
        let returnType = try payload.type("return type")
        var arguments: [ClassFile.Signature.Argument] = []
        arguments.reserveCapacity(Int(count))
        for number in 0..<count {
            let argument = try payload.text("name of argument \(number)")
            arguments.append(.init(name: argument, type: try payload.type("type of argument \(number)")))
        }
        try payload.expectEnd("after the arguments")
        return ClassFile.Signature(name: name, ordinal: ordinal, isConstructor: isConstructor, returnType: returnType,
                                   arguments: arguments)
    }

    private func lineMap(_ payload: inout Payload) throws(ClassFileError) -> ClassFile.LineMap {
        let ordinal = try payload.count("method ordinal")
        let count = try payload.count("line map entry count")
        let countOffset = payload.fieldOffset
        guard Int(count) * 12 == payload.remaining else {
            throw payload.error(at: countOffset, "a line map of \(count) entries takes \(Int(count) * 12) bytes, the record has \(payload.remaining)")
        }
        var entries: [ClassFile.LineMap.Entry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            let offset = try payload.int64("code offset")
            entries.append(.init(offset: offset, line: try payload.int32("line number")))
        }
        return ClassFile.LineMap(ordinal: ordinal, entries: entries)
    }

    /// One or more fields: the compiler writes one a record, the VM reads until the payload ends.
    private func fieldList(_ payload: inout Payload, slots: Int32) throws(ClassFileError) -> [ClassFile.Field] {
        var fields: [ClassFile.Field] = []
        repeat {
            let name = try payload.text("field name")
            let ordinal = try payload.ordinal("field ordinal", below: slots, "object slots")
            fields.append(ClassFile.Field(name: name, ordinal: ordinal, type: try payload.type("field type")))
        } while !payload.isAtEnd
        return fields
    }

    private func constant(_ payload: inout Payload) throws(ClassFileError) -> ClassFile.Constant {
        let index = try payload.count("constant index")
        let type = try payload.type("constant type")
        return ClassFile.Constant(index: index, type: type, bytes: payload.rest())
    }
}

/// One record's payload, read with the bytecode's own bounds-checked reader;
/// its errors come out as `ClassFileError`s at absolute file offsets.
private struct Payload {
    var reader: CodeReader
    let base: Int
    let record: ClassFileError.Record
    let source: String
    /// Where the last field read started (payload-relative), for errors about its value.
    private(set) var fieldOffset = 0

    init(code: [UInt8], base: Int, record: ClassFileError.Record, source: String) {
        self.reader = CodeReader(code)
        self.base = base
        self.record = record
        self.source = source
    }

    var isAtEnd: Bool { reader.isAtEnd }
    var remaining: Int { reader.code.count - reader.position }

    func error(at offset: Int, _ message: String) -> ClassFileError {
        ClassFileError(source: source, record: record, offset: base + offset, message)
    }

    private func converted(_ error: BytecodeError) -> ClassFileError { self.error(at: error.offset, error.message) }

    mutating func int32(_ what: String) throws(ClassFileError) -> Int32 {
        fieldOffset = reader.position
        do { return try reader.i32(what) } catch { throw converted(error) }
    }

    mutating func int64(_ what: String) throws(ClassFileError) -> Int64 {
        fieldOffset = reader.position
        do { return try reader.i64(what) } catch { throw converted(error) }
    }

    mutating func text(_ what: String) throws(ClassFileError) -> String {
        fieldOffset = reader.position
        do { return ClassFile.text(try reader.string(what)) } catch { throw converted(error) }
    }

    /// An int32 that must not be negative.
    mutating func count(_ what: String) throws(ClassFileError) -> Int32 {
        let value = try int32(what)
        guard value >= 0 else { throw error(at: fieldOffset, "\(what) \(value) is negative") }
        return value
    }

    /// A count of items of at least `size` bytes each, which follow `fixed` more bytes.
    mutating func count(_ what: String, eachTaking size: Int, after fixed: Int) throws(ClassFileError) -> Int32 {
        let value = try count(what)
        guard Int(value) <= max(0, remaining - fixed) / size else {
            throw error(at: fieldOffset, "\(what) \(value) cannot fit in the \(remaining) bytes left")
        }
        return value
    }

    mutating func ordinal(_ what: String, below slots: Int32, _ slotName: String) throws(ClassFileError) -> Int32 {
        let value = try int32(what)
        guard value >= 0 && value < slots else {
            throw error(at: fieldOffset, "\(what) \(value) is outside the class's \(slots) \(slotName)")
        }
        return value
    }

    /// An int32 that must be 0 or 1.
    mutating func flag(_ what: String) throws(ClassFileError) -> Bool {
        let value = try int32(what)
        guard value == 0 || value == 1 else { throw error(at: fieldOffset, "\(what) is \(value), not 0 or 1") }
        return value == 1
    }

    mutating func type(_ what: String) throws(ClassFileError) -> PhantomType {
        let isContainer = try flag("is_container of the \(what)")
        let main = try text("class name of the \(what)")
        let contained = try text("contained class name of the \(what)")
        return PhantomType(isContainer: isContainer, mainClassName: main, containedClassName: contained)
    }

    mutating func rest() -> [UInt8] {
        defer { reader.position = reader.code.count }
        return Array(reader.code[reader.position...])
    }

    func expectEnd(_ where: String) throws(ClassFileError) {
        guard isAtEnd else { throw error(at: reader.position, "\(remaining) unexpected bytes \(`where`)") }
    }
}
