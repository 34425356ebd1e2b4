/*
 * log_server.c - test component for the kernel: a LOG service.
 *
 * Announces "LOG" and accepts every open. Each call's payload is one log
 * message of the session's client; it is printed on this component's own
 * stdout as
 *     [<label>] <message>
 * (its own LOG goes to init, so the line reads "[init -> log_server]
 * [client] message" in the system log), and answered with status 0.
 * A client whose LOG session is routed here writes through it with plain
 * stdout: the kernel's WASI personality turns each line into a call.
 */
#include "component.h"

#define MAX_SESSIONS 64

static struct {
    uint32_t used, id;
    char *label;
} sessions[MAX_SESSIONS];

static const char *label_of(uint32_t id) {
    for (int i = 0; i < MAX_SESSIONS; i++) if (sessions[i].used && sessions[i].id == id) return sessions[i].label;
    return "?";
}

static void on_open(const phantom_request_t *info, const char *label) {
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (sessions[i].used) continue;
        char *copy = malloc(info->length + 1);
        if (!copy) break;
        memcpy(copy, label, info->length + 1);
        sessions[i].used = 1;
        sessions[i].id = info->session;
        sessions[i].label = copy;
        service_reply(info->request, 0, 0, 0);
        return;
    }
    service_reply(info->request, PHANTOM_DENIED, 0, 0);
}

static void on_call(const phantom_request_t *info, const char *payload) {
    pio_c('['); pio_s(label_of(info->session)); pio_s("] ");
    uint32_t n = info->length;
    while (n > 0 && payload[n - 1] == '\n') n--;
    for (uint32_t k = 0; k < n; k++) pio_c(payload[k]);
    pio_end();
    service_reply(info->request, 0, 0, 0);
}

static void on_close(const phantom_request_t *info) {
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (!sessions[i].used || sessions[i].id != info->session) continue;
        free(sessions[i].label);
        sessions[i].used = 0;
        sessions[i].label = 0;
    }
}

int main(void) {
    int32_t r = phantom_announce_str("LOG");
    if (r != 0) { comp_report_error("log_server", "announce", r); return 1; }
    for (;;) {
        phantom_request_t info;
        const char *data;
        r = comp_next_event(&info, &data);
        if (r != 0) { comp_report_error("log_server", "service_next", r); return 1; }
        switch (info.kind) {
        case PHANTOM_EVENT_OPEN: on_open(&info, data); break;
        case PHANTOM_EVENT_CALL: on_call(&info, data); break;
        case PHANTOM_EVENT_CLOSE: on_close(&info); break;
        default: break;
        }
    }
}
