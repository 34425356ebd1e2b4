/*
 * spinner.c - test component for the kernel: an endless loop that makes no
 * host call at all. Built without wasi-libc's start code (-nostartfiles), so
 * the module has no imports whatsoever: its own _start increments a counter
 * in linear memory forever, without output. For preemption tests: the
 * kernel must keep the other components running and still be able to
 * snapshot, stop and restart this one.
 */
#include <stdint.h>

static volatile uint64_t spins;

__attribute__((export_name("_start")))
void _start(void) {
    for (;;) spins++;
}
