/*
 * bench_server.c - benchmark component: a server that costs as little as
 * possible per event, so that a benchmark measures the kernel's session path
 * and not the server.
 *
 * usage: bench_server SERVICE [MODE]     (defaults: Bench, echo)
 *
 * Announces SERVICE and accepts every open (no per-session state, no
 * output). MODE says what a call gets:
 *   echo     status 0 and the payload back
 *   sink     status 0 and no data (a LOG service that keeps nothing)
 *   forward  status 0 and no data; the payload is written to stdout as one
 *            line (a LOG service that passes messages on, like Genode's
 *            terminal_log: stdout is this component's own LOG session)
 *   hold     calls are taken and never answered: the caller stays blocked
 *            in session_call (for idle measurements)
 * Prints "bench_server: up SERVICE MODE" once, after the announcement.
 */
#include "component.h"

enum { ECHO, SINK, FORWARD, HOLD };

int main(int argc, char **argv) {
    const char *service = argc > 1 ? argv[1] : "Bench";
    const char *mode_name = argc > 2 ? argv[2] : "echo";
    int mode = ECHO;
    if (strcmp(mode_name, "sink") == 0) mode = SINK;
    else if (strcmp(mode_name, "forward") == 0) mode = FORWARD;
    else if (strcmp(mode_name, "hold") == 0) mode = HOLD;
    else if (strcmp(mode_name, "echo") != 0) {
        pio_s("bench_server: unknown mode "); pio_s(mode_name); pio_end();
        return 2;
    }
    int32_t r = phantom_announce_str(service);
    if (r != 0) { comp_report_error("bench_server", "announce", r); return 1; }
    pio_s("bench_server: up "); pio_s(service); pio_c(' '); pio_s(mode_name); pio_end();
    for (;;) {
        phantom_request_t info;
        const char *data;
        r = comp_next_event(&info, &data);
        if (r != 0) { comp_report_error("bench_server", "service_next", r); return 1; }
        if (info.kind == PHANTOM_EVENT_OPEN) {
            service_reply(info.request, 0, 0, 0);
        } else if (info.kind == PHANTOM_EVENT_CALL) {
            switch (mode) {
            case ECHO: service_reply(info.request, 0, data, info.length); break;
            case SINK: service_reply(info.request, 0, 0, 0); break;
            case FORWARD:
                /* one line, one fd_write: drop a trailing newline, add ours */
                {
                    uint32_t n = info.length;
                    if (n > 0 && data[n - 1] == '\n') n--;
                    for (uint32_t k = 0; k < n; k++) pio_c(data[k]);
                    pio_end();
                }
                service_reply(info.request, 0, 0, 0);
                break;
            case HOLD: break;
            }
        }
    }
}
