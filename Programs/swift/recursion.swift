// recursion.swift - Embedded Swift twin of Programs/c/recursion.c.
//
// usage: recursion_swift [DEPTH [REPS [ACK_N]]]  (defaults 10000 1500 9)
// Recurses DEPTH frames deep (each frame keeps values live across the call
// and a local tuple in memory), REPS times, then ackermann(3, ACK_N).
// Output and invariant as recursion.c: every result line ends in "ok" and
// the last line is "all ok" (exit status 0); otherwise "FAILED", exit 1.
// The checksums are identical to the C version for the same arguments.

@inline(__always)
func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 {
    let s = r & 31
    return s == 0 ? x : (x << s) | (x >> (32 - s))
}

@inline(__always)
func step(_ r: UInt32, _ k: UInt32) -> UInt32 {
    return rotl((r ^ (k &* 2_654_435_761)) &* 16_777_619 &+ k, k)
}

@inline(never)
func chain(_ n: UInt32) -> UInt32 {
    if n == 0 { return 0x12345 }
    // a frame-local value that lives in memory across the recursive call
    var local: (UInt32, UInt32) = (n &* 2_654_435_761, n)
    let r = withUnsafeMutableBytes(of: &local) { raw -> UInt32 in
        raw.storeBytes(of: n &* 2_654_435_761, toByteOffset: 0, as: UInt32.self)
        return chain(n - 1)
    }
    return rotl((r ^ local.0) &* 16_777_619 &+ local.1, local.1)
}

func chainIterative(_ n: UInt32) -> UInt32 {
    var r: UInt32 = 0x12345
    var k: UInt32 = 1
    while k <= n { r = step(r, k); k += 1 }
    return r
}

@inline(never)
func ack(_ m: UInt32, _ n: UInt32) -> UInt32 {
    if m == 0 { return n &+ 1 }
    if n == 0 { return ack(m - 1, 1) }
    return ack(m - 1, ack(m, n - 1))
}

@_cdecl("_start")
public func start() {
    loadArguments()
    let depth = UInt32(truncatingIfNeeded: numericArgument(1, 10000))
    let reps = UInt32(truncatingIfNeeded: numericArgument(2, 1500))
    let ackN = UInt32(truncatingIfNeeded: numericArgument(3, 9))
    var ok = true

    var acc: UInt32 = 0
    var i: UInt32 = 0
    while i < reps {
        acc = acc &* 31 &+ chain(depth &+ i)
        i += 1
        if i % 100 == 0 { put("rep "); put(UInt64(i)); endLine() }
    }
    var expected: UInt32 = 0
    i = 0
    while i < reps { expected = expected &* 31 &+ chainIterative(depth &+ i); i += 1 }
    put("chain depth="); put(UInt64(depth)); put(" reps="); put(UInt64(reps))
    put(" result="); putHex(UInt64(acc), digits: 8)
    put(" expected="); putHex(UInt64(expected), digits: 8)
    if acc == expected { put(" ok") } else { put(" MISMATCH"); ok = false }
    endLine()

    let a = ack(3, ackN)
    let aExpected: UInt32 = (1 << (ackN + 3)) - 3
    put("ackermann m=3 n="); put(UInt64(ackN))
    put(" result="); put(UInt64(a)); put(" expected="); put(UInt64(aExpected))
    if a == aExpected { put(" ok") } else { put(" MISMATCH"); ok = false }
    endLine()

    if ok { put("all ok"); endLine() } else { put("FAILED"); endLine(); exit(1) }
}
