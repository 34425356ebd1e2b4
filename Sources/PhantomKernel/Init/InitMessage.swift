/// A line init writes to its log while reading its config or routing a session.
///
/// Genode's init never stops on a bad config entry or an unroutable request: it
/// logs a line and carries on, and scenario tests (`run/init.run`,
/// `test-init`) assert on those lines. The semantic layer therefore returns its
/// messages as values, with Genode's wording, and leaves the writing to the
/// kernel, which prefixes them the way Genode's LOG does.
public struct InitMessage: Sendable, Hashable, CustomStringConvertible {
    /// Genode's `log`, `warning` and `error` (base/log.h), which differ only in
    /// the prefix the LOG output puts in front of the text.
    public enum Severity: Sendable, Hashable {
        case log
        case warning
        case error
    }

    public var severity: Severity
    /// The text as Genode prints it, without the severity prefix.
    public var text: String
    /// The config node the message is about; `.unknown` for routing messages,
    /// which concern a session request rather than a place in the config.
    public var location: ConfigLocation

    public init(_ severity: Severity, _ text: String, at location: ConfigLocation = .unknown) {
        self.severity = severity
        self.text = text
        self.location = location
    }

    public static func log(_ text: String, at location: ConfigLocation = .unknown) -> InitMessage {
        InitMessage(.log, text, at: location)
    }

    public static func warning(_ text: String, at location: ConfigLocation = .unknown) -> InitMessage {
        InitMessage(.warning, text, at: location)
    }

    public static func error(_ text: String, at location: ConfigLocation = .unknown) -> InitMessage {
        InitMessage(.error, text, at: location)
    }

    /// The line as Genode's LOG shows it ("Warning: …", "Error: …"), with the
    /// config position in front when there is one — our addition, so that a
    /// bad entry in a long config can be found (DESIGN.md invariant 8).
    public var description: String {
        let prefix: String = switch severity {
        case .log: ""
        case .warning: "Warning: "
        case .error: "Error: "
        }
        let place = location == .unknown ? "" : "\(location): "
        return prefix + place + text
    }
}
