/*
 * echo_client.c - test component for the kernel: a client of "Echo".
 *
 * usage: echo_client [CALLS]    (else config key "calls", default 3)
 *
 * Opens "Echo" with label "test", makes CALLS calls with the payload
 * "hello I" and prints each reply as
 *     reply I status=S: TEXT
 * (with echo_server, S = I and TEXT = "<label> -> test: hello I"), closes
 * the session and prints "done" (exit 0). Errors print
 * "echo_client: <what> failed: CODE (NAME)" and exit 1.
 */
#include "component.h"

static char config[1024];
static char reply[4096];

int main(int argc, char **argv) {
    uint64_t calls;
    if (argc > 1) {
        calls = pio_atou(argv[1], 3);
    } else {
        if (comp_read_file(PHANTOM_ROM_DIR "/config", config, sizeof config) < 0) config[0] = 0;
        calls = cfg_u64(config, "calls", 3);
    }
    int32_t h = phantom_open_str("Echo", "test");
    if (h < 0) { comp_report_error("echo_client", "open Echo", h); return 1; }
    for (uint64_t i = 1; i <= calls; i++) {
        char request[32] = "hello ";
        uint32_t n = 6;
        char digits[24];
        int d = 0;
        uint64_t v = i;
        do { digits[d++] = (char)('0' + v % 10); v /= 10; } while (v);
        while (d) request[n++] = digits[--d];
        uint32_t len = 0;
        int32_t r = session_call(h, request, n, reply, sizeof reply, &len);
        if (r < 0) { comp_report_error("echo_client", "call", r); return 1; }
        pio_s("reply "); pio_u(i); pio_s(" status="); pio_i(r); pio_s(": ");
        for (uint32_t k = 0; k < len && k < sizeof reply; k++) pio_c(reply[k]);
        pio_end();
    }
    session_close(h);
    pio_line_s("done");
    return 0;
}
