/*
 * matmul.c - dense double-precision matrix multiply, repeated.
 *
 * usage: matmul [REPS]   (default 350 ~= 1 s native -O2; interpreter: 4)
 *
 * C = A * B for N x N doubles (N = 256), i-k-j loop order, then
 * A[i][j] += C[i][j] * 1e-6 so that every repetition depends on the
 * previous one. Only +, * on doubles in a fixed order: results are
 * bit-identical on every IEEE-754 engine (build with -ffp-contract=off).
 * Prints "matmul n=N reps=R trace=T sum=S bits=XXXXXXXXXXXXXXXX", where bits
 * is the raw IEEE encoding of the final sum.
 */
#include "../c/pio.h"

#define N 256
static double A[N][N], B[N][N], C[N][N];

int main(int argc, char **argv) {
    uint32_t reps = (uint32_t)pio_atou(pio_arg(argc, argv, 1), 350);
    uint32_t seed = 1;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            seed = seed * 1103515245u + 12345u;
            A[i][j] = (double)((seed >> 16) & 1023) / 512.0 - 1.0;
            seed = seed * 1103515245u + 12345u;
            B[i][j] = (double)((seed >> 16) & 1023) / 512.0 - 1.0;
        }
    for (uint32_t r = 0; r < reps; r++) {
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) C[i][j] = 0.0;
            for (int k = 0; k < N; k++) {
                double a = A[i][k];
                for (int j = 0; j < N; j++) C[i][j] += a * B[k][j];
            }
        }
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) A[i][j] += C[i][j] * 1e-6;
    }
    double sum = 0.0, trace = 0.0;
    for (int i = 0; i < N; i++) {
        trace += C[i][i];
        for (int j = 0; j < N; j++) sum += C[i][j];
    }
    uint64_t bits;
    memcpy(&bits, &sum, sizeof bits);
    pio_s("matmul n="); pio_u(N); pio_s(" reps="); pio_u(reps);
    pio_s(" trace="); pio_f(trace, 6); pio_s(" sum="); pio_f(sum, 6);
    pio_s(" bits="); pio_x(bits, 16); pio_end();
    return 0;
}
