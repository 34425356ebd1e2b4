/*
 * wasi.h - the WASI preview 1 imports used by the Embedded Swift programs,
 * plus a few fixed static buffers (Embedded Swift here has no allocator and
 * no libc, so all scratch memory is static or on the stack).
 *
 * Passed to swiftc with -import-objc-header; the static inline helpers are
 * compiled into the module by Swift's clang importer.
 */
#ifndef PHANTOM_SWIFT_WASI_H
#define PHANTOM_SWIFT_WASI_H

#include <stdint.h>

typedef struct {
    const uint8_t *buf;
    uint32_t len;
} wasi_ciovec;

#define WASI_IMPORT(name) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

WASI_IMPORT("fd_write")
int32_t wasi_fd_write(int32_t fd, const wasi_ciovec *iovs, int32_t iovs_len, uint32_t *nwritten);

WASI_IMPORT("args_sizes_get")
int32_t wasi_args_sizes_get(uint32_t *argc, uint32_t *argv_buf_size);

WASI_IMPORT("args_get")
int32_t wasi_args_get(uint8_t **argv, uint8_t *argv_buf);

WASI_IMPORT("proc_exit")
_Noreturn void wasi_proc_exit(int32_t code);

/* ---- static scratch buffers ----------------------------------------------
 * Function-local statics: Swift's clang importer emits the bodies of these
 * static inline functions (and so their statics) into the Swift object,
 * whereas file-scope statics of a header are not emitted. */
#define PHANTOM_LINE_MAX 256
#define PHANTOM_ARGS_MAX 32
#define PHANTOM_ARGBUF_MAX 4096

static inline uint8_t *phantom_line_ptr(void) {
    static uint8_t line[PHANTOM_LINE_MAX];
    return line;
}
static inline uint32_t phantom_line_max(void) { return PHANTOM_LINE_MAX; }

static inline uint8_t **phantom_argv_ptr(void) {
    static uint8_t *argv[PHANTOM_ARGS_MAX];
    return argv;
}

/* Loads argv into the static buffers; returns argc (0 if it doesn't fit). */
static inline uint32_t phantom_load_args(void) {
    static uint8_t argbuf[PHANTOM_ARGBUF_MAX];
    uint32_t argc = 0, size = 0;
    if (wasi_args_sizes_get(&argc, &size) != 0) return 0;
    if (argc > PHANTOM_ARGS_MAX || size > PHANTOM_ARGBUF_MAX) return 0;
    if (wasi_args_get(phantom_argv_ptr(), argbuf) != 0) return 0;
    return argc;
}

/* NUL-terminated argument i (valid after phantom_load_args). */
static inline const uint8_t *phantom_arg(uint32_t i) { return phantom_argv_ptr()[i]; }

#endif
