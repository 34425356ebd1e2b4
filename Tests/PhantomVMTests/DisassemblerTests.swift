import Testing
@testable import PhantomVM

@Suite struct DisassemblerTests {
    /// A small class as Phantom's compiler would write it: the argument-count
    /// check its methods begin with, a field load, a call, a constant.
    static func counter() throws -> ClassFile {
        var code = BytecodeWriter()
        code.op(.iconst_32bit); code.i32(0)
        code.op(.isublu)
        code.op(.jz); code.reference("ok")
        code.op(.throw)
        try code.label("ok")
        code.op(.os_load8); code.u8(0)
        code.op(.call_08); code.u8(1)
        code.op(.const_pool); code.i32(0)
        code.op(.ret)
        return ClassFile(
            name: ".ru.dz.demo.counter", objectSlotCount: 1, methodSlotCount: 17, version: "20170628000206538",
            methods: [.init(name: "run", ordinal: 16, code: try code.finish())],
            signatures: [.init(name: "run", ordinal: 16, returnType: .void, arguments: [.init(name: "n", type: .int)])],
            lineMaps: [.init(ordinal: 16, entries: [.init(offset: 12, line: 77), .init(offset: 21, line: 78)])],
            fields: [.init(name: "count", ordinal: 0, type: .int)],
            constants: [.init(index: 0, string: "hello\n")])
    }

    @Test func listsAClassInTheFormOfPhantomsListings() throws {
        let expected = """
            Class version 20170628000206538

            class .ru.dz.demo.counter
            parent .internal.object
            objects 1
            methods 17
            field count ordinal 0 .internal.int
            const 0 "hello\\n"

            signature run ordinal 16 returns .internal.void (n .internal.int)
            linemap 16 12:77 21:78
            method run ordinal 16
            --
              iconst_32bit 0\t\t\t\t\t\t//  @0
              isublu\t\t\t\t\t\t\t//  @5
              jz _label_0\t\t\t\t\t\t//  @6
              throw\t\t\t\t\t\t\t//  @11
            _label_0:\t//  @12
            ; Line 77
              os_load8 0\t\t\t\t\t\t//  @12
              call_08 1\t\t\t\t\t\t//  @14
              const_pool 0\t\t\t\t\t\t//  @16
            ; Line 78
              ret\t\t\t\t\t\t\t//  @21
            --
            method end


            """
        #expect(Disassembler.listing(try Self.counter()) == expected)
    }

    @Test func everyOperandKindIsListed() throws {
        var code = BytecodeWriter()
        try code.label("top")
        code.op(.debug); code.u8(0x81); code.string(Array("trace on".utf8))
        code.op(.debug); code.u8(2)
        code.op(.sconst_bin); code.string([0x22, 0x5C, 0x00, 0xFF] + Array("é".utf8))
        code.op(.summon_by_name); code.string(Array(".internal.io.tty".utf8))
        code.op(.iconst_64bit); code.i64(Int64.min)
        code.op(.iconst_32bit); code.i32(-1)
        code.op(.stack_reserve); code.u8(2); code.u8(255)
        code.op(.call_32bit); code.i32(40); code.i32(3)
        code.op(.switch); code.i32(2); code.i32(-1); code.i32(1); code.reference("top"); code.reference("end")
        code.op(.djnz); code.i32(3)  // into the middle of the switch: no label can stand there
        try code.label("end")
        let lines = Disassembler.body(try code.finish(), lineEntries: []).map { $0.split(separator: "\t").first.map(String.init) ?? "" }
        #expect(lines == [
            "_label_0:",
            "  debug 129 \"trace on\"",
            "  debug 2",
            "  sconst_bin \"\\\"\\\\\\0\\xFFé\"",
            "  summon_by_name \".internal.io.tty\"",
            "  iconst_64bit -9223372036854775808",
            "  iconst_32bit -1",
            "  stack_reserve 2 255",
            "  call_32bit 40 3",
            "  switch -1 1 _label_0 _label_1",
            "  djnz @\(code.position - 4 + 3)",
            "_label_1:",
        ])
    }

    @Test func codeThatDoesNotDecodeIsListedAsBytes() throws {
        let code: [UInt8] = [Opcode.jmp.rawValue, 0, 0, 0, 5, Opcode.nop.rawValue, 0x2C] + Array(0..<20)
        let lines = Disassembler.body(code, lineEntries: [])
        #expect(lines == [
            "  jmp _label_0\t\t\t\t\t\t//  @0",
            "  nop\t\t\t\t\t\t\t//  @5",
            "_label_0:\t//  @6",
            "; does not decode: at code offset 6: unknown opcode 0x2C",
            "  bytes 0x2C 0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08 0x09 0x0A 0x0B 0x0C 0x0D 0x0E\t//  @6",
            "  bytes 0x0F 0x10 0x11 0x12 0x13\t\t\t\t//  @22",
        ])
    }

    @Test func decodedInstructionsEncodeToTheSameBytes() throws {
        let code = try Self.counter().methods[0].code
        var writer = BytecodeWriter()
        for instruction in try CodeReader.decodeAll(code) { try writer.instruction(instruction) }
        #expect(writer.code == code)
    }
}
