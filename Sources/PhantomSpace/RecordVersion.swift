/// The rule every persistent record format follows (DESIGN.md invariant 10,
/// for records rather than threads; docs/ARCHITECTURE.md "Versioned
/// records"): a record carries its format version; a build reads the
/// versions in `readable`, upgrading an older one as it opens it, and refuses
/// any other by name — never guessing at a layout it does not know.
public struct RecordVersion: Sendable, Equatable {
    /// What the record is, as a message names it ("the kernel's tables").
    public let record: String
    /// The version this build writes.
    public let current: UInt64
    /// The versions this build reads (the oldest it can upgrade through `current`).
    public let readable: ClosedRange<UInt64>

    public init(record: String, current: UInt64, oldestReadable: UInt64? = nil) {
        self.record = record
        self.current = current
        readable = (oldestReadable ?? current)...current
    }

    /// Returns `found` if this build reads it; otherwise the error that says why not.
    public func check(_ found: UInt64) throws(RecordVersionError) -> UInt64 {
        guard readable.contains(found) else { throw RecordVersionError(version: self, found: found) }
        return found
    }
}

/// A record in a format this build does not read.
public struct RecordVersionError: Error, Equatable, CustomStringConvertible, Sendable {
    public let version: RecordVersion
    public let found: UInt64

    public init(version: RecordVersion, found: UInt64) {
        self.version = version
        self.found = found
    }

    public var description: String {
        let reads = version.readable.count == 1 ? "version \(version.current) only" : "versions \(version.readable.lowerBound)–\(version.readable.upperBound)"
        let why = found > version.current ? "written by a newer build" : "too old to upgrade"
        return "\(version.record) is format version \(found) (\(why)); this build reads \(reads)"
    }
}
