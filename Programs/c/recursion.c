/*
 * recursion.c - deep recursion with live frames on both stacks.
 *
 * usage: recursion [DEPTH [REPS [ACK_N]]]
 *   DEPTH  recursion depth of the hash chain (default 10000)
 *   REPS   how many chains to evaluate, depths DEPTH..DEPTH+REPS-1
 *          (default 1500)
 *   ACK_N  then compute ackermann(3, ACK_N) recursively (default 9;
 *          recursion depth ~2^(ACK_N+3), ~11M calls for 9)
 *
 * Phase 1 ("chain") recurses DEPTH frames deep; every frame keeps a
 * volatile local array in the C shadow stack (linear memory, addressed via
 * the __stack_pointer global) AND values live on the wasm operand/call
 * stack across the recursive call. The combining step is not associative,
 * so the compiler cannot turn the recursion into a loop. A snapshot taken
 * mid-run therefore captures thousands of live wasm frames plus shadow-stack
 * memory, and a resumed run must unwind through all of them correctly.
 *
 * Output:
 *   rep I                     every 100 chains (progress)
 *   chain ... result=X expected=Y ok|MISMATCH
 *   ackermann ... result=X expected=Y ok|MISMATCH
 *   all ok  |  FAILED         (exit status 0 / 1)
 * The expected values are computed iteratively, so the invariant is simply
 * "result == expected" and the last line is "all ok".
 *
 * Link with a 1 MiB shadow stack (-Wl,-z,stack-size=1048576): 10000 frames
 * x 32 bytes does not fit in wasm-ld's 64 KiB default.
 */
#include "pio.h"

static inline uint32_t rotl32(uint32_t x, unsigned r) {
    r &= 31;
    return r ? (x << r) | (x >> (32 - r)) : x;
}

static inline uint32_t step(uint32_t r, uint32_t k) {
    return rotl32((r ^ (k * 2654435761u)) * 16777619u + k, k);
}

__attribute__((noinline)) static uint32_t chain(uint32_t n) {
    volatile uint32_t local[4];
    if (n == 0) return 0x12345u;
    local[0] = n * 2654435761u;
    local[1] = n;
    uint32_t r = chain(n - 1);
    /* == step(r, n), but reading the values back from this frame's memory */
    return rotl32((r ^ local[0]) * 16777619u + local[1], local[1]);
}

static uint32_t chain_iter(uint32_t n) {
    uint32_t r = 0x12345u;
    for (uint32_t k = 1; k <= n; k++) r = step(r, k);
    return r;
}

__attribute__((noinline)) static uint32_t ack(uint32_t m, uint32_t n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

int main(int argc, char **argv) {
    uint32_t depth = (uint32_t)pio_atou(pio_arg(argc, argv, 1), 10000);
    uint32_t reps = (uint32_t)pio_atou(pio_arg(argc, argv, 2), 1500);
    uint32_t ackn = (uint32_t)pio_atou(pio_arg(argc, argv, 3), 9);
    int ok = 1;

    uint32_t acc = 0, acc_expected = 0;
    for (uint32_t i = 0; i < reps; i++) {
        acc = acc * 31 + chain(depth + i);
        if ((i + 1) % 100 == 0) { pio_s("rep "); pio_u(i + 1); pio_end(); }
    }
    for (uint32_t i = 0; i < reps; i++) acc_expected = acc_expected * 31 + chain_iter(depth + i);
    pio_s("chain depth="); pio_u(depth); pio_s(" reps="); pio_u(reps);
    pio_s(" result="); pio_x(acc, 8); pio_s(" expected="); pio_x(acc_expected, 8);
    if (acc == acc_expected) pio_s(" ok"); else { pio_s(" MISMATCH"); ok = 0; }
    pio_end();

    uint32_t a = ack(3, ackn);
    uint32_t a_expected = (1u << (ackn + 3)) - 3;   /* A(3,n) = 2^(n+3) - 3 */
    pio_s("ackermann m=3 n="); pio_u(ackn);
    pio_s(" result="); pio_u(a); pio_s(" expected="); pio_u(a_expected);
    if (a == a_expected) pio_s(" ok"); else { pio_s(" MISMATCH"); ok = 0; }
    pio_end();

    pio_line_s(ok ? "all ok" : "FAILED");
    return ok ? 0 : 1;
}
