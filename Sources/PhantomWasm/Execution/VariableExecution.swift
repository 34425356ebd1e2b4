/// Locals (frame slots), globals (8-byte cells in the space) and constants.
extension Interpreter {
    @inline(__always)
    func variable(_ r: inout Registers, _ op: Op, _ word: UInt64) {
        switch op {
        case .localGet:
            r.sp.pointee = r.fp[Int(word >> 8)]
            r.sp += 1
        case .localSet:
            r.sp -= 1
            r.fp[Int(word >> 8)] = r.sp.pointee
        case .localTee:
            r.fp[Int(word >> 8)] = r.sp[-1]
        case .globalGet:
            r.sp.pointee = space.load(UInt64.self, at: r.instance.globalCells[Int(word >> 8)])
            r.sp += 1
        case .globalSet:
            r.sp -= 1
            space.store(r.sp.pointee, at: r.instance.globalCells[Int(word >> 8)])
        case .i32Const:
            r.sp.pointee = word >> 32
            r.sp += 1
        case .i64Const:
            r.sp.pointee = r.code[r.pc + 1]
            r.sp += 1
            r.pc += 1
        default:
            break
        }
        r.pc += 1
    }
}
