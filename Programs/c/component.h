/*
 * component.h - helpers shared by the C components of the default system
 * (c/system/) and the kernel's test components (c/kernel/): config parsing,
 * sleeping, reading a whole file, CRC-32 and a server's event loop with a
 * buffer that grows to fit.
 *
 * Header-only (every component is one .c file). Everything a component
 * keeps lives in its linear memory (statics or the heap), so it is part of
 * every snapshot: after a restart the component continues where the last
 * committed generation left it.
 *
 * Builds natively too (for logic tests with a stub of the session ABI); the
 * ROM directory is then PHANTOM_ROM_DIR instead of /rom.
 */
#ifndef PHANTOM_COMPONENT_H
#define PHANTOM_COMPONENT_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include "pio.h"
#include "phantom_session.h"

#ifndef PHANTOM_ROM_DIR
#define PHANTOM_ROM_DIR "/rom"
#endif

/* ---- time ------------------------------------------------------------------ */

/* Sleep ms milliseconds (nanosleep: one poll_oneoff with a relative clock
 * subscription, which the kernel serves with the component's Timer). */
static inline void comp_sleep_ms(uint64_t ms) {
    struct timespec req = { (time_t)(ms / 1000), (long)((ms % 1000) * 1000000) };
    while (nanosleep(&req, &req) != 0 && errno == EINTR) {}
}

/* ---- files ------------------------------------------------------------------ */

/* Read up to cap-1 bytes of path into buf, NUL-terminated. Returns the length
 * or -1 when the file cannot be opened or read. */
static inline int32_t comp_read_file(const char *path, char *buf, uint32_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    uint32_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) { close(fd); return -1; }
        if (r == 0) break;
        n += (uint32_t)r;
    }
    buf[n] = 0;
    close(fd);
    return (int32_t)n;
}

/* ---- config parsing -----------------------------------------------------------
 * Finds `key` as a whole word followed by optional blanks, '=' or ':',
 * optional blanks and a value, optionally in single or double quotes. So the
 * same key is found in Genode XML (<config period_ms="200"/>), in HID
 * (config | period_ms: 200), and in plain "key=value" lines. */

static inline int comp_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static inline int comp_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Copies the value of key into out (NUL-terminated, truncated to cap-1).
 * Returns 1 if the key was found, 0 otherwise. */
static inline int cfg_get(const char *text, const char *key, char *out, uint32_t cap) {
    uint32_t klen = (uint32_t)strlen(key);
    if (!text || klen == 0 || cap == 0) return 0;
    for (const char *p = text; (p = strstr(p, key)) != 0; p++) {
        if (p > text && comp_word_char(p[-1])) continue;
        const char *q = p + klen;
        if (comp_word_char(*q)) continue;
        while (*q == ' ' || *q == '\t') q++;
        if (*q != '=' && *q != ':') continue;
        q++;
        while (*q == ' ' || *q == '\t') q++;
        uint32_t n = 0;
        if (*q == '"' || *q == '\'') {
            char quote = *q++;
            while (*q && *q != quote && *q != '\n') {
                if (n + 1 < cap) out[n++] = *q;
                q++;
            }
        } else {
            while (*q && !comp_blank(*q) && *q != '<' && *q != '>' && *q != ',' && *q != ';' &&
                   *q != '"' && *q != '\'' && !(*q == '/' && q[1] == '>')) {
                if (n + 1 < cap) out[n++] = *q;
                q++;
            }
        }
        out[n] = 0;
        return 1;
    }
    return 0;
}

/* Unsigned decimal value of key, or dflt when absent or not a number. */
static inline uint64_t cfg_u64(const char *text, const char *key, uint64_t dflt) {
    char v[32];
    if (!cfg_get(text, key, v, sizeof v)) return dflt;
    return pio_atou(v, dflt);
}

