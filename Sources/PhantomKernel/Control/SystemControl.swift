import Foundation
import PhantomStore

/// What a running system offers to the commands that talk to it (`phantom ps`,
/// `log`, `snapshot`, `generations`, `rollback`, `config apply`, `stop`).
///
/// While a system runs it holds its image under the exclusive lock (DESIGN.md
/// invariant 9), so no other process may open the image; the commands reach
/// the system instead through its control socket (`ControlServer`), which
/// calls this protocol. `phantom boot` implements it over its kernel, its
/// snapshot daemon and its store; tests implement it with a fake.
///
/// Every method is called on one of the control server's worker threads,
/// never on its event loop, and may block (a snapshot waits for its commit);
/// two calls may run at the same time.
public protocol SystemControl: AnyObject, Sendable {
    /// Genode's state report of the running tree, as XML (`<state>…</state>`).
    func stateReport() -> String
    /// Log lines numbered above `after`, oldest first (what the log still keeps).
    func logLines(after: UInt64) -> [KernelLog.Line]
    /// Like `logLines(after:)`, but waits up to `timeout` seconds until there
    /// is at least one such line; empty on timeout.
    func waitForLogLines(after: UInt64, timeout: TimeInterval) -> [KernelLog.Line]
    /// Takes a snapshot now and returns the generation once it is committed.
    func snapshotNow() -> Result<UInt64, SystemControlError>
    /// Replaces the running config with `text` (XML or HID) and applies it:
    /// starts, stops and restarts children as Genode's init does. Returns the
    /// warnings; on an error (whose message names the line and column) the
    /// system keeps the config it had.
    func applyConfig(_ text: String) -> Result<[String], SystemControlError>
    /// The generations the image retains, newest first.
    func generations() -> [GenerationSummary]
    /// Asks the system to stop as after SIGTERM: a final snapshot, then exit.
    /// Returns at once; the control server answers the requester when the
    /// system calls `ControlServer.stop(finalGeneration:)`.
    func requestStop()
    /// Stops the system *without* a final snapshot, makes `generation` (a
    /// retained one) current in the image (`Store.rollback(to:)`), and exits;
    /// the next boot continues from it. Returns once the request is accepted
    /// (an unknown generation is an error, and the system runs on); the
    /// requester is answered when the system calls `ControlServer.stop`.
    func rollbackAndStop(to generation: UInt64) -> Result<Void, SystemControlError>
}

/// One retained generation of an image, as the control channel reports it.
public struct GenerationSummary: Codable, Sendable, Equatable {
    /// The generation number.
    public var generation: UInt64
    /// When it was committed: nanoseconds since 1970 (UTC).
    public var timestamp: UInt64
    /// Pages in the object space at that generation.
    public var pages: UInt64
    /// Bytes that generation wrote (data and map).
    public var writtenBytes: UInt64
    /// Whether it is the generation the image continues from.
    public var current: Bool

    public init(generation: UInt64, timestamp: UInt64, pages: UInt64, writtenBytes: UInt64, current: Bool) {
        self.generation = generation
        self.timestamp = timestamp
        self.pages = pages
        self.writtenBytes = writtenBytes
        self.current = current
    }

    /// From a store's record; `current` is the store's current generation.
    public init(_ record: GenerationRecord, current: UInt64) {
        self.init(generation: record.generation, timestamp: record.timestamp, pages: record.pageCount,
                  writtenBytes: record.writtenBytes, current: record.generation == current)
    }

    /// Every generation a store retains, newest first (`store.info` order).
    public static func all(of info: StoreInfo) -> [GenerationSummary] {
        info.generations.map { GenerationSummary($0, current: info.current) }
    }
}

/// Why the running system refused a request: a message for the person who
/// asked (it names the line and column of a bad config, or the generations an
/// image retains).
public struct SystemControlError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension KernelLog {
    /// Lines numbered above `after`, waiting up to `timeout` seconds for the
    /// first one: what `SystemControl.waitForLogLines` asks of a system.
    public func waitForLines(after: UInt64, timeout: TimeInterval) -> [Line] {
        guard waitForLine(after: after, timeout: timeout, { _ in true }) != nil else { return [] }
        return lines(after: after)
    }
}
