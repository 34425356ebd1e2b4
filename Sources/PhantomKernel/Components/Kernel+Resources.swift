import Foundation
import PhantomSpace
import PhantomWasm

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
    /// RAM a child uses (the state report's `used`): its linear memory and
    /// what it donated with its sessions. Lock held.
    func ramUsed(by id: UInt64) -> UInt64 {
        (components[id]?.memoryBytes ?? 0)
            + image.sessions.filter { $0.client == id }.reduce(UInt64(0)) { $0 + $1.ramQuota }
    }

    /// Caps a child uses: the sessions it holds. Lock held.
    func capsUsed(by id: UInt64) -> UInt64 {
        UInt64(image.sessions.count { $0.client == id })
    }

    /// Genode's `preserved` RAM in `apply_downgrade`.
    static let downgradeSlack: UInt64 = 16 * 1024

    /// Applies `configured` to `component`'s RAM quota.
    func applyRamChange(_ component: Component, configured: UInt64) {
        lock.lock()
        guard component.isRunning, component.image.ramQuota != configured else { lock.unlock(); return }
        let assigned = component.image.ramQuota
        var newQuota = assigned
        if configured > assigned {
            let grant = Quota.upgrade(configured: configured, assigned: assigned, limit: ramAvailable())
            newQuota = assigned + grant.granted
        } else {
            let used = ramUsed(by: component.id)
            let avail = assigned > used ? assigned - used : 0
            let transfer = min(avail > Self.downgradeSlack ? avail - Self.downgradeSlack : 0, assigned - configured)
            newQuota = assigned - transfer
        }
        let task = component.task
        lock.unlock()
        guard newQuota != assigned else { return }

        let pages = max(1, newQuota / 65536)
        let movesMemory = component.instance.map { $0.memoryLimitPages != min(pages, 65536) } ?? false
        if movesMemory, let task { scheduler.cancel(task) }
        space.safepoints.register()
        lock.lock()
        // It may have ended before the cancel took it (then it is retired).
        guard component.isRunning, component.image.instance != 0 else {
            lock.unlock()
            space.safepoints.unregister()
            return
        }
        if movesMemory, let instance = component.instance {
            do {
                try instance.setMemoryLimit(pages: max(pages, instance.memoryPages))
            } catch {
                say("Warning: \(component.name): its memory keeps its limit: \(error)")
            }
        }
        component.image.ramQuota = newQuota
        if movesMemory { component.task = nil }
        syncImage(component)
        lock.unlock()
        space.safepoints.unregister()
        if movesMemory && task != nil { schedule(component) }
    }

    /// Genode's `preserved` caps in `apply_downgrade`.
    static let downgradeCapsSlack: UInt64 = 5

    /// Applies `configured` to `component`'s caps quota, as `applyRamChange`
    /// does for RAM. Init has no caps budget of its own yet, so an upgrade is
    /// never clamped; a downgrade takes back what the child does not hold
    /// (its sessions), keeping Genode's slack of 5.
    func applyCapsChange(_ component: Component, configured: UInt64) {
        space.safepoints.register()
        lock.lock()
        defer {
            lock.unlock()
            space.safepoints.unregister()
        }
        guard component.isRunning, component.image.capsQuota != configured else { return }
        let assigned = component.image.capsQuota
        if configured > assigned {
            component.image.capsQuota = configured
        } else {
            let used = capsUsed(by: component.id)
            let avail = assigned > used ? assigned - used : 0
            let transfer = min(avail > Self.downgradeCapsSlack ? avail - Self.downgradeCapsSlack : 0, assigned - configured)
            component.image.capsQuota = assigned - transfer
        }
        syncImage(component)
    }
}
