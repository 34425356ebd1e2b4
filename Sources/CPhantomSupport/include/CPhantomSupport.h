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
#endif
