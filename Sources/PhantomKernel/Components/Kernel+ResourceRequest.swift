import PhantomEngine

/// Genode's resource requests (`Parent::resource_request`): a child out of
/// RAM or caps asks its parent for more and waits. Init shows what it asked
/// for in the state report (`<ram … requested="4M"/>`, `<caps …
/// requested="N"/>`) and answers when a new config raises the child's quota
/// (`Child::apply_upgrade` then signals `resource_avail`).
///
/// Ours: `parent_resource_request(ram, caps)` (docs/SESSION-ABI.md) records
/// the request in the tables and blocks until the child's assigned RAM or
/// caps changed; then it returns 0 and the component tries again. The call's
/// scratch slot holds the quota it saw, so a call re-executed after a restore
/// goes on waiting for the same change (DESIGN.md invariant 5).
extension Kernel {
    /// `parent_resource_request`. Lock taken here.
    func resourceRequest(client id: UInt64, ram: UInt64, caps: UInt64, pending: inout UInt64) -> KernelAnswer {
        space.safepoints.register()
        lock.lock()
        defer {
            lock.unlock()
            space.safepoints.unregister()
        }
        guard let component = components[id] else { return .value(SessionStatus.invalid.rawValue) }
        // What the request waits to change: both assignments in one value
        // (+1, so that it is never the "no request yet" 0).
        let seen = (component.image.ramQuota &+ component.image.capsQuota << 40) | 1
        if pending == 0 {
            pending = seen
            component.image.requestedRam = ram > 0 ? ram : nil
            component.image.requestedCaps = caps > 0 ? caps : nil
            syncImage(component)
            return .block(.event(Events.resources(id)))
        }
        guard pending == seen else {
            pending = 0
            component.image.requestedRam = nil
            component.image.requestedCaps = nil
            syncImage(component)
            return .value(0)
        }
        return .block(.event(Events.resources(id)))
    }
}
