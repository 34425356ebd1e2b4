/*
 * stub_kernel.c - a native, single-process stand-in for the kernel's side of
 * the session ABI, to test the C components' logic (config parsing, the
 * controller, the historian's file, CRC, echo) without the Phantom kernel.
 * Not a fixture: run.sh builds and runs it natively.
 *
 * Servers are called synchronously: session_open/call/close hand the event
 * straight to the server's event function (compiled in from its source with
 * its main left out), which must answer through service_reply before it
 * returns. Built-ins: LOG (prints "[log LABEL] TEXT"), Report (keeps the
 * last one), Timer (checks the 8-byte request, does not sleep), ROM "config"
 * (versions 1, 2, 3, then the test stops). A client's endless loop is ended
 * with longjmp after a set number of sensor calls or ROM versions.
 *
 * usage: stub_kernel unit | system CYCLES | historian-restart | echo CALLS |
 *        rom | opener SERVICE [LABEL [QUOTA]]
 * (run in a scratch directory: "rom/config" and "data/" are relative)
 */
#include <setjmp.h>
#include <stdio.h>
#include "component.h"
#include "t_servers.h"

static jmp_buf stop;
static const char *client = "client";
static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* ---- servers and sessions ---------------------------------------------------------- */

typedef void (*server_fn)(const phantom_request_t *, const char *);
enum { B_LOG = 100, B_REPORT, B_TIMER, B_ROM };
static const struct { const char *name; server_fn fn; int builtin; } services[] = {
    { "Sensor", t_sensor_event, 0 }, { "Historian", t_historian_event, 0 }, { "Echo", t_echo_event, 0 },
    { "LOG", 0, B_LOG }, { "Report", 0, B_REPORT }, { "Timer", 0, B_TIMER }, { "ROM", 0, B_ROM },
};
#define NSERVICES (int)(sizeof services / sizeof services[0])

static struct { int used, service; uint32_t sid; char label[256]; } sessions[16];
static uint32_t next_sid = 100, next_request = 1000;

static int replied;
static uint32_t awaited;
static int32_t reply_status;
static char reply_data[65536];
static uint32_t reply_len;

static uint64_t sensor_calls, sensor_limit;
static uint32_t rom_version = 1;
static char last_report[512];
static uint64_t reports;

int32_t service_announce(const char *service, uint32_t len) { (void)service; (void)len; return 0; }

int32_t service_next(void *buffer, uint32_t capacity, phantom_request_t *info, int64_t timeout_ns) {
    (void)buffer; (void)capacity; (void)info; (void)timeout_ns;
    fprintf(stderr, "stub: service_next is not used natively\n");
    abort();
}

int32_t service_reply(uint32_t request, int32_t status, const void *data, uint32_t len) {
    CHECK(request == awaited && !replied, "reply to %u (awaiting %u, replied %d)", request, awaited, replied);
    CHECK(len <= sizeof reply_data, "reply too long");
    replied = 1;
    reply_status = status;
    reply_len = len;
    if (len) memcpy(reply_data, data, len);
    return 0;
}

static int32_t deliver(int service, uint32_t kind, uint32_t sid, const void *data, uint32_t len, uint64_t quota) {
    static char buf[65536 + 1];
    phantom_request_t info = { kind, sid, kind == PHANTOM_EVENT_CLOSE ? 0 : ++next_request, len, quota };
    memcpy(buf, data, len);
    buf[len] = 0;
    replied = 0;
    awaited = info.request;
    services[service].fn(&info, buf);
    if (kind == PHANTOM_EVENT_CLOSE) return 0;
    CHECK(replied, "%s did not reply to event kind %u", services[service].name, kind);
    return reply_status;
}

int32_t session_open(const char *service, uint32_t service_len, const char *label, uint32_t label_len,
                     uint64_t ram_quota) {
    int s;
    for (s = 0; s < NSERVICES; s++)
        if (strlen(services[s].name) == service_len && memcmp(services[s].name, service, service_len) == 0) break;
    if (s == NSERVICES) return PHANTOM_DENIED;
    if (ram_quota > (1ull << 30)) return PHANTOM_QUOTA;
    int h;
    for (h = 1; h < 16 && sessions[h].used; h++) {}
    if (h == 16) return PHANTOM_QUOTA;
    snprintf(sessions[h].label, sizeof sessions[h].label, "%s%s%.*s", client, label_len ? " -> " : "",
             (int)label_len, label);
    sessions[h].service = s;
    sessions[h].sid = ++next_sid;
    if (!services[s].builtin) {
        int32_t r = deliver(s, PHANTOM_EVENT_OPEN, sessions[h].sid, sessions[h].label,
                            (uint32_t)strlen(sessions[h].label), ram_quota);
        if (r < 0) return PHANTOM_DENIED;
    }
    sessions[h].used = 1;
    return h;
}

