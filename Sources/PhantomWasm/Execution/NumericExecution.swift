/// Numeric instructions ("Execution › Numerics"). Operands are 64-bit slots:
/// i32 zero-extended, floats as bit patterns.
@inline(__always) func i32(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v) }
@inline(__always) func s32(_ v: UInt64) -> Int32 { Int32(truncatingIfNeeded: v) }
@inline(__always) func f32(_ v: UInt64) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: v)) }
@inline(__always) func f64(_ v: UInt64) -> Double { Double(bitPattern: v) }
@inline(__always) func bit(_ v: Bool) -> UInt64 { v ? 1 : 0 }
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
