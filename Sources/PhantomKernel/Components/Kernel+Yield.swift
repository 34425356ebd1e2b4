import Foundation
import PhantomEngine

/// Genode's resource yield (`Parent::yield_sigh`, `yield_request`,
/// `yield_response`; Sandbox `Child::apply_downgrade`): when a config lowers
/// a child's quota below what it uses, init asks the child to give the rest
/// back; a child that handles the request frees what it can and answers,
/// and init then takes the freed quota.
///
/// Ours (docs/SESSION-ABI.md): an event of kind 5 that `service_next`
/// delivers to the child (whether it serves anything or not), its payload
/// the RAM and caps wanted back (two little-endian u64), answered with
/// `service_reply(request, 0, 0, 0)`; the kernel then applies the child's
/// configured quota again. RAM comes back through `memory_discard`: a
/// WebAssembly memory never shrinks, so the child zeroes whole pages it
/// freed and the kernel stops charging them while they stay zero.
extension Kernel {
    /// Queues (or updates) the yield request of `component`. Lock held.
    func requestYieldLocked(from component: Component, ram: UInt64, caps: UInt64) {
        var payload = [UInt8](repeating: 0, count: 16)
        if let index = image.requests.firstIndex(where: { $0.server == component.id && $0.kind == .yield }) {
            // One request at a time; a newer one adds to what is asked.
            let old = image.requests[index].payload
            let oldRam = old.count == 16 ? Self.u64(old, 0) : 0, oldCaps = old.count == 16 ? Self.u64(old, 8) : 0
            Self.put(max(oldRam, ram), into: &payload, at: 0)
            Self.put(max(oldCaps, caps), into: &payload, at: 8)
            image.requests[index].payload = payload
            dirty = true
            return
        }
        Self.put(ram, into: &payload, at: 0)
        Self.put(caps, into: &payload, at: 8)
        enqueue(RequestImage(id: nextRequestID(), session: 0, server: component.id, kind: .yield, payload: payload))
        pendingSignals.append(Events.server(component.id))
    }

    /// The child answered its yield request: apply its configured quota
    /// again, on a thread of its own (the child's own slice is the caller,
    /// and moving its memory waits until no slice of it runs).
    func yieldAnswered(by id: UInt64) {
        let thread = Thread { [weak self] in
            guard let self else { return }
            self.lock.lock()
            let component = self.components[id]
            let spec = component.flatMap { c in self.model(of: self.scope(of: c))?.starts.first { $0.name == c.name } }
            self.lock.unlock()
            guard let component, let spec else { return }
            self.applyRamChange(component, configured: spec.ram, requestYield: false)
            self.applyCapsChange(component, configured: spec.caps, requestYield: false)
        }
        thread.name = "phantom-yield"
        thread.start()
    }

    /// `memory_discard`: the whole 64 KiB pages in [start, start + length)
    /// were zeroed by the host call; from now on they are not charged to
    /// the component while they stay zero. Returns the bytes uncharged.
    func memoryDiscarded(by id: UInt64, pages: [UInt32]) -> UInt64 {
        space.safepoints.register()
        lock.lock()
        defer {
            lock.unlock()
            space.safepoints.unregister()
        }
        guard let component = components[id], !pages.isEmpty else { return 0 }
        var discarded = Set(component.image.discardedPages ?? [])
        discarded.formUnion(pages)
        component.image.discardedPages = discarded.sorted()
        syncImage(component)
        return UInt64(pages.count) * 65536
    }

    /// Bytes of a component's linear memory it discarded and has not
    /// written since (whole zero pages). Lock held.
    func discardedBytes(of id: UInt64) -> UInt64 {
        guard let component = components[id], let pages = component.image.discardedPages, !pages.isEmpty,
              let instance = component.instance else { return 0 }
        var zero: UInt64 = 0
        for page in pages {
            guard let bytes = instance.readMemory(at: UInt64(page) * 65536, count: 65536) else { continue }
            if bytes.allSatisfy({ $0 == 0 }) { zero += 65536 }
        }
        return zero
    }

    private static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    private static func put(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }
}
