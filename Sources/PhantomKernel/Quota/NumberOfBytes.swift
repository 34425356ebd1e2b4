/// A RAM amount as Genode writes it in configs and prints it in state reports.
///
/// Genode's `Number_of_bytes` (repos/base/include/util/string.h) reads a
/// number with an optional binary suffix (`K` = 2^10, `M` = 2^20, `G` = 2^30)
/// and prints an amount with the largest suffix that divides it exactly
/// (`2359K`, `1M`, `1G`, `1000`). Init's state report (`<ram assigned=…>`) and
/// its warnings use that format, and so do ours, so that a report or log line
/// reads the same as Genode's.
public struct NumberOfBytes: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) {
        self.value = value
    }

    public static let kilobyte: UInt64 = 1024
    public static let megabyte: UInt64 = 1024 * 1024
    public static let gigabyte: UInt64 = 1024 * 1024 * 1024

    /// Parses a quantity the way Genode's `ascii_to(…, Number_of_bytes &)` does
    /// when the whole attribute value must be consumed: decimal digits, or
    /// hexadecimal after `0x`, then at most one upper-case `K`, `M` or `G`.
    ///
    /// Where Genode would quietly fall back to the attribute's default — an
    /// empty value, a bare `0x`, a lower-case suffix, trailing text, a value
    /// that overflows — this returns nil so that the config reader can name the
    /// bad value instead of starting a component with a quota nobody wrote.
    public init?(parsing text: String) {
        var bytes = Substring(text).utf8[...]
        let multiplier: UInt64
        switch bytes.last {
        case UInt8(ascii: "K"): multiplier = Self.kilobyte
        case UInt8(ascii: "M"): multiplier = Self.megabyte
        case UInt8(ascii: "G"): multiplier = Self.gigabyte
        default: multiplier = 1
        }
        if multiplier != 1 { bytes = bytes.dropLast() }
        guard let number = GenodeNumber.unsigned(bytes) else { return nil }
        let (scaled, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        value = scaled
    }

    /// Genode's `Number_of_bytes::print`: `0`, else the largest of G, M, K that
    /// divides the amount, else plain bytes.
    public var description: String {
        if value == 0 { return "0" }
        if value % Self.gigabyte == 0 { return "\(value / Self.gigabyte)G" }
        if value % Self.megabyte == 0 { return "\(value / Self.megabyte)M" }
        if value % Self.kilobyte == 0 { return "\(value / Self.kilobyte)K" }
        return "\(value)"
    }

    public static func < (lhs: NumberOfBytes, rhs: NumberOfBytes) -> Bool { lhs.value < rhs.value }
}

/// Genode's textual number and boolean attribute formats (util/string.h:
/// `ascii_to_unsigned` with automatic base, `ascii_to_signed`, `ascii_to(bool)`),
/// strict: the whole value must be a number, else nil.
public enum GenodeNumber {
    /// Decimal, or hexadecimal after a `0x`/`0X` prefix (Genode's base 0).
    public static func unsigned(_ text: String) -> UInt64? {
        unsigned(Substring(text).utf8[...])
    }

    static func unsigned(_ bytes: Substring.UTF8View.SubSequence) -> UInt64? {
        var digits = bytes
        var radix: UInt64 = 10
        if digits.count >= 2, digits.first == UInt8(ascii: "0"),
           digits.dropFirst().first == UInt8(ascii: "x") || digits.dropFirst().first == UInt8(ascii: "X") {
            radix = 16
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard let digit = digitValue(byte, radix: radix) else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// An optional `+` or `-`, then an unsigned number as above.
    public static func signed(_ text: String) -> Int64? {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        guard let magnitude = unsigned(bytes) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// Genode's six spellings: `yes`, `true`, `on`, `no`, `false`, `off`.
    public static func bool(_ text: String) -> Bool? {
        switch text {
        case "yes", "true", "on": true
        case "no", "false", "off": false
        default: nil
        }
    }

    private static func digitValue(_ byte: UInt8, radix: UInt64) -> UInt64? {
        let value: UInt64
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = UInt64(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
        return value < radix ? value : nil
    }
}
