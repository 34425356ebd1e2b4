import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a component's clocks and sleeps come from: its Timer session.
///
/// In Genode a component reads time and sleeps through a Timer session its
/// parent routed (Genode's libc opens it at the first time-related call);
/// WASI preview 1 is a personality over sessions, so `clock_time_get`,
/// `clock_res_get` and the clock subscriptions of `poll_oneoff` are served
/// by the session the kernel opens for the component — and by nothing when
/// its routes give it none (invariant 7): then they fail with ENOTCAPABLE.
///
/// `open` is asked at most once per `WASI` instance (per process), at the
/// first clock call; the answer is cached (`WASITimer`), so the hot path of
/// `clock_time_get` never goes back to the kernel. The provider, like every
/// session's host side, is transient (invariant 6): a restored instance gets
/// a new one, whose `open` finds the session the component already had.
public struct WASITimerProvider: Sendable {
    /// The component's Timer session, opened through its routes (or found
    /// open); nil when it has none (not routed, denied).
    public var open: @Sendable () -> WASITimerSession?

    public init(open: @escaping @Sendable () -> WASITimerSession?) {
        self.open = open
    }

    /// The process's own clocks, no session: for WASI used as a library
    /// outside the kernel (tests, `phantom bench wasm`), as before sessions.
    public static let host = WASITimerProvider { .host }

    /// No Timer at all: every clock call is ENOTCAPABLE.
    public static let none = WASITimerProvider { nil }
}

/// What a Timer session serves: the host clocks its time is read from.
/// The kernel's built-in Timer serves the host's (`host`); tests may serve
/// others. Sleeps are not in here: they block on wall-clock deadlines, which
/// the scheduler arms (`Waitable.wallClock`), as the built-in Timer's own
/// session calls do.
public struct WASITimerSession: Sendable {
    private enum Source: Sendable {
        /// Read directly, no closure call: `clock_time_get` is hot.
        case host
        case clocks(now: @Sendable (WASIHostClock) -> UInt64, resolution: @Sendable (WASIHostClock) -> UInt64)
    }
    private let source: Source

    /// A session reading other clocks: `now` gives nanoseconds of a clock
    /// (realtime since 1970, monotonic and CPU time since some origin of this
    /// process), `resolution` a clock's resolution in nanoseconds (≥ 1).
    public init(now: @escaping @Sendable (WASIHostClock) -> UInt64,
                resolution: @escaping @Sendable (WASIHostClock) -> UInt64) {
        source = .clocks(now: now, resolution: resolution)
    }

    private init(source: Source) { self.source = source }

    /// The host's CLOCK_REALTIME, CLOCK_MONOTONIC and CLOCK_PROCESS_CPUTIME_ID.
    public static let host = WASITimerSession(source: .host)

    /// Nanoseconds of `clock` now.
    @inline(__always)
    public func now(_ clock: WASIHostClock) -> UInt64 {
        switch source {
        case .host: WASIHostClock.read(clock.id)
        case let .clocks(now, _): now(clock)
        }
    }

    /// The resolution of `clock` in nanoseconds (at least 1).
    public func resolution(_ clock: WASIHostClock) -> UInt64 {
        switch source {
        case .host: WASIHostClock.resolution(clock.id)
        case let .clocks(_, resolution): max(1, resolution(clock))
        }
    }
}

/// The host clocks a Timer session reads.
public enum WASIHostClock: Sendable {
    case realtime, monotonic, processCPUTime

    @inline(__always)
    var id: clockid_t {
        switch self {
        case .realtime: CLOCK_REALTIME
        case .monotonic: CLOCK_MONOTONIC
        case .processCPUTime: CLOCK_PROCESS_CPUTIME_ID
        }
    }

    /// The host's clock `id` in nanoseconds.
    @inline(__always)
    static func read(_ id: clockid_t) -> UInt64 {
        var time = timespec()
        clock_gettime(id, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    static func resolution(_ id: clockid_t) -> UInt64 {
        var time = timespec()
        guard clock_getres(id, &time) == 0 else { return 1 }
        return max(1, UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }
}

/// One WASI instance's Timer session, asked for once and cached.
///
/// The first clock call asks the provider (which takes the kernel's lock to
/// route and record the session); every later one reads one atomic byte and
/// uses the cached `WASIClocks`, so `clock_time_get` in a hot loop never
/// touches the kernel. A denial is cached too (one warning in the log, not
/// one per call).
final class WASITimer: @unchecked Sendable {
    // @unchecked: `clocks` and `guaranteed` are written once, under `lock`,
    // before `resolution` is published with release ordering; readers load
    // `resolution` with acquire ordering first and read them only after
    // seeing `granted`. They are never written again, so the WASITimer keeps
    // the clocks alive and the hot path can use them without retaining.
    private enum Resolution: UInt8 { case unasked = 0, granted = 1, denied = 2 }
    private let provider: WASITimerProvider
    private let state: WASIState
    private let resolution = Atomic<UInt8>(Resolution.unasked.rawValue)
    private let lock = NSLock()
    private var clocks: WASIClocks?
    private var guaranteed: Unmanaged<WASIClocks>?

    init(provider: WASITimerProvider, state: WASIState) {
        self.provider = provider
        self.state = state
    }

    /// `body` with the clocks the session serves, or ENOTCAPABLE without a
    /// session. One atomic load once the session was asked for; no
    /// reference counting (the clocks live as long as this object).
    @inline(__always)
    func withClocks<Result>(_ body: (WASIClocks) -> Result) throws(WASIErrno) -> Result {
        switch resolution.load(ordering: .acquiring) {
        case Resolution.granted.rawValue: return guaranteed.unsafelyUnwrapped._withUnsafeGuaranteedRef(body)
        case Resolution.denied.rawValue: throw .notcapable
        default: return body(try ask())
        }
    }

    @inline(never)
    private func ask() throws(WASIErrno) -> WASIClocks {
        lock.lock()
        defer { lock.unlock() }
        switch resolution.load(ordering: .acquiring) {
        case Resolution.granted.rawValue: return clocks.unsafelyUnwrapped
        case Resolution.denied.rawValue: throw .notcapable
        default: break
        }
        guard let session = provider.open() else {
            resolution.store(Resolution.denied.rawValue, ordering: .releasing)
            throw .notcapable
        }
        let granted = WASIClocks(state: state, session: session)
        clocks = granted
        guaranteed = Unmanaged.passUnretained(granted)
        resolution.store(Resolution.granted.rawValue, ordering: .releasing)
        return granted
    }
}
