import Testing
@testable import PhantomKernel

/// Init's quota arithmetic (Sandbox library.cc `_avail_ram`/`_avail_caps`,
/// child.cc `init`, `_apply_resource_upgrade`, `apply_upgrade`,
/// `apply_downgrade`; base child.cc `Child::session`).
@Suite struct QuotaTests {
    // library.cc `_avail_ram`: what init has minus what it preserves
    @Test func availableRamDeductsThePreservation() {
        let grant = Quota.availableRam(have: NumberOfBytes(64 << 20), preserve: Preservation.defaultRam)
        #expect(grant.granted == NumberOfBytes((64 << 20) - 320 * 1024))
        #expect(grant.message == nil)
        let short = Quota.availableRam(have: NumberOfBytes(100 * 1024), preserve: Preservation.defaultRam)
        #expect(short.granted == NumberOfBytes(0))
        #expect(short.message == .error("RAM preservation exceeds available memory"))
    }

    @Test func availableCapsDeductsThePreservation() {
        #expect(Quota.availableCaps(have: 1000, preserve: 20) == Quota.Grant(granted: 980, message: nil))
        #expect(Quota.availableCaps(have: 10, preserve: 20)
            == Quota.Grant(granted: 0, message: .error("Capability preservation exceeds available capabilities")))
    }

    // child.cc `init(Pd_session &)`: clamp with the amount printed as Number_of_bytes
    @Test func initialRamIsClampedToWhatIsAvailable() {
        #expect(Quota.initialRam(child: "app", configured: NumberOfBytes(1 << 20), available: NumberOfBytes(2 << 20))
            == Quota.Grant(granted: NumberOfBytes(1 << 20), message: nil))
        #expect(Quota.initialRam(child: "app", configured: NumberOfBytes(2 << 20), available: NumberOfBytes(2 << 20)).message == nil)
        let clamped = Quota.initialRam(child: "app", configured: NumberOfBytes(4 << 20), available: NumberOfBytes(2359 * 1024))
        #expect(clamped.granted == NumberOfBytes(2359 * 1024))
        #expect(clamped.message == .warning("app: configured RAM exceeds available RAM, proceed with 2359K"))
        #expect(clamped.message?.description == "Warning: app: configured RAM exceeds available RAM, proceed with 2359K")
    }

    @Test func initialCapsAreClampedToWhatIsAvailable() {
        #expect(Quota.initialCaps(child: "app", configured: 300, available: 120)
            == Quota.Grant(granted: 120, message: .warning("app: configured caps exceed available caps, proceed with 120")))
        #expect(Quota.initialCaps(child: "app", configured: 100, available: 120) == Quota.Grant(granted: 100, message: nil))
    }

    // child.cc `_apply_resource_upgrade` and utils.h `warn_insuff_quota`
    @Test func upgradeTransfersTheDifferenceUpToTheLimit() {
        #expect(Quota.upgrade(configured: 100, assigned: 100, limit: 50) == Quota.Grant(granted: 0, message: nil))
        #expect(Quota.upgrade(configured: 80, assigned: 100, limit: 50) == Quota.Grant(granted: 0, message: nil))
        #expect(Quota.upgrade(configured: 130, assigned: 100, limit: 50) == Quota.Grant(granted: 30, message: nil))
        #expect(Quota.upgrade(configured: 3 << 20, assigned: 1 << 20, limit: 1 << 20)
            == Quota.Grant(granted: 1 << 20,
                           message: .warning("specified quota exceeds available quota, proceeding with a quota of 1048576")))
    }

    // child.cc `apply_upgrade`
    @Test func zeroQuotasAreWarnedAbout() {
        #expect(Quota.missingQuotaWarnings(child: "app", ram: NumberOfBytes(0), caps: 0)
            == [.warning("app: no valid RAM quota defined"), .warning("app: no valid capability quota defined")])
        #expect(Quota.missingQuotaWarnings(child: "app", ram: NumberOfBytes(1), caps: 1).isEmpty)
    }

    // base child.cc `Child::session`: the parent keeps its session costs, the rest goes to the server
    @Test func sessionDonationPaysTheParentFirst() {
        #expect(Quota.forwardedSessionRam(donated: NumberOfBytes(8192), sessionCosts: NumberOfBytes(4096)) == NumberOfBytes(4096))
        #expect(Quota.forwardedSessionRam(donated: NumberOfBytes(4096), sessionCosts: NumberOfBytes(4096)) == NumberOfBytes(0))
        #expect(Quota.forwardedSessionRam(donated: NumberOfBytes(4095), sessionCosts: NumberOfBytes(4096)) == nil)
    }

    // child.cc `apply_downgrade`: Parent::Resource_args of the yield request
    @Test func yieldRequestArguments() {
        #expect(Quota.yieldArguments(ram: NumberOfBytes(1 << 20), caps: 5) == "ram_quota=1M, cap_quota=5")
        #expect(Quota.yieldArguments(ram: NumberOfBytes(0), caps: 0) == "ram_quota=0, cap_quota=0")
    }
}
