/*
 * memgrow.c - grow linear memory in a loop, verifying everything written.
 *
 * usage: memgrow [BLOCKS [BLOCK_KIB]]
 *   BLOCKS     how many blocks to allocate (default 64)
 *   BLOCK_KIB  size of each block in KiB (default 1024 -> 64 MiB total)
 *
 * Each step mallocs a new block (malloc -> sbrk -> memory.grow, so linear
 * memory grows by ~BLOCK_KIB/64 pages per step), fills it with a
 * pseudo-random pattern seeded by the block number, and records its
 * checksum. It then re-verifies the previous block and one earlier block
 * chosen pseudo-randomly, and prints
 *     grow I pages=P sum=XXXXXXXXXXXXXXXX
 * where P is the current memory size in 64 KiB pages. At the end every
 * block is verified again: "verified N blocks" and "ok" (or "MISMATCH
 * block I" and exit 1).
 *
 * Invariant: every checksum verifies, page counts are non-decreasing, and
 * the output is identical to an uninterrupted run. A snapshot taken inside
 * this loop must capture a memory that is mid-grow and partially filled;
 * after resume, no page may be lost, zeroed or stale.
 */
#include <stdlib.h>
#include "pio.h"

#define MAXBLOCKS 4096

static uint64_t *blocks[MAXBLOCKS];
static uint64_t sums[MAXBLOCKS];

static uint64_t fill(uint64_t *p, size_t words, uint64_t seed) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1, sum = 0;
    for (size_t i = 0; i < words; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        p[i] = x;
        sum = (sum + x) * 0x100000001B3ULL;
    }
    return sum;
}

static uint64_t checksum(const uint64_t *p, size_t words) {
    uint64_t sum = 0;
    for (size_t i = 0; i < words; i++) sum = (sum + p[i]) * 0x100000001B3ULL;
    return sum;
}

static unsigned long pages(void) {
#ifdef __wasm__
    return (unsigned long)__builtin_wasm_memory_size(0);
#else
    return 0;   /* native reference build: no wasm pages */
#endif
}

static int verify(uint32_t i, size_t words) {
    if (checksum(blocks[i], words) == sums[i]) return 1;
    pio_s("MISMATCH block "); pio_u(i); pio_end();
    return 0;
}

int main(int argc, char **argv) {
    uint32_t nblocks = (uint32_t)pio_atou(pio_arg(argc, argv, 1), 64);
    uint64_t kib = pio_atou(pio_arg(argc, argv, 2), 1024);
    if (nblocks > MAXBLOCKS) nblocks = MAXBLOCKS;
    if (kib == 0) kib = 1;
    size_t words = (size_t)(kib * 1024 / 8);

    pio_s("start pages="); pio_u(pages()); pio_end();
    unsigned long last_pages = pages();
    uint64_t pick = 12345;
    for (uint32_t i = 0; i < nblocks; i++) {
        blocks[i] = malloc(words * 8);
        if (!blocks[i]) {
            pio_s("malloc failed at block "); pio_u(i); pio_end();
            return 1;
        }
        sums[i] = fill(blocks[i], words, i);
        if (i > 0 && !verify(i - 1, words)) return 1;
        pick = pick * 6364136223846793005ULL + 1442695040888963407ULL;
        if (i > 1 && !verify((uint32_t)((pick >> 33) % (i - 1)), words)) return 1;
        unsigned long p = pages();
        if (p < last_pages) { pio_line_s("MISMATCH pages shrank"); return 1; }
        last_pages = p;
        pio_s("grow "); pio_u(i); pio_s(" pages="); pio_u(p);
        pio_s(" sum="); pio_x(sums[i], 16); pio_end();
    }
    for (uint32_t i = 0; i < nblocks; i++) if (!verify(i, words)) return 1;
    pio_s("verified "); pio_u(nblocks); pio_s(" blocks"); pio_end();
    pio_line_s("ok");
    return 0;
}
