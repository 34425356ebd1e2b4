/*
 * memory_bomb.c - test component for the kernel: exhaust the RAM quota.
 *
 * Grows linear memory one 64 KiB page at a time (memory.grow through
 * __builtin_wasm_memory_grow), writing one byte into each new page, until
 * memory.grow returns -1 (the kernel refused: quota or the module's limit).
 * Then prints "bomb: stopped at N pages" (N = the memory size in pages) and
 * keeps running: a counter incremented every 100 ms, printed as
 * "bomb: alive N" every 10 increments, forever. The quota must stop the
 * bomb without killing it or anything else.
 */
#include "component.h"

static uint64_t alive;

int main(void) {
    for (;;) {
        uintptr_t old = __builtin_wasm_memory_grow(0, 1);
        if (old == (uintptr_t)-1) break;
        ((volatile unsigned char *)(old * 65536))[0] = 1;
    }
    pio_s("bomb: stopped at "); pio_u(__builtin_wasm_memory_size(0)); pio_s(" pages"); pio_end();
    for (;;) {
        comp_sleep_ms(100);
        alive++;
        if (alive % 10 == 0) { pio_s("bomb: alive "); pio_u(alive); pio_end(); }
    }
}
