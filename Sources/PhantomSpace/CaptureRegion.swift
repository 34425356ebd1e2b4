import Foundation

/// Where a copy-on-write capture keeps its pages until they are written: one
/// reservation of address space, as large as the most pages a capture could
/// hold, of which only the part a capture fills is ever backed by memory.
///
/// Why a reservation and not a buffer grown to fit: the cut must not wait
/// for memory (a grown buffer is allocated and touched before it can be
/// used), and it cannot know in advance how many pages will be dirty when
/// the world stops. A reservation costs nothing until pages are copied into
/// it, and those copies happen after the world resumed (the first touch of
/// each page included).
///
/// The memory bound (docs/ARCHITECTURE.md, "Copy-on-write capture"): while a
/// snapshot is in flight the region holds one page per page dirty at its cut;
/// afterwards `trim` gives back all but `warmPages`, so that a burst of
/// writes does not pin its size in memory for ever while the common small
/// snapshot reuses pages already faulted in.
///
/// `@unchecked Sendable`: the snapshot holding the `FIFOGate` hands it to the
/// writer with its job; mutators copy into distinct slots of it (one winner
/// per page, DirtyTracker's compare-and-swap); `trim` runs on the writer
/// after the commit, before the next capture can start.
final class CaptureRegion: @unchecked Sendable {
    let memory: UnsafeMutableRawPointer
    let capacityPages: Int
    /// Pages kept faulted in between snapshots (64 MiB).
    static let warmPages = 16_384
    /// The most pages touched by a capture since the last `trim`.
    private var touchedPages = 0

    /// Nil when the address space refuses the reservation.
    init?(capacityPages: Int) {
        guard capacityPages > 0 else { return nil }
        let address = mmap(nil, capacityPages * ObjectSpace.pageSize, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, address != MAP_FAILED else { return nil }
        memory = address
        self.capacityPages = capacityPages
    }

    /// Notes that a capture of `pages` pages used the region.
    func used(pages: Int) { touchedPages = max(touchedPages, pages) }

    /// Returns the pages beyond `warmPages` to the kernel.
    func trim() {
        guard touchedPages > Self.warmPages else { return }
        _ = madvise(memory + Self.warmPages * ObjectSpace.pageSize,
                    (touchedPages - Self.warmPages) * ObjectSpace.pageSize, MADV_DONTNEED)
        touchedPages = Self.warmPages
    }

    deinit { munmap(memory, capacityPages * ObjectSpace.pageSize) }
}
