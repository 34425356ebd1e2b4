/*
 * historian.c - the "Historian" service of the default system.
 *
 * Announces "Historian". Each call's payload is one record
 * "seq,level,valve,alarm"; the historian appends the line
 *     seq,level,valve,alarm,crc
 * to /data/history.csv (a File_system session, preopened as /data), where
 * crc is the CRC-32 (IEEE, as zlib.crc32) of "seq,level,valve,alarm" as 8
 * lowercase hex digits, and replies status 0 once the line is written
 * (status 1, nothing written, for a payload that is empty, longer than 200
 * bytes or contains a newline or NUL).
 *
 * Restart safety: the file is opened without O_APPEND, and the historian
 * keeps its own offset in linear memory. Before each line it seeks to that
 * offset and writes the line with one write; only then the offset advances.
 * After a restore, the re-executed calls therefore write the same bytes at
 * the same places instead of appending duplicates.
 *
 * First start of an instance (a persistent flag): logs "historian: first
 * start"; if the file is empty, writes the header "seq,level,valve,alarm,crc";
 * otherwise (a restarted component, or a new system on old data) continues
 * after its last complete line, cutting off a torn one.
 * Logs "historian: N records" every 50 records.
 */
#include "component.h"

#ifndef HISTORY_PATH
#define HISTORY_PATH "/data/history.csv"
#endif

#define RECORD_MAX 200
static const char header[] = "seq,level,valve,alarm,crc\n";

static struct {
    int started;
    int fd;
    int64_t offset;      /* where the next line goes */
    uint64_t records;
} hs = { 0, -1, 0, 0 };

static void fail(const char *what) {
    pio_s("historian: "); pio_s(what); pio_s(" failed"); pio_end();
    exit(1);
}

/* Write n bytes at the tracked offset (seek, then one write). */
static void write_at_offset(const char *buf, uint32_t n) {
    if (lseek(hs.fd, (off_t)hs.offset, SEEK_SET) != (off_t)hs.offset) fail("seek");
    if (pio_write_all(hs.fd, buf, n) != 0) fail("write");
    hs.offset += n;
}

/* Opens the file; on an instance's first start also sets the offset. */
static void historian_start(const char *path) {
    hs.fd = open(path, O_RDWR | O_CREAT, 0644);
    if (hs.fd < 0) fail("open " HISTORY_PATH);
    if (hs.started) return;
    hs.started = 1;
    pio_line_s("historian: first start");
    off_t size = lseek(hs.fd, 0, SEEK_END);
    if (size < 0) fail("seek");
    if (size == 0) {
        hs.offset = 0;
        write_at_offset(header, sizeof header - 1);
        return;
    }
    /* continue after the last newline */
    char tail[256];
    off_t end = size;
    for (;;) {
        off_t start = end > (off_t)sizeof tail ? end - (off_t)sizeof tail : 0;
        if (lseek(hs.fd, start, SEEK_SET) != start) fail("seek");
        ssize_t got = 0;
        while (got < end - start) {
            ssize_t r = read(hs.fd, tail + got, (size_t)(end - start - got));
            if (r <= 0) fail("read");
            got += r;
        }
        ssize_t i = got - 1;
        while (i >= 0 && tail[i] != '\n') i--;
        if (i >= 0) { hs.offset = start + i + 1; break; }
        if (start == 0) { hs.offset = 0; break; }
        end = start;
    }
    if (hs.offset != size) {
        pio_s("historian: dropping a torn line of "); pio_u((uint64_t)(size - hs.offset));
        pio_s(" bytes"); pio_end();
        if (ftruncate(hs.fd, (off_t)hs.offset) != 0) fail("truncate");
    }
    if (hs.offset == 0) write_at_offset(header, sizeof header - 1);
    pio_s("historian: continuing at byte "); pio_u((uint64_t)hs.offset); pio_end();
}

/* Store one record. Returns the reply status: 0 stored, COMP_STATUS_REJECTED (1). */
static int32_t historian_record(const char *rec, uint32_t n) {
    char line[RECORD_MAX + 16];
    if (n == 0 || n > RECORD_MAX) return COMP_STATUS_REJECTED;
    for (uint32_t i = 0; i < n; i++)
        if (rec[i] == '\n' || rec[i] == '\r' || rec[i] == 0) return COMP_STATUS_REJECTED;
    memcpy(line, rec, n);
    uint32_t crc = comp_crc32(rec, n);
    static const char hex[] = "0123456789abcdef";
    line[n++] = ',';
    for (int k = 7; k >= 0; k--) line[n++] = hex[(crc >> (k * 4)) & 15];
    line[n++] = '\n';
    write_at_offset(line, n);
    hs.records++;
    if (hs.records % 50 == 0) {
        pio_s("historian: "); pio_u(hs.records); pio_s(" records"); pio_end();
    }
    return 0;
}

/* One event of the service. */
static void historian_event(const phantom_request_t *info, const char *data) {
    if (info->kind == PHANTOM_EVENT_OPEN) {
        service_reply(info->request, 0, 0, 0);
    } else if (info->kind == PHANTOM_EVENT_CALL) {
        int32_t status = historian_record(data, info->length);
        service_reply(info->request, status, 0, 0);
    }
}

#ifndef HISTORIAN_NO_MAIN
int main(void) {
    historian_start(HISTORY_PATH);
    int32_t r = phantom_announce_str("Historian");
    if (r != 0) { comp_report_error("historian", "announce", r); return 1; }
    for (;;) {
        phantom_request_t info;
        const char *data;
        r = comp_next_event(&info, &data);
        if (r != 0) { comp_report_error("historian", "service_next", r); return 1; }
        historian_event(&info, data);
    }
}
#endif
