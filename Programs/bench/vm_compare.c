/*
 * vm_compare.c - the algorithms `phantom bench pvm` runs as Phantom bytecode,
 * here as a WebAssembly program for our engine, so that the two can be
 * compared side by side.
 *
 * usage: vm_compare MODE N
 *   calls N     x = next(x) N times, next a function that is not inlined
 *   alloc N     N nodes {next, value} linked into chains of 1000, each chain
 *               freed when the next one starts (the PVM's garbage is collected)
 *   loop N      sum += (i * i) % 7 for i = N down to 1, in wrapping 32-bit
 *               integers (the product wraps, the remainder truncates, as the
 *               PVM's imul and iremlu do)
 * Prints "MODE N result=R".
 */
#include "../c/pio.h"
#include <stdlib.h>

__attribute__((noinline)) static int32_t next(int32_t x) { return x + 1; }

struct node { struct node *next; int32_t value; };

static int32_t calls(uint32_t n) {
    int32_t x = 0;
    for (uint32_t i = 0; i < n; i++) x = next(x);
    return x;
}

static void free_chain(struct node *head) {
    while (head) { struct node *next = head->next; free(head); head = next; }
}

static int32_t alloc(uint32_t n) {
    struct node *head = 0;
    int32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i % 1000 == 0) { free_chain(head); head = 0; }
        struct node *node = malloc(sizeof *node);
        if (!node) return -1;
        node->next = head;
        node->value = (int32_t)i;
        head = node;
        count++;
    }
    free_chain(head);
    return count;
}

static int32_t loop(uint32_t n) {
    uint32_t sum = 0;
    for (uint32_t i = n; i != 0; i--) {
        int32_t product = (int32_t)(i * i);
        sum += (uint32_t)(product % 7);
    }
    return (int32_t)sum;
}

int main(int argc, char **argv) {
    const char *mode = pio_arg(argc, argv, 1);
    uint32_t n = (uint32_t)pio_atou(pio_arg(argc, argv, 2), 1000000);
    int32_t result;
    if (mode && mode[0] == 'c') result = calls(n);
    else if (mode && mode[0] == 'a') result = alloc(n);
    else result = loop(n);
    pio_s(mode ? mode : "loop"); pio_s(" "); pio_u(n); pio_s(" result="); pio_i(result); pio_end();
    return 0;
}
