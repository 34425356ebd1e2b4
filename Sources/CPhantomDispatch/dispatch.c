// PhantomDispatch.h is all static inline: its handlers are compiled into the one
// Swift file that imports it (PhantomWasm/Execution/Dispatch.swift). This file
// checks that the header compiles on its own, and holds the one handler helper
// that needs a calling convention Swift cannot declare.
#include "PhantomDispatch.h"

/// Implemented in Swift (PhantomWasm, Execution/Dispatch.swift).
void phantom_mark_dirty_slow(void *machine, uint64_t offset, int64_t count);

__attribute__((preserve_most)) void phantom_mark_dirty(uint8_t *dirty, int64_t fuel, void *machine,
                                                      intptr_t handlers, uint64_t offset, int64_t count) {
    phantom_mark_dirty_slow(machine, offset, count);
}

/// Implemented in Swift (PhantomWasm, Execution/Dispatch.swift).
uint8_t *phantom_back_edge_slow(void *machine, uint64_t *fp, int64_t fuel, uint64_t *next);

__attribute__((preserve_most)) uint8_t *phantom_back_edge(uint8_t *dirty, int64_t fuel, void *machine,
                                                         intptr_t handlers, uint64_t *fp, uint64_t *next) {
    return phantom_back_edge_slow(machine, fp, fuel, next);
}
