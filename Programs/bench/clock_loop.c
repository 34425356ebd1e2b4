/*
 * clock_loop.c - the cost of reading the clock, as hot loops do it
 * (CoreMark's timing, benchmarks' own stopwatches, game loops).
 *
 * usage: clock_loop [CALLS]   (default 1000000)
 *
 * Calls clock_gettime(CLOCK_MONOTONIC) CALLS times (one clock_time_get
 * each on WASI) and prints
 *     clock_loop calls=N backwards=B ns_per_call=T
 * B counts readings lower than the one before (must be 0); T is the
 * loop's own monotonic duration divided by N. Exit status 1 if B > 0 or
 * a call failed (e.g. ENOTCAPABLE without a Timer session).
 */
#include <errno.h>
#include <time.h>
#include "../c/pio.h"

int main(int argc, char **argv) {
    uint64_t calls = pio_atou(pio_arg(argc, argv, 1), 1000000);
    if (calls == 0) calls = 1;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        pio_s("clock_loop: clock_gettime failed, errno "); pio_u((uint64_t)errno); pio_end();
        return 1;
    }
    uint64_t start = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    uint64_t previous = start, backwards = 0;
    for (uint64_t i = 0; i < calls; i++) {
        if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
            pio_s("clock_loop: clock_gettime failed, errno "); pio_u((uint64_t)errno); pio_end();
            return 1;
        }
        uint64_t now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
        if (now < previous) backwards++;
        previous = now;
    }
    pio_s("clock_loop calls="); pio_u(calls);
    pio_s(" backwards="); pio_u(backwards);
    pio_s(" ns_per_call="); pio_u((previous - start) / calls);
    pio_end();
    return backwards ? 1 : 0;
}
