/*
 * sleeper.c - sleep through the host, with clock readings around each sleep.
 *
 * usage: sleeper [COUNT [MS]]
 *   COUNT  number of sleeps (default 3)
 *   MS     milliseconds per sleep (default 200)
 *
 * Each round reads CLOCK_MONOTONIC and CLOCK_REALTIME (clock_time_get),
 * sleeps MS via nanosleep (wasi-libc lowers it to poll_oneoff with a single
 * relative clock subscription), reads the clocks again and prints
 *     tick I slept_ms=A mono_ms=M real_s=R
 * A is the measured monotonic duration of the sleep, M the monotonic time
 * since the program started, R the realtime clock in seconds.
 * A final "ok" means every sleep lasted at least MS and the monotonic clock
 * never went backwards; otherwise "SHORT_SLEEP I" / "CLOCK_BACKWARDS I" and
 * exit 1.
 *
 * Invariant (after normalising the numbers): "tick 1".."tick COUNT", "ok".
 * A snapshot taken during a sleep must, after resume, still sleep at least
 * the remaining time and must keep the monotonic clock monotonic across the
 * restart (the host clock origin changes; the engine must hide that).
 */
#include <time.h>
#include "pio.h"

static uint64_t now_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
    uint64_t count = pio_atou(pio_arg(argc, argv, 1), 3);
    uint64_t ms = pio_atou(pio_arg(argc, argv, 2), 200);
    int ok = 1;

    uint64_t start = now_ns(CLOCK_MONOTONIC);
    uint64_t prev = start;
    pio_s("start count="); pio_u(count); pio_s(" ms="); pio_u(ms); pio_end();
    for (uint64_t i = 1; i <= count; i++) {
        uint64_t before = now_ns(CLOCK_MONOTONIC);
        struct timespec req = { (time_t)(ms / 1000), (long)((ms % 1000) * 1000000) };
        if (nanosleep(&req, 0) != 0) { pio_line_s("nanosleep failed"); return 1; }
        uint64_t after = now_ns(CLOCK_MONOTONIC);
        uint64_t real = now_ns(CLOCK_REALTIME);
        if (before < prev || after < before) {
            pio_s("CLOCK_BACKWARDS "); pio_u(i); pio_end();
            ok = 0;
        } else if (after - before < ms * 1000000ULL) {
            pio_s("SHORT_SLEEP "); pio_u(i); pio_end();
            ok = 0;
        }
        prev = after;
        pio_s("tick "); pio_u(i);
        pio_s(" slept_ms="); pio_u((after - before) / 1000000);
        pio_s(" mono_ms="); pio_u((after - start) / 1000000);
        pio_s(" real_s="); pio_u(real / 1000000000ULL);
        pio_end();
    }
    pio_line_s(ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
