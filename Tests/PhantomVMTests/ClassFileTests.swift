import Testing
@testable import PhantomVM

@Suite struct ClassFileTests {
    typealias B = ClassFileBytes

    /// `summon_null; ret`: the smallest method that returns something.
    let code: [UInt8] = [Opcode.summon_null.rawValue, Opcode.ret.rawValue]

    @Test func parsesTheCurrentGeneration() throws {
        let bytes = B.header()
            + B.method("run", ordinal: 8, code: code)
            + B.signature("run", ordinal: 8, isConstructor: false, returns: B.type(".internal.void"),
                          arguments: [("count", B.type(".internal.int")), ("names", B.type(".internal.container.array", container: true, contained: ".internal.string"))])
            + B.record("l", B.i32(8) + B.i32(2) + B.i64(1) + B.i32(53) + B.i64(0) + B.i32(52))
            + B.record("f", B.str("tty") + B.i32(0) + B.type(".internal.io.tty"))
            + B.record("f", B.str("a") + B.i32(1) + B.type(".internal.int"))
            + B.record("c", B.i32(0) + B.type(".internal.string") + Array("hello".utf8))
        let file = try ClassFile(parsing: bytes, source: "sample.pc")
        #expect(file.name == ".test.sample")
        #expect(file.parentName == ".internal.object")
        #expect(file.objectSlotCount == 2 && file.methodSlotCount == 10)
        #expect(file.version == "20170628000206538")
        #expect(file.methods == [ClassFile.Method(name: "run", ordinal: 8, code: code)])
        #expect(file.signatures == [ClassFile.Signature(
            name: "run", ordinal: 8, isConstructor: false, returnType: .void,
            arguments: [.init(name: "count", type: .int), .init(name: "names", type: .container(of: ".internal.string"))])])
        #expect(file.signatures[0].generation == .current)
        #expect(file.lineMaps == [ClassFile.LineMap(ordinal: 8, entries: [.init(offset: 1, line: 53), .init(offset: 0, line: 52)])])
        #expect(file.fields.map(\.name) == ["tty", "a"])
        #expect(file.constants == [ClassFile.Constant(index: 0, string: "hello")])
        // In the compiler's order, the writer gives the very same bytes back.
        #expect(try file.encoded() == bytes)
    }

    @Test func parsesTheOldGenerationAndConstructors() throws {
        let bytes = B.header(version: nil)
            + B.method("<init>", ordinal: 0, code: code)
            + B.signature("<init>", ordinal: 0, isConstructor: nil, returns: B.type(".internal.void"), arguments: [("x", B.type(".internal.int"))])
            + B.signature("make", ordinal: 1, isConstructor: true, returns: B.type(".test.sample"), arguments: [])
            + B.signature("none", ordinal: 2, isConstructor: nil, returns: B.type(".internal.int"), arguments: [])
        let file = try ClassFile(parsing: bytes, source: "old.pc")
        #expect(file.version == nil, "a header without the version string, as older compilers wrote it")
        #expect(file.signatures.map(\.generation) == [.old, .current, .old])
        #expect(file.signatures.map(\.isConstructor) == [nil, true, nil])
        #expect(file.signatures[0].arguments == [.init(name: "x", type: .int)])
        #expect(try file.encoded() == bytes, "each signature is written back in its own generation")

        // Forcing a generation rewrites every signature in it.
        let current = try ClassFile(parsing: try file.encoded(signatureGeneration: .current), source: "current.pc")
        #expect(current.signatures.map(\.isConstructor) == [false, true, false])
        let old = try ClassFile(parsing: try file.encoded(signatureGeneration: .old), source: "old.pc")
        #expect(old.signatures.map(\.isConstructor) == [nil, nil, nil])
    }

    @Test func writtenFilesParseBackToTheSameValue() throws {
        let file = ClassFile(
            name: ".ru.dz.demo.counter", parentName: ".ru.dz.demo.base", objectSlotCount: 5, methodSlotCount: 20,
            version: "", methods: [.init(name: "b", ordinal: 17, code: code), .init(name: "a", ordinal: 16, code: [])],
            signatures: [.init(name: "a", ordinal: 16, isConstructor: nil, returnType: .object),
                         .init(name: "b", ordinal: 17, returnType: .container(of: "x", in: "")),
                         .init(name: "zzz", ordinal: 3, isConstructor: true, returnType: PhantomType(isContainer: false, mainClassName: "m", containedClassName: "c"))],
            lineMaps: [.init(ordinal: 16, entries: []), .init(ordinal: 17, entries: [.init(offset: -1, line: Int32.max)])],
            fields: [.init(name: "é", ordinal: 4, type: .int)],
            constants: [.init(index: 7, type: .int, bytes: [0, 0xFF]), .init(index: 0, string: "")])
        #expect(try ClassFile(parsing: try file.encoded(), source: "x") == file)
    }

    @Test func aFieldRecordMayHoldSeveralFields() throws {
        let bytes = B.header() + B.record("f", B.str("a") + B.i32(1) + B.type(".internal.int") + B.str("b") + B.i32(0) + B.type(".internal.string"))
        let file = try ClassFile(parsing: bytes, source: "x")
        #expect(file.fields == [.init(name: "a", ordinal: 1, type: .int), .init(name: "b", ordinal: 0, type: .string)])
        #expect(try ClassFile(parsing: file.encoded(), source: "y") == file, "written back one a record, as the compiler does")
    }

    @Test func namesThatAreNotUTF8AreReadAsLatin1() throws {
        let bytes = B.record("C", B.i32(2) + [0x41, 0xFF] + B.i32(0) + B.i32(0) + B.str("p"))
        #expect(try ClassFile(parsing: bytes, source: "x").name == "A\u{FF}")
    }

    @Test func unknownLowercaseRecordsAreSkippedUppercaseRefused() throws {
        let skipped = B.header() + B.record("x", [1, 2, 3, 4]) + B.method("m", ordinal: 0, code: code)
        #expect(try ClassFile(parsing: skipped, source: "x").methods.count == 1)
        let header = B.header()
        let refused = header + B.record("X", [1, 2, 3, 4])
        #expect(throws: ClassFileError(source: "bad.pc", record: .init(index: 1, tag: 0x58, offset: header.count), offset: header.count + 5,
                                       "unknown record type 'X' (only lowercase types may be skipped)")) {
            try ClassFile(parsing: refused, source: "bad.pc")
        }
    }

    // MARK: broken files: each error names the record and the offset

    private func error(_ bytes: [UInt8]) -> ClassFileError? {
        do { _ = try ClassFile(parsing: bytes, source: "broken.pc"); return nil } catch { return error }
    }

    @Test func badMagic() {
        var bytes = B.header()
        bytes[2] = UInt8(ascii: "X")
        let error = error(bytes)
        #expect(error == ClassFileError(source: "broken.pc", record: .init(index: 0, tag: 0x43, offset: 0), offset: 0,
                                        "no record marker 'phfr:' (found 70 68 58 72 3A)"))
        #expect(error?.description == "broken.pc: record 0 ('C' at offset 0): at offset 0: no record marker 'phfr:' (found 70 68 58 72 3A)")
    }

    @Test func truncatedRecords() {
        let header = B.header()
        let method = B.method("m", ordinal: 1, code: code)
        // The file ends inside the second record's header.
        #expect(error(header + method.prefix(7)) == ClassFileError(
            source: "broken.pc", record: .init(index: 1, tag: 0x4D, offset: header.count), offset: header.count,
            "the file ends inside a record header (7 of 10 bytes)"))
        // ... or inside its payload.
        #expect(error(header + method.dropLast()) == ClassFileError(
            source: "broken.pc", record: .init(index: 1, tag: 0x4D, offset: header.count), offset: header.count + 6,
            "record length \(method.count) runs past the end of the file (\(method.count - 1) bytes left)"))
    }

    @Test func lengthsTooSmallOrTooLarge() {
        for length: Int32 in [13, 0, -5] {
            #expect(error(B.record("C", [0, 0, 0, 0], length: length))?.message == "record length \(length) is below the minimum of 14")
        }
        let huge = error(B.record("C", [0, 0, 0, 0], length: Int32.max))
        #expect(huge?.offset == 6 && huge?.message == "record length 2147483647 runs past the end of the file (14 bytes left)")
        // A length that cuts a string short is caught inside the payload.
        let short = error(B.record("C", B.str("abcdef"), length: 14))
        #expect(short?.message == "class name needs 6 bytes, 0 left" && short?.offset == 14)
    }

    @Test func recordsBeforeTheClassHeader() {
        let method = B.method("m", ordinal: 0, code: code)
        #expect(error(method + B.header()) == ClassFileError(source: "broken.pc", record: .init(index: 0, tag: 0x4D, offset: 0),
                                                             offset: 0, "record 'M' comes before the class header 'C'"))
        #expect(error(B.record("f", B.str("a") + B.i32(0) + B.type("t")))?.message == "record 'f' comes before the class header 'C'")
        #expect(error([]) == ClassFileError(source: "broken.pc", record: nil, offset: 0, "the file is empty: no class header 'C'"))
        #expect(error(B.record("z", [0, 0, 0, 0]))?.message == "no class header 'C' in 1 records")
        #expect(error(B.header() + B.header())?.message == "a second class header (the first is record 0)")
    }

    @Test func badSignatureEitherWay() {
        let header = B.header()
        // n_args says 1 but no argument follows: neither layout consumes the payload.
        let payload = B.str("m") + B.i32(0) + B.i32(1) + B.i32(0) + B.type(".internal.void")
        let error = error(header + B.record("S", payload))
        #expect(error?.record == .init(index: 1, tag: 0x53, offset: header.count))
        #expect(error?.message.hasPrefix("the signature fits neither generation: with is_ctor, ") == true)
        #expect(error?.message.contains("without it, ") == true)
        // is_ctor must be 0 or 1, is_container too.
        let two = B.str("m") + B.i32(0) + B.i32(0) + B.i32(2) + B.type(".internal.void")
        #expect(self.error(header + B.record("S", two))?.message.contains("is_ctor is 2, not 0 or 1 (at offset \(header.count + 10 + 13))") == true)
        // A huge argument count is refused before anything is reserved for it.
        let huge = B.str("m") + B.i32(0) + B.i32(Int32.max) + B.i32(0) + B.type(".internal.void")
        #expect(self.error(header + B.record("S", huge))?.message.contains("argument count 2147483647 cannot fit") == true)
    }

    @Test func badStringLengths() {
        let negative = B.record("C", B.i32(-1) + [0, 0, 0, 0])
        #expect(error(negative) == ClassFileError(source: "broken.pc", record: .init(index: 0, tag: 0x43, offset: 0), offset: 10,
                                                  "class name has a negative length -1"))
        let header = B.header()
        let error = error(header + B.record("M", B.i32(1000) + [1, 2, 3, 4]))
        #expect(error?.message == "method name needs 1000 bytes, 4 left")
        #expect(error?.offset == header.count + 14)
    }

    @Test func ordinalsOutsideTheSlotCounts() {
        let header = B.header(objects: 2, methods: 10)
        #expect(error(header + B.method("m", ordinal: 10, code: []))?.message == "method ordinal 10 is outside the class's 10 method slots")
        #expect(error(header + B.method("m", ordinal: -1, code: []))?.message == "method ordinal -1 is outside the class's 10 method slots")
        #expect(error(header + B.record("f", B.str("f") + B.i32(2) + B.type("t")))?.message == "field ordinal 2 is outside the class's 2 object slots")
        #expect(error(header + B.method("a", ordinal: 3, code: []) + B.method("b", ordinal: 3, code: []))?.message
                == "method ordinal 3 is defined twice (first by record 1)")
        #expect(error(B.record("C", B.str("n") + B.i32(-3) + B.i32(0) + B.str("p")))?.message == "object slot count -3 is negative")
    }

    @Test func lineMapsMustHoldExactlyTheirEntries() {
        let error = error(B.header() + B.record("l", B.i32(0) + B.i32(2) + B.i64(0) + B.i32(1)))
        #expect(error?.message == "a line map of 2 entries takes 24 bytes, the record has 12")
        #expect(error?.offset == B.header().count + 14)
    }

    @Test func trailingBytesInTheHeaderAreRefused() {
        let bytes = B.record("C", B.str("n") + B.i32(0) + B.i32(0) + B.str("p") + B.str("v") + [9])
        #expect(error(bytes)?.message == "1 unexpected bytes after the class version")
    }
}
