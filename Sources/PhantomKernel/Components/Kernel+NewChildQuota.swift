/// What init can give a child it creates (Genode: Sandbox
/// `Child::init(Pd_session &…)`, child.cc, with `Genode::Child`'s
/// `effective_quota` and `env_ram_quota`, repos/base/include/base/child.h).
///
/// Genode's init first opens the new child's PD session, paying its session
/// quota from its own RAM, and only then reads what it may hand out (its
/// avail less `resource RAM preserve`, `Library::_avail_ram`). From that it
/// deducts what the child's environment sessions cost (PD, CPU, LOG, ROM)
/// and caps the child's PD transfer at the rest; the environment sessions
/// other than the PD's it pays on top. The PD session's cost is so counted
/// twice: a child that gets all that is left — `<start ram="1G">` in a
/// small init — leaves init its preservation plus one PD session, not the
/// preservation alone. Capabilities follow the same path.
///
/// In our terms a child's assignment covers its environment sessions
/// (`environmentSessionRam` each, one cap each), so the limit is what is
/// available less one environment session.
extension Kernel {
    /// The RAM a child created now in init `scope` may be assigned at most.
    /// Lock held.
    func ramLimitForNewChild(in scope: UInt64) -> UInt64 {
        let available = ramAvailable(in: scope)
        return available > Self.environmentSessionRam ? available - Self.environmentSessionRam : 0
    }

    /// The caps a child created now in init `scope` may be assigned at most;
    /// nil when init has no caps limit (the root init). Lock held.
    func capsLimitForNewChild(in scope: UInt64) -> UInt64? {
        capsAvailable(in: scope).map { $0 > Self.environmentSessionCaps ? $0 - Self.environmentSessionCaps : 0 }
    }

    /// What one environment session costs the child in caps (its PD
    /// quota's caps are its assignment less one per environment session).
    static let environmentSessionCaps: UInt64 = 1
}
