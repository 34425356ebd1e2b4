/*
 * echo_server.c - test component for the kernel: the "Echo" service.
 *
 * Announces "Echo". Accepts every open (up to 64 sessions at a time; more
 * are denied) and remembers the label the kernel delivered with it (the
 * client's label prefixed by the parent, e.g. "echo_client -> test").
 * Each call is answered with status = the number of calls on that session
 * so far (1, 2, ...) and the data "<label>: <payload>".
 *
 * Logs "echo: open <label>" (session accepted), "echo: close <label>"
 * (session ended) and "echo: refused <label>" (table full).
 */
#include "component.h"

#define MAX_SESSIONS 64

static struct {
    uint32_t used, id, calls, label_len;
    char *label;
} sessions[MAX_SESSIONS];

static char *reply_buf;
static uint32_t reply_cap;

static int find(uint32_t id) {
    for (int i = 0; i < MAX_SESSIONS; i++) if (sessions[i].used && sessions[i].id == id) return i;
    return -1;
}

static void log_label(const char *what, const char *label) {
    pio_s("echo: "); pio_s(what); pio_c(' '); pio_s(label); pio_end();
}

static void on_open(const phantom_request_t *info, const char *label) {
    int slot = -1;
    for (int i = 0; i < MAX_SESSIONS; i++) if (!sessions[i].used) { slot = i; break; }
    char *copy = slot >= 0 ? malloc(info->length + 1) : 0;
    if (!copy) {
        log_label("refused", label);
        service_reply(info->request, PHANTOM_DENIED, 0, 0);
        return;
    }
    memcpy(copy, label, info->length + 1);
    sessions[slot].used = 1;
    sessions[slot].id = info->session;
    sessions[slot].calls = 0;
    sessions[slot].label = copy;
    sessions[slot].label_len = info->length;
    log_label("open", label);
    service_reply(info->request, 0, 0, 0);
}

static void on_call(const phantom_request_t *info, const char *payload) {
    int i = find(info->session);
    const char *label = i >= 0 ? sessions[i].label : "";
    uint32_t label_len = i >= 0 ? sessions[i].label_len : 0;
    uint32_t status = i >= 0 ? ++sessions[i].calls : 0;
    uint32_t n = label_len + 2 + info->length;
    if (n > reply_cap) {
        char *bigger = malloc(n);
        if (!bigger) { service_reply(info->request, (int32_t)status, label, label_len); return; }
        free(reply_buf);
        reply_buf = bigger;
        reply_cap = n;
    }
    memcpy(reply_buf, label, label_len);
    reply_buf[label_len] = ':';
    reply_buf[label_len + 1] = ' ';
    memcpy(reply_buf + label_len + 2, payload, info->length);
    service_reply(info->request, (int32_t)status, reply_buf, n);
}

static void on_close(const phantom_request_t *info) {
    int i = find(info->session);
    if (i < 0) return;
    log_label("close", sessions[i].label);
    free(sessions[i].label);
    sessions[i].used = 0;
    sessions[i].label = 0;
}

static void echo_event(const phantom_request_t *info, const char *data) {
    switch (info->kind) {
    case PHANTOM_EVENT_OPEN: on_open(info, data); break;
    case PHANTOM_EVENT_CALL: on_call(info, data); break;
    case PHANTOM_EVENT_CLOSE: on_close(info); break;
    default: break;
    }
}

#ifndef ECHO_NO_MAIN
int main(void) {
    int32_t r = phantom_announce_str("Echo");
    if (r != 0) { comp_report_error("echo", "announce", r); return 1; }
    for (;;) {
        phantom_request_t info;
        const char *data;
        r = comp_next_event(&info, &data);
        if (r != 0) { comp_report_error("echo", "service_next", r); return 1; }
        echo_event(&info, data);
    }
}
#endif
