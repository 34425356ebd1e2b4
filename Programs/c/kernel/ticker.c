/*
 * ticker.c - test component for the kernel: prints "tick N" (N = 1, 2, ...)
 * every 100 ms forever (nanosleep, i.e. poll_oneoff served by the Timer).
 * N lives in linear memory: strictly increasing across kill -9 / restore.
 */
#include "component.h"

static uint64_t ticks;

int main(void) {
    for (;;) {
        comp_sleep_ms(100);
        ticks++;
        pio_s("tick "); pio_u(ticks); pio_end();
    }
}
