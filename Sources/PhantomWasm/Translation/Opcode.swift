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
    // Register-mode operand fields (fp-relative slot indices, 16 bits each, at
    // 16-bit boundaries so the interpreter reads each with one zero-extending load):
    // d = bits 16..31 (destination), a = bits 32..47, b = bits 48..63.
    // Control
    case unreachable = 0
    case jump            // [op, target]
    case br              // [op | packed, target]   packed: keep<<16 | dest<<32 | sp<<48 (d, a, b)
    case brIf            // [op | packed, target]   condition in slot sp (canonical)
    case brIfJump        // [op | a, target]        no values to move
    case brUnless        // [op | a, target]
    case brTable         // [op | count<<8, (packed | 1 or sp<<48 for return, target) * (count + 1)]  stack mode
    case loopHeader      // [op | sp<<8]  safepoint + fuel
    case `return`        // [op | sp<<8]
    case returnIf        // [op | sp<<8]  condition in slot sp
    case call            // [op | function<<8 | sp<<40]
    case callIndirect    // [op | table<<8 | type<<32, sp]
    case setSP           // [op | sp<<8]  before a stack-mode instruction
    case select          // [op | d | a | b, c]
    // Variables
    case copy            // [op | d | a]
    case globalGet       // [op | d | index<<32]
    case globalSet       // [op | d(value) | index<<32]
    case i32Const        // [op | d | bits<<32]
    case i64Const        // [op | d, bits]
    // Reference
    case refFunc         // [op | d | function<<32]
    // Memory: loads [op | d | a(address), offset], stores [op | a(address) | b(value), offset];
    // memorySize [op | d]; the rest are stack mode (after setSP).
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
    // Numeric, one word each: unary [op | d | a], binary [op | d | a | b]
    case i32Eqz, i32Eq, i32Ne, i32LtS, i32LtU, i32GtS, i32GtU, i32LeS, i32LeU, i32GeS, i32GeU
    case i64Eqz, i64Eq, i64Ne, i64LtS, i64LtU, i64GtS, i64GtU, i64LeS, i64LeU, i64GeS, i64GeU
    case f32Eq, f32Ne, f32Lt, f32Gt, f32Le, f32Ge
    case f64Eq, f64Ne, f64Lt, f64Gt, f64Le, f64Ge
    case i32Add, i32Sub, i32Mul, i32DivS, i32DivU, i32RemS, i32RemU
    case i32And, i32Or, i32Xor, i32Shl, i32ShrS, i32ShrU, i32Rotl, i32Rotr
    case i64Add, i64Sub, i64Mul, i64DivS, i64DivU, i64RemS, i64RemU
    case i64And, i64Or, i64Xor, i64Shl, i64ShrS, i64ShrU, i64Rotl, i64Rotr
    case f32Add, f32Sub, f32Mul, f32Div
    case f64Abs, f64Neg, f64Sqrt
    case f64Add, f64Sub, f64Mul, f64Div
    case i32WrapI64
    case i64ExtendI32S, i64ExtendI32U
    case f64ConvertI32S, f64ConvertI32U
    case i32Extend8S, i32Extend16S, i64Extend8S, i64Extend16S, i64Extend32S
    // Fused i32 compare + conditional jump: [op | a | b, target], jumps when the comparison holds.
    case brI32Eq, brI32Ne, brI32LtS, brI32LtU, brI32GtS, brI32GtU, brI32LeS, brI32LeU, brI32GeS, brI32GeU
    case brI32Eqz, brI32Nez
    // Binary operations with a constant right operand (a folded i32/i64.const): [op | d | a, constant]
    case i32AddImm, i32MulImm, i32AndImm, i32OrImm, i32XorImm, i32ShlImm, i32ShrSImm, i32ShrUImm
    case i32EqImm, i32NeImm, i32LtSImm, i32LtUImm, i32GtSImm, i32GtUImm, i32LeSImm, i32LeUImm, i32GeSImm, i32GeUImm
    case i64AddImm, i64AndImm, i64ShlImm, i64ShrUImm
    // Fused i32 compare with a constant + conditional jump: [op | d(operand) | constant<<32, target]
    case brI32EqImm, brI32NeImm, brI32LtSImm, brI32LtUImm, brI32GtSImm, brI32GtUImm
    case brI32LeSImm, brI32LeUImm, brI32GeSImm, brI32GeUImm
    // Loads whose address is an `i32.add` of two slots: [op | d | a | b, offset], address u32(a + b) + offset
    // (i32 also serves f32, i64 also f64).
    case i32LoadAdd, i64LoadAdd, i32Load8UAdd
    // ... of a slot and a constant: [op | d | a, constant, offset]
    case i32LoadAddImm, i64LoadAddImm, i32Load8UAddImm
    // Stores whose address is an `i32.add` of two slots: [op | d(index) | a(base) | b(value), offset]
    case i32StoreAdd, i64StoreAdd, i32Store8Add
    // Stores whose value is computed by the arithmetic op just before: [op | d(address) | a | b, offset]
    case f64AddStore, f64SubStore, i32AddStore
    // ... an f64.add/f64.sub whose right operand is the f64.mul just before:
    // [op | d(address) | a | b, c | offset<<16], stores a ± b * c (product rounded first)
    case f64MulAddStore, f64MulSubStore
    // i32.rotl/i32.rotr by a constant (rotr k as rotl 32 - k): [op | d | a, constant]
    case i32RotlImm
    // Byte stores of an `i32.add` address and a constant value: [op | d(index) | a(base) | value<<48, offset]
    case i32Store8AddImm
    // 16-bit loads of an `i32.add` address, like i32LoadAdd / i32LoadAddImm (coremark's `short` arrays)
    case i32Load16SAdd, i32Load16UAdd, i32Load16SAddImm, i32Load16UAddImm
    // A rare numeric instruction (`ExtendedOp` in bits 8..15): [op | sub<<8 | d | a | b]
    case extended
    // Two copies in one: [op | d | a | b, c]: fp[d] = fp[a], then fp[b] = fp[c]
    case copy2
    // A commutative op whose other operand is the result of the op just before
    // (that result is never written): [op | d | a(other) | b, c]
    case i32Add3         // a + b + c
    case i32MulAdd       // a + b * c
    case i32XorRotlImm   // a ^ rotl(b, c)   (c a constant)
    case i32XorShrUImm   // a ^ (b >> c)     (c a constant)
    case f64MulAdd       // a + b * c        (the product rounded first, no FMA)
    // f64 operations with a constant right operand (a folded f64.const): [op | d | a, bits]
    // (f64.sub c is f64AddImm -c)
    case f64AddImm, f64MulImm
    // A loop counter's step and test in one: `i32AddImm` into d, then the fused
    // compare-with-constant + jump on d: [op | d | a, step | bound<<32, target]
    case brI32AddImmNeImm, brI32AddImmLtSImm, brI32AddImmLtUImm, brI32AddImmGtSImm
    case brI32AddImmEqImm, brI32AddImmGeSImm, brI32AddImmGeUImm, brI32AddImmLeSImm
    // ... `i32Add` into d, then the fused compare + jump of d with slot n: [op | d | a | b, n, target]
    case brI32AddLtU, brI32AddLtS, brI32AddNe, brI32AddGeU, brI32AddGeS, brI32AddEq
    // An f64 in memory updated in place (`x[i] += a * b`, `x[i] -= a * b`): the load
    // of the same address and offset folded into the store: [op | d(address) | a | b, offset]
    case f64MulAddUpdate, f64MulSubUpdate
    // A load from an address just computed into a local (`local.tee p (i32.add a b)`,
    // then a load at p): [op | d | a | b, local | offset<<16]; writes the local too.
    case i32LoadAddTee, i64LoadAddTee
    // An i32.mul whose other operand is the 16-bit load just before (coremark's
    // `short` matrices): [op | d | a(other) | b(base), constant, offset]
    case i32MulLoad16SAddImm
    // rotl(a, j) ^ rotl(b, k) with constants j, k: [op | d | a | b, j | k<<32]
    case i32RotlXorRotlImm
    // a - (the f64 just loaded from b + constant): [op | d | a | b(base), constant, offset]
    case f64SubLoadAddImm
    // A copy, then a jump (a value left for an `if` arm's or a loop's next round): [op | d | a, target]
    case copyJump
    // An i32.load whose value is then tested by `br_if`/`if` (pointer chasing,
    // `p = p->next; if (p)`): [op | d | a, offset, target], jumps when the loaded
    // value is non-zero (BrIf) or zero (BrUnless).
    case i32LoadBrIf, i32LoadBrUnless
    // An i32 equality test of a slot with a masked slot (`(x & mask) == y`):
    // [op | a | b, mask, target], jumps when a == b & mask (Eq) or a != b & mask (Ne).
    case brI32EqAndImm, brI32NeAndImm
    // The product of two 16-bit values just loaded, each from a slot plus a
    // constant (an int16 dot product, coremark's matrices, FIR filters):
    // [op | d | a(base x) | b(base y), kx | ky<<32, offset x | offset y<<32]
    case i32MulLoad16SPair
    // a + (b == 0) (counting zeros, `n += !x`): [op | d | a | b]
    case i32AddEqz
    // a + b + c for i64: [op | d | a | b, c]
    case i64Add3
    // Three copies in one: [op | d | a | b, c | e<<16 | f<<32]: fp[d] = fp[a], fp[b] = fp[c], fp[e] = fp[f]
    case copy3
    // More operand fusions (like i32Add3), from SHA-256's choose/majority and xorshift:
    case i32XorAnd       // a ^ (b & c)
    case i32AndXor       // a & (b ^ c)
    case i32XorShlImm    // a ^ (b << c)   (c a constant)
    // ... and with f64.sqrt (one store-to-load hop less on n-body's latency chain, which bounds it):
    case f64MulSqrt      // a * sqrt(b): [op | d | a | b]  (n-body's d2 * sqrt(d2))
    case f64DivSqrt      // a / sqrt(b): [op | d | a | b]  (normalizing; right operand only)
    case f64DivMulSqrt   // a / (b * sqrt(c)), the product rounded first (the r^-3 of gravity; right operand only)
    // A byte store of a constant at base + index, then the index's counter step and
    // test (`brI32AddLtU`): [op | d(index) | a(base) | b(step), value | n<<8 | offset<<24, target]:
    // bytes[base + d + offset] = value; d += b; jumps while d < fp[n] (unsigned)
    case i32Store8AddImmBrAddLtU

    /// The highest opcode in use (checked against `allCases` by a test). The
    /// interpreter's handlers for the opcodes above it trap.
    static let lastRawValue: UInt8 = 251
    /// Not an instruction: the interpreter's exit words hold it (`PHANTOM_OP_EXIT`).
    static let exitRawValue: UInt8 = 255

    @inline(__always)
    static func decode(_ word: UInt64) -> Op {
        unsafeBitCast(UInt8(truncatingIfNeeded: word), to: Op.self)
    }

    @inline(__always)
    func word(_ immediate: UInt64 = 0) -> UInt64 { UInt64(rawValue) | immediate << 8 }

    @inline(__always)
    func word(d: UInt64, a: UInt64 = 0, b: UInt64 = 0) -> UInt64 {
        assert(d < 1 << 16 && a < 1 << 16 && b < 1 << 16, "a field of \(self) overflows 16 bits: d \(d) a \(a) b \(b)")
        return UInt64(rawValue) | d << 16 | a << 32 | b << 48
    }
}

