/// Numeric instructions ("Execution › Numerics"). Operands are 64-bit slots:
/// i32 zero-extended, floats as bit patterns.
@inline(__always) func i32(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v) }
@inline(__always) func s32(_ v: UInt64) -> Int32 { Int32(truncatingIfNeeded: v) }
@inline(__always) func f32(_ v: UInt64) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: v)) }
@inline(__always) func f64(_ v: UInt64) -> Double { Double(bitPattern: v) }
@inline(__always) func b(_ v: Bool) -> UInt64 { v ? 1 : 0 }
@inline(__always) func w(_ v: UInt32) -> UInt64 { UInt64(v) }
@inline(__always) func w(_ v: Int32) -> UInt64 { UInt64(UInt32(bitPattern: v)) }
@inline(__always) func w(_ v: Float) -> UInt64 { UInt64(v.bitPattern) }
@inline(__always) func w(_ v: Double) -> UInt64 { v.bitPattern }

func wasmMin<F: BinaryFloatingPoint>(_ a: F, _ b: F) -> F {
    if a.isNaN || b.isNaN { return a + b }
    if a == b { return a.sign == .minus ? a : b }
    return a < b ? a : b
}

func wasmMax<F: BinaryFloatingPoint>(_ a: F, _ b: F) -> F {
    if a.isNaN || b.isNaN { return a + b }
    if a == b { return a.sign == .minus ? b : a }
    return a > b ? a : b
}

/// Truncation to an integer, trapping ("invalid conversion to integer" for NaN,
/// "integer overflow" out of range). `lower` and `upper` bound the truncated value:
/// lower <= t < upper, both exactly representable.
func truncate<F: BinaryFloatingPoint>(_ x: F, lower: F, upper: F) throws(Trap) -> F {
    guard !x.isNaN else { throw Trap("invalid conversion to integer") }
    let t = x.rounded(.towardZero)
    guard t >= lower && t < upper else { throw Trap("integer overflow") }
    return t
}

