import ArgumentParser

/// A duration on the command line: `10ms`, `1s`, `2.5s`, `1m`, or plain seconds.
struct Duration: ExpressibleByArgument, CustomStringConvertible {
    var nanoseconds: UInt64

    init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("µs", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var text = argument.trimmingCharacters(in: .whitespaces)
        var scale = 1e9
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            text.removeLast(suffix.count)
            scale = factor
            break
        }
        guard let value = Double(text), value >= 0, value.isFinite else { return nil }
        nanoseconds = UInt64(value * scale)
    }

    var seconds: Double { Double(nanoseconds) / 1e9 }
    var description: String {
        nanoseconds % 1_000_000_000 == 0 ? "\(nanoseconds / 1_000_000_000)s" : "\(Double(nanoseconds) / 1e6)ms"
    }
    static var defaultCompletionKind: CompletionKind { .default }
}

/// A size on the command line: `64M`, `1G`, `4096`, `2T` (binary units).
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    var bytes: UInt64

    init(bytes: UInt64) { self.bytes = bytes }

    init?(argument: String) {
        var text = argument.uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
        var scale: UInt64 = 1
        if let last = text.last, let shift = ["K": 10, "M": 20, "G": 30, "T": 40][String(last)] {
            scale = 1 << UInt64(shift)
            text.removeLast()
        }
        guard let value = Double(text), value >= 0, value.isFinite else { return nil }
        bytes = UInt64(value * Double(scale))
    }

    var description: String { formatBytes(bytes) }
}

func formatBytes(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

import Foundation
