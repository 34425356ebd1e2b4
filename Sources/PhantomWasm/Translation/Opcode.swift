/// Opcodes of PhantomWasm's translated instruction stream.
///
/// A translated function body is a sequence of 64-bit words. The low 8 bits of
/// an instruction's first word are its opcode (`Op`); the upper 56 bits carry a
/// small immediate where one fits (a local index, a function index, an i32/f32
/// constant in bits 32..63, a branch's keep count in bits 8..31 and destination
/// slot in bits 32..63). Wider immediates (branch targets, i64/f64 constants,
/// memory offsets) follow in the next words. Declaration order is the raw value:
/// the interpreter turns a word's low byte into an `Op` by reinterpretation, so
/// never reorder or insert cases without re-translating (the code checksum stored
/// in the space catches a mismatch after a restore).
public enum Op: UInt8, CaseIterable, Sendable {
    // Control (Control.swift)
    case unreachable = 0
    case jump            // [op, target]
    case br              // [op | keep<<8 | dest<<32, target]
    case brIf            // [op | keep<<8 | dest<<32, target]
    case brIfJump        // [op, target] (no values to move)
    case brUnless        // [op, target]
    case brTable         // [op | count<<8, (packed, target) * (count + 1)]
    case loopHeader      // [op]  safepoint + fuel
    case `return`        // [op]
    case returnIf        // [op]
    case call            // [op | function<<8]
    case callIndirect    // [op | table<<8 | type<<32]
    case drop
    case select
    // Variables (Variable.swift)
    case localGet        // [op | index<<8]
    case localSet
    case localTee
    case globalGet       // [op | index<<8]
    case globalSet
    case i32Const        // [op | bits<<32]
    case i64Const        // [op, bits]
    // Reference (Reference.swift)
    case refFunc         // [op | function<<8]
    // Memory (Memory.swift): [op, offset]
    case i32Load, i64Load, f32Load, f64Load
    case i32Load8S, i32Load8U, i32Load16S, i32Load16U
    case i64Load8S, i64Load8U, i64Load16S, i64Load16U, i64Load32S, i64Load32U
    case i32Store, i64Store, f32Store, f64Store
    case i32Store8, i32Store16, i64Store8, i64Store16, i64Store32
    case memorySize, memoryGrow
    case memoryInit      // [op | data<<8]
    case dataDrop        // [op | data<<8]
    case memoryCopy, memoryFill
    // Table (Table.swift)
    case tableGet, tableSet, tableSize, tableGrow, tableFill   // [op | table<<8]
    case tableCopy       // [op | dst<<8 | src<<32]
    case tableInit       // [op | elem<<8 | table<<32]
    case elemDrop        // [op | elem<<8]
    // Numeric (Numeric.swift), one word each
    case i32Eqz, i32Eq, i32Ne, i32LtS, i32LtU, i32GtS, i32GtU, i32LeS, i32LeU, i32GeS, i32GeU
    case i64Eqz, i64Eq, i64Ne, i64LtS, i64LtU, i64GtS, i64GtU, i64LeS, i64LeU, i64GeS, i64GeU
    case f32Eq, f32Ne, f32Lt, f32Gt, f32Le, f32Ge
    case f64Eq, f64Ne, f64Lt, f64Gt, f64Le, f64Ge
    case i32Clz, i32Ctz, i32Popcnt
    case i32Add, i32Sub, i32Mul, i32DivS, i32DivU, i32RemS, i32RemU
    case i32And, i32Or, i32Xor, i32Shl, i32ShrS, i32ShrU, i32Rotl, i32Rotr
    case i64Clz, i64Ctz, i64Popcnt
    case i64Add, i64Sub, i64Mul, i64DivS, i64DivU, i64RemS, i64RemU
    case i64And, i64Or, i64Xor, i64Shl, i64ShrS, i64ShrU, i64Rotl, i64Rotr
    case f32Abs, f32Neg, f32Ceil, f32Floor, f32Trunc, f32Nearest, f32Sqrt
    case f32Add, f32Sub, f32Mul, f32Div, f32Min, f32Max, f32Copysign
    case f64Abs, f64Neg, f64Ceil, f64Floor, f64Trunc, f64Nearest, f64Sqrt
    case f64Add, f64Sub, f64Mul, f64Div, f64Min, f64Max, f64Copysign
    case i32WrapI64, i32TruncF32S, i32TruncF32U, i32TruncF64S, i32TruncF64U
    case i64ExtendI32S, i64ExtendI32U, i64TruncF32S, i64TruncF32U, i64TruncF64S, i64TruncF64U
    case f32ConvertI32S, f32ConvertI32U, f32ConvertI64S, f32ConvertI64U, f32DemoteF64
    case f64ConvertI32S, f64ConvertI32U, f64ConvertI64S, f64ConvertI64U, f64PromoteF32
    case i32Extend8S, i32Extend16S, i64Extend8S, i64Extend16S, i64Extend32S
    case i32TruncSatF32S, i32TruncSatF32U, i32TruncSatF64S, i32TruncSatF64U
    case i64TruncSatF32S, i64TruncSatF32U, i64TruncSatF64S, i64TruncSatF64U

    /// First opcode handled by `Numeric.swift`.
    static let firstNumeric = Op.i32Eqz.rawValue

    @inline(__always)
    static func decode(_ word: UInt64) -> Op {
        unsafeBitCast(UInt8(truncatingIfNeeded: word), to: Op.self)
    }

    @inline(__always)
    func word(_ immediate: UInt64 = 0) -> UInt64 { UInt64(rawValue) | immediate << 8 }
}
