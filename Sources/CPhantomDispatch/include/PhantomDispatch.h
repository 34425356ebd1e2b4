#ifndef PHANTOM_DISPATCH_H
#define PHANTOM_DISPATCH_H

// Tail-call threaded dispatch for PhantomWasm's interpreter.
//
// Why this is C: Swift cannot promise a tail call, and a threaded interpreter
// needs one from every handler to the next (otherwise the native stack grows by
// a frame per executed instruction). Clang can, with `musttail`. The work of each
// instruction stays in Swift (`phantom_execute`, Execution/Dispatch.swift); these
// handlers only give every opcode its own copy of it, ending in its own indirect
// jump to the next handler. The technique is the one CPython 3.14 and WasmKit use.
//
// How the pieces fit (see docs/WASM-ENGINE.md, "Dispatch"):
// - This header is imported by exactly one Swift file. ClangImporter then emits
//   these static inline handlers into that file's LLVM module, next to the Swift
//   function they call, and `always_inline` puts the Swift body (a switch over the
//   opcode) into each handler, where the constant opcode folds it to one case.
// - `preserve_none` leaves every register to the caller, so a handler neither
//   saves nor restores registers before jumping on, and the hot registers
//   (frame pointer, pc, memory base and size, the memory's dirty flags, fuel)
//   stay in machine registers from one instruction to the next.
// - The next handler is `phantom_handlers[low byte of *pc]` (token threading),
//   with the table's address kept in a register. The code keeps its format (and
//   its checksum), so a pc stored in a snapshot still names the same instruction.
//   (Direct threading — a handler address stored beside every word — was tried:
//   it doubles the code's cache footprint and was slower on the larger programs.)
// - To leave the loop, Swift points pc at the exit words after the function's
//   code (`PHANTOM_OP_EXIT`), whose handler simply returns to
//   `phantom_dispatch_start`. A trap in a hot handler is only a store of its kind
//   and that pc (no call, so no registers to save).

#include <stdint.h>

#if !defined(__clang__) || !__has_attribute(musttail) || !__has_attribute(preserve_none)
#error "PhantomWasm's dispatch needs Clang with musttail and preserve_none (x86-64 or AArch64)"
#endif

#define PHANTOM_DISPATCH_CC __attribute__((preserve_none))

/// The opcode whose handler leaves the dispatch loop (not produced by the translator).
#define PHANTOM_OP_EXIT 255

typedef PHANTOM_DISPATCH_CC void (*phantom_handler)(uint64_t *fp, uint64_t *pc, uint8_t *memory,
                                                   uint64_t memory_size, uint8_t *dirty, int64_t fuel,
                                                   void *machine, intptr_t handlers);

/// One instruction's work, in Swift (`Dispatch.swift`): it updates the registers
/// and leaves pc at the next instruction to run.
__attribute__((swiftcall)) void phantom_execute(uint8_t opcode, uint64_t **fp, uint64_t **pc, uint8_t **memory,
                                               uint64_t *memory_size, uint8_t **dirty, int64_t *fuel,
                                               void *machine, intptr_t *handlers);

/// The handler of the instruction at `pc`: `handlers` is `phantom_handlers`,
/// passed along in a register so that the dispatch is one load and one jump.
#define PHANTOM_NEXT(pc, handlers) (((const phantom_handler *)(handlers))[*(const uint8_t *)(pc)])

/// The slow path of a store's dirty marking (the page was clean). `preserve_most`
/// keeps the calling handler from saving its registers around this rare call;
/// the first three parameters are the handler's own `dirty`, `fuel` and `machine`
/// in the registers where it already holds them, so nothing moves either.
__attribute__((preserve_most)) void phantom_mark_dirty(uint8_t *dirty, int64_t fuel, void *machine,
                                                      intptr_t handlers, uint64_t offset, int64_t count);
/// Swift calls `phantom_mark_dirty` through this, because Swift would call it
/// with the ordinary C convention; the call emitted here keeps `preserve_most`.
static inline void phantom_mark_dirty_call(uint8_t *dirty, int64_t fuel, void *machine, intptr_t handlers,
                                           uint64_t offset, int64_t count) {
    phantom_mark_dirty(dirty, fuel, machine, handlers, offset, count);
}

/// The slow path of a loop back-edge's safepoint (fuel ran out or a snapshot
/// waits): writes the registers back and parks or yields. Returns the dirty
/// flags to go on with — a copy-on-write snapshot cut while the thread was
/// parked swaps the dirty map — or NULL when the thread must yield. Same
/// register discipline as `phantom_mark_dirty`.
__attribute__((preserve_most)) uint8_t *phantom_back_edge(uint8_t *dirty, int64_t fuel, void *machine,
                                                         intptr_t handlers, uint64_t *fp, uint64_t *next);
static inline uint8_t *phantom_back_edge_call(uint8_t *dirty, int64_t fuel, void *machine, intptr_t handlers,
                                              uint64_t *fp, uint64_t *next) {
    return phantom_back_edge(dirty, fuel, machine, handlers, fp, next);
}

static const phantom_handler phantom_handlers[256];

/// The handlers are emitted in opcode order; starting them on a page boundary
/// fixes where each one falls within the caches' 4 KiB set period, whatever
/// code precedes them. (Without it, an unrelated change that moved the block by
/// 64 bytes made sha256 4 % slower.)
static PHANTOM_DISPATCH_CC void phantom_handler_00(uint64_t *fp, uint64_t *pc, uint8_t *memory, uint64_t memory_size,
                                                   uint8_t *dirty, int64_t fuel, void *machine, intptr_t handlers)
    __attribute__((aligned(4096)));

