/*
 * bench_ticker.c - benchmark component: a small component that is alive and
 * says so.
 *
 * usage: bench_ticker [PERIOD_MS [quiet]]     (default 100)
 *
 * Prints "up" once when it first starts, then sleeps PERIOD_MS (nanosleep:
 * poll_oneoff, served by the Timer) and prints "tick N" (N = 1, 2, ...) after
 * every sleep; with "quiet" it prints nothing after "up" (an idle component
 * that only sleeps). N lives in linear memory, so after a restore the first
 * line a ticker prints is the next "tick N": that line is the proof that it
 * runs again.
 */
#include "component.h"

static uint64_t ticks;

int main(int argc, char **argv) {
    uint64_t period = argc > 1 ? pio_atou(argv[1], 100) : 100;
    int quiet = argc > 2 && strcmp(argv[2], "quiet") == 0;
    pio_line_s("up");
    for (;;) {
        comp_sleep_ms(period);
        ticks++;
        if (!quiet) { pio_s("tick "); pio_u(ticks); pio_end(); }
    }
}
