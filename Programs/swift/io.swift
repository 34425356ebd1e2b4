// io.swift - allocation-free line output and argument parsing for the
// Embedded Swift programs (shared by counter.swift and recursion.swift).
// Like Programs/c/pio.h, each line is emitted with exactly one fd_write.

var lineLength: UInt32 = 0

func putByte(_ byte: UInt8) {
    if lineLength < phantom_line_max() {
        phantom_line_ptr()[Int(lineLength)] = byte
        lineLength += 1
    }
}

func put(_ s: StaticString) {
    let p = s.utf8Start
    for i in 0..<s.utf8CodeUnitCount { putByte(p[i]) }
}

func put(_ v: UInt64) {
    // digits into a stack tuple, most significant first
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch
    var n = 0
    var x = v
    withUnsafeMutableBytes(of: &digits) { d in
        repeat {
            d[n] = UInt8(truncatingIfNeeded: x % 10) &+ 48
            n += 1
            x /= 10
        } while x != 0
        while n > 0 { n -= 1; putByte(d[n]) }
    }
}

func putHex(_ v: UInt64, digits: Int) {
    var i = digits - 1
    while i >= 0 {
        let nib = UInt8(truncatingIfNeeded: (v >> UInt64(i * 4)) & 15)
        putByte(nib < 10 ? nib &+ 48 : nib &+ 87)
        i -= 1
    }
}

func endLine() {
    putByte(10)
    var iov = wasi_ciovec(buf: UnsafePointer(phantom_line_ptr()), len: lineLength)
    var written: UInt32 = 0
    // retry on short writes
    while iov.len > 0 {
        if wasi_fd_write(1, &iov, 1, &written) != 0 || written == 0 { break }
        iov.buf += Int(written)
        iov.len -= written
    }
    lineLength = 0
}

var argumentCount: UInt32 = 0

func loadArguments() { argumentCount = phantom_load_args() }

/// Decimal argument `i`, or `dflt` when absent or not a number.
func numericArgument(_ i: UInt32, _ dflt: UInt64) -> UInt64 {
    if i >= argumentCount { return dflt }
    guard let p = phantom_arg(i) else { return dflt }
    if p[0] == 0 { return dflt }
    var v: UInt64 = 0
    var k = 0
    while p[k] != 0 {
        let c = p[k]
        if c < 48 || c > 57 { return dflt }
        v = v &* 10 &+ UInt64(c - 48)
        k += 1
    }
    return v
}

func exit(_ code: Int32) -> Never { wasi_proc_exit(code) }
