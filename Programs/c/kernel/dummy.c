/*
 * dummy.c - Genode's `dummy` (repos/os/src/app/dummy), the component that
 * Genode's init test (test-init) starts in every role, as a component of
 * ours: it does what its config ROM says, and again at every change of it.
 *
 * Its config (/rom/config, XML or HID: config_node.h) is a list of steps,
 * executed in order, on start and on every config change whose top-level
 * `version` differs from the one before (a change that keeps the version is
 * skipped, and so is every change of a config without one, as in Genode).
 * Before the steps, each config that is not skipped is counted and, if it
 * has a version, logged as
 *     config <n>: <version>
 *
 * | step                                         | does, logs                                  |
 * |----------------------------------------------|---------------------------------------------|
 * | log string                                   | logs the string (cut to 49 bytes)           |
 * | sleep ms (100)                               | sleeps; nothing else happens meanwhile      |
 * | sleep_forever                                | blocks forever (no config, no serving)      |
 * | exit                                         | exits with value 0                          |
 * | create_log_connections count (0) ram_upgrade | "going to create N LOG connections", opens  |
 * |                                              | N sessions LOG labelled "0", "1", ...,      |
 * |                                              | each upgraded by ram_upgrade ("upgrade      |
 * |                                              | connection I", session_upgrade),            |
 * |                                              | "created all LOG connections" (held ones    |
 * |                                              | are destroyed first)                        |
 * | destroy_log_connections                      | closes them, newest first; "destroyed all   |
 * |                                              | LOG connections"                            |
 * | log_service verbose (no) delay_close_ms (0)  | announces LOG (once), "created LOG service" |
 * | consume_ram amount                           | "consume N bytes of memory" (Genode's       |
 * |                                              | number format: 2M, 2359K, 1000), allocates  |
 * |                                              | and touches it; a held amount is released   |
 * |                                              | first ("release N bytes of memory")         |
 * | consume_caps amount                          | "consume N caps": holds that many sessions  |
 * |                                              | (at most 100, as Genode's objects) to PD,   |
 * |                                              | labelled "cap 0", ...; a held amount is     |
 * |                                              | released first ("release N caps")           |
 * | handle_yield_requests                        | answers yield requests: "got yield request",|
 * |                                              | releases its RAM (free + memory_discard)    |
 * |                                              | and caps, then service_reply                |
 *
 * A cap: the kernel's `caps` quota limits the sessions a child holds
 * (docs/INIT.md), so a consumed cap is one session held open, to the
 * parent's PD service (no server to bother, nothing to call).
 *
 * Its LOG service: each session's messages are logged as "[label] message"
 * (cut to 99 bytes; a message ends at its first "ESC[0m\n", Genode's line
 * delimiter, or at its trailing newlines). With verbose, "opening session
 * with label L" and "closing session with label L"; every close first logs
 * "delay close by N ms" and sleeps N ms, or "close session without delay".
 *
 * As a LOG server it logs "received session quota upgrade" for each
 * upgrade event of a session.
 *
 * consume_ram and consume_caps that run out of quota ask the parent for more
 * (parent_resource_request) and try again once it answered.
 *
 * Not in the session ABI yet, so not done (docs/SESSION-ABI.md, "Proposed"):
 * heartbeats, and the deferred
 * close that delay_close_ms delays in Genode.
 *
 * The main loop: without a service, the component blocks in poll_oneoff on
 * its config ROM (a read subscription fires when the ROM changes). Serving,
 * it waits in service_next with a timeout (DUMMY_SERVE_SLICE_NS) and checks
 * the config without blocking after each event or timeout, since no single
 * call of the ABI waits for both.
 *
 * Natively (Programs/test/t_dummy.c) the stub provides dummy_wait_config,
 * dummy_sleep_ms and the session ABI.
 */
#include "component.h"
#include "config_node.h"
#if defined(__wasm__)
#include <wasi/api.h>
#endif

