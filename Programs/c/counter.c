/*
 * counter.c - the basic "resume mid-execution" program.
 *
 * usage: counter [MAX [EVERY [SLOW]]]
 *   MAX    stop after MAX increments (0 or absent = run forever)
 *   EVERY  print a line every EVERY increments (default: env COUNTER_EVERY,
 *          else 1000)
 *   SLOW   busy-work rounds per increment to pace output (default: env
 *          COUNTER_SLOW, else 0). Pure computation: no clock, no sleep, so a
 *          snapshot can land anywhere inside it.
 *
 * Output: "count N" every EVERY increments, then "done N" if MAX was reached.
 *
 * Invariant (checked by a harness from stdout): the N values are exactly
 * EVERY, 2*EVERY, 3*EVERY, ... - strictly increasing, no gaps, no repeats -
 * even across kill -9 and resume. The counter lives in linear memory twice
 * (a global and a heap cell written through a different pointer), each
 * with its own running hash; they are cross-checked, and any divergence
 * (torn snapshot) prints "MISMATCH ..." and exits 1.
 */
#include <stdlib.h>
#include "pio.h"

static volatile uint64_t counter;      /* in .bss */
static volatile uint64_t hash_state;   /* hash of all values so far */
static uint64_t *heap_counter;         /* same value, on the heap */

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t env_or(const char *name, uint64_t dflt) {
    return pio_atou(getenv(name), dflt);
}

int main(int argc, char **argv) {
    uint64_t max = pio_atou(pio_arg(argc, argv, 1), 0);
    uint64_t every = pio_atou(pio_arg(argc, argv, 2), env_or("COUNTER_EVERY", 1000));
    uint64_t slow = pio_atou(pio_arg(argc, argv, 3), env_or("COUNTER_SLOW", 0));
    if (every == 0) every = 1;

    heap_counter = malloc(2 * sizeof *heap_counter);
    if (!heap_counter) { pio_line_s("MISMATCH malloc failed"); return 1; }
    heap_counter[0] = 0;
    heap_counter[1] = 0;
    counter = 0;
    hash_state = 0;

    uint64_t busy = 88172645463325252ULL;
    for (;;) {
        uint64_t c = counter + 1;
        counter = c;
        *heap_counter = c;
        hash_state = mix(hash_state, c);
        heap_counter[1] = mix(heap_counter[1], c);

        for (uint64_t i = 0; i < slow; i++) {   /* xorshift64 busy work */
            busy ^= busy << 13; busy ^= busy >> 7; busy ^= busy << 17;
        }

        if (*heap_counter != counter) {
            pio_s("MISMATCH counter="); pio_u(counter);
            pio_s(" heap="); pio_u(*heap_counter); pio_end();
            return 1;
        }
        if (c % every == 0) {
            if (heap_counter[1] != hash_state) {
                pio_s("MISMATCH hash at "); pio_u(c); pio_end();
                return 1;
            }
            pio_s("count "); pio_u(c); pio_end();
        }
        if (max && c >= max) break;
    }
    /* Fold the busy value in so the optimizer keeps the pacing loop. */
    pio_s("done "); pio_u(counter);
    if (busy == 0) pio_s(" busy0");
    pio_end();
    return 0;
}
