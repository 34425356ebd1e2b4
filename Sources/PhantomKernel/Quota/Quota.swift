/// Quota arithmetic of init: how much of its own RAM and capabilities a child
/// gets, and what of a session's donation reaches the server.
///
/// In Genode every component pays for what it uses from a quota its parent
/// transferred to it, and every session request carries a donation that pays
/// the server's cost of that session (DESIGN.md invariant 7: a memory bomb
/// hits its own quota). The amounts are decided here; moving them between
/// accounts is the kernel's business.
public enum Quota {
    /// An amount granted, with the line Genode logs when it is less than asked.
    public struct Grant<Amount: Sendable & Hashable>: Sendable, Hashable {
        public var granted: Amount
        public var message: InitMessage?
    }

    /// What init may hand out: what it has minus what it keeps (Sandbox
    /// `Library::_avail_ram`, library.cc). If it has less than it is to keep,
    /// it hands out nothing.
    public static func availableRam(have: NumberOfBytes, preserve: NumberOfBytes) -> Grant<NumberOfBytes> {
        guard preserve <= have else {
            return Grant(granted: NumberOfBytes(0), message: .error("RAM preservation exceeds available memory"))
        }
        return Grant(granted: NumberOfBytes(have.value - preserve.value), message: nil)
    }

    /// As `availableRam`, for capabilities (`Library::_avail_caps`).
    public static func availableCaps(have: UInt64, preserve: UInt64) -> Grant<UInt64> {
        guard preserve <= have else {
            return Grant(granted: 0, message: .error("Capability preservation exceeds available capabilities"))
        }
        return Grant(granted: have - preserve, message: nil)
    }

    /// The RAM a new child starts with: its configured amount, clamped to what
    /// init can give, with Genode's warning when clamped (Sandbox
    /// `Child::init(Pd_session &…)`, child.cc). The child then runs with less;
    /// a later config change or freed memory completes the amount (see
    /// `upgrade`).
    public static func initialRam(child: String, configured: NumberOfBytes, available: NumberOfBytes) -> Grant<NumberOfBytes> {
        guard configured > available else { return Grant(granted: configured, message: nil) }
        return Grant(granted: available,
                     message: .warning("\(child): configured RAM exceeds available RAM, proceed with \(available)"))
    }

    /// As `initialRam`, for capabilities.
    public static func initialCaps(child: String, configured: UInt64, available: UInt64) -> Grant<UInt64> {
        guard configured > available else { return Grant(granted: configured, message: nil) }
        return Grant(granted: available,
                     message: .warning("\(child): configured caps exceed available caps, proceed with \(available)"))
    }

    /// The additional amount to transfer when a child's configured quota grew
    /// beyond what it was assigned (Sandbox `Child::_apply_resource_upgrade`).
    /// The assigned amount grows by the transfer only, so the rest is
    /// retried at the next reconfiguration. Genode logs the clamping only in
    /// verbose mode; the caller decides.
    public static func upgrade(configured: UInt64, assigned: UInt64, limit: UInt64) -> Grant<UInt64> {
        guard configured > assigned else { return Grant(granted: 0, message: nil) }
        let increment = configured - assigned
        guard increment > limit else { return Grant(granted: increment, message: nil) }
        return Grant(granted: limit,
                     message: .warning("specified quota exceeds available quota, proceeding with a quota of \(limit)"))
    }

    /// Genode's warnings for a child that would start with nothing (Sandbox
    /// `Child::apply_upgrade`).
    public static func missingQuotaWarnings(child: String, ram: NumberOfBytes, caps: UInt64) -> [InitMessage] {
        var messages: [InitMessage] = []
        if ram.value == 0 { messages.append(.warning("\(child): no valid RAM quota defined")) }
        if caps == 0 { messages.append(.warning("\(child): no valid capability quota defined")) }
        return messages
    }

    /// The part of a session's RAM donation passed on to the server after the
    /// parent keeps `sessionCosts` for its own bookkeeping of the session
    /// (Genode `Child::session`, repos/base/src/lib/base/child.cc); nil when
    /// the donation does not even cover that (Genode's
    /// `Insufficient_ram_quota`, which the client answers by donating more).
    public static func forwardedSessionRam(donated: NumberOfBytes, sessionCosts: NumberOfBytes) -> NumberOfBytes? {
        guard donated >= sessionCosts else { return nil }
        return NumberOfBytes(donated.value - sessionCosts.value)
    }

    /// The arguments of a yield request asking a child to give back quota it
    /// was assigned beyond its new configuration (Sandbox
    /// `Child::apply_downgrade`).
    public static func yieldArguments(ram: NumberOfBytes, caps: UInt64) -> String {
        "ram_quota=\(ram), cap_quota=\(caps)"
    }
}