#ifndef DUMMY_SERVE_SLICE_NS
#define DUMMY_SERVE_SLICE_NS 50000000ll   /* 50 ms */
#endif

/* Genode's String<50> (the log string, the version) and String<100> (a
 * served LOG message) hold one byte less than their size. */
#define DUMMY_STRING_MAX 49
#define DUMMY_MESSAGE_MAX 99
#define DUMMY_MAX_CAPS 100

/* ---- platform ------------------------------------------------------------------ */

#if defined(__wasm__)
/* Waits until the config ROM behind fd may have changed (1) or timeout_ns
 * passed (0; < 0 waits without limit, 0 only looks). -1 when the ROM cannot
 * be waited for (poll_oneoff refused it). */
static int dummy_wait_config(int fd, int64_t timeout_ns) {
    __wasi_subscription_t sub[2];
    __wasi_event_t ev[2];
    __wasi_size_t n = 0, got = 0;
    memset(sub, 0, sizeof sub);
    if (fd >= 0) {
        sub[n].userdata = 1;
        sub[n].u.tag = __WASI_EVENTTYPE_FD_READ;
        sub[n].u.u.fd_read.file_descriptor = (__wasi_fd_t)fd;
        n++;
    }
    if (timeout_ns >= 0 || n == 0) {
        sub[n].userdata = 2;
        sub[n].u.tag = __WASI_EVENTTYPE_CLOCK;
        sub[n].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        sub[n].u.u.clock.timeout = timeout_ns >= 0 ? (uint64_t)timeout_ns : 86400ull * 1000000000ull;
        n++;
    }
    if (__wasi_poll_oneoff(sub, ev, n, &got) != 0) return -1;
    for (__wasi_size_t i = 0; i < got; i++)
        if (ev[i].userdata == 1) return ev[i].error == 0 ? 1 : -1;
    return 0;
}

/* UINT64_MAX ms: forever, as one clock subscription that never expires
 * (it needs no Timer session, as Genode's sleep_forever needs no timer). */
static void dummy_sleep_ms(uint64_t ms) {
    if (ms != UINT64_MAX) { comp_sleep_ms(ms); return; }
    __wasi_subscription_t sub = { 0 };
    __wasi_event_t ev;
    __wasi_size_t got = 0;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = UINT64_MAX;
    (void)__wasi_poll_oneoff(&sub, &ev, 1, &got);
}
#else
int dummy_wait_config(int fd, int64_t timeout_ns);
void dummy_sleep_ms(uint64_t ms);
#endif

static void dummy_sleep_forever(void) {
    for (;;) dummy_sleep_ms(UINT64_MAX);
}

/* ---- output ----------------------------------------------------------------------- */

/* Genode's Number_of_bytes: the largest of G, M, K that divides it, else bytes. */
static void pio_bytes(uint64_t v) {
    if (v == 0) { pio_c('0'); return; }
    if (v % (1ull << 30) == 0) { pio_u(v >> 30); pio_c('G'); return; }
    if (v % (1ull << 20) == 0) { pio_u(v >> 20); pio_c('M'); return; }
    if (v % (1ull << 10) == 0) { pio_u(v >> 10); pio_c('K'); return; }
    pio_u(v);
}

/* Appends at most max bytes of s (n bytes), not splitting a UTF-8 character. */
static void pio_cut(const char *s, uint32_t n, uint32_t max) {
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
    }
    for (uint32_t i = 0; i < n; i++) pio_c(s[i]);
}

/* ---- attributes (Genode's formats, config_node.h strings) --------------------------- */

static int parse_unsigned(const char *s, uint64_t *out) {
    uint64_t v = 0, base = 10;
    if (!s || !*s) return 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s += 2; if (!*s) return 0; }
    for (; *s; s++) {
        uint64_t d;
        if (*s >= '0' && *s <= '9') d = (uint64_t)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = (uint64_t)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = (uint64_t)(*s - 'A' + 10);
        else return 0;
        if (v > (UINT64_MAX - d) / base) return 0;
        v = v * base + d;
    }
    *out = v;
    return 1;
}

