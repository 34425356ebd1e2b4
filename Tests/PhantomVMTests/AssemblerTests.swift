import Foundation
import Testing
@testable import PhantomVM

@Suite struct AssemblerTests {
    static let source = """
        // A class written by hand: every directive and operand kind.
        class .ru.dz.demo.sample        ; the name
        parent .ru.dz.demo.base
        Class version "1.0 beta"
        methods 20
        field count ordinal 3 .internal.int
        field names .internal.container.array[.internal.string]
        field odd "" <.internal.int>
        const 0 "hello\\n"
        const 1 .internal.int "\\x00\\x01"
        signature "<init>" ordinal 16 constructor returns .internal.void ()
        signature "run" ordinal 17 returns .internal.int (n .internal.int, rest [.internal.object])
        signature legacy ordinal 2 old returns .internal.void ()
        linemap 17 0:10 6:11

        method run ordinal 17
        --
          is_get32 0                    // the argument count
          iconst_1
          isublu
          jz ok
          sconst_bin "arg count: run"
          throw
        ok: summon_class_class
          push_catcher handler
          summon_this
          os_load8 3
          call 4 0                      ; -> call_04 0
          call 2 0                      ; -> short_call_2
          call 20 16                    ; -> call_32bit
          call 9 40                     ; -> call_8bit
          pop_catcher
        loop:
          iconst_8bit 255
          switch -1 2 loop handler @0
          debug 128 "here"
          iconst_64bit 0x7FFFFFFFFFFFFFFF
          djnz loop
          bytes 0 0x2C
        handler:
          ret
        --
        method end

        method "<init>" ordinal 16
          ret
        method end
        """

