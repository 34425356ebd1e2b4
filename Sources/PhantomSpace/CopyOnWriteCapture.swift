import CPhantomSupport
import Foundation
import Synchronization

/// The hand-over of a copy-on-write capture (DESIGN.md invariant 4): at the
/// cut only the flag maps swap (`DirtyTracker.beginCopyOnWrite`); each page
/// dirty at the cut then waits in the capture's map until someone copies it
/// into its slot of the capture buffer — the writer thread, walking the list
/// (`copyPending`), or a mutator about to change the page, which copies it
/// itself first (`settle`). No page protection is needed: every store path
/// marks the page before writing it, and the first mark of a page in an epoch
/// is the slow path anyway.
///
/// A page's byte in the capture's map: 1 waiting, 2 being copied, 0 copied.
/// 1 → 2 is a compare-and-swap, so exactly one copier wins a page; 2 → 0 is a
/// release store after the copy, and whoever waits for a page to leave 2
/// (to write it, or to commit the buffer) acquires it, so the copy is complete
/// before the page changes and before the buffer is read.
extension DirtyTracker {
    static let waiting: UInt8 = 1
    static let copying: UInt8 = 2

    /// Makes sure `page` no longer waits to be captured: copies it into its
    /// slot if nobody has, or waits while someone else is copying it. Called by
    /// a mutator before it writes the page; O(1) when no capture is in flight.
    func settle(page: UInt64) {
        guard captureInFlight.load(ordering: .acquiring) else { return }
        settleUnchecked(page: page)
    }

    /// `settle` for every page of `pages`: for a region an engine writes
    /// without marking each store (its stack), once after each safepoint.
    func settle(pages: Range<UInt64>) {
        guard captureInFlight.load(ordering: .acquiring) else { return }
        for page in pages { settleUnchecked(page: page) }
    }

    private func settleUnchecked(page: UInt64) {
        let state = captureMap + Int(page)
        var spins = 0
        while true {
            switch phantom_byte_load_acquire(state) {
            case 0:
                return
            case Self.waiting:
                if phantom_byte_compare_exchange(state, Self.waiting, Self.copying) != 0 {
                    copy(page: page, toSlot: Int(slots[Int(page)]))
                    phantom_byte_store_release(state, 0)
                    mutatorCopies.add(1, ordering: .relaxed)
                    return
                }
            default:
                // The writer (or another mutator) is copying it: one page's memcpy.
                spins += 1
                if spins > 64 { sched_yield() }
            }
        }
    }

    private func copy(page: UInt64, toSlot slot: Int) {
        let buffer = UnsafeMutableRawPointer(bitPattern: captureBuffer.load(ordering: .relaxed)).unsafelyUnwrapped
        (buffer + slot * ObjectSpace.pageSize)
            .copyMemory(from: base + Int(page) * ObjectSpace.pageSize, byteCount: ObjectSpace.pageSize)
    }

    /// The writer's half: copies every page of `pages` (the list handed over
    /// at the cut; page `pages[i]` goes to slot `i`) that no mutator has
    /// copied, and waits for those a mutator is copying. Afterwards the
    /// buffer holds the space as it was at the cut, the capture's map is all
    /// clear again (ready to be the next epoch's), and nothing is in flight.
    /// `afterPage`, for tests, is called after each page is settled.
    func copyPending(_ pages: [UInt64], afterPage: ((Int) -> Void)? = nil) {
        let map = captureMap
        for (slot, page) in pages.enumerated() {
            let state = map + Int(page)
            var spins = 0
            while true {
                let current = phantom_byte_load_acquire(state)
                if current == 0 { break }
                if current == Self.waiting {
                    if phantom_byte_compare_exchange(state, Self.waiting, Self.copying) != 0 {
                        copy(page: page, toSlot: slot)
                        phantom_byte_store_release(state, 0)
                        break
                    }
                } else {
                    spins += 1
                    if spins > 64 { sched_yield() }
                }
            }
            afterPage?(slot)
        }
        captureInFlight.store(false, ordering: .releasing)
        captureBuffer.store(0, ordering: .relaxed)
    }

    /// How many pages mutators copied since the last call.
    func takeMutatorCopies() -> Int { mutatorCopies.exchange(0, ordering: .relaxed) }
}