/* A number with at most one upper-case K, M or G (Genode's Number_of_bytes). */
static int parse_bytes(const char *s, uint64_t *out) {
    if (!s) return 0;
    size_t n = strlen(s);
    uint64_t shift = 0;
    char buf[40];
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n + 1);
    switch (buf[n - 1]) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    default: break;
    }
    if (shift) buf[n - 1] = 0;
    uint64_t v;
    if (!parse_unsigned(buf, &v) || (shift && v > (UINT64_MAX >> shift))) return 0;
    *out = v << shift;
    return 1;
}

static void warn_attr(const cn_doc_t *doc, int32_t node, const char *attr, const char *value, const char *fallback) {
    pio_s("Warning: "); pio_s(cn_type(doc, node)); pio_s(": ignoring "); pio_s(attr); pio_s("=\"");
    pio_cut(value, (uint32_t)strlen(value), 40);
    pio_s("\", using "); pio_s(fallback); pio_end();
}

static uint64_t attr_unsigned(const cn_doc_t *doc, int32_t node, const char *attr, uint64_t dflt, uint64_t max) {
    const char *v = cn_attr(doc, node, attr);
    uint64_t r;
    if (!v) return dflt;
    if (parse_unsigned(v, &r) && r <= max) return r;
    char d[24]; int k = 0; uint64_t x = dflt; char t[24]; int m = 0;
    do { t[m++] = (char)('0' + x % 10); x /= 10; } while (x);
    while (m) d[k++] = t[--m];
    d[k] = 0;
    warn_attr(doc, node, attr, v, d);
    return dflt;
}

static uint64_t attr_bytes(const cn_doc_t *doc, int32_t node, const char *attr) {
    const char *v = cn_attr(doc, node, attr);
    uint64_t r;
    if (!v) return 0;
    if (parse_bytes(v, &r)) return r;
    warn_attr(doc, node, attr, v, "0");
    return 0;
}

static int attr_bool(const cn_doc_t *doc, int32_t node, const char *attr, int dflt) {
    const char *v = cn_attr(doc, node, attr);
    if (!v) return dflt;
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on")) return 1;
    if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off")) return 0;
    warn_attr(doc, node, attr, v, dflt ? "yes" : "no");
    return dflt;
}

/* ---- LOG connections ------------------------------------------------------------------ */

static int32_t *log_connections;
static uint32_t log_connection_count;
static int log_connections_constructed;

static void destroy_log_connections(void) {
    if (!log_connections_constructed) return;
    while (log_connection_count > 0) session_close(log_connections[--log_connection_count]);
    free(log_connections);
    log_connections = 0;
    log_connections_constructed = 0;
    pio_line_s("destroyed all LOG connections");
}

static void create_log_connections(const cn_doc_t *doc, int32_t node) {
    destroy_log_connections();
    uint64_t count = attr_unsigned(doc, node, "count", 0, UINT32_MAX);
    uint64_t upgrade = attr_bytes(doc, node, "ram_upgrade");
    pio_s("going to create "); pio_u(count); pio_s(" LOG connections"); pio_end();
    log_connections_constructed = 1;
    log_connection_count = 0;
    log_connections = count ? malloc((size_t)count * sizeof *log_connections) : 0;
    if (count && !log_connections) {
        pio_s("Error: cannot create "); pio_u(count); pio_s(" LOG connections: out of memory"); pio_end();
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        char label[12];
        int n = 0;
        char t[12]; int m = 0; uint32_t x = i;
        do { t[m++] = (char)('0' + x % 10); x /= 10; } while (x);
        while (m) label[n++] = t[--m];
        int32_t h = session_open("LOG", 3, label, (uint32_t)n, 0);
        if (h < 0) {
            pio_s("Error: LOG connection "); pio_u(i); pio_s(" failed: "); pio_i(h);
            pio_s(" ("); pio_s(phantom_strerror(h)); pio_c(')'); pio_end();
            return;
        }
        log_connections[log_connection_count++] = h;
        if (upgrade > 0) {
            pio_s("upgrade connection "); pio_u(i); pio_end();
            int32_t r = session_upgrade(h, upgrade);
            if (r != 0) {
                pio_s("Warning: cannot upgrade connection "); pio_u(i); pio_s(" by "); pio_bytes(upgrade);
                pio_s(": "); pio_i(r); pio_s(" ("); pio_s(phantom_strerror(r)); pio_c(')'); pio_end();
            }
        }
    }
    pio_line_s("created all LOG connections");
}

