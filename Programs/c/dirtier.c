/*
 * dirtier.c - keeps a large linear memory and dirties a window of it at a
 * steady pace: the workload of the "snapshot pause of a running program"
 * benchmark (docs/BENCHMARKS.md).
 *
 * usage: dirtier [TOTAL_MIB [WINDOW_MIB [ROUNDS]]]   (defaults 64, 4, 0 = forever)
 *
 * Allocates TOTAL_MIB, touches every page once, prints "ready", then
 * repeatedly writes one word into every 4 KiB page of the first WINDOW_MIB,
 * so that every snapshot period (after the first) sees WINDOW_MIB of dirty
 * pages out of TOTAL_MIB. Prints "round N" every 64 rounds and
 * "done checksum=X" after ROUNDS rounds.
 */
#include "pio.h"
#include <stdlib.h>

int main(int argc, char **argv) {
    uint32_t total = (uint32_t)pio_atou(pio_arg(argc, argv, 1), 64) << 20;
    uint32_t window = (uint32_t)pio_atou(pio_arg(argc, argv, 2), 4) << 20;
    uint32_t rounds = (uint32_t)pio_atou(pio_arg(argc, argv, 3), 0);
    unsigned char *memory = malloc(total);
    if (!memory) { pio_line_s("malloc failed"); return 1; }
    for (uint32_t offset = 0; offset < total; offset += 4096) memory[offset] = 1;
    pio_line_s("ready");
    uint64_t checksum = 0;
    for (uint32_t round = 1; rounds == 0 || round <= rounds; round++) {
        for (uint32_t offset = 0; offset < window; offset += 4096) {
            uint32_t *word = (uint32_t *)(memory + offset);
            *word += round;
            checksum += *word;
        }
        if (round % 64 == 0) { pio_s("round "); pio_u(round); pio_end(); }
    }
    pio_s("done checksum="); pio_u(checksum); pio_end();
    return 0;
}