/* Parses [-]digits[.digits] (no exponent). Returns 1 and *out, or 0.
 * The digits are collected as an integer and divided by a power of ten
 * once, so up to 15 significant digits give the correctly rounded double
 * ("52.31" -> the same double as the literal 52.31). */
static inline int comp_parse_double(const char *s, double *out) {
    int neg = 0, digits = 0, decimals = 0;
    double mantissa = 0.0, scale = 1.0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    for (; *s >= '0' && *s <= '9'; s++, digits++) mantissa = mantissa * 10.0 + (double)(*s - '0');
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++, decimals++) {
            mantissa = mantissa * 10.0 + (double)(*s - '0');
            if (decimals < 22) scale *= 10.0;
        }
    }
    if (digits == 0 || *s) return 0;
    double v = mantissa / scale;
    *out = neg ? -v : v;
    return 1;
}

/* Decimal value of key, or dflt when absent or not a number. */
static inline double cfg_double(const char *text, const char *key, double dflt) {
    char v[32];
    double d;
    if (!cfg_get(text, key, v, sizeof v) || !comp_parse_double(v, &d)) return dflt;
    return d;
}

/* Value of "name=" in a text like "seq=17 level=52.31": like cfg_get for
 * numbers, returns dflt when absent. */
static inline double field_double(const char *text, const char *name, double dflt) {
    return cfg_double(text, name, dflt);
}

/* ---- CRC-32 (IEEE 802.3, as zlib's crc32 / Python's zlib.crc32) ------------------ */

static inline uint32_t comp_crc32(const void *data, uint32_t len) {
    const uint8_t *p = (const uint8_t *)data;
    uint32_t crc = 0xffffffffu;
    for (uint32_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- server event loop ------------------------------------------------------------ */

/* Status of a call the server did not carry out (bad or oversized request).
 * Servers here never answer a call with a negative status: negative results
 * of session_call are the kernel's errors. */
#define COMP_STATUS_REJECTED 1

static uint8_t *comp_event_buf;
static uint32_t comp_event_cap;

/* Wait (forever) for the next event of this component's services. The label
 * or payload is returned NUL-terminated (info->length bytes before the NUL).
 * The buffer grows when an event does not fit (PHANTOM_TOO_BIG leaves the
 * event queued with info->length = needed size). Returns 0 with *data set, or
 * a negative error. */
static inline int32_t comp_next_event(phantom_request_t *info, const char **data) {
    if (!comp_event_buf) {
        comp_event_cap = 1024;
        comp_event_buf = malloc(comp_event_cap + 1);
        if (!comp_event_buf) return PHANTOM_QUOTA;
    }
    for (;;) {
        int32_t r = service_next(comp_event_buf, comp_event_cap, info, -1);
        if (r == 0) {
            uint32_t n = info->length <= comp_event_cap ? info->length : comp_event_cap;
            comp_event_buf[n] = 0;
            *data = (const char *)comp_event_buf;
            return 0;
        }
        if (r != PHANTOM_TOO_BIG || info->length <= comp_event_cap) return r;
        uint8_t *bigger = malloc((size_t)info->length + 1);
        if (!bigger) {
            /* cannot take it: refuse it so it leaves the queue (deny an open,
             * answer a call with COMP_STATUS_REJECTED) */
            int32_t status = info->kind == PHANTOM_EVENT_OPEN ? PHANTOM_DENIED : COMP_STATUS_REJECTED;
            if (service_reply(info->request, status, 0, 0) != 0) return PHANTOM_QUOTA;
            continue;
        }
        free(comp_event_buf);
        comp_event_buf = bigger;
        comp_event_cap = info->length;
    }
}

/* Print "<who>: <what> failed: <code> (<name>)". */
static inline void comp_report_error(const char *who, const char *what, int32_t code) {
    pio_s(who); pio_s(": "); pio_s(what); pio_s(" failed: "); pio_i(code);
    pio_s(" ("); pio_s(phantom_strerror(code)); pio_c(')'); pio_end();
}

#endif