/* ---- RAM and caps ----------------------------------------------------------------------- */

/* Set by handle_yield_requests: answer the parent's yield requests. */
static int handle_yield;

static uint8_t *ram_block;
static uint64_t ram_amount;

static void release_ram(void) {
    if (!ram_amount) return;
    pio_s("release "); pio_bytes(ram_amount); pio_s(" bytes of memory"); pio_end();
    /* Its pages go back to the parent only once zeroed and discarded: a
     * WebAssembly memory never shrinks. */
    memory_discard(ram_block, (uint32_t)(ram_amount < UINT32_MAX ? ram_amount : UINT32_MAX));
    free(ram_block);
    ram_block = 0;
    ram_amount = 0;
}

static void consume_ram(uint64_t amount) {
    release_ram();
    pio_s("consume "); pio_bytes(amount); pio_s(" bytes of memory"); pio_end();
    if (amount == 0) return;
    uint8_t *p = amount <= (uint64_t)SIZE_MAX ? malloc((size_t)amount) : 0;
    /* Out of RAM: ask the parent for more and try again once it answered
     * (Genode's base library does so when an allocation fails). */
    while (!p && amount <= (uint64_t)SIZE_MAX) {
        int32_t r = parent_resource_request(amount, 0);
        if (r != 0) break;
        p = malloc((size_t)amount);
    }
    if (!p) {
        pio_s("Error: cannot consume "); pio_bytes(amount);
        pio_s(" bytes of memory: out of RAM"); pio_end();
        return;
    }
    /* touch every 4 KiB page, and the last byte */
    for (uint64_t off = 0; off < amount; off += 4096) p[off] = (uint8_t)(off >> 12);
    p[amount - 1] = 0xa5;
    ram_block = p;
    ram_amount = amount;
}

static int32_t caps[DUMMY_MAX_CAPS];
static uint32_t caps_held;
static uint64_t caps_amount;

static void release_caps(void) {
    if (!caps_amount) return;
    pio_s("release "); pio_u(caps_amount); pio_s(" caps"); pio_end();
    while (caps_held > 0) session_close(caps[--caps_held]);
    caps_amount = 0;
}

static void consume_caps(uint64_t amount) {
    release_caps();
    pio_s("consume "); pio_u(amount); pio_s(" caps"); pio_end();
    uint64_t want = amount < DUMMY_MAX_CAPS ? amount : DUMMY_MAX_CAPS;
    for (uint32_t i = 0; i < want; i++) {
        char label[16] = "cap ";
        int n = 4;
        char t[12]; int m = 0; uint32_t x = i;
        do { t[m++] = (char)('0' + x % 10); x /= 10; } while (x);
        while (m) label[n++] = t[--m];
        int32_t h = session_open("PD", 2, label, (uint32_t)n, 0);
        /* Out of caps: ask the parent for the rest and try again. */
        while (h == PHANTOM_QUOTA && parent_resource_request(0, want - i) == 0)
            h = session_open("PD", 2, label, (uint32_t)n, 0);
        if (h < 0) {
            pio_s("Error: cannot consume cap "); pio_u(i); pio_s(": "); pio_i(h);
            pio_s(" ("); pio_s(phantom_strerror(h)); pio_c(')'); pio_end();
            break;
        }
        caps[caps_held++] = h;
    }
    caps_amount = amount;
}

