/*
 * opener.c - test component for the kernel: try to open one session.
 *
 * usage: opener SERVICE [LABEL [RAM_QUOTA]]
 *   or config keys service, label (default ""), ram_quota (default 0)
 *
 * Calls session_open(SERVICE, LABEL, RAM_QUOTA) and prints
 *     open SERVICE: R (NAME)
 * R is the handle (>= 1, NAME "ok") or the error (-1 denied, -2 invalid,
 * -3 quota, ...). A session that was opened is closed again. Exit value 0
 * when the open succeeded, 1 when it failed, 2 without a service name.
 * Made for routing/policy denial and quota tests.
 */
#include "component.h"

static char config[1024];
static char service[128], label[256];

int main(int argc, char **argv) {
    uint64_t quota = 0;
    if (argc > 1) {
        strncpy(service, argv[1], sizeof service - 1);
        if (argc > 2) strncpy(label, argv[2], sizeof label - 1);
        if (argc > 3) quota = pio_atou(argv[3], 0);
    } else {
        if (comp_read_file(PHANTOM_ROM_DIR "/config", config, sizeof config) < 0) config[0] = 0;
        cfg_get(config, "service", service, sizeof service);
        cfg_get(config, "label", label, sizeof label);
        quota = cfg_u64(config, "ram_quota", 0);
    }
    if (!service[0]) { pio_line_s("usage: opener SERVICE [LABEL [RAM_QUOTA]] (or config service=...)"); return 2; }
    int32_t r = session_open(service, phantom_strlen(service), label, phantom_strlen(label), quota);
    pio_s("open "); pio_s(service); pio_s(": "); pio_i(r);
    pio_s(" ("); pio_s(r > 0 ? "ok" : phantom_strerror(r)); pio_c(')');
    pio_end();
    if (r > 0) { session_close(r); return 0; }
    return 1;
}
