/*
 * bench_client.c - benchmark component: times session operations from the
 * guest's side, with the guest's monotonic clock (WASI clock_time_get).
 *
 * usage: bench_client MODE ITERATIONS ROUNDS [SERVICE [PAYLOAD_BYTES]]
 *                                             (defaults: Bench, 16)
 * MODE
 *   openclose  session_open(SERVICE, "bench") + session_close, ITERATIONS times
 *   call       one session to SERVICE; ITERATIONS session_calls with a
 *              PAYLOAD_BYTES payload (the reply must come back; with an echo
 *              server it must equal the payload)
 *   log        one session to SERVICE (e.g. LOG); ITERATIONS session_calls
 *              whose payload is a text line of about PAYLOAD_BYTES
 *              ("bench log line N xxxx…")
 *   clock      ITERATIONS clock_gettime(CLOCK_MONOTONIC) calls: the cost of
 *              the cheapest host call, a floor for the others
 *   wait       opens SERVICE, prints "bench_client: up" and calls it once:
 *              with a server in mode hold it stays blocked forever (idle)
 *
 * Per round prints one line
 *     bench MODE round=R n=ITERATIONS ns=NANOSECONDS
 * then "bench done" (exit 0). Errors: "bench_client: <what> failed: CODE
 * (NAME)", exit 1.
 */
#include "component.h"

static char payload[65536];
static char reply[65536];
static volatile uint64_t sink;   /* keeps the measured calls from being optimised away */

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint32_t put_u(char *p, uint64_t v) {
    char tmp[24];
    uint32_t n = 0, k = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) p[k++] = tmp[--n];
    return k;
}

int main(int argc, char **argv) {
    if (argc < 4) { pio_line_s("usage: bench_client MODE ITERATIONS ROUNDS [SERVICE [PAYLOAD_BYTES]]"); return 2; }
    const char *mode = argv[1];
    uint64_t iterations = pio_atou(argv[2], 1000);
    uint64_t rounds = pio_atou(argv[3], 1);
    const char *service = argc > 4 ? argv[4] : "Bench";
    uint32_t size = (uint32_t)pio_atou(argc > 5 ? argv[5] : "16", 16);
    if (size > sizeof payload) size = sizeof payload;
    for (uint32_t k = 0; k < size; k++) payload[k] = (char)('a' + k % 26);

    if (strcmp(mode, "wait") == 0) {
        int32_t h = phantom_open_str(service, "bench");
        if (h < 0) { comp_report_error("bench_client", "open", h); return 1; }
        pio_line_s("bench_client: up");
        uint32_t len = 0;
        int32_t r = session_call(h, payload, size, reply, sizeof reply, &len);
        pio_s("bench_client: wait ended: "); pio_i(r); pio_end();
        return 0;
    }

    int32_t h = 0;
    if (strcmp(mode, "call") == 0 || strcmp(mode, "log") == 0) {
        h = phantom_open_str(service, "bench");
        if (h < 0) { comp_report_error("bench_client", "open", h); return 1; }
    } else if (strcmp(mode, "openclose") != 0 && strcmp(mode, "clock") != 0) {
        pio_s("bench_client: unknown mode "); pio_s(mode); pio_end();
        return 2;
    }
    for (uint64_t round = 1; round <= rounds; round++) {
        uint64_t start = now_ns();
        for (uint64_t i = 0; i < iterations; i++) {
            if (mode[0] == 'o') {
                int32_t s = session_open(service, phantom_strlen(service), "bench", 5, 0);
                if (s < 0) { comp_report_error("bench_client", "open", s); return 1; }
                session_close(s);
            } else if (mode[0] == 'c' && mode[1] == 'a') {
                uint32_t len = 0;
                int32_t r = session_call(h, payload, size, reply, sizeof reply, &len);
                if (r < 0) { comp_report_error("bench_client", "call", r); return 1; }
                sink += len;
            } else if (mode[0] == 'l') {
                char *p = payload;
                memcpy(p, "bench log line ", 15);
                uint32_t n = 15 + put_u(p + 15, i);
                p[n++] = ' ';
                while (n < size) { p[n] = (char)('a' + n % 26); n++; }
                uint32_t len = 0;
                int32_t r = session_call(h, p, n, reply, sizeof reply, &len);
                if (r < 0) { comp_report_error("bench_client", "log", r); return 1; }
            } else {
                sink += now_ns();
            }
        }
        uint64_t elapsed = now_ns() - start;
        pio_s("bench "); pio_s(mode); pio_s(" round="); pio_u(round); pio_s(" n="); pio_u(iterations);
        pio_s(" ns="); pio_u(elapsed); pio_end();
    }
    if (h > 0) session_close(h);
    pio_line_s("bench done");
    return 0;
}