#define PHANTOM_HANDLER(hi, lo)                                                                        \
    static PHANTOM_DISPATCH_CC void phantom_handler_##hi##lo(uint64_t *fp, uint64_t *pc, uint8_t *memory, \
                                                            uint64_t memory_size, uint8_t *dirty,        \
                                                            int64_t fuel, void *machine,                 \
                                                            intptr_t handlers) {                         \
        [[clang::always_inline]] phantom_execute(0x##hi##lo, &fp, &pc, &memory, &memory_size, &dirty,    \
                                                 &fuel, machine, &handlers);                             \
        __attribute__((musttail)) return PHANTOM_NEXT(pc, handlers)(                                     \
            fp, pc, memory, memory_size, dirty, fuel, machine, handlers);                                \
    }
#define PHANTOM_HANDLER_ROW(hi)                                                                          \
    PHANTOM_HANDLER(hi, 0) PHANTOM_HANDLER(hi, 1) PHANTOM_HANDLER(hi, 2) PHANTOM_HANDLER(hi, 3)         \
    PHANTOM_HANDLER(hi, 4) PHANTOM_HANDLER(hi, 5) PHANTOM_HANDLER(hi, 6) PHANTOM_HANDLER(hi, 7)         \
    PHANTOM_HANDLER(hi, 8) PHANTOM_HANDLER(hi, 9) PHANTOM_HANDLER(hi, a) PHANTOM_HANDLER(hi, b)         \
    PHANTOM_HANDLER(hi, c) PHANTOM_HANDLER(hi, d) PHANTOM_HANDLER(hi, e)
PHANTOM_HANDLER_ROW(0) PHANTOM_HANDLER_ROW(1) PHANTOM_HANDLER_ROW(2) PHANTOM_HANDLER_ROW(3)
PHANTOM_HANDLER_ROW(4) PHANTOM_HANDLER_ROW(5) PHANTOM_HANDLER_ROW(6) PHANTOM_HANDLER_ROW(7)
PHANTOM_HANDLER_ROW(8) PHANTOM_HANDLER_ROW(9) PHANTOM_HANDLER_ROW(a) PHANTOM_HANDLER_ROW(b)
PHANTOM_HANDLER_ROW(c) PHANTOM_HANDLER_ROW(d) PHANTOM_HANDLER_ROW(e) PHANTOM_HANDLER_ROW(f)
// Column f of each row (0x0f, 0x1f, … 0xef); 0xff is the exit.
PHANTOM_HANDLER(0, f) PHANTOM_HANDLER(1, f) PHANTOM_HANDLER(2, f) PHANTOM_HANDLER(3, f)
PHANTOM_HANDLER(4, f) PHANTOM_HANDLER(5, f) PHANTOM_HANDLER(6, f) PHANTOM_HANDLER(7, f)
PHANTOM_HANDLER(8, f) PHANTOM_HANDLER(9, f) PHANTOM_HANDLER(a, f) PHANTOM_HANDLER(b, f)
PHANTOM_HANDLER(c, f) PHANTOM_HANDLER(d, f) PHANTOM_HANDLER(e, f)
#undef PHANTOM_HANDLER
#undef PHANTOM_HANDLER_ROW

static PHANTOM_DISPATCH_CC void phantom_handler_ff(uint64_t *fp, uint64_t *pc, uint8_t *memory,
                                                   uint64_t memory_size, uint8_t *dirty, int64_t fuel,
                                                   void *machine, intptr_t handlers) {
    return;
}

#define PHANTOM_HANDLER_ROW(hi)                                                                         \
    phantom_handler_##hi##0, phantom_handler_##hi##1, phantom_handler_##hi##2, phantom_handler_##hi##3, \
    phantom_handler_##hi##4, phantom_handler_##hi##5, phantom_handler_##hi##6, phantom_handler_##hi##7, \
    phantom_handler_##hi##8, phantom_handler_##hi##9, phantom_handler_##hi##a, phantom_handler_##hi##b, \
    phantom_handler_##hi##c, phantom_handler_##hi##d, phantom_handler_##hi##e, phantom_handler_##hi##f
static const phantom_handler phantom_handlers[256] = {
    PHANTOM_HANDLER_ROW(0), PHANTOM_HANDLER_ROW(1), PHANTOM_HANDLER_ROW(2), PHANTOM_HANDLER_ROW(3),
    PHANTOM_HANDLER_ROW(4), PHANTOM_HANDLER_ROW(5), PHANTOM_HANDLER_ROW(6), PHANTOM_HANDLER_ROW(7),
    PHANTOM_HANDLER_ROW(8), PHANTOM_HANDLER_ROW(9), PHANTOM_HANDLER_ROW(a), PHANTOM_HANDLER_ROW(b),
    PHANTOM_HANDLER_ROW(c), PHANTOM_HANDLER_ROW(d), PHANTOM_HANDLER_ROW(e), PHANTOM_HANDLER_ROW(f),
};
#undef PHANTOM_HANDLER_ROW

/// The handler table, for `phantom_dispatch_start`'s `handlers`.
static inline intptr_t phantom_handler_table(void) {
    return (intptr_t)phantom_handlers;
}

/// Runs from the instruction at `pc` until a handler points pc at an exit word.
static inline void phantom_dispatch_start(uint64_t *fp, uint64_t *pc, uint8_t *memory, uint64_t memory_size,
                                          uint8_t *dirty, int64_t fuel, void *machine, intptr_t handlers) {
    PHANTOM_NEXT(pc, handlers)(fp, pc, memory, memory_size, dirty, fuel, machine, handlers);
}

#endif
