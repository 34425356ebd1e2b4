import Testing
@testable import PhantomVM

@Suite struct InterpreterTests {
    @Test func bootPrintsThroughTheBootObject() throws {
        let harness = try VMHarness([try bootClass { w in try w.print("hello, Phantom\n") }])
        #expect(try harness.run() == .finished)
        #expect(harness.output == "hello, Phantom\n")
    }

    @Test func integerArithmeticFollowsPhantomsOperandOrder() throws {
        let harness = try VMHarness([try bootClass { w in
            // isublu is the compiler's a - b: 10 - 3
            try w.emit(.iconst_8bit, 10); try w.emit(.iconst_8bit, 3); w.op(.isublu); try w.printInt()
            // isubul is top - second: 3 - 10
            try w.emit(.iconst_8bit, 10); try w.emit(.iconst_8bit, 3); w.op(.isubul); try w.printInt()
            try w.emit(.iconst_8bit, 20); try w.emit(.iconst_8bit, 3); w.op(.idivlu); try w.printInt()
            try w.emit(.iconst_8bit, 20); try w.emit(.iconst_8bit, 3); w.op(.iremlu); try w.printInt()
            try w.emit(.iconst_32bit, -7); try w.emit(.iconst_8bit, 6); w.op(.imul); try w.printInt()
            try w.emit(.iconst_32bit, Int64(Int32.max)); w.op(.iconst_1); w.op(.isum); try w.printInt()
            try w.emit(.iconst_8bit, 5); try w.emit(.iconst_8bit, 3); w.op(.igt); try w.printInt()
            try w.emit(.iconst_8bit, 5); try w.emit(.iconst_8bit, 3); w.op(.ile); try w.printInt()
            try w.emit(.iconst_8bit, 0x0C); try w.emit(.iconst_8bit, 0x0A); w.op(.iand); try w.printInt()
            try w.emit(.iconst_8bit, 0); w.op(.log_not); try w.printInt()
            // Shifts: the value on top, the count below (Phantom's VM).
            try w.emit(.iconst_8bit, 2); try w.emit(.iconst_8bit, 1); w.op(.ishl); try w.printInt()
            try w.emit(.iconst_32bit, -16); try w.emit(.iconst_8bit, 2); w.op(.ishr)
            w.op(.is_drop)
            try w.emit(.iconst_8bit, 2); try w.emit(.iconst_32bit, -16); w.op(.ishr); try w.printInt()
        }])
        #expect(try harness.run() == .finished)
        #expect(harness.output == "7" + "-7" + "6" + "2" + "-42" + "-2147483648" + "1" + "0" + "8" + "1" + "4" + "-4")
    }

    @Test func divisionByZeroIsAPhantomException() throws {
        let harness = try VMHarness([try bootClass { w in
            try w.emit(.iconst_8bit, 1); w.op(.iconst_0); w.op(.idivlu); try w.printInt()
        }])
        #expect(try harness.run() == .finished)
        #expect(harness.output == "Unhandled exception in thread 1: division by zero\n")
    }

    @Test func loopsWithJzDjnzAndSwitch() throws {
        let harness = try VMHarness([try bootClass { w in
            // djnz counts 3, 2, 1
            try w.emit(.iconst_8bit, 3)
            try w.label("loop")
            w.op(.is_dup); try w.printInt()
            w.emit(.djnz, to: "loop")
            w.op(.is_drop)
            // switch on 5 with shift -4, divisor 1: entries for 4 and 5
            for value: Int64 in [5, 4, 9] {
                try w.emit(.iconst_8bit, value)
                w.op(.switch); w.i32(2); w.i32(-4); w.i32(1)
                w.reference("case4\(value)"); w.reference("case5\(value)")
                try w.print("d"); w.emit(.jmp, to: "end\(value)")
                try w.label("case4\(value)"); try w.print("four"); w.emit(.jmp, to: "end\(value)")
                try w.label("case5\(value)"); try w.print("five")
                try w.label("end\(value)")
            }
            // while (i < 3) i++ with jz
            w.op(.iconst_0)
            try w.label("while")
            w.op(.is_dup); try w.emit(.iconst_8bit, 3); w.op(.ilt)
            w.emit(.jz, to: "done")
            w.op(.iconst_1); w.op(.isum)
            w.emit(.jmp, to: "while")
            try w.label("done")
            try w.printInt()
        }])
        #expect(try harness.run() == .finished)
        #expect(harness.output == "321fivefourd3")
    }