static int32_t give_reply(const void *data, uint32_t len, void *reply, uint32_t cap, uint32_t *reply_len_out) {
    *reply_len_out = len;
    if (len > cap) return PHANTOM_TOO_BIG;
    if (len) memcpy(reply, data, len);
    return 0;
}

int32_t session_call(int32_t handle, const void *request, uint32_t request_len, void *reply,
                     uint32_t reply_capacity, uint32_t *reply_len_out) {
    if (handle < 1 || handle >= 16 || !sessions[handle].used) return PHANTOM_INVALID;
    int s = sessions[handle].service;
    switch (services[s].builtin) {
    case B_LOG:
        printf("[log %s] %.*s\n", sessions[handle].label, (int)request_len, (const char *)request);
        fflush(stdout);
        return give_reply(0, 0, reply, reply_capacity, reply_len_out);
    case B_REPORT:
        CHECK(request_len < sizeof last_report, "report too long");
        memcpy(last_report, request, request_len);
        last_report[request_len] = 0;
        reports++;
        return give_reply(0, 0, reply, reply_capacity, reply_len_out);
    case B_TIMER:
        CHECK(request_len == 8, "timer request of %u bytes", request_len);
        return give_reply(0, 0, reply, reply_capacity, reply_len_out);
    case B_ROM: {
        char content[64];
        if (request_len == 4) {
            const uint8_t *p = request;
            uint32_t known = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
            if (known == rom_version) {               /* "blocks" until the next version */
                if (rom_version == 3) longjmp(stop, 1);
                rom_version++;
            }
        } else {
            CHECK(request_len == 0, "ROM request of %u bytes", request_len);
        }
        snprintf(content, sizeof content, "<config version=\"%u\"/>\nsecond line\n", rom_version);
        int32_t r = give_reply(content, (uint32_t)strlen(content), reply, reply_capacity, reply_len_out);
        return r < 0 ? r : (int32_t)rom_version;
    }
    default:
        break;
    }
    if (s == 0 && sensor_limit && sensor_calls++ == sensor_limit) longjmp(stop, 1);
    int32_t status = deliver(s, PHANTOM_EVENT_CALL, sessions[handle].sid, request, request_len, 0);
    int32_t r = give_reply(reply_data, reply_len, reply, reply_capacity, reply_len_out);
    return r < 0 ? r : status;
}

int32_t session_close(int32_t handle) {
    if (handle < 1 || handle >= 16 || !sessions[handle].used) return PHANTOM_INVALID;
    if (!services[sessions[handle].service].builtin)
        deliver(sessions[handle].service, PHANTOM_EVENT_CLOSE, sessions[handle].sid, 0, 0, 0);
    sessions[handle].used = 0;
    return 0;
}

/* ---- unit tests of component.h ------------------------------------------------------- */

static void expect_get(const char *text, const char *key, int found, const char *value) {
    char v[64] = "?";
    int f = cfg_get(text, key, v, sizeof v);
    CHECK(f == found, "cfg_get(%s, %s) found=%d", text, key, f);
    if (found && f) CHECK(strcmp(v, value) == 0, "cfg_get(%s, %s) = '%s', expected '%s'", text, key, v, value);
}

static void unit(void) {
    expect_get("<config period_ms=\"150\" high=\"85.5\" low=\"10\"/>", "period_ms", 1, "150");
    expect_get("<config period_ms=\"150\" high=\"85.5\" low=\"10\"/>", "high", 1, "85.5");
    expect_get("<config period_ms=\"150\" high=\"85.5\" low=\"10\"/>", "low", 1, "10");
    expect_get("<config low=10/>", "low", 1, "10");
    expect_get("config\n  | period_ms: 300\n  | high: 90\n", "period_ms", 1, "300");
    expect_get("config\n  | period_ms: 300\n  | high: 90\n", "high", 1, "90");
    expect_get("period_ms = '250' ; high : \"70\"", "period_ms", 1, "250");
    expect_get("period_ms = '250' ; high : \"70\"", "high", 1, "70");
    expect_get("thigh=3 high_x=4 xhigh=5 high=6", "high", 1, "6");      /* whole words only */
    expect_get("<config name=\"high\" high=\"77\"/>", "high", 1, "77");   /* not a value */
    expect_get("<config period_ms=\"150\"/>", "high", 0, "");
    expect_get("", "high", 0, "");
    expect_get("high", "high", 0, "");
    expect_get("high=", "high", 1, "");
    expect_get("<config service=\"Echo\" label=\"a b\"/>", "label", 1, "a b");
    expect_get("<config service=Echo/>", "service", 1, "Echo");
    expect_get("<config path=/data/x.csv/>", "path", 1, "/data/x.csv");

    CHECK(cfg_u64("period_ms=\"150\"", "period_ms", 200) == 150, "cfg_u64");
    CHECK(cfg_u64("period_ms=\"15x\"", "period_ms", 200) == 200, "cfg_u64 non-number");
    CHECK(cfg_u64("", "period_ms", 200) == 200, "cfg_u64 default");
    CHECK(cfg_double("high=85.25", "high", 80) == 85.25, "cfg_double");
    CHECK(cfg_double("high=-3.5", "high", 80) == -3.5, "cfg_double negative");
    CHECK(cfg_double("high=.5", "high", 80) == 0.5, "cfg_double .5");
    CHECK(cfg_double("high=abc", "high", 80) == 80, "cfg_double non-number");
    CHECK(cfg_double("high=1e3", "high", 80) == 80, "cfg_double exponent");
    CHECK(cfg_double("high=", "high", 80) == 80, "cfg_double empty");
    CHECK(field_double("seq=17 level=52.31 inflow=5.12 temp=21.80", "level", -1) == 52.31, "field level");
    CHECK(cfg_u64("seq=17 level=52.31", "seq", 0) == 17, "field seq");

    CHECK(comp_crc32("123456789", 9) == 0xcbf43926u, "crc32 check value");
    CHECK(comp_crc32("", 0) == 0, "crc32 empty");
    CHECK(phantom_strlen("abc") == 3, "phantom_strlen");
    CHECK(strcmp(phantom_strerror(PHANTOM_TOO_BIG), "too big") == 0, "strerror");
    CHECK(sizeof(phantom_request_t) == 24, "struct size");
    CHECK(__builtin_offsetof(phantom_request_t, ram_quota) == 16, "ram_quota offset");
    printf("unit: %s\n", failures ? "FAILED" : "ok");
}

