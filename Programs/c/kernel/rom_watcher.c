/*
 * rom_watcher.c - test component for the kernel: ROM updates.
 *
 * Reads /rom/config through WASI and prints it: "rom_watcher: /rom/config
 * N bytes", then each line of the content as is. Then opens a session
 * session_open("ROM", "config") and loops: calls it with the last version
 * it has seen (first 0, i.e. an empty request, which returns at once), and
 * prints
 *     config V: FIRST_LINE
 * for each version V it receives (FIRST_LINE = the content up to the first
 * newline). Every call after the first blocks until the ROM's version
 * changes. Errors print "rom_watcher: <what> failed: CODE (NAME)".
 */
#include "component.h"

static char initial[4096];
static char *content;
static uint32_t capacity;
static uint32_t version;

static void print_lines(const char *s, uint32_t n) {
    uint32_t i = 0;
    while (i < n) {
        uint32_t j = i;
        while (j < n && s[j] != '\n') j++;
        for (uint32_t k = i; k < j; k++) pio_c(s[k]);
        pio_end();
        i = j + 1;
    }
}

int main(void) {
    int32_t n = comp_read_file(PHANTOM_ROM_DIR "/config", initial, sizeof initial);
    if (n < 0) {
        pio_line_s("rom_watcher: cannot read /rom/config");
    } else {
        pio_s("rom_watcher: /rom/config "); pio_u((uint64_t)n); pio_s(" bytes"); pio_end();
        print_lines(initial, (uint32_t)n);
    }
    int32_t rom = phantom_open_str("ROM", "config");
    if (rom < 0) { comp_report_error("rom_watcher", "open ROM config", rom); return 1; }
    capacity = 4096;
    content = malloc(capacity);
    if (!content) return 1;
    for (;;) {
        uint32_t len = 0;
        int32_t r = phantom_rom_read(rom, version, content, capacity, &len);
        if (r == PHANTOM_TOO_BIG && len > capacity) {
            char *bigger = malloc(len);
            if (!bigger) { comp_report_error("rom_watcher", "grow buffer", PHANTOM_QUOTA); return 1; }
            free(content);
            content = bigger;
            capacity = len;
            continue;   /* the same known version: returns at once */
        }
        if (r < 0) { comp_report_error("rom_watcher", "ROM call", r); return 1; }
        version = (uint32_t)r;
        uint32_t end = 0;
        while (end < len && end < capacity && content[end] != '\n') end++;
        pio_s("config "); pio_u(version); pio_s(": ");
        for (uint32_t k = 0; k < end; k++) pio_c(content[k]);
        pio_end();
    }
}
