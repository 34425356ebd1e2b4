/// Our own top-level `<phantom>` node: how the persistent object space is kept.
///
/// Genode's init has nothing like it because Genode forgets everything at
/// reboot; Phantom snapshots the whole object space instead (DESIGN.md,
/// "Snapshot protocol"), and the config that describes the system also says
/// how often and how many generations to keep:
///
///     <phantom snapshot_period="1s" retain="8"/>      (XML)
///     + phantom | snapshot_period: 20ms | retain: 8   (HID)
///
/// - `snapshot_period`: time between snapshots, an integer with the unit
///   `ms`, `s` or `min`, from 10ms (100 snapshots a second) to 1min (once a
///   minute), the range DESIGN.md promises.
/// - `retain`: how many committed generations to keep, at least 1.
///
/// Either attribute may be absent; the kernel then uses its own default. A
/// malformed or out-of-range value is reported and treated as absent.
public struct PhantomConfig: Sendable, Hashable {
    public var snapshotPeriod: Duration?
    public var retain: Int?

    public static let shortestSnapshotPeriod = Duration.milliseconds(10)
    public static let longestSnapshotPeriod = Duration.seconds(60)

    public init(snapshotPeriod: Duration? = nil, retain: Int? = nil) {
        self.snapshotPeriod = snapshotPeriod
        self.retain = retain
    }

    /// Parses `20ms`, `1s`, `1min`: digits then a unit, nothing else.
    public static func duration(parsing text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count)
        guard !digits.isEmpty, let value = Int64(digits) else { return nil }
        switch unit {
        case "ms": return value <= Int64.max / 1_000_000 ? .milliseconds(value) : nil
        case "s": return value <= Int64.max / 1_000_000_000 ? .seconds(value) : nil
        case "min": return value <= Int64.max / 60_000_000_000 ? .seconds(value * 60) : nil
        default: return nil
        }
    }

    static func parse(_ node: ConfigNode, reader: inout AttributeReader) -> PhantomConfig {
        var config = PhantomConfig()
        if let text = node[attribute: "snapshot_period"] {
            if let period = duration(parsing: text) {
                if period >= shortestSnapshotPeriod && period <= longestSnapshotPeriod {
                    config.snapshotPeriod = period
                } else {
                    reader.messages.append(.error("phantom: snapshot_period=\"\(text)\" out of range (10ms to 1min)",
                                                  at: node.location))
                }
            } else {
                reader.messages.append(.error("phantom: malformed snapshot_period=\"\(text)\", expected a duration "
                                              + "such as 20ms, 1s or 1min", at: node.location))
            }
        }
        if let text = node[attribute: "retain"] {
            if let count = GenodeNumber.unsigned(text), count >= 1, count <= UInt64(Int.max) {
                config.retain = Int(count)
            } else {
                reader.messages.append(.error("phantom: malformed retain=\"\(text)\", expected a positive integer",
                                              at: node.location))
            }
        }
        return config
    }
}
