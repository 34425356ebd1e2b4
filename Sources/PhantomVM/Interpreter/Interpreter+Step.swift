/// One instruction: the dispatch over `Opcode` (semantics of Phantom's
/// `exec.c`, operand order as its VM pops them: "u" is the top of the stack,
/// "l" the one below).
extension Interpreter {
    func step() throws(Interruption) {
        let start = r.ip
        let byte = try codeByte()
        guard let opcode = opcodes[Int(byte)] else {
            throw try fail("unknown opcode 0x\(String(byte, radix: 16, uppercase: true)) at \(start)")
        }
        let prefix = r.prefix
        if opcode != .prefix_long && opcode != .prefix_float && opcode != .prefix_double { r.prefix = .none }

        if opcode.isShortcutCall {
            let count = Int(try codeByte())
            try call(ordinal: Int(opcode.rawValue & 0x1F), argumentCount: count, mayReuseFrame: false)
            return
        }
        if opcode.isLegacySys {
            try systemCall(Int(opcode.rawValue & 0x0F), instructionStart: start, instructionLength: 1)
            return
        }

        switch opcode {
        case .nop: break
        case .debug:
            let flags = try codeByte()
            if flags & 0x80 != 0 { _ = try codeString() }
        case .djnz:
            let target = try codeTarget()
            let value = try popInt() &- 1
            try pushInt(value)
            if value != 0 { try jump(to: target) }
        case .jz:
            let target = try codeTarget()
            if try popInt() == 0 { try jump(to: target) }
        case .jmp:
            try jump(to: try codeTarget())
        case .switch:
            try switchJump()
        case .ret:
            try returnFromFrame()

        case .short_call_0, .short_call_1, .short_call_2, .short_call_3:
            try call(ordinal: Int(opcode.rawValue - Opcode.short_call_0.rawValue), argumentCount: 0, mayReuseFrame: true)
        case .call_8bit:
            let ordinal = Int(try codeByte())
            let count = Int(try codeInt32())
            try call(ordinal: ordinal, argumentCount: count, mayReuseFrame: true)
        case .call_32bit:
            let ordinal = Int(try codeInt32())
            let count = Int(try codeInt32())
            try call(ordinal: ordinal, argumentCount: count, mayReuseFrame: true)
        case .sys_8bit:
            try systemCall(Int(try codeByte()), instructionStart: start, instructionLength: 2)

        case .is_dup:
            if prefix.isWide { let value = try popWide(); try pushWide(value); try pushWide(value) }
            else { let value = try popInt(); try pushInt(value); try pushInt(value) }
        case .is_drop:
            if prefix.isWide { _ = try popWide() } else { _ = try popInt() }
        case .os_dup:
            try push(try peek())
        case .os_drop:
            _ = try pop()
        case .os_load8:
            try push(try field(Int(try codeByte())))
        case .os_save8:
            try setField(Int(try codeByte()), try pop())
        case .os_load32:
            try push(try field(Int(try codeInt32())))
        case .os_save32:
            try setField(Int(try codeInt32()), try pop())
        case .new:
            try push(try instantiate(try pop()))
        case .copy:
            try push(try shallowCopy(try pop()))
        case .os_compose32, .os_decompose:
            // Defined in Phantom's table but implemented by neither of its VMs.
            throw try fail("\(opcode.mnemonic) is not implemented (nor in Phantom's VM)")
        case .os_pull32:
            try push(try peek(Int(try codeInt32())))
        case .os_get32:
            try push(try objectSlot(Int(try codeInt32())))
        case .os_set32:
            let slot = Int(try codeInt32())
            try setObjectSlot(slot, try pop())

        case .iconst_0: try pushConstant(0, prefix)
        case .iconst_1: try pushConstant(1, prefix)
        case .iconst_8bit: try pushConstant(Int64(try codeByte()), prefix)
        case .iconst_32bit: try pushConstant(Int64(try codeInt32()), prefix)
        case .iconst_64bit: try pushWide(UInt64(bitPattern: try codeInt64()))
        case .sconst_bin:
            let bytes = try codeString()
            try push(try heapOp { () throws(VMError) in try heap.makeString(bytes) })
        case .is_get32:
            let slot = Int(try codeInt32())
            if prefix.isWide {
                let high = UInt64(UInt32(bitPattern: try integerSlot(slot)))
                let low = UInt64(UInt32(bitPattern: try integerSlot(slot + 1)))
                try pushWide(high << 32 | low)
            } else {
                try pushInt(try integerSlot(slot))
            }
        case .is_set32:
            let slot = Int(try codeInt32())
            if prefix.isWide {
                let value = try popWide()
                try setIntegerSlot(slot, Int32(bitPattern: UInt32(truncatingIfNeeded: value >> 32)))
                try setIntegerSlot(slot + 1, Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
            } else {
                let value = try popInt()
                try setIntegerSlot(slot, value)
            }
        case .const_pool:
            try push(try constant(Int(try codeInt32())))
        case .stack_reserve:
            let objects = Int(try codeByte())
            let integers = Int(try codeByte())
            for _ in 0..<objects { try push(.null) }
            for _ in 0..<integers { try pushInt(0) }
        case .cast:
            let target = try pop()
            let object = try pop()
            guard object.isNull || isInstance(object, of: target) else { throw try fail("cast to not parent") }
            try push(object)
        case .push_catcher:
            let target = try codeTarget()
            try pushCatcher(class: try pop(), target: target)
        case .pop_catcher:
            try popCatcher()
        case .throw:
            throw .exception(try pop())

        case .summon_thread: try push(r.thread)
        case .summon_this: try push(r.this)
        case .summon_null: try push(.null)
        case .summon_class_class: try push(heap.rootClass(RootLayout.classClass))
        case .summon_int_class: try push(heap.rootClass(RootLayout.intClass))
        case .summon_string_class: try push(heap.rootClass(RootLayout.stringClass))
        case .summon_interface_class: try push(heap.rootClass(RootLayout.interfaceClass))
        case .summon_code_class: try push(heap.rootClass(RootLayout.codeClass))
        case .summon_array_class: try push(heap.rootClass(RootLayout.arrayClass))
        case .summon_by_name:
            let name = String(decoding: try codeString(), as: UTF8.self)
            try push(try classNamed(name))

        case .i2o: try push(try box(prefix))
        case .o2i: try unbox(try pop(), prefix)
        case .isum, .imul, .isubul, .isublu, .idivul, .idivlu, .iremul, .iremlu:
            try arithmetic(opcode, prefix)
        case .ior, .iand, .ixor, .log_or, .log_and, .log_xor, .ishl, .ishr, .ushr:
            try bitwise(opcode, prefix)
        case .inot, .log_not:
            try negation(opcode, prefix)
        case .ige, .ile, .igt, .ilt:
            try comparison(opcode, prefix)
        case .is_load8:
            let object = try field(Int(try codeByte()))
            guard let value = heap.intValue(object) else { throw try fail("is_load8: the field holds no int") }
            try pushInt(value)
        case .is_save8:
            let slot = Int(try codeByte())
            let value = try popInt()
            try setField(slot, try heapOp { () throws(VMError) in try heap.makeInt(value) })
        case .os_eq: try pushInt(try pop() == (try pop()) ? 1 : 0)
        case .os_neq: try pushInt(try pop() != (try pop()) ? 1 : 0)
        case .os_isnull: try pushInt(try pop().isNull ? 1 : 0)
        case .prefix_long:
            r.prefix = .long
        case .prefix_float:
            r.prefix = .float
        case .prefix_double:
            r.prefix = .double
        case .general_lock, .general_unlock:
            // Phantom's VM pops the object and does nothing yet (a TODO there);
            // programs lock with `.internal.mutex`.
            _ = try pop()
        case .static_invoke:
            let ordinal = Int(try codeInt32())
            let count = Int(try codeInt32())
            try staticInvoke(ordinal: ordinal, argumentCount: count)
        case .dynamic_invoke:
            try dynamicInvoke()
        case .arg_count:
            let expected = Int32(try codeByte())
            guard try popInt() == expected else { throw try fail("invalid arg count") }
        case .fromi, .froml, .fromf, .fromd:
            try convert(from: opcode, to: prefix)
        default:
            throw try fail("opcode \(opcode.mnemonic) at \(start) is not handled")
        }
    }

    /// `iconst_*` under a prefix pushes the constant as that type.
    private func pushConstant(_ value: Int64, _ prefix: Prefix) throws(Interruption) {
        switch prefix {
        case .none: try pushInt(Int32(truncatingIfNeeded: value))
        case .long: try pushWide(UInt64(bitPattern: value))
        case .float: try pushInt(Int32(bitPattern: Float(value).bitPattern))
        case .double: try pushWide(Double(value).bitPattern)
        }
    }

    /// `switch n shift divisor entries…`: `(value + shift)` as unsigned,
    /// divided by the divisor, picks an entry; out of range goes to the
    /// first byte after the table.
    private func switchJump() throws(Interruption) {
        let count = Int(try codeInt32())
        let shift = try codeInt32()
        let divisor = try codeInt32()
        let table = r.ip
        guard count >= 0, table + count * 4 <= r.codeLength else { throw try fail("switch table of \(count) entries runs past the code") }
        let value = try popInt()
        guard divisor != 0 else { throw try fail("switch with divisor 0") }
        let index = UInt32(bitPattern: value &+ shift) / UInt32(bitPattern: divisor)
        if index < UInt32(count) {
            r.ip = table + Int(index) * 4
            try jump(to: try codeTarget())
        } else {
            r.ip = table + count * 4
        }
    }
}
