#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One contiguous reservation of virtual memory that holds the whole object
/// space, so that an object-space offset turns into a host address by one
/// addition. Pages are backed lazily by the kernel (MAP_NORESERVE): reserving
/// tens of GiB costs nothing until they are touched, and an untouched page
/// reads as zeros, exactly like a page the image never stored.
///
/// Only offsets are ever stored in the space (DESIGN.md invariant 2); `base`
/// differs from run to run.
final class AddressSpace {
    let base: UnsafeMutableRawPointer
    let byteCount: UInt64

    /// Throws instead of trapping for any `byteCount`: a limit of zero or one
    /// no pointer can span is `invalidLimit` (rounding it up to a page would
    /// overflow), and a reservation the kernel refuses (more than the address
    /// space, or than `ulimit -v`) is `reserveFailed` — `mmap` returns
    /// `MAP_FAILED`, not nil, so both are checked.
    init(byteCount: UInt64) throws {
        guard byteCount > 0, byteCount <= ObjectSpace.maximumLimitBytes else {
            throw SpaceError.invalidLimit(bytes: byteCount)
        }
        let length = Int((byteCount + 4095) & ~4095)
        let address = mmap(nil, length, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, address != MAP_FAILED else {
            throw SpaceError.reserveFailed(bytes: byteCount, errno: errno)
        }
        base = address
        self.byteCount = UInt64(length)
    }

    /// Returns pages to the kernel (they read as zeros afterwards).
    func discard(offset: UInt64, byteCount: UInt64) {
        _ = madvise(base + Int(offset), Int(byteCount), MADV_DONTNEED)
    }

    /// Asks for transparent huge pages over `[0, byteCount)` — the range a
    /// restore is about to fill completely — so that filling it takes one
    /// fault per 2 MiB instead of one per 4 KiB. Only that range: elsewhere a
    /// sparse space would pay 2 MiB of memory for every page it touches.
    func preferHugePages(byteCount: UInt64) {
        let length = Int(min(byteCount, self.byteCount)) & ~(2 << 20 - 1)
        guard length > 0 else { return }
        _ = madvise(base, length, 14 /* MADV_HUGEPAGE */)
    }

    deinit { munmap(base, Int(byteCount)) }
}
