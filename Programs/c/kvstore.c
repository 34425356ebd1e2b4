/*
 * kvstore.c - a tiny key-value store kept in a file of a preopened directory.
 *
 * usage: kvstore DIR CMD... where CMD is one of
 *   set KEY VALUE   store (or replace) KEY
 *   get KEY         print "KEY=VALUE" or "KEY (nil)"
 *   del KEY         remove KEY (and its dump file, if any)
 *   list            print every "KEY=VALUE" sorted by key, then "count N"
 *   dump            write every entry to DIR/dump/KEY (mkdir if needed), then
 *                   list DIR/dump with sizes: "dump KEY size=N"
 *   undump          delete every file in DIR/dump and the directory itself
 *   stat            print "db size=N" (size of DIR/kv.db)
 * Commands run left to right; e.g. `kvstore /d set a 1 set b 2 list`.
 *
 * The database is DIR/kv.db, one "KEY=VALUE" line per entry. Every
 * modification rewrites it crash-safely: write DIR/kv.db.tmp, fsync, close,
 * then rename over DIR/kv.db.
 *
 * WASI calls exercised: path_open, fd_read, fd_write, fd_sync, fd_close,
 * path_rename, path_create_directory, fd_readdir, path_filestat_get,
 * path_unlink_file, path_remove_directory.
 *
 * Invariant: kv.db is always either the old or the new complete database
 * (never a mix), whatever point a kill -9 lands on; a resumed run finishes
 * the remaining commands and the final `list` matches a clean run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "pio.h"

#define MAXE 256
#define KLEN 64
#define VLEN 256
#define PLEN 512

static char keys[MAXE][KLEN];
static char vals[MAXE][VLEN];
static int nent;
static const char *dir;

static void fail(const char *what, const char *arg) {
    pio_s("error "); pio_s(what);
    if (arg) { pio_c(' '); pio_s(arg); }
    pio_s(" errno="); pio_u((uint64_t)errno); pio_end();
    exit(2);
}

static void join(char *out, const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb + 1 > PLEN) fail("path too long", b);
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
}

static int find(const char *k) {
    for (int i = 0; i < nent; i++) if (strcmp(keys[i], k) == 0) return i;
    return -1;
}

static void copy(char *dst, const char *src, size_t cap, const char *what) {
    size_t n = strlen(src);
    if (n >= cap) fail("too long", what);
    memcpy(dst, src, n + 1);
}

static void load(void) {
    char path[PLEN];
    join(path, dir, "kv.db");
    int fd = open(path, O_RDONLY);
    if (fd < 0) { if (errno == ENOENT) return; fail("open", path); }
    static char buf[MAXE * (KLEN + VLEN + 2)];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r < 0) fail("read", path);
        if (r == 0) break;
        got += (size_t)r;
        if (got == sizeof buf - 1) fail("db too large", path);
    }
    close(fd);
    buf[got] = 0;
    char *line = buf;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (!nl) fail("torn db line", line);   /* rename makes this impossible */
        *nl = 0;
        char *eq = strchr(line, '=');
        if (!eq) fail("bad db line", line);
        *eq = 0;
        if (nent == MAXE) fail("too many entries", line);
        copy(keys[nent], line, KLEN, "key");
        copy(vals[nent], eq + 1, VLEN, "value");
        nent++;
        line = nl + 1;
    }
}

static void save(void) {
    char tmp[PLEN], path[PLEN];
    join(tmp, dir, "kv.db.tmp");
    join(path, dir, "kv.db");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) fail("open", tmp);
    for (int i = 0; i < nent; i++) {
        char line[KLEN + VLEN + 2];
        size_t lk = strlen(keys[i]), lv = strlen(vals[i]);
        memcpy(line, keys[i], lk);
        line[lk] = '=';
        memcpy(line + lk + 1, vals[i], lv);
        line[lk + 1 + lv] = '\n';
        if (pio_write_all(fd, line, lk + lv + 2) != 0) fail("write", tmp);
    }
    if (fsync(fd) != 0) fail("fsync", tmp);
    if (close(fd) != 0) fail("close", tmp);
    if (rename(tmp, path) != 0) fail("rename", tmp);
}

static int cmp_idx(const void *a, const void *b) {
    return strcmp(keys[*(const int *)a], keys[*(const int *)b]);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_key(const char *k) {
    if (!*k || strchr(k, '=') || strchr(k, '/') || strchr(k, '\n') || k[0] == '.')
        fail("bad key", k);
}

/* Sorted names of the entries of a directory (excluding . and ..). */
static int list_dir(const char *path, char names[][KLEN], int cap) {
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != 0) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (n == cap) fail("directory too large", path);
        copy(names[n++], e->d_name, KLEN, "name");
    }
    closedir(d);
    char *ptrs[MAXE];
    static char sorted[MAXE][KLEN];
    for (int i = 0; i < n; i++) ptrs[i] = names[i];
    qsort(ptrs, (size_t)n, sizeof ptrs[0], cmp_str);
    for (int i = 0; i < n; i++) memcpy(sorted[i], ptrs[i], KLEN);
    memcpy(names, sorted, (size_t)n * KLEN);
    return n;
}