/* ---- LOG service ------------------------------------------------------------------------- */

typedef struct {
    uint32_t id;
    uint8_t verbose;
    char *label;
} log_session_t;

static int log_service_announced;
static int log_service_verbose;
static uint64_t log_service_delay_close_ms;
static log_session_t *log_sessions;
static uint32_t log_session_count, log_session_cap;

static void create_log_service(const cn_doc_t *doc, int32_t node) {
    log_service_verbose = attr_bool(doc, node, "verbose", 0);
    log_service_delay_close_ms = attr_unsigned(doc, node, "delay_close_ms", 0, UINT32_MAX);
    if (!log_service_announced) {
        /* Closes are acknowledged once done, so that a delayed close shows
         * as CLOSE_REQUESTED meanwhile, as in Genode. */
        int32_t r = service_announce_flags("LOG", 3, PHANTOM_ANNOUNCE_ACK_CLOSE);
        if (r != 0) { comp_report_error("Error: dummy", "announce LOG", r); return; }
        log_service_announced = 1;
    }
    pio_line_s("created LOG service");
}

static log_session_t *log_session(uint32_t id) {
    for (uint32_t i = 0; i < log_session_count; i++)
        if (log_sessions[i].id == id) return &log_sessions[i];
    return 0;
}

static void log_session_open(const phantom_request_t *info, const char *label) {
    if (log_session_count == log_session_cap) {
        uint32_t cap = log_session_cap ? log_session_cap * 2 : 8;
        log_session_t *bigger = realloc(log_sessions, cap * sizeof *bigger);
        if (!bigger) { service_reply(info->request, PHANTOM_DENIED, 0, 0); return; }
        log_sessions = bigger;
        log_session_cap = cap;
    }
    char *copy = malloc((size_t)info->length + 1);
    if (!copy) { service_reply(info->request, PHANTOM_DENIED, 0, 0); return; }
    memcpy(copy, label, info->length);
    copy[info->length] = 0;
    log_session_t *s = &log_sessions[log_session_count++];
    s->id = info->session;
    s->verbose = (uint8_t)log_service_verbose;
    s->label = copy;
    if (s->verbose) { pio_s("opening session with label "); pio_s(copy); pio_end(); }
    service_reply(info->request, 0, 0, 0);
}

static void log_session_write(const phantom_request_t *info, const char *payload) {
    static const char delimiter[] = "\033[0m\n";
    log_session_t *s = log_session(info->session);
    uint32_t n = 0;
    while (n < info->length && !(info->length - n >= 5 && memcmp(payload + n, delimiter, 5) == 0)) n++;
    while (n > 0 && (payload[n - 1] == '\n' || payload[n - 1] == '\r')) n--;
    /* "[label] message", as one String<100> */
    static char message[DUMMY_MESSAGE_MAX + 8];
    uint32_t len = 0;
    const char *label = s ? s->label : "?";
    message[len++] = '[';
    for (const char *p = label; *p && len < DUMMY_MESSAGE_MAX + 1; p++) message[len++] = *p;
    for (const char *p = "] "; *p && len < DUMMY_MESSAGE_MAX + 1; p++) message[len++] = *p;
    for (uint32_t i = 0; i < n && len < DUMMY_MESSAGE_MAX + 1; i++) message[len++] = payload[i];
    pio_cut(message, len, DUMMY_MESSAGE_MAX);
    pio_end();
    service_reply(info->request, 0, 0, 0);
}

