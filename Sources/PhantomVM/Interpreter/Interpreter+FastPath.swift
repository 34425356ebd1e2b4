/// The integer instructions of inner loops — constants, integer-stack locals,
/// add, subtract, multiply, `djnz`, `jz`, `jmp` — run with the instruction
/// pointer, the stack depth and the fuel in host locals rather than in the
/// interpreter's register struct, which `step()` reloads and stores around
/// every instruction (perf: `step` was two thirds of a numeric loop).
///
/// The fast path only ever does what `step()` would do, instruction for
/// instruction: whenever an instruction would need anything else — a
/// prefix, a stack to grow, an operand past the end of the code, a jump
/// outside it, a slot not in use, an opcode not listed here — it stops
/// *before* that instruction, with the registers written back, and `step()`
/// runs it (and throws the Phantom exception it calls for).
extension Interpreter {
    func runIntegerFastPath() {
        var ip = r.ip, depth = r.integerDepth, fuel = fuelLeft
        let code = r.codeBytes, length = r.codeLength
        let slots = r.integerSlots, capacity = r.integerCapacity
        defer {
            r.ip = ip
            r.integerDepth = depth
            fuelLeft = fuel
        }
        @inline(__always) func slot(_ index: Int) -> Int32 {
            Int32(bitPattern: UInt32(littleEndian: slots.load(fromByteOffset: index * 4, as: UInt32.self)))
        }
        @inline(__always) func setSlot(_ index: Int, _ value: Int32) {
            slots.storeBytes(of: UInt32(bitPattern: value).littleEndian, toByteOffset: index * 4, as: UInt32.self)
        }
        /// The big-endian 32-bit operand at `at`, if the code holds it.
        @inline(__always) func operand(_ at: Int) -> Int32? {
            guard at + 4 <= length else { return nil }
            return Int32(bitPattern: UInt32(bigEndian: code.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        }
        while fuel > 0 && ip < length {
            let byte = code.load(fromByteOffset: ip, as: UInt8.self)
            switch byte {
            case Opcode.iconst_0.rawValue, Opcode.iconst_1.rawValue:
                guard depth < capacity else { return }
                setSlot(depth, byte == Opcode.iconst_1.rawValue ? 1 : 0)
                depth += 1
                ip += 1
            case Opcode.iconst_8bit.rawValue:
                guard depth < capacity, ip + 2 <= length else { return }
                setSlot(depth, Int32(code.load(fromByteOffset: ip + 1, as: UInt8.self)))
                depth += 1
                ip += 2
            case Opcode.iconst_32bit.rawValue:
                guard depth < capacity, let value = operand(ip + 1) else { return }
                setSlot(depth, value)
                depth += 1
                ip += 5
            case Opcode.is_dup.rawValue:
                guard depth > 0, depth < capacity else { return }
                setSlot(depth, slot(depth - 1))
                depth += 1
                ip += 1
            case Opcode.is_drop.rawValue:
                guard depth > 0 else { return }
                depth -= 1
                ip += 1
            case Opcode.is_get32.rawValue:
                guard depth < capacity, let index = operand(ip + 1), index >= 0, Int(index) < depth else { return }
                setSlot(depth, slot(Int(index)))
                depth += 1
                ip += 5
            case Opcode.is_set32.rawValue:
                // As `step()`: the value is popped first, then the slot must be in use.
                guard depth > 0, let index = operand(ip + 1), index >= 0, Int(index) < depth - 1 else { return }
                setSlot(Int(index), slot(depth - 1))
                depth -= 1
                ip += 5
            case Opcode.isum.rawValue, Opcode.imul.rawValue, Opcode.isubul.rawValue, Opcode.isublu.rawValue:
                guard depth >= 2 else { return }
                let u = slot(depth - 1), l = slot(depth - 2)
                let result: Int32 = switch byte {
                case Opcode.isum.rawValue: l &+ u
                case Opcode.imul.rawValue: l &* u
                case Opcode.isubul.rawValue: u &- l
                default: l &- u
                }
                setSlot(depth - 2, result)
                depth -= 1
                ip += 1
            case Opcode.djnz.rawValue:
                guard depth > 0, let displacement = operand(ip + 1) else { return }
                let target = ip + 1 + Int(displacement)
                let value = slot(depth - 1) &- 1
                guard value == 0 || (target >= 0 && target < length) else { return }
                setSlot(depth - 1, value)
                ip = value != 0 ? target : ip + 5
            case Opcode.jz.rawValue:
                guard depth > 0, let displacement = operand(ip + 1) else { return }
                let target = ip + 1 + Int(displacement)
                let value = slot(depth - 1)
                guard value != 0 || (target >= 0 && target < length) else { return }
                depth -= 1
                ip = value == 0 ? target : ip + 5
            case Opcode.jmp.rawValue:
                guard let displacement = operand(ip + 1) else { return }
                let target = ip + 1 + Int(displacement)
                guard target >= 0 && target < length else { return }
                ip = target
            default:
                return
            }
            fuel -= 1
        }
    }
}