int main(int argc, char **argv) {
    if (argc < 2) { pio_line_s("usage: kvstore DIR CMD..."); return 2; }
    dir = argv[1];
    load();

    char dumpdir[PLEN];
    join(dumpdir, dir, "dump");
    static char names[MAXE][KLEN];

    for (int a = 2; a < argc; a++) {
        const char *cmd = argv[a];
        if (strcmp(cmd, "set") == 0 && a + 2 < argc) {
            const char *k = argv[++a], *v = argv[++a];
            check_key(k);
            if (strchr(v, '\n')) fail("bad value", v);
            int i = find(k);
            if (i < 0) {
                if (nent == MAXE) fail("store full", k);
                i = nent++;
                copy(keys[i], k, KLEN, "key");
            }
            copy(vals[i], v, VLEN, "value");
            save();
            pio_s("set "); pio_s(k); pio_end();
        } else if (strcmp(cmd, "get") == 0 && a + 1 < argc) {
            const char *k = argv[++a];
            int i = find(k);
            pio_s(k);
            if (i < 0) pio_s(" (nil)"); else { pio_c('='); pio_s(vals[i]); }
            pio_end();
        } else if (strcmp(cmd, "del") == 0 && a + 1 < argc) {
            const char *k = argv[++a];
            int i = find(k);
            pio_s("del "); pio_s(k);
            if (i < 0) pio_s(" (nil)");
            else {
                nent--;
                if (i != nent) {
                    memcpy(keys[i], keys[nent], KLEN);
                    memcpy(vals[i], vals[nent], VLEN);
                }
                save();
                char p[PLEN];
                check_key(k);
                join(p, dumpdir, k);
                if (unlink(p) != 0 && errno != ENOENT) fail("unlink", p);
            }
            pio_end();
        } else if (strcmp(cmd, "list") == 0) {
            int idx[MAXE];
            for (int i = 0; i < nent; i++) idx[i] = i;
            qsort(idx, (size_t)nent, sizeof idx[0], cmp_idx);
            for (int i = 0; i < nent; i++) {
                pio_s(keys[idx[i]]); pio_c('='); pio_s(vals[idx[i]]); pio_end();
            }
            pio_s("count "); pio_u((uint64_t)nent); pio_end();
        } else if (strcmp(cmd, "dump") == 0) {
            if (mkdir(dumpdir, 0755) != 0 && errno != EEXIST) fail("mkdir", dumpdir);
            for (int i = 0; i < nent; i++) {
                char p[PLEN];
                join(p, dumpdir, keys[i]);
                int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd < 0) fail("open", p);
                if (pio_write_all(fd, vals[i], strlen(vals[i])) != 0) fail("write", p);
                if (close(fd) != 0) fail("close", p);
            }
            int n = list_dir(dumpdir, names, MAXE);
            if (n < 0) fail("opendir", dumpdir);
            for (int i = 0; i < n; i++) {
                char p[PLEN];
                struct stat st;
                join(p, dumpdir, names[i]);
                if (stat(p, &st) != 0) fail("stat", p);
                pio_s("dump "); pio_s(names[i]);
                pio_s(S_ISREG(st.st_mode) ? " size=" : " notfile size=");
                pio_u((uint64_t)st.st_size); pio_end();
            }
        } else if (strcmp(cmd, "undump") == 0) {
            int n = list_dir(dumpdir, names, MAXE);
            if (n < 0) {
                if (errno != ENOENT) fail("opendir", dumpdir);
                n = 0;
            } else {
                for (int i = 0; i < n; i++) {
                    char p[PLEN];
                    join(p, dumpdir, names[i]);
                    if (unlink(p) != 0) fail("unlink", p);
                }
                if (rmdir(dumpdir) != 0) fail("rmdir", dumpdir);
            }
            pio_s("undump "); pio_u((uint64_t)n); pio_end();
        } else if (strcmp(cmd, "stat") == 0) {
            char p[PLEN];
            struct stat st;
            join(p, dir, "kv.db");
            pio_s("db");
            if (stat(p, &st) != 0) {
                if (errno != ENOENT) fail("stat", p);
                pio_s(" missing");
            } else {
                pio_s(" size="); pio_u((uint64_t)st.st_size);
            }
            pio_end();
        } else {
            fail("bad command", cmd);
        }
    }
    return 0;
}
