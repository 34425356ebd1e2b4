import ArgumentParser
import Foundation

/// Why a duration or size on the command line was refused. ArgumentParser
/// prints it after "The value 'X' is invalid for '--option'".
struct ArgumentValueError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A duration on the command line: `10ms`, `1s`, `2.5s`, `1m`, `1h`.
///
/// A unit is required: `--snapshot-every 1` could mean a second or a
/// millisecond, and guessing wrong by a factor of 1000 is worse than asking.
/// Values are range-checked before any conversion, so no input can overflow
/// (a `1e30s` once killed the process with SIGILL).
struct Duration: CustomStringConvertible, Sendable {
    var nanoseconds: UInt64

    init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The largest duration any option takes: 100 years, far below UInt64's
    /// 584 years of nanoseconds.
    static let ceiling = Duration(nanoseconds: 100 * 365 * 86_400 * 1_000_000_000)

    /// Parses `text`, refusing anything outside `range` with a message that says why.
    static func parse(_ text: String, in range: ClosedRange<Duration> = Duration(nanoseconds: 0)...ceiling) throws -> Duration {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("µs", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var number = text.trimmingCharacters(in: .whitespaces)
        var scale: Double?
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            number.removeLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite else {
            throw ArgumentValueError("expected a number with a unit, such as 500ms, 1s, 2m or 1h")
        }
        guard let scale else {
            throw ArgumentValueError("give a unit: \(number)s or \(number)ms (ns, us, ms, s, m, h)")
        }
        guard value >= 0 else { throw ArgumentValueError("a duration cannot be negative") }
        let nanoseconds = value * scale
        guard nanoseconds <= Double(range.upperBound.nanoseconds) else {
            throw ArgumentValueError("at most \(range.upperBound) is allowed")
        }
        let duration = Duration(nanoseconds: UInt64(nanoseconds))
        guard duration >= range.lowerBound else { throw ArgumentValueError("at least \(range.lowerBound) is needed") }
        return duration
    }

    /// A parser for `@Option(transform:)` that accepts only `range`.
    static func parser(in range: ClosedRange<Duration>) -> @Sendable (String) throws -> Duration {
        { try parse($0, in: range) }
    }

    static func milliseconds(_ value: UInt64) -> Duration { Duration(nanoseconds: value * 1_000_000) }
    static func seconds(_ value: UInt64) -> Duration { Duration(nanoseconds: value * 1_000_000_000) }

    var seconds: Double { Double(nanoseconds) / 1e9 }
    var description: String {
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        return "\(Double(nanoseconds) / 1e6)ms"
    }
}

extension Duration: Comparable {
    static func < (left: Duration, right: Duration) -> Bool { left.nanoseconds < right.nanoseconds }
}

/// The snapshot period every command accepts: DESIGN.md asks for once a
/// minute to 100 times a second; we allow 1 ms (benchmarks) to one day.
let snapshotPeriodRange = Duration.milliseconds(1)...Duration.seconds(86_400)

/// A size on the command line: `64M`, `1G`, `4096`, `2T` (binary units).
struct ByteSize: CustomStringConvertible, Sendable {
    var bytes: UInt64

    init(bytes: UInt64) { self.bytes = bytes }

    /// Parses `text`, refusing anything outside `range` (checked before any
    /// conversion, so `18446744073709551615` or `99999999999T` is a message,
    /// not an overflow).
    static func parse(_ text: String, in range: ClosedRange<UInt64>) throws -> ByteSize {
        var number = text.uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        var scale: UInt64 = 1
        if let last = number.last, let shift = ["K": 10, "M": 20, "G": 30, "T": 40, "P": 50][String(last)] {
            scale = 1 << UInt64(shift)
            number.removeLast()
        }
        guard let value = Double(number), value.isFinite else {
            throw ArgumentValueError("expected a size such as 4096, 64K, 256M, 4G or 1T")
        }
        guard value >= 0 else { throw ArgumentValueError("a size cannot be negative") }
        let bytes = value * Double(scale)
        guard bytes <= Double(range.upperBound) else {
            throw ArgumentValueError("at most \(formatBytes(range.upperBound)) is allowed")
        }
        let size = UInt64(bytes)
        guard size >= range.lowerBound else { throw ArgumentValueError("at least \(formatBytes(range.lowerBound)) is needed") }
        return ByteSize(bytes: size)
    }

    /// A parser for `@Option(transform:)` that accepts only `range`.
    static func parser(in range: ClosedRange<UInt64>) -> @Sendable (String) throws -> ByteSize {
        { try parse($0, in: range) }
    }

    var description: String { formatBytes(bytes) }
}

/// The object space's limit: at least 1 MiB (the header and a few objects),
/// at most 64 TiB (x86_64 and aarch64 give a process 128 TiB of address space).
let spaceLimitRange: ClosedRange<UInt64> = (1 << 20)...(64 << 40)

/// Sizes in binary units, exact where they can be ("1 KiB", not "0 MiB").
func formatBytes(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    if unit == 0 { return "\(bytes) B" }
    return value == value.rounded() ? "\(Int(value)) \(units[unit])" : String(format: "%.1f %@", value, units[unit])
}

