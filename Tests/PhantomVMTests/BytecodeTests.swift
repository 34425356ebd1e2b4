import Testing
@testable import PhantomVM

@Suite struct BytecodeTests {
    @Test func theCurrentTableHas127Opcodes() {
        #expect(Opcode.allCases.filter(\.isInCurrentTable).count == 127)
        #expect(Opcode.allCases.filter(\.isLegacySys).count == 16)
    }

    @Test func jumpsAreRelativeToTheirDisplacementField() throws {
        var writer = BytecodeWriter()
        writer.op(.jmp); writer.reference("end")   // field at 1
        writer.op(.nop)
        try writer.label("end")                    // 6
        writer.op(.ret)
        let code = try writer.finish()
        #expect(Array(code[1...4]) == [0, 0, 0, 5])
        let instructions = try CodeReader.decodeAll(code)
        #expect(instructions.map(\.opcode) == [.jmp, .nop, .ret])
        #expect(instructions[0].operands == [.target(6)])
    }

    @Test func switchDefaultIsTheByteAfterTheTable() throws {
        var writer = BytecodeWriter()
        writer.op(.switch); writer.i32(2); writer.i32(-1); writer.i32(1)
        writer.reference("a"); writer.reference("b")
        try writer.label("a"); writer.op(.nop)
        try writer.label("b"); writer.op(.ret)
        let instruction = try CodeReader.decodeAll(try writer.finish())[0]
        #expect(instruction.length == 21)
        #expect(instruction.operands == [.switchTable(SwitchTable(shift: -1, divisor: 1, targets: [21, 22], defaultTarget: 21))])
    }

    @Test func truncatedOperandsAreErrorsWithTheirOffset() {
        #expect(throws: BytecodeError(offset: 1, "operand needs 4 bytes, 2 left")) {
            _ = try CodeReader.decodeAll([Opcode.iconst_32bit.rawValue, 0, 1])
        }
        #expect(throws: BytecodeError(offset: 0, "unknown opcode 0x2C")) { _ = try CodeReader.decodeAll([0x2C]) }
        #expect(throws: BytecodeError(offset: 1, "string operand has a negative length -1")) {
            _ = try CodeReader.decodeAll([Opcode.sconst_bin.rawValue, 0xFF, 0xFF, 0xFF, 0xFF])
        }
    }
}