extension Interpreter {
    func numeric(_ r: inout Registers, _ op: Op) throws(Trap) {
        let sp = r.sp
        switch op {
        // Comparisons
        case .i32Eqz: sp[-1] = b(i32(sp[-1]) == 0)
        case .i64Eqz: sp[-1] = b(sp[-1] == 0)
        case .i32Eq: r.sp -= 1; sp[-2] = b(i32(sp[-2]) == i32(sp[-1]))
        case .i32Ne: r.sp -= 1; sp[-2] = b(i32(sp[-2]) != i32(sp[-1]))
        case .i32LtS: r.sp -= 1; sp[-2] = b(s32(sp[-2]) < s32(sp[-1]))
        case .i32LtU: r.sp -= 1; sp[-2] = b(i32(sp[-2]) < i32(sp[-1]))
        case .i32GtS: r.sp -= 1; sp[-2] = b(s32(sp[-2]) > s32(sp[-1]))
        case .i32GtU: r.sp -= 1; sp[-2] = b(i32(sp[-2]) > i32(sp[-1]))
        case .i32LeS: r.sp -= 1; sp[-2] = b(s32(sp[-2]) <= s32(sp[-1]))
        case .i32LeU: r.sp -= 1; sp[-2] = b(i32(sp[-2]) <= i32(sp[-1]))
        case .i32GeS: r.sp -= 1; sp[-2] = b(s32(sp[-2]) >= s32(sp[-1]))
        case .i32GeU: r.sp -= 1; sp[-2] = b(i32(sp[-2]) >= i32(sp[-1]))
        case .i64Eq: r.sp -= 1; sp[-2] = b(sp[-2] == sp[-1])
        case .i64Ne: r.sp -= 1; sp[-2] = b(sp[-2] != sp[-1])
        case .i64LtS: r.sp -= 1; sp[-2] = b(Int64(bitPattern: sp[-2]) < Int64(bitPattern: sp[-1]))
        case .i64LtU: r.sp -= 1; sp[-2] = b(sp[-2] < sp[-1])
        case .i64GtS: r.sp -= 1; sp[-2] = b(Int64(bitPattern: sp[-2]) > Int64(bitPattern: sp[-1]))
        case .i64GtU: r.sp -= 1; sp[-2] = b(sp[-2] > sp[-1])
        case .i64LeS: r.sp -= 1; sp[-2] = b(Int64(bitPattern: sp[-2]) <= Int64(bitPattern: sp[-1]))
        case .i64LeU: r.sp -= 1; sp[-2] = b(sp[-2] <= sp[-1])
        case .i64GeS: r.sp -= 1; sp[-2] = b(Int64(bitPattern: sp[-2]) >= Int64(bitPattern: sp[-1]))
        case .i64GeU: r.sp -= 1; sp[-2] = b(sp[-2] >= sp[-1])
        case .f32Eq: r.sp -= 1; sp[-2] = b(f32(sp[-2]) == f32(sp[-1]))
        case .f32Ne: r.sp -= 1; sp[-2] = b(f32(sp[-2]) != f32(sp[-1]))
        case .f32Lt: r.sp -= 1; sp[-2] = b(f32(sp[-2]) < f32(sp[-1]))
        case .f32Gt: r.sp -= 1; sp[-2] = b(f32(sp[-2]) > f32(sp[-1]))
        case .f32Le: r.sp -= 1; sp[-2] = b(f32(sp[-2]) <= f32(sp[-1]))
        case .f32Ge: r.sp -= 1; sp[-2] = b(f32(sp[-2]) >= f32(sp[-1]))
        case .f64Eq: r.sp -= 1; sp[-2] = b(f64(sp[-2]) == f64(sp[-1]))
        case .f64Ne: r.sp -= 1; sp[-2] = b(f64(sp[-2]) != f64(sp[-1]))
        case .f64Lt: r.sp -= 1; sp[-2] = b(f64(sp[-2]) < f64(sp[-1]))
        case .f64Gt: r.sp -= 1; sp[-2] = b(f64(sp[-2]) > f64(sp[-1]))
        case .f64Le: r.sp -= 1; sp[-2] = b(f64(sp[-2]) <= f64(sp[-1]))
        case .f64Ge: r.sp -= 1; sp[-2] = b(f64(sp[-2]) >= f64(sp[-1]))
        // i32 arithmetic
        case .i32Clz: sp[-1] = UInt64(i32(sp[-1]).leadingZeroBitCount)
        case .i32Ctz: sp[-1] = UInt64(i32(sp[-1]).trailingZeroBitCount)
        case .i32Popcnt: sp[-1] = UInt64(i32(sp[-1]).nonzeroBitCount)
        case .i32Add: r.sp -= 1; sp[-2] = w(i32(sp[-2]) &+ i32(sp[-1]))
        case .i32Sub: r.sp -= 1; sp[-2] = w(i32(sp[-2]) &- i32(sp[-1]))
        case .i32Mul: r.sp -= 1; sp[-2] = w(i32(sp[-2]) &* i32(sp[-1]))
        case .i32DivS:
            let a = s32(sp[-2]), d = s32(sp[-1])
            guard d != 0 else { throw Trap("integer divide by zero") }
            guard !(a == Int32.min && d == -1) else { throw Trap("integer overflow") }
            r.sp -= 1; sp[-2] = w(a / d)
        case .i32DivU:
            let d = i32(sp[-1])
            guard d != 0 else { throw Trap("integer divide by zero") }
            r.sp -= 1; sp[-2] = w(i32(sp[-2]) / d)
        case .i32RemS:
            let a = s32(sp[-2]), d = s32(sp[-1])
            guard d != 0 else { throw Trap("integer divide by zero") }
            r.sp -= 1; sp[-2] = d == -1 ? 0 : w(a % d)
        case .i32RemU:
            let d = i32(sp[-1])
            guard d != 0 else { throw Trap("integer divide by zero") }
            r.sp -= 1; sp[-2] = w(i32(sp[-2]) % d)
        case .i32And: r.sp -= 1; sp[-2] = w(i32(sp[-2]) & i32(sp[-1]))
        case .i32Or: r.sp -= 1; sp[-2] = w(i32(sp[-2]) | i32(sp[-1]))
        case .i32Xor: r.sp -= 1; sp[-2] = w(i32(sp[-2]) ^ i32(sp[-1]))
        case .i32Shl: r.sp -= 1; sp[-2] = w(i32(sp[-2]) &<< i32(sp[-1]))
        case .i32ShrS: r.sp -= 1; sp[-2] = w(s32(sp[-2]) &>> s32(sp[-1]))
        case .i32ShrU: r.sp -= 1; sp[-2] = w(i32(sp[-2]) &>> i32(sp[-1]))
        case .i32Rotl: r.sp -= 1; sp[-2] = w(rotl32(i32(sp[-2]), i32(sp[-1])))
        case .i32Rotr: r.sp -= 1; sp[-2] = w(rotl32(i32(sp[-2]), 32 &- (i32(sp[-1]) & 31)))
        // i64 arithmetic
        case .i64Clz: sp[-1] = UInt64(sp[-1].leadingZeroBitCount)
        case .i64Ctz: sp[-1] = UInt64(sp[-1].trailingZeroBitCount)
        case .i64Popcnt: sp[-1] = UInt64(sp[-1].nonzeroBitCount)
        case .i64Add: r.sp -= 1; sp[-2] = sp[-2] &+ sp[-1]
        case .i64Sub: r.sp -= 1; sp[-2] = sp[-2] &- sp[-1]
        case .i64Mul: r.sp -= 1; sp[-2] = sp[-2] &* sp[-1]
        case .i64DivS:
            let a = Int64(bitPattern: sp[-2]), d = Int64(bitPattern: sp[-1])
            guard d != 0 else { throw Trap("integer divide by zero") }
            guard !(a == Int64.min && d == -1) else { throw Trap("integer overflow") }
            r.sp -= 1; sp[-2] = UInt64(bitPattern: a / d)
        case .i64DivU:
            guard sp[-1] != 0 else { throw Trap("integer divide by zero") }
            r.sp -= 1; sp[-2] = sp[-2] / sp[-1]
        case .i64RemS:
            let a = Int64(bitPattern: sp[-2]), d = Int64(bitPattern: sp[-1])
            guard d != 0 else { throw Trap("integer divide by zero") }
            r.sp -= 1; sp[-2] = d == -1 ? 0 : UInt64(bitPattern: a % d)
        case .i64RemU:
            guard sp[-1] != 0 else { throw Trap("integer divide by zero") }
            r.sp -= 1; sp[-2] = sp[-2] % sp[-1]
        case .i64And: r.sp -= 1; sp[-2] = sp[-2] & sp[-1]
        case .i64Or: r.sp -= 1; sp[-2] = sp[-2] | sp[-1]
        case .i64Xor: r.sp -= 1; sp[-2] = sp[-2] ^ sp[-1]
        case .i64Shl: r.sp -= 1; sp[-2] = sp[-2] &<< sp[-1]
        case .i64ShrS: r.sp -= 1; sp[-2] = UInt64(bitPattern: Int64(bitPattern: sp[-2]) &>> Int64(bitPattern: sp[-1]))
        case .i64ShrU: r.sp -= 1; sp[-2] = sp[-2] &>> sp[-1]
        case .i64Rotl: r.sp -= 1; sp[-2] = rotl64(sp[-2], sp[-1])
        case .i64Rotr: r.sp -= 1; sp[-2] = rotl64(sp[-2], 64 &- (sp[-1] & 63))
        // f32
        case .f32Abs: sp[-1] = sp[-1] & 0x7fff_ffff
        case .f32Neg: sp[-1] = (sp[-1] ^ 0x8000_0000) & 0xffff_ffff
        case .f32Ceil: sp[-1] = w(f32(sp[-1]).rounded(.up))
        case .f32Floor: sp[-1] = w(f32(sp[-1]).rounded(.down))
        case .f32Trunc: sp[-1] = w(f32(sp[-1]).rounded(.towardZero))
        case .f32Nearest: sp[-1] = w(f32(sp[-1]).rounded(.toNearestOrEven))
        case .f32Sqrt: sp[-1] = w(f32(sp[-1]).squareRoot())
        case .f32Add: r.sp -= 1; sp[-2] = w(f32(sp[-2]) + f32(sp[-1]))
        case .f32Sub: r.sp -= 1; sp[-2] = w(f32(sp[-2]) - f32(sp[-1]))
        case .f32Mul: r.sp -= 1; sp[-2] = w(f32(sp[-2]) * f32(sp[-1]))
        case .f32Div: r.sp -= 1; sp[-2] = w(f32(sp[-2]) / f32(sp[-1]))
        case .f32Min: r.sp -= 1; sp[-2] = w(wasmMin(f32(sp[-2]), f32(sp[-1])))
        case .f32Max: r.sp -= 1; sp[-2] = w(wasmMax(f32(sp[-2]), f32(sp[-1])))
        case .f32Copysign: r.sp -= 1; sp[-2] = (sp[-2] & 0x7fff_ffff) | (sp[-1] & 0x8000_0000)
        // f64
        case .f64Abs: sp[-1] = sp[-1] & 0x7fff_ffff_ffff_ffff
        case .f64Neg: sp[-1] = sp[-1] ^ 0x8000_0000_0000_0000
        case .f64Ceil: sp[-1] = w(f64(sp[-1]).rounded(.up))
        case .f64Floor: sp[-1] = w(f64(sp[-1]).rounded(.down))
        case .f64Trunc: sp[-1] = w(f64(sp[-1]).rounded(.towardZero))
        case .f64Nearest: sp[-1] = w(f64(sp[-1]).rounded(.toNearestOrEven))
        case .f64Sqrt: sp[-1] = w(f64(sp[-1]).squareRoot())
        case .f64Add: r.sp -= 1; sp[-2] = w(f64(sp[-2]) + f64(sp[-1]))
        case .f64Sub: r.sp -= 1; sp[-2] = w(f64(sp[-2]) - f64(sp[-1]))
        case .f64Mul: r.sp -= 1; sp[-2] = w(f64(sp[-2]) * f64(sp[-1]))
        case .f64Div: r.sp -= 1; sp[-2] = w(f64(sp[-2]) / f64(sp[-1]))
        case .f64Min: r.sp -= 1; sp[-2] = w(wasmMin(f64(sp[-2]), f64(sp[-1])))
        case .f64Max: r.sp -= 1; sp[-2] = w(wasmMax(f64(sp[-2]), f64(sp[-1])))
        case .f64Copysign: r.sp -= 1; sp[-2] = (sp[-2] & 0x7fff_ffff_ffff_ffff) | (sp[-1] & 0x8000_0000_0000_0000)
        // Conversions
        case .i32WrapI64: sp[-1] = sp[-1] & 0xffff_ffff
        case .i32TruncF32S: sp[-1] = w(Int32(try truncate(f32(sp[-1]), lower: -2147483648, upper: 2147483648)))
        case .i32TruncF32U: sp[-1] = w(UInt32(try truncate(f32(sp[-1]), lower: -0.0, upper: 4294967296)))
        case .i32TruncF64S: sp[-1] = w(Int32(try truncate(f64(sp[-1]), lower: -2147483648, upper: 2147483648)))
        case .i32TruncF64U: sp[-1] = w(UInt32(try truncate(f64(sp[-1]), lower: -0.0, upper: 4294967296)))
        case .i64ExtendI32S: sp[-1] = UInt64(bitPattern: Int64(s32(sp[-1])))
        case .i64ExtendI32U: sp[-1] = sp[-1] & 0xffff_ffff
        case .i64TruncF32S:
            sp[-1] = UInt64(bitPattern: Int64(try truncate(f32(sp[-1]), lower: -9223372036854775808, upper: 9223372036854775808)))
        case .i64TruncF32U: sp[-1] = UInt64(try truncate(f32(sp[-1]), lower: -0.0, upper: 18446744073709551616))
        case .i64TruncF64S:
            sp[-1] = UInt64(bitPattern: Int64(try truncate(f64(sp[-1]), lower: -9223372036854775808, upper: 9223372036854775808)))
        case .i64TruncF64U: sp[-1] = UInt64(try truncate(f64(sp[-1]), lower: -0.0, upper: 18446744073709551616))
        case .f32ConvertI32S: sp[-1] = w(Float(s32(sp[-1])))
        case .f32ConvertI32U: sp[-1] = w(Float(i32(sp[-1])))
        case .f32ConvertI64S: sp[-1] = w(Float(Int64(bitPattern: sp[-1])))
        case .f32ConvertI64U: sp[-1] = w(Float(sp[-1]))
        case .f32DemoteF64: sp[-1] = w(Float(f64(sp[-1])))
        case .f64ConvertI32S: sp[-1] = w(Double(s32(sp[-1])))
        case .f64ConvertI32U: sp[-1] = w(Double(i32(sp[-1])))
        case .f64ConvertI64S: sp[-1] = w(Double(Int64(bitPattern: sp[-1])))
        case .f64ConvertI64U: sp[-1] = w(Double(sp[-1]))
        case .f64PromoteF32: sp[-1] = w(Double(f32(sp[-1])))
        case .i32Extend8S: sp[-1] = w(Int32(Int8(truncatingIfNeeded: sp[-1])))
        case .i32Extend16S: sp[-1] = w(Int32(Int16(truncatingIfNeeded: sp[-1])))
        case .i64Extend8S: sp[-1] = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: sp[-1])))
        case .i64Extend16S: sp[-1] = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: sp[-1])))
        case .i64Extend32S: sp[-1] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: sp[-1])))
        case .i32TruncSatF32S: sp[-1] = w(saturateSigned(f32(sp[-1]), Int32.self))
        case .i32TruncSatF32U: sp[-1] = w(saturateUnsigned(f32(sp[-1]), UInt32.self))
        case .i32TruncSatF64S: sp[-1] = w(saturateSigned(f64(sp[-1]), Int32.self))
        case .i32TruncSatF64U: sp[-1] = w(saturateUnsigned(f64(sp[-1]), UInt32.self))
        case .i64TruncSatF32S: sp[-1] = UInt64(bitPattern: saturateSigned(f32(sp[-1]), Int64.self))
        case .i64TruncSatF32U: sp[-1] = saturateUnsigned(f32(sp[-1]), UInt64.self)
        case .i64TruncSatF64S: sp[-1] = UInt64(bitPattern: saturateSigned(f64(sp[-1]), Int64.self))
        case .i64TruncSatF64U: sp[-1] = saturateUnsigned(f64(sp[-1]), UInt64.self)
        default:
            throw Trap("unknown opcode \(op)")
        }
    }
}

func saturateSigned<F: BinaryFloatingPoint, I: FixedWidthInteger & SignedInteger>(_ x: F, _: I.Type) -> I {
    if x.isNaN { return 0 }
    let t = x.rounded(.towardZero)
    let bound = F(sign: .plus, exponent: F.Exponent(I.bitWidth - 1), significand: 1)  // 2^(n-1)
    if t < -bound { return I.min }
    if t >= bound { return I.max }
    return I(t)
}

func saturateUnsigned<F: BinaryFloatingPoint, I: FixedWidthInteger & UnsignedInteger>(_ x: F, _: I.Type) -> I {
    if x.isNaN || x <= -1 { return 0 }
    let t = x.rounded(.towardZero)
    let bound = F(sign: .plus, exponent: F.Exponent(I.bitWidth), significand: 1)  // 2^n
    if t >= bound { return I.max }
    if t < 0 { return 0 }
    return I(t)
}

@inline(__always) func rotl32(_ x: UInt32, _ k: UInt32) -> UInt32 { let k = k & 31; return x &<< k | x &>> (32 &- k) }
@inline(__always) func rotl64(_ x: UInt64, _ k: UInt64) -> UInt64 { let k = k & 63; return x &<< k | x &>> (64 &- k) }