static void log_session_close(const phantom_request_t *info) {
    log_session_t *s = log_session(info->session);
    if (!s) {
        if (info->request) service_reply(info->request, 0, 0, 0);
        return;
    }
    if (log_service_delay_close_ms) {
        pio_s("delay close by "); pio_u(log_service_delay_close_ms); pio_s(" ms"); pio_end();
        dummy_sleep_ms(log_service_delay_close_ms);
    } else {
        pio_line_s("close session without delay");
    }
    if (s->verbose) { pio_s("closing session with label "); pio_s(s->label); pio_end(); }
    free(s->label);
    *s = log_sessions[--log_session_count];
    if (info->request) service_reply(info->request, 0, 0, 0);
}

static uint8_t *event_buf;
static uint32_t event_cap;

/* Takes and handles one event of the LOG service, waiting at most
 * timeout_ns. Returns 0 (handled), PHANTOM_TIMEOUT or an error. */
static int32_t serve(int64_t timeout_ns) {
    phantom_request_t info;
    if (!event_buf) {
        event_cap = 1024;
        event_buf = malloc(event_cap + 1);
        if (!event_buf) return PHANTOM_QUOTA;
    }
    for (;;) {
        memset(&info, 0, sizeof info);
        int32_t r = service_next(event_buf, event_cap, &info, timeout_ns);
        if (r == PHANTOM_TOO_BIG && info.length > event_cap) {
            uint8_t *bigger = malloc((size_t)info.length + 1);
            if (!bigger) {
                service_reply(info.request, info.kind == PHANTOM_EVENT_OPEN ? PHANTOM_DENIED : COMP_STATUS_REJECTED, 0, 0);
                return 0;
            }
            free(event_buf);
            event_buf = bigger;
            event_cap = info.length;
            continue;
        }
        if (r != 0) return r;
        uint32_t n = info.length <= event_cap ? info.length : event_cap;
        info.length = n;
        event_buf[n] = 0;
        switch (info.kind) {
        case PHANTOM_EVENT_OPEN: log_session_open(&info, (const char *)event_buf); break;
        case PHANTOM_EVENT_CALL: log_session_write(&info, (const char *)event_buf); break;
        case PHANTOM_EVENT_CLOSE: log_session_close(&info); break;
        case PHANTOM_EVENT_UPGRADE: pio_line_s("received session quota upgrade"); break;
        case PHANTOM_EVENT_YIELD:
            /* Genode's dummy: give back what it consumed, then respond. */
            if (!handle_yield) break;
            pio_line_s("got yield request");
            release_ram();
            release_caps();
            service_reply(info.request, 0, 0, 0);
            break;
        default: break;
        }
        return 0;
    }
}

/* ---- the config ---------------------------------------------------------------------------- */

static int config_fd = -1;
static char *config_text;
static uint32_t config_len, config_cap;
static uint32_t config_count;
static char config_version[DUMMY_STRING_MAX + 1];

/* Reads the whole config ROM from its start (which also tells the kernel
 * that this version has been seen). 0, or -1 (the text is then empty). */
static int read_config(void) {
    config_len = 0;
    if (config_fd < 0 || lseek(config_fd, 0, SEEK_SET) < 0) return -1;
    for (;;) {
        if (config_len + 1 >= config_cap) {
            uint32_t cap = config_cap ? config_cap * 2 : 4096;
            if (cap <= config_cap) return -1;
            char *bigger = realloc(config_text, cap);
            if (!bigger) return -1;
            config_text = bigger;
            config_cap = cap;
        }
        ssize_t r = read(config_fd, config_text + config_len, config_cap - 1 - config_len);
        if (r < 0) { config_len = 0; return -1; }
        if (r == 0) break;
        config_len += (uint32_t)r;
    }
    config_text[config_len] = 0;
    return 0;
}

/* Copies at most DUMMY_STRING_MAX bytes of s (Genode's String<50>). */
static void copy_string(char *out, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    if (n > DUMMY_STRING_MAX) {
        n = DUMMY_STRING_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
    }
    memcpy(out, s, n);
    out[n] = 0;
}

