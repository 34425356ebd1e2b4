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
/// The memory bound (docs/ARCHITECTURE.md, "The snapshot protocol, as
/// built"): while a snapshot is in flight the region holds one page per page
/// dirty at its cut; after the commit `trim` gives back what lies beyond that
/// capture (and beyond `warmPages`), so a burst of writes does not pin its
/// size in memory for ever, while snapshots of a steady size reuse pages
/// already faulted in — a first touch costs more than the copy itself (at
/// 1 GiB, trimming to 64 MiB after every commit tripled the writer's copy).
/// The region asks for transparent huge pages, so that what it must touch
/// afresh faults in once per 2 MiB.
///
/// `@unchecked Sendable`: the snapshot holding the `FIFOGate` hands it to the
/// writer with its job; mutators copy into distinct slots of it (one winner
/// per page, DirtyTracker's compare-and-swap); `trim` runs on the writer
/// after the commit, before the next capture can start.
final class CaptureRegion: @unchecked Sendable {
    let memory: UnsafeMutableRawPointer
    let capacityPages: Int
    /// Pages kept faulted in between snapshots at the least (64 MiB).
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
        _ = madvise(address, capacityPages * ObjectSpace.pageSize, 14 /* MADV_HUGEPAGE */)
    }

    /// The pages of the capture being written.
    private var lastPages = 0

    /// Notes that a capture of `pages` pages used the region.
    func used(pages: Int) {
        touchedPages = max(touchedPages, pages)
        lastPages = pages
    }

    /// Returns to the kernel the pages beyond both the last capture and `warmPages`.
    func trim() {
        let keep = max(Self.warmPages, lastPages)
        guard touchedPages > keep else { return }
        // Whole huge pages only: a partial one would be split.
        let start = (keep * ObjectSpace.pageSize + (2 << 20) - 1) & ~((2 << 20) - 1)
        let end = touchedPages * ObjectSpace.pageSize
        if end > start { _ = madvise(memory + start, end - start, MADV_DONTNEED) }
        touchedPages = keep
    }

    deinit { munmap(memory, capacityPages * ObjectSpace.pageSize) }
}