/* ---- scenarios -------------------------------------------------------------------------- */

static void historian_restart(void) {
    /* A run without a restart, then one that "restores" the historian's memory
     * to an earlier cut and re-executes the calls: the files must be equal. */
    static const char *records[] = { "1,50.00,40.00,none", "2,50.50,42.00,none", "3,51.00,44.00,none",
                                     "4,51.20,45.00,none", "5,51.30,45.50,none", "6,51.10,45.00,none" };
    phantom_request_t info = { PHANTOM_EVENT_CALL, 1, 0, 0, 0 };
    t_historian_start("data/history.csv");
    for (int i = 0; i < 2; i++) {
        info.request = awaited = ++next_request; info.length = (uint32_t)strlen(records[i]); replied = 0;
        t_historian_event(&info, records[i]);
        CHECK(replied && reply_status == 0, "record %d", i);
    }
    t_historian_snapshot();
    for (int i = 2; i < 5; i++) {
        info.request = awaited = ++next_request; info.length = (uint32_t)strlen(records[i]); replied = 0;
        t_historian_event(&info, records[i]);
    }
    t_historian_restore();       /* kill -9 and restore: calls 2..4 are re-executed */
    for (int i = 2; i < 6; i++) {
        info.request = awaited = ++next_request; info.length = (uint32_t)strlen(records[i]); replied = 0;
        t_historian_event(&info, records[i]);
    }
    static const char *bad[] = { "", "1,2\n3", "x" };
    for (int i = 0; i < 2; i++) {
        info.request = awaited = ++next_request; info.length = (uint32_t)strlen(bad[i]); replied = 0;
        t_historian_event(&info, bad[i]);
        CHECK(replied && reply_status == 1, "bad record %d not rejected", i);
    }
    printf("historian-restart: done\n");
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "unit";
    setvbuf(stdout, 0, _IONBF, 0);
    if (strcmp(mode, "unit") == 0) {
        unit();
    } else if (strcmp(mode, "system") == 0) {
        sensor_limit = argc > 2 ? strtoull(argv[2], 0, 10) : 1000;
        static char config[1024];
        if (comp_read_file("rom/sensor_config", config, sizeof config) >= 0) t_sensor_configure(config);
        client = "historian";                  /* (its own start, no session) */
        t_historian_start("data/history.csv");
        client = "control";
        if (setjmp(stop) == 0) control_main();
        printf("stopped after %llu sensor calls, %llu reports, last %s\n",
               (unsigned long long)sensor_calls - 1, (unsigned long long)reports, last_report);
    } else if (strcmp(mode, "historian-restart") == 0) {
        historian_restart();
    } else if (strcmp(mode, "echo") == 0) {
        client = "echo_client";
        char *args[] = { "echo_client", argc > 2 ? argv[2] : "3", 0 };
        int r = echo_client_main(2, args);
        printf("exit %d\n", r);
    } else if (strcmp(mode, "rom") == 0) {
        client = "rom_watcher";
        if (setjmp(stop) == 0) rom_watcher_main();
        printf("stopped at version %u\n", rom_version);
    } else if (strcmp(mode, "opener") == 0) {
        client = "opener";
        int r = opener_main(argc - 1, argv + 1);
        printf("exit %d\n", r);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return failures ? 1 : 0;
}