    @Test func assemblesEveryDirective() throws {
        let file = try Assembler.assemble(Self.source, file: "sample.pas")
        #expect(file.name == ".ru.dz.demo.sample" && file.parentName == ".ru.dz.demo.base")
        #expect(file.version == "1.0 beta")
        #expect(file.objectSlotCount == 6, "one past the last field's slot")
        #expect(file.methodSlotCount == 20)
        #expect(file.fields == [.init(name: "count", ordinal: 3, type: .int),
                                .init(name: "names", ordinal: 4, type: .container(of: ".internal.string")),
                                .init(name: "odd", ordinal: 5, type: PhantomType(isContainer: false, mainClassName: "", containedClassName: ".internal.int"))])
        #expect(file.constants == [.init(index: 0, string: "hello\n"), .init(index: 1, type: .int, bytes: [0, 1])])
        #expect(file.signatures.map(\.isConstructor) == [true, false, nil])
        #expect(file.signatures[1].arguments == [.init(name: "n", type: .int), .init(name: "rest", type: .container(of: ".internal.object", in: ""))])
        #expect(file.lineMaps == [.init(ordinal: 17, entries: [.init(offset: 0, line: 10), .init(offset: 6, line: 11)])])
        #expect(file.methods.map(\.name) == ["run", "<init>"])
        let run = try CodeReader.decodeAll(Array(file.methods[0].code.dropLast(3)))  // without `bytes 0 0x2C` and ret
        #expect(run.map(\.opcode) == [.is_get32, .iconst_1, .isublu, .jz, .sconst_bin, .throw, .summon_class_class, .push_catcher,
                                      .summon_this, .os_load8, .call_04, .short_call_2, .call_32bit, .call_8bit, .pop_catcher,
                                      .iconst_8bit, .switch, .debug, .iconst_64bit, .djnz])
        let switchTable = run[16].operands[0]
        let handler = file.methods[0].code.count - 1
        #expect(switchTable == .switchTable(SwitchTable(shift: -1, divisor: 2, targets: [run[15].offset, handler, 0], defaultTarget: run[17].offset)))
        #expect(run[13].operands == [.int(9), .int(40)])
        #expect(Array(file.methods[0].code.suffix(3)) == [0, 0x2C, Opcode.ret.rawValue])
    }

    @Test func aListingAssemblesBackToTheSameBytes() throws {
        let file = try Assembler.assemble(Self.source, file: "sample.pas")
        let listing = Disassembler.listing(file)
        let again = try Assembler.assemble(listing, file: "listing.pas")
        #expect(again == file)
        #expect(try again.encoded() == file.encoded())
        #expect(Disassembler.listing(again) == listing)
        // And a class built in code, with the compiler's shapes.
        let counter = try DisassemblerTests.counter()
        #expect(try Assembler.assemble(Disassembler.listing(counter), file: "counter.pas") == counter)
    }

    @Test func readsTheFrameOfPhantomsListings() throws {
        // The lines of a .lstc with the compiler's words replaced by mnemonics.
        let text = "Class version 20170628000206538\n\nclass .x\r\nmethod go ordinal 17\n--\n"
            + "  iconst_32bit 0\t\t\t\t//  @0\n  isublu\t\t\t\t//  @5\n  jz _label_0\t\t\t//  @6\n"
            + "  sconst_bin \"arg count: go\"\t//  @11\n  throw\t\t\t\t//  @60\n_label_0:\t//  @61\n"
            + "  ; Line 82\t\t\t//  @61\n  ret\t\t\t\t//  @61\n--\nmethod end\n\n"
        let file = try Assembler.assemble(text, file: "go.lstc")
        #expect(file.version == "20170628000206538")
        #expect(file.methodSlotCount == 18 && file.objectSlotCount == 0)
        #expect(try CodeReader.decodeAll(file.methods[0].code).last?.offset == 30)
    }

    @Test(arguments: [
        ("class a\nclass b", 2, 1, "the class is named twice"),
        ("method m ordinal 0\nret\nmethod end", 1, 1, "no 'class NAME' line"),
        ("class a\nret", 2, 1, "'ret' outside a method (begin one with 'method NAME ordinal N')"),
        ("class a\nfoo 1", 2, 1, "unknown directive 'foo'"),
        ("class a\nmethod m ordinal 0\n  frobnicate 3\nmethod end", 3, 3, "unknown mnemonic 'frobnicate'"),
        ("class a\nmethod m ordinal 0\n  os_load8 256\nmethod end", 3, 12, "operand 1 of os_load8 must be 0...255, not 256"),
        ("class a\nmethod m ordinal 0\n  iconst_32bit\nmethod end", 3, 15, "expected operand 1 of iconst_32bit (an integer), found the end of the line"),
        ("class a\nmethod m ordinal 0\n  ret 5\nmethod end", 3, 7, "unexpected '5' after the operands of 'ret'"),
        ("class a\nmethod m ordinal 0\n  jmp nowhere\nmethod end", 3, 7, "label nowhere is not defined in method m"),
        ("class a\nmethod m ordinal 0\n  jmp 12\nmethod end", 3, 7, "a jump target is a label or @OFFSET, not a number (write @12)"),
        ("class a\nmethod m ordinal 0\nx:\nx: ret\nmethod end", 4, 1, "label x is defined twice (first on line 3)"),
        ("class a\nmethod m ordinal 0\n  ret", 3, 6, "method m (line 2) is not closed with 'method end'"),
        ("class a\nmethod m ordinal 0\nmethod n ordinal 1", 3, 1, "method m (line 2) is not closed: 'method end' must come first"),
        ("class a\nmethod m ordinal 0\nfield x .internal.int", 3, 1, "'field' is a class directive: end the method with 'method end' first"),
        ("class a\nmethod m ordinal 1\nmethod end\nmethod n ordinal 1", 4, 1, "method ordinal 1 is taken by method m (line 2)"),
        ("class a\nmethods 2\nmethod m ordinal 5\nmethod end", 3, 1, "method m has ordinal 5, outside the 2 method slots ('methods' on line 2)"),
        ("class a\nobjects 1\nfield f ordinal 1 t", 3, 1, "field f has ordinal 1, outside the 1 object slots ('objects' on line 2)"),
        ("class a\nconst 0 \"abc", 2, 9, "the string is not closed on this line"),
        ("class a\nconst 0 \"a\\qb\"", 2, 11, "unknown escape '\\q' (use \\\" \\\\ \\n \\t \\r \\0 or \\xHH)"),
        ("class a\nconst -1 \"x\"", 2, 7, "the constant index must be 0...2147483647, not -1"),
        ("class a\nsignature s ordinal 0 (x t)", 2, 23, "expected 'returns' before the return type ('constructor' or 'old' may come first), found '('"),
        ("class a\nsignature s ordinal 0 returns t (x t y t)", 2, 38, "expected ')' to end the arguments, found 'y'"),
        ("class a\nfield f .internal.container.array[x", 2, 36, "expected ']' to close the container type, found the end of the line"),
        ("class a\nlinemap 0 5 6", 2, 13, "expected ':' between the code offset and the line, found '6'"),
        ("class a / b", 1, 9, "a single '/' (comments start with // or ;)"),
        ("class a\nmethod m ordinal 0\n  debug 1 \"x\"\nmethod end", 3, 11, "a debug text needs flag 0x80 set in the flags"),
    ])
    func errorsNameTheLineAndColumn(_ text: String, _ line: Int, _ column: Int, _ message: String) {
        #expect(throws: AssemblyError(file: "bad.pas", line: line, column: column, message)) {
            try Assembler.assemble(text, file: "bad.pas")
        }
    }

    @Test func anAssemblyErrorReadsLikeACompilerError() {
        #expect(AssemblyError(file: "x.pas", line: 3, column: 7, "unknown mnemonic 'foo'").description == "x.pas:3:7: unknown mnemonic 'foo'")
    }

    @Test func namesThatAreNotPlainWordsAreQuoted() throws {
        let file = ClassFile(name: "with space", parentName: "method", methodSlotCount: 1,
                             methods: [.init(name: "end", ordinal: 0, code: [])],
                             fields: [.init(name: "", ordinal: 0, type: PhantomType("\u{1}\n"))])
        var withObjects = file
        withObjects.objectSlotCount = 1
        let listing = Disassembler.listing(withObjects)
        #expect(listing.contains("class \"with space\"\nparent \"method\""))
        #expect(listing.contains("field \"\" ordinal 0 \"\\x01\\n\""))
        #expect(listing.contains("method \"end\" ordinal 0\n"))
        #expect(try Assembler.assemble(listing, file: "q.pas") == withObjects)
    }

    @Test func theDocumentedExampleAssembles() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/PVM-ASSEMBLER.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(text.range(of: "## A complete example\n\n```\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        let file = try Assembler.assemble(String(text[start.upperBound..<end.lowerBound]), file: "PVM-ASSEMBLER.md")
        #expect(file.name == ".ru.dz.demo.counter" && file.methods.map(\.name) == ["count", "reset"])
        #expect(try Assembler.assemble(Disassembler.listing(file), file: "listing") == file)
    }
}