/// Field extraction for register-mode words.
enum Field {
    static let mask: UInt64 = 0xffff
    static let slotLimit = 1 << 16
    @inline(__always) static func d(_ word: UInt64) -> Int { Int(truncatingIfNeeded: (word >> 16) & mask) }
    @inline(__always) static func a(_ word: UInt64) -> Int { Int(truncatingIfNeeded: (word >> 32) & mask) }
    @inline(__always) static func b(_ word: UInt64) -> Int { Int(truncatingIfNeeded: word >> 48) }
}

/// Rare numeric instructions (bit counts, float rounding, min/max, conversions),
/// behind the one primary opcode `Op.extended`, so that the 256 primary opcodes
/// (one threaded handler each) stay for hot and fused instructions. Encoded
/// `[Op.extended | sub<<8 | d | a | b]`; the extended handler switches on `sub`.
enum ExtendedOp: UInt8, CaseIterable {
    case i32Clz, i32Ctz, i32Popcnt, i64Clz, i64Ctz, i64Popcnt
    case f32Abs, f32Neg, f32Ceil, f32Floor, f32Trunc, f32Nearest, f32Sqrt, f32Min, f32Max, f32Copysign
    case f64Ceil, f64Floor, f64Trunc, f64Nearest, f64Min, f64Max, f64Copysign
    case i32TruncF32S, i32TruncF32U, i32TruncF64S, i32TruncF64U, i64TruncF32S, i64TruncF32U, i64TruncF64S, i64TruncF64U
    case f32ConvertI32S, f32ConvertI32U, f32ConvertI64S, f32ConvertI64U, f32DemoteF64, f64ConvertI64S, f64ConvertI64U, f64PromoteF32
    case i32TruncSatF32S, i32TruncSatF32U, i32TruncSatF64S, i32TruncSatF64U, i64TruncSatF32S, i64TruncSatF32U, i64TruncSatF64S, i64TruncSatF64U

    func word(d: UInt64, a: UInt64 = 0, b: UInt64 = 0) -> UInt64 {
        Op.extended.word(d: d, a: a, b: b) | UInt64(rawValue) << 8
    }
}