    @Test func longFloatAndDoubleUnderPrefixes() throws {
        let harness = try VMHarness([try bootClass { w in
            // long: 12 / 2 with 64-bit values built by conversion
            try w.emit(.iconst_8bit, 12); w.op(.prefix_long); w.op(.fromi)
            try w.emit(.iconst_8bit, 2); w.op(.prefix_long); w.op(.fromi)
            w.op(.prefix_long); w.op(.idivlu)
            w.op(.prefix_long); w.op(.i2o); try w.printTop()
            try w.print(" ")
            // long constant beyond 32 bits, minus 1
            try w.emit(.iconst_64bit, 1 << 40); w.op(.prefix_long); w.op(.iconst_1); w.op(.prefix_long); w.op(.isublu)
            w.op(.prefix_long); w.op(.i2o); try w.printTop()
            try w.print(" ")
            // float: 1 / 4
            w.op(.iconst_1); w.op(.prefix_float); w.op(.fromi)
            try w.emit(.iconst_8bit, 4); w.op(.prefix_float); w.op(.fromi)
            w.op(.prefix_float); w.op(.idivlu)
            w.op(.prefix_float); w.op(.i2o); try w.printTop()
            try w.print(" ")
            // double: 0 - 3 converted, times 2.5 (5 / 2), compared with -7
            w.op(.iconst_0); try w.emit(.iconst_8bit, 3); w.op(.isublu); w.op(.prefix_double); w.op(.fromi)
            try w.emit(.iconst_8bit, 5); w.op(.prefix_double); w.op(.fromi)
            try w.emit(.iconst_8bit, 2); w.op(.prefix_double); w.op(.fromi)
            w.op(.prefix_double); w.op(.idivlu)
            w.op(.prefix_double); w.op(.imul)
            w.op(.prefix_double); w.op(.is_dup)
            w.op(.prefix_double); w.op(.i2o); try w.printTop()
            try w.print(" ")
            try w.emit(.iconst_32bit, -7); w.op(.prefix_double); w.op(.fromi)
            w.op(.prefix_double); w.op(.igt); try w.printInt()  // -7.5 > -7 → 0
            try w.print(" ")
            // double back to int truncates toward zero
            try w.emit(.iconst_32bit, -15); w.op(.prefix_double); w.op(.fromi)
            try w.emit(.iconst_8bit, 2); w.op(.prefix_double); w.op(.fromi)
            w.op(.prefix_double); w.op(.idivlu); w.op(.fromd); try w.printInt()
        }])
        #expect(try harness.run() == .finished)
        #expect(harness.output == "6 1099511627775 0.250000 -7.500000 0 -7")
    }

    @Test func exceptionsAreCaughtAcrossFramesByClass() throws {
        let thrower = try method("thrower", 16) { w in
            try w.emit(.arg_count, 0)
            w.emit(.sconst_bin, string: "boom")
            w.op(.throw)
        }
        let harness = try VMHarness([try bootClass(extraMethods: [thrower]) { w in
            // A catcher for ints does not catch a string; one for strings does.
            w.op(.summon_string_class); w.emit(.push_catcher, to: "caught")
            w.op(.summon_int_class); w.emit(.push_catcher, to: "wrong")
            w.op(.summon_this); try w.emit(.call_8bit, 16, 0)
            try w.print("not reached")
            try w.label("wrong"); try w.print("wrong catcher"); w.emit(.jmp, to: "end")
            try w.label("caught")
            try w.print("caught: "); try w.printTop()
            try w.label("end")
        }])
        #expect(try harness.run() == .finished)
        #expect(harness.output == "caught: boom")
    }

