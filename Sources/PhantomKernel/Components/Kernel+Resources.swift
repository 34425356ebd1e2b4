import Foundation
import PhantomSpace
import PhantomWasm
import PhantomVM

/// A running child's RAM quota changed in the config (Genode: Sandbox
/// `Child::apply_upgrade` and `apply_downgrade`, child.cc): the child keeps
/// running and its quota moves.
///
/// - Up: init transfers the increment, at most what it has left; the
///   assigned amount grows by the transfer only, so a later config update
///   completes a clamped upgrade once RAM is free again.
/// - Down: init takes back what the child does not use, keeping 16 KiB of
///   slack as Genode does; what the child uses stays assigned (a yield
///   request to give more back is issue 10's).
///
/// The quota caps the component's linear memory, so its memory's limit
/// follows: the thread is taken out of scheduling (it waits until no slice
/// of it runs), the memory moves to a reservation of the new size
/// (`Instance.setMemoryLimit`), and the thread is scheduled again — a call
/// it was blocked in is re-executed, as after a restore (invariant 5).
extension Kernel {
    /// What one environment session costs the child (Genode: init opens a
    /// child's PD, CPU, LOG and ROM sessions paying their session quota from
    /// the child's assignment, so the child's PD `quota` is below what its
    /// start node `assigned`). Our environment sessions hold nothing in the
    /// space; the amount is Genode's order of magnitude, so that reports read
    /// as Genode's do and a child's quota is what it can really spend.
    static let environmentSessionRam: UInt64 = 8 * 1024

    /// The linear memory a child may have: its assignment less what its
    /// environment sessions (PD, CPU, LOG, ROM) take, in 64 KiB pages.
    static func memoryPages(forQuota ram: UInt64) -> UInt64 {
        let environment = 4 * environmentSessionRam
        return max(1, (ram > environment ? ram - environment : 0) / 65536)
    }

    /// RAM a child's environment sessions took from its assignment. Lock held.
    func environmentRam(of id: UInt64) -> UInt64 {
        UInt64(image.sessions.count { $0.client == id && $0.environment && $0.state != .denied }) * Self.environmentSessionRam
    }

    /// A child's RAM quota as its PD sees it (the state report's `quota`):
    /// what it was assigned, less its environment sessions, plus what
    /// clients donated to it with their sessions. Lock held.
    func ramQuota(of id: UInt64) -> UInt64 {
        let assigned = components[id]?.image.ramQuota ?? 0
        let environment = environmentRam(of: id)
        return (assigned > environment ? assigned - environment : 0) + receivedQuota(of: id)
    }

    /// RAM a child uses (the state report's `used`): its linear memory and
    /// what it donated with the sessions it opened itself. Lock held.
    func ramUsed(by id: UInt64) -> UInt64 {
        let memory = components[id]?.memoryBytes ?? 0
        let discarded = discardedBytes(of: id)
        return (memory > discarded ? memory - discarded : 0)
            + image.sessions.filter { $0.client == id && !$0.environment }.reduce(UInt64(0)) { $0 + $1.ramQuota }
    }

    /// A child's caps quota as its PD sees it: what it was assigned, less
    /// one per environment session. Lock held.
    func capsQuota(of id: UInt64) -> UInt64 {
        let assigned = components[id]?.image.capsQuota ?? 0
        let environment = UInt64(image.sessions.count { $0.client == id && $0.environment && $0.state != .denied })
        return assigned > environment ? assigned - environment : 0
    }

    /// Caps a child uses: the sessions it opened itself. Lock held.
    func capsUsed(by id: UInt64) -> UInt64 {
        UInt64(image.sessions.count { $0.client == id && !$0.environment })
    }

    /// The caps init `scope` has not assigned to a child; nil when it has no
    /// limit (the root init: capabilities are no scarce resource of ours).
    /// A nested init's budget is its own caps quota. Lock held.
    func capsAvailable(in scope: UInt64) -> UInt64? {
        guard scope != Self.rootScope, let model = model(of: scope) else { return nil }
        let budget = capsQuota(of: scope)
        let preserve = model.initConfig.preservation.caps
        let total = budget > preserve ? budget - preserve : 0
        let assigned = children(of: scope).filter(\.isRunning).reduce(UInt64(0)) { $0 + $1.image.capsQuota }
        return total > assigned ? total - assigned : 0
    }

