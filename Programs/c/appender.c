/*
 * appender.c - append numbered lines to a file, continuing across runs.
 *
 * usage: appender PATH [COUNT [SLOW]]
 *   PATH   file inside a preopened directory (e.g. run with --dir /data and
 *          pass /data/log.txt)
 *   COUNT  lines to append in this run (default 10; 0 = forever)
 *   SLOW   busy-work rounds between lines (default 0), to pace the run
 *
 * On start the program opens PATH (creating it), seeks to the end to learn
 * its size, reads back the tail and parses the last complete line
 * "line N ...". It then appends lines N+1, N+2, ... each with a single
 * write, and prints "append N" to stdout after each one. A partial last
 * line (no trailing newline) is reported as "torn ..." and overwritten
 * (the file is truncated back to the last newline before appending).
 *
 * WASI calls exercised: path_open, fd_seek (lseek SEEK_END/SEEK_SET),
 * fd_read, fd_write, fd_filestat_set_size (ftruncate), fd_sync, fd_close.
 *
 * Invariant: the file always consists of lines "line 1", "line 2", ...,
 * "line M" with no gap and no duplicate, even if the process is killed and
 * resumed (or restarted) at any point. stdout shows "resume N" (the last
 * line found on start) then "append N+1" ... ; "done M" at the end.
 */
#include <fcntl.h>
#include <stdlib.h>
#include "pio.h"

#define TAIL 256

static void fail(const char *what) {
    pio_s("error "); pio_s(what); pio_end();
    exit(2);
}

int main(int argc, char **argv) {
    const char *path = pio_arg(argc, argv, 1);
    if (!path) { pio_line_s("usage: appender PATH [COUNT [SLOW]]"); return 2; }
    uint64_t count = pio_atou(pio_arg(argc, argv, 2), 10);
    uint64_t slow = pio_atou(pio_arg(argc, argv, 3), 0);

    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) fail("open");

    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0) fail("seek end");

    uint64_t last = 0;
    off_t keep = 0;             /* bytes of the file that are complete lines */
    if (size > 0) {
        char tail[TAIL + 1];
        off_t start = size > TAIL ? size - TAIL : 0;
        if (lseek(fd, start, SEEK_SET) != start) fail("seek tail");
        ssize_t got = 0;
        while (got < size - start) {
            ssize_t r = read(fd, tail + got, (size_t)(size - start - got));
            if (r <= 0) fail("read");
            got += r;
        }
        tail[got] = 0;
        /* last newline -> end of the last complete line */
        ssize_t nl = got - 1;
        while (nl >= 0 && tail[nl] != '\n') nl--;
        if (nl != got - 1) {
            pio_s("torn "); pio_u((uint64_t)(got - 1 - nl)); pio_s(" bytes"); pio_end();
        }
        keep = nl >= 0 ? start + nl + 1 : (start == 0 ? 0 : -1);
        if (keep < 0) fail("tail has no newline");
        if (nl >= 0) {
            ssize_t b = nl - 1;
            while (b >= 0 && tail[b] != '\n') b--;
            const char *ln = tail + b + 1;
            if (strncmp(ln, "line ", 5) != 0) fail("bad last line");
            for (ln += 5; *ln >= '0' && *ln <= '9'; ln++) last = last * 10 + (uint64_t)(*ln - '0');
        }
        if (keep != size && ftruncate(fd, keep) != 0) fail("truncate");
    }
    if (lseek(fd, keep, SEEK_SET) != keep) fail("seek append");

    pio_s("resume "); pio_u(last); pio_end();

    uint64_t busy = 0x2545F4914F6CDD1DULL;
    for (uint64_t i = 0; count == 0 || i < count; i++) {
        uint64_t n = last + 1 + i;
        char buf[64];
        unsigned len = 0;
        const char *p = "line ";
        while (*p) buf[len++] = *p++;
        char tmp[24]; int t = 0; uint64_t v = n;
        do { tmp[t++] = (char)('0' + v % 10); v /= 10; } while (v);
        while (t) buf[len++] = tmp[--t];
        buf[len++] = '\n';
        if (pio_write_all(fd, buf, len) != 0) fail("write");
        pio_s("append "); pio_u(n); pio_end();
        for (uint64_t k = 0; k < slow; k++) { busy ^= busy << 13; busy ^= busy >> 7; busy ^= busy << 17; }
    }
    if (fsync(fd) != 0) fail("fsync");
    if (close(fd) != 0) fail("close");
    pio_s("done "); pio_u(last + count);
    if (busy == 0) pio_s(" busy0");
    pio_end();
    return 0;
}
