/*
 * pio.h - tiny, allocation-free output helpers shared by the Phantom test
 * programs and benchmarks.
 *
 * Why not printf: printf pulls ~25 KiB of code (and floating point
 * formatting) into every module. These helpers build one line in a static
 * buffer and emit it with a single write() (one fd_write on WASI), so each
 * line of output is produced by exactly one host call. Test harnesses rely on
 * that: a kill -9 can never leave half a line that the guest thinks it wrote.
 *
 * Works unchanged natively (POSIX write) so the benchmarks can be built as
 * native reference executables.
 */
#ifndef PHANTOM_PIO_H
#define PHANTOM_PIO_H

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define PIO_LINE_MAX 512

static char pio_line[PIO_LINE_MAX];
static unsigned pio_len;

/* Write all of buf to fd, retrying on short writes. Returns 0 or -1. */
static inline int pio_write_all(int fd, const char *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w <= 0) return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static inline void pio_s(const char *s) {
    while (*s && pio_len < PIO_LINE_MAX) pio_line[pio_len++] = *s++;
}

static inline void pio_c(char c) {
    if (pio_len < PIO_LINE_MAX) pio_line[pio_len++] = c;
}

static inline void pio_u(uint64_t v) {
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) pio_c(tmp[--n]);
}

static inline void pio_i(int64_t v) {
    if (v < 0) { pio_c('-'); pio_u((uint64_t)0 - (uint64_t)v); }
    else pio_u((uint64_t)v);
}

/* Fixed width lowercase hex, `digits` nibbles. */
static inline void pio_x(uint64_t v, int digits) {
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--) pio_c(hex[(v >> (i * 4)) & 15]);
}

/* Signed fixed-point rendering of a double with `places` decimals
 * (rounded half away from zero). Deterministic, no libm. */
static inline void pio_f(double d, int places) {
    double scale = 1.0;
    for (int i = 0; i < places; i++) scale *= 10.0;
    int neg = d < 0;
    if (neg) d = -d;
    uint64_t q = (uint64_t)(d * scale + 0.5);
    uint64_t p = 1;
    for (int i = 0; i < places; i++) p *= 10;
    if (neg && q) pio_c('-');
    pio_u(q / p);
    if (places) {
        pio_c('.');
        uint64_t frac = q % p;
        for (uint64_t d2 = p / 10; d2; d2 /= 10) pio_c((char)('0' + (frac / d2) % 10));
    }
}

/* Terminate the current line with '\n' and emit it with one write. */
static inline void pio_end_fd(int fd) {
    if (pio_len >= PIO_LINE_MAX) pio_len = PIO_LINE_MAX - 1;
    pio_line[pio_len++] = '\n';
    pio_write_all(fd, pio_line, pio_len);
    pio_len = 0;
}
static inline void pio_end(void) { pio_end_fd(1); }

/* Convenience: one whole line. */
static inline void pio_line_s(const char *s) { pio_s(s); pio_end(); }

/* Parse an unsigned decimal; returns `dflt` if s is NULL or not a number. */
static inline uint64_t pio_atou(const char *s, uint64_t dflt) {
    if (!s || !*s) return dflt;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return dflt;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    return v;
}

/* Argument i of argv, or NULL. */
static inline const char *pio_arg(int argc, char **argv, int i) {
    return i < argc ? argv[i] : 0;
}

#endif
