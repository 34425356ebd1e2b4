/*
 * nbody.c - gravitational N-body simulation in doubles.
 *
 * usage: nbody [STEPS]   (default 1000000 ~= 1 s native -O2; interpreter: 20000)
 *
 * 24 bodies with pseudo-random (LCG-seeded) masses, positions and
 * velocities, total momentum removed; semi-implicit Euler integration with
 * a softened 1/r^2 force, dt = 0.001. Only +, -, *, / and sqrt in a fixed
 * order, so results are bit-identical on every IEEE-754 engine (build with
 * -ffp-contract=off). Prints the total energy before and after
 * (fixed-point, 9 decimals) and the raw bits of the final energy:
 *   "nbody bodies=24 steps=S e0=... e1=... bits=XXXXXXXXXXXXXXXX"
 */
#include <math.h>
#include "../c/pio.h"

#define NB 24
#define DT 0.001
#define SOFT 0.01

static double px[NB], py[NB], pz[NB], vx[NB], vy[NB], vz[NB], m[NB];

static uint32_t lcg = 20240611u;
static double rnd(void) {          /* uniform in [-1, 1) */
    lcg = lcg * 1664525u + 1013904223u;
    return (double)(lcg >> 8) / 8388608.0 - 1.0;
}

static double energy(void) {
    double e = 0.0;
    for (int i = 0; i < NB; i++) {
        e += 0.5 * m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
        for (int j = i + 1; j < NB; j++) {
            double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
            e -= m[i] * m[j] / sqrt(dx * dx + dy * dy + dz * dz + SOFT);
        }
    }
    return e;
}

static void step(void) {
    for (int i = 0; i < NB; i++) {
        for (int j = i + 1; j < NB; j++) {
            double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
            double d2 = dx * dx + dy * dy + dz * dz + SOFT;
            double mag = DT / (d2 * sqrt(d2));
            double mi = m[i] * mag, mj = m[j] * mag;
            vx[i] -= dx * mj; vy[i] -= dy * mj; vz[i] -= dz * mj;
            vx[j] += dx * mi; vy[j] += dy * mi; vz[j] += dz * mi;
        }
    }
    for (int i = 0; i < NB; i++) {
        px[i] += DT * vx[i]; py[i] += DT * vy[i]; pz[i] += DT * vz[i];
    }
}

int main(int argc, char **argv) {
    uint32_t steps = (uint32_t)pio_atou(pio_arg(argc, argv, 1), 1000000);
    double mx = 0, my = 0, mz = 0, mt = 0;
    for (int i = 0; i < NB; i++) {
        m[i] = 0.5 + 0.5 * (rnd() + 1.0);
        px[i] = 4.0 * rnd(); py[i] = 4.0 * rnd(); pz[i] = 1.0 * rnd();
        vx[i] = 0.3 * rnd(); vy[i] = 0.3 * rnd(); vz[i] = 0.1 * rnd();
        mx += m[i] * vx[i]; my += m[i] * vy[i]; mz += m[i] * vz[i]; mt += m[i];
    }
    for (int i = 0; i < NB; i++) { vx[i] -= mx / mt; vy[i] -= my / mt; vz[i] -= mz / mt; }

    double e0 = energy();
    for (uint32_t s = 0; s < steps; s++) step();
    double e1 = energy();
    uint64_t bits;
    memcpy(&bits, &e1, sizeof bits);
    pio_s("nbody bodies="); pio_u(NB); pio_s(" steps="); pio_u(steps);
    pio_s(" e0="); pio_f(e0, 9); pio_s(" e1="); pio_f(e1, 9);
    pio_s(" bits="); pio_x(bits, 16); pio_end();
    return 0;
}