    @Test func classesFieldsConstructorsAndDispatch() throws {
        // .test.animal: field 0 name; method 16 speak() prints "..."; 17 describe() calls speak.
        let animal = ClassDefinition(name: ".test.animal", objectSlotCount: 1, methods: [
            try method("<init>", 18) { w in
                try w.emit(.arg_count, 1)
                try w.emit(.os_get32, 0); try w.emit(.os_save8, 0)
                w.op(.summon_null); w.op(.ret)
            },
            try method("speak", 16) { w in
                try w.emit(.arg_count, 0)
                try w.emit(.const_pool, 0); w.op(.ret)
            },
            try method("describe", 17) { w in
                try w.emit(.arg_count, 0)
                try w.emit(.os_load8, 0)
                w.op(.summon_this); try w.emit(.call_8bit, 16, 0)  // this.speak()
                try w.emit(.call_8bit, 10, 1)                      // name.concat(sound)
                w.op(.ret)
            },
        ], constants: [0: Array(" says ...".utf8)], fields: [0: "name"])
        let dog = ClassDefinition(name: ".test.dog", parent: ".test.animal", objectSlotCount: 1, methods: [
            try method("speak", 16) { w in
                try w.emit(.arg_count, 0)
                w.emit(.sconst_bin, string: " says woof"); w.op(.ret)
            },
        ])
        let harness = try VMHarness([animal, dog, try bootClass { w in
            for name in ["animal", "dog"] {
                // new .test.NAME("Rex") the way Phantom's compiler makes it
                w.emit(.summon_by_name, string: ".test.\(name)"); w.op(.new)
                w.emit(.sconst_bin, string: "Rex")
                try w.emit(.os_pull32, 1)
                w.emit(.summon_by_name, string: ".test.animal")
                try w.emit(.static_invoke, 18, 1)
                w.op(.os_drop)
                try w.emit(.call_8bit, 17, 0)
                try w.printTop()
                try w.print(";")
            }
            // dynamic_invoke by name: dog.speak()
            w.emit(.summon_by_name, string: ".test.dog"); w.op(.new)
            w.op(.iconst_0)
            w.emit(.sconst_bin, string: "speak")
            w.op(.dynamic_invoke)
            try w.printTop()
        }])
        #expect(try harness.run() == .finished)
        #expect(harness.output == "Rex says ...;Rex says woof; says woof")
    }

    @Test func uncaughtExceptionEndsOnlyItsThread() throws {
        let worker = ClassDefinition(name: ".test.worker", methods: [
            try method("run", 8) { w in
                try w.emit(.arg_count, 1)
                w.emit(.sconst_bin, string: "worker failed")
                w.op(.throw)
            },
        ])
        let harness = try VMHarness([worker, try bootClass { w in
            try w.emit(.os_get32, 0)
            w.emit(.summon_by_name, string: ".test.worker"); w.op(.new)
            try w.emit(.call_8bit, 18, 1)  // boot.startThread(worker)
            w.op(.os_drop)
            try w.print("boot done\n")
        }])
        #expect(try harness.run() == .finished)
        #expect(harness.output == "boot done\nUnhandled exception in thread 2: worker failed\n")
    }

    @Test func malformedCodeThrowsInsteadOfTrapping() throws {
        for code: [UInt8] in [[0x23, 0, 0], [0x2C], [0x13], [0x11], [0x06, 0x7F, 0, 0, 0], [0x1E, 0, 0, 0, 9], [0xA5, 9]] {
            let boot = ClassDefinition(name: ".test.boot", methods: [ClassDefinition.Method(name: "startup", ordinal: 8, code: code)])
            let harness = try VMHarness([boot])
            #expect(try harness.run() == .finished)
            #expect(harness.output.hasPrefix("Unhandled exception in thread 1: "), "\(code): \(harness.output)")
        }
    }
}
