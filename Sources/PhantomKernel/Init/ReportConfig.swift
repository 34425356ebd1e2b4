/// `<report>`: which parts of init's state to publish and how often
/// (Sandbox `Report_detail`, report.h; `State_reporter`, state_reporter.h;
/// init's main.cc for `buffer`).
public struct ReportConfig: Sendable, Hashable {
    public var ids = false
    public var requested = false
    public var provided = false
    public var sessionArgs = false
    public var childRam = false
    public var childCaps = false
    public var initRam = false
    public var initCaps = false
    /// Minimum time between reports (default 100 ms). With `child_ram` or
    /// `child_caps`, Genode also samples periodically, every
    /// max(1000, delay_ms) ms.
    public var delayMs: UInt64 = 100
    /// Size of the report buffer (default 4K).
    public var buffer = NumberOfBytes(4096)

    public init() {}

    static func parse(_ node: ConfigNode, reader: inout AttributeReader) -> ReportConfig {
        var report = ReportConfig()
        func flag(_ name: String) -> Bool { reader.bool(node, name, default: false, context: "report") }
        report.ids = flag("ids")
        report.requested = flag("requested")
        report.provided = flag("provided")
        report.sessionArgs = flag("session_args")
        report.childRam = flag("child_ram")
        report.childCaps = flag("child_caps")
        report.initRam = flag("init_ram")
        report.initCaps = flag("init_caps")
        report.delayMs = reader.unsigned(node, "delay_ms", context: "report").or(100)
        report.buffer = reader.bytes(node, "buffer", context: "report").or(NumberOfBytes(4096))
        return report
    }

    /// Interval of periodic sampling when child resources are reported.
    public var samplingPeriodMs: UInt64? {
        childRam || childCaps ? max(1000, delayMs) : nil
    }
}
