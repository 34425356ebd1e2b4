import Testing
@testable import PhantomVM

/// The integer fast path (`Interpreter+FastPath.swift`) must do exactly what
/// `step()` does: random programs of its instructions — with operands that
/// reach slots not in use, jumps out of the method, stacks that must grow,
/// and the other instructions mixed in — run on two VMs, one with the fast
/// path and one without, and after every round the threads' frames, integer
/// stacks, fuel-bounded progress and output are the same.
@Suite struct FastPathTests {
    static let fastOpcodes: [Opcode] = [.iconst_0, .iconst_1, .iconst_8bit, .iconst_32bit, .is_dup, .is_drop, .is_get32, .is_set32,
                                        .isum, .imul, .isubul, .isublu, .djnz, .jz, .jmp]
    static let otherOpcodes: [Opcode] = [.iremlu, .ilt, .log_not, .i2o, .os_drop, .prefix_long, .idivul]

    /// A method body of `count` random instructions, labels at every instruction.
    static func randomProgram(_ generator: inout SplitMix64Local, count: Int) throws -> ClassDefinition {
        try bootClass { w in
            try w.emit(.stack_reserve, 0, 3)
            for index in 0..<count {
                try w.label("i\(index)")
                let pickOther = generator.next() % 8 == 0
                let opcode = pickOther ? otherOpcodes[Int(generator.next() % UInt64(otherOpcodes.count))]
                                       : fastOpcodes[Int(generator.next() % UInt64(fastOpcodes.count))]
                let target = "i\(generator.next() % UInt64(count))"
                switch opcode {
                case .iconst_8bit: try w.emit(.iconst_8bit, Int64(generator.next() % 256))
                case .iconst_32bit: try w.emit(.iconst_32bit, Int64(Int32(truncatingIfNeeded: generator.next())))
                case .is_get32, .is_set32: try w.emit(opcode, Int64(generator.next() % 7) - 1)
                case .djnz, .jz, .jmp:
                    if generator.next() % 10 == 0 { w.op(opcode); w.i32(Int32(generator.next() % 4000) - 2000) }   // out of the method, mostly
                    else { w.emit(opcode, to: target) }
                default: w.op(opcode)
                }
            }
            try w.label("i\(count)")
        }
    }

    /// What a round leaves behind, for comparison.
    static func state(_ vm: VirtualMachine) -> [String] {
        vm.threads.map { thread in
            let frame = vm.heap.ref(thread, ThreadLayout.frame)
            guard !frame.isNull else { return "ended \(vm.state(of: thread))" }
            let depth = Int(vm.heap.word(frame, FrameLayout.integerDepth))
            let integers = vm.heap.ref(frame, FrameLayout.integerStack)
            let values = (0..<depth).map { vm.heap.space.load(Int32.self, at: vm.heap.dataOffset(integers) + UInt64($0) * 4) }
            return "ip \(vm.heap.word(frame, FrameLayout.ip)) objects \(vm.heap.word(frame, FrameLayout.objectDepth)) ints \(values)"
        }
    }

    @Test func randomIntegerProgramsRunAsStepRunsThem() throws {
        var generator = SplitMix64Local(seed: 0xFA57_2026)
        for program in 0..<150 {
            let definition = try Self.randomProgram(&generator, count: 8 + Int(generator.next() % 40))
            let fast = try VMHarness([definition]), slow = try VMHarness([definition])
            slow.vm.interpreter.usesFastPath = false
            try fast.vm.boot(className: ".test.boot")
            try slow.vm.boot(className: ".test.boot")
            let fuel = 1 + Int(generator.next() % 60)
            for round in 0..<40 {
                let a = try fast.vm.runRound(fuel: fuel), b = try slow.vm.runRound(fuel: fuel)
                #expect(a == b, "program \(program) round \(round)")
                #expect(Self.state(fast.vm) == Self.state(slow.vm), "program \(program) round \(round)")
                #expect(fast.output == slow.output, "program \(program) round \(round)")
                if a != .ran { break }
            }
        }
    }
}