    /// Genode's `preserved` RAM in `apply_downgrade`.
    static let downgradeSlack: UInt64 = 16 * 1024

    /// Applies `configured` to `component`'s RAM quota. A downgrade that
    /// cannot take back all it should asks the child to yield the rest
    /// (`requestYield`; not when applying again after the child answered).
    func applyRamChange(_ component: Component, configured: UInt64, requestYield: Bool = true) {
        ramChanges.lock()
        defer { ramChanges.unlock() }
        lock.lock()
        guard component.isRunning, component.image.ramQuota != configured else { lock.unlock(); return }
        let assigned = component.image.ramQuota
        var newQuota = assigned
        if configured > assigned {
            let grant = Quota.upgrade(configured: configured, assigned: assigned, limit: ramAvailable(in: scope(of: component)))
            newQuota = assigned + grant.granted
        } else {
            let quota = ramQuota(of: component.id)
            let used = ramUsed(by: component.id)
            let avail = quota > used ? quota - used : 0
            let transfer = min(avail > Self.downgradeSlack ? avail - Self.downgradeSlack : 0, assigned - configured)
            newQuota = assigned - transfer
            if requestYield && newQuota > configured { requestYieldLocked(from: component, ram: newQuota - configured, caps: 0) }
        }
        let task = component.task
        let signals = takePendingSignals()
        lock.unlock()
        for event in signals { scheduler.signal(event) }
        guard newQuota != assigned else { return }

        let pages = Kernel.memoryPages(forQuota: newQuota)
        let movesMemory = component.instance.map { $0.memoryLimitPages != min(pages, 65536) } ?? false
        if movesMemory, let task { scheduler.cancel(task) }
        space.safepoints.register()
        lock.lock()
        // It may have ended before the cancel took it (then it is retired).
        guard component.isRunning, component.hasEngineState else {
            lock.unlock()
            space.safepoints.unregister()
            return
        }
        if movesMemory, let instance = component.instance {
            do {
                try instance.setMemoryLimit(pages: max(pages, instance.memoryPages))
            } catch {
                say("Warning: \(component.name): its memory keeps its limit: \(error)", in: scope(of: component))
            }
        }
        component.image.ramQuota = newQuota
        (component.thread as? VMEngineThread)?.setByteLimit(newQuota)
        if movesMemory { component.task = nil }
        syncImage(component)
        lock.unlock()
        space.safepoints.unregister()
        scheduler.signal(Events.resources(component.id))
        if movesMemory && task != nil { schedule(component) }
    }

    /// Genode's `preserved` caps in `apply_downgrade`.
    static let downgradeCapsSlack: UInt64 = 5

    /// Applies `configured` to `component`'s caps quota, as `applyRamChange`
    /// does for RAM. Init has no caps budget of its own yet, so an upgrade is
    /// never clamped; a downgrade takes back what the child does not hold
    /// (its sessions), keeping Genode's slack of 5.
    func applyCapsChange(_ component: Component, configured: UInt64, requestYield: Bool = true) {
        space.safepoints.register()
        lock.lock()
        defer {
            lock.unlock()
            space.safepoints.unregister()
        }
        guard component.isRunning, component.image.capsQuota != configured else { return }
        let assigned = component.image.capsQuota
        if configured > assigned {
            let limit = capsAvailable(in: scope(of: component)) ?? .max
            component.image.capsQuota = assigned + Quota.upgrade(configured: configured, assigned: assigned, limit: limit).granted
        } else {
            let quota = capsQuota(of: component.id)
            let used = capsUsed(by: component.id)
            let avail = quota > used ? quota - used : 0
            let transfer = min(avail > Self.downgradeCapsSlack ? avail - Self.downgradeCapsSlack : 0, assigned - configured)
            component.image.capsQuota = assigned - transfer
            if requestYield && component.image.capsQuota > configured {
                requestYieldLocked(from: component, ram: 0, caps: component.image.capsQuota - configured)
                let signals = takePendingSignals()
                for event in signals { scheduler.signal(event) }
            }
        }
        syncImage(component)
        scheduler.signal(Events.resources(component.id))
    }
}
