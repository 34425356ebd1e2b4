/*
 * sieve.c - sieve of Eratosthenes, repeated.
 *
 * usage: sieve [REPS]   (default 160 ~= 1 s native -O2; interpreter: 4)
 *
 * Each repetition sieves [0, LIMIT - rep) over a byte array (LIMIT = 4e6)
 * and folds the prime count and the sum of primes into a checksum.
 * Prints "sieve reps=R primes=P checksum=XXXXXXXXXXXXXXXX".
 */
#include "../c/pio.h"

#define LIMIT 4000000u
static unsigned char composite[LIMIT];

int main(int argc, char **argv) {
    uint32_t reps = (uint32_t)pio_atou(pio_arg(argc, argv, 1), 160);
    uint64_t check = 0;
    uint32_t primes = 0;
    for (uint32_t r = 0; r < reps; r++) {
        uint32_t n = LIMIT - r;
        memset(composite, 0, n);
        for (uint32_t i = 2; (uint64_t)i * i < n; i++)
            if (!composite[i])
                for (uint32_t j = i * i; j < n; j += i) composite[j] = 1;
        uint64_t sum = 0;
        primes = 0;
        for (uint32_t i = 2; i < n; i++)
            if (!composite[i]) { primes++; sum += i; }
        check = (check ^ sum) * 0x100000001B3ULL + primes;
    }
    pio_s("sieve reps="); pio_u(reps); pio_s(" primes="); pio_u(primes);
    pio_s(" checksum="); pio_x(check, 16); pio_end();
    return 0;
}
