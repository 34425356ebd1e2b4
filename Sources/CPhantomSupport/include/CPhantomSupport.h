#ifndef CPHANTOM_SUPPORT_H
#define CPHANTOM_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected), as used by iSCSI,
/// ext4 and Btrfs. `crc` is the running value: start with 0.
/// Uses SSE4.2 or ARMv8 CRC instructions when the CPU has them.
uint32_t phantom_crc32c(uint32_t crc, const void *data, size_t length);

/// 1 when the hardware path is in use, 0 for the table-driven fallback.
int phantom_crc32c_is_hardware(void);



/// Makes stdout line-buffered, so a line printed before a SIGKILL is not lost.
void phantom_line_buffer_stdout(void);
/// Flushes stdout and tells whether a write to it has failed (EPIPE once its reader is gone).
int phantom_stdout_failed(void);

/// Open-file-description (OFD) byte-range locks, F_OFD_SETLK: owned by the
/// open file description, so they conflict between two opens in one process
/// too, survive the closing of other descriptors of the same file, and die
/// with the last descriptor (the process's exit, kill -9 included). Never
/// waits. 0 on success, -1 with errno (EAGAIN/EACCES when held elsewhere,
/// ENOSYS where OFD locks do not exist).
int phantom_ofd_lock(int fd, int exclusive, int64_t start, int64_t length);
int phantom_ofd_unlock(int fd, int64_t start, int64_t length);
/// F_OFD_GETLK for a write lock over [start, start + length): 1 and the start
/// of one conflicting lock, 0 when nothing conflicts, -1 with errno.
int phantom_ofd_probe(int fd, int64_t start, int64_t length, int64_t *found_start);
/// 1 when this build has OFD locks (Linux), 0 otherwise.
int phantom_ofd_locks_supported(void);

/// rename(2) that fails with EEXIST instead of replacing `to`
/// (renameat2 RENAME_NOREPLACE). -1 with errno EINVAL or ENOSYS where the
/// file system or kernel lacks it.
int phantom_rename_noreplace(const char *from, const char *to);

/// Byte-wide atomics on a byte of a mapped array: the object space's capture
/// states (PhantomSpace/DirtyTracker.swift), one byte per page, which the
/// snapshot writer and the mutators hand over to each other. Swift's `Atomic`
/// needs storage it owns; these work on any byte. Acquire on load, release on
/// store, acquire-release on a successful compare-and-swap.
static inline uint8_t phantom_byte_load_acquire(const uint8_t *byte) {
    return __atomic_load_n(byte, __ATOMIC_ACQUIRE);
}
static inline void phantom_byte_store_release(uint8_t *byte, uint8_t value) {
    __atomic_store_n(byte, value, __ATOMIC_RELEASE);
}
/// 1 when `*byte` was `expected` and is now `desired`, 0 when it was something else.
static inline int phantom_byte_compare_exchange(uint8_t *byte, uint8_t expected, uint8_t desired) {
    return __atomic_compare_exchange_n(byte, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
#endif