static void execute(const cn_doc_t *doc, int32_t node) {
    if (cn_type_is(doc, node, "create_log_connections")) create_log_connections(doc, node);
    else if (cn_type_is(doc, node, "destroy_log_connections")) destroy_log_connections();
    else if (cn_type_is(doc, node, "log_service")) create_log_service(doc, node);
    else if (cn_type_is(doc, node, "consume_ram")) consume_ram(attr_bytes(doc, node, "amount"));
    else if (cn_type_is(doc, node, "consume_caps")) consume_caps(attr_unsigned(doc, node, "amount", 0, UINT64_MAX));
    else if (cn_type_is(doc, node, "handle_yield_requests")) {
        handle_yield = 1;
    } else if (cn_type_is(doc, node, "sleep")) dummy_sleep_ms(attr_unsigned(doc, node, "ms", 100, UINT64_MAX / 1000000));
    else if (cn_type_is(doc, node, "sleep_forever")) dummy_sleep_forever();
    else if (cn_type_is(doc, node, "log")) {
        char text[DUMMY_STRING_MAX + 1];
        const char *s = cn_attr(doc, node, "string");
        copy_string(text, s ? s : "");
        pio_line_s(text);
    } else if (cn_type_is(doc, node, "exit")) exit(0);
    /* other nodes (vfs, libc, arg, ...) are not ours: ignored, as in Genode */
}

static void handle_config(void) {
    if (read_config() != 0 && config_fd >= 0) pio_line_s("Error: cannot read /rom/config");
    cn_doc_t doc;
    if (cn_parse(&doc, config_text ? config_text : "", config_len) != 0) {
        pio_s("Error: config: "); pio_s(doc.error); pio_s(" (config ignored)"); pio_end();
    }
    int32_t root = cn_root(&doc);
    char version[DUMMY_STRING_MAX + 1];
    const char *v = cn_attr(&doc, root, "version");
    copy_string(version, v ? v : "");
    if (config_count > 0 && strcmp(version, config_version) == 0) {
        cn_free(&doc);
        return;
    }
    config_count++;
    memcpy(config_version, version, sizeof version);
    if (config_version[0]) { pio_s("config "); pio_u(config_count); pio_s(": "); pio_s(config_version); pio_end(); }
    for (int32_t node = cn_first_child(&doc, root); node != CN_NONE; node = cn_next_sibling(&doc, node))
        execute(&doc, node);
    cn_free(&doc);
}

/* Whether the config may have changed, waiting at most timeout_ns (< 0:
 * until it changes). Should the kernel refuse to wait for the ROM, the
 * config is read again every second instead. */
static int config_watchable = 1;
static uint32_t config_polls;

static int config_changed(int64_t timeout_ns) {
    if (config_watchable) {
        int r = dummy_wait_config(config_fd, timeout_ns);
        if (r >= 0) return r;
        config_watchable = 0;
        pio_line_s("Error: cannot wait for changes of /rom/config: reading it every second");
    }
    if (timeout_ns < 0) { dummy_sleep_ms(1000); return 1; }
    if (++config_polls < 1000000000ull / DUMMY_SERVE_SLICE_NS) return 0;
    config_polls = 0;
    return 1;
}

int main(void) {
    config_fd = open(PHANTOM_ROM_DIR "/config", O_RDONLY);
    if (config_fd < 0) pio_line_s("Error: cannot open /rom/config: running with an empty config");
    handle_config();
    for (;;) {
        int changed = 0;
        if (log_service_announced || handle_yield) {
            int32_t r = serve(DUMMY_SERVE_SLICE_NS);
            if (r != 0 && r != PHANTOM_TIMEOUT) {
                comp_report_error("Error: dummy", "service_next", r);
                log_service_announced = 0;      /* stop serving, keep watching the config */
            }
            if (config_fd >= 0) changed = config_changed(0);
        } else if (config_fd >= 0) {
            changed = config_changed(-1);
        } else {
            dummy_sleep_forever();
        }
        if (changed) handle_config();
    }
}
