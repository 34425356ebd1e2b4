/*
 * args_env.c - echo argv and PHANTOM_* environment variables, then exit
 * with a chosen status.
 *
 * usage: args_env [EXIT_CODE [ARGS...]]
 *   EXIT_CODE  decimal exit status (default 0); values above 255 are passed
 *              to proc_exit unchanged (the host decides how to truncate)
 *
 * Output:
 *   argc N
 *   argv[I]=VALUE            for every argument, including argv[0]
 *   env NAME=VALUE           every variable whose name starts with PHANTOM_,
 *                            sorted by name
 *   envc N                   number of PHANTOM_* variables
 *   exit CODE
 * then calls exit(CODE), i.e. proc_exit(CODE).
 *
 * Invariant: arguments, environment and exit status survive a
 * kill -9/resume unchanged (they are part of the persisted process).
 */
#include <stdlib.h>
#include "pio.h"

extern char **environ;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    uint64_t code = pio_atou(pio_arg(argc, argv, 1), 0);

    pio_s("argc "); pio_u((uint64_t)argc); pio_end();
    for (int i = 0; i < argc; i++) {
        pio_s("argv["); pio_u((uint64_t)i); pio_s("]="); pio_s(argv[i]); pio_end();
    }

    int n = 0;
    for (char **e = environ; e && *e; e++) n++;
    char **sel = malloc(sizeof(char *) * (size_t)(n + 1));
    int m = 0;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "PHANTOM_", 8) == 0) sel[m++] = *e;
    qsort(sel, (size_t)m, sizeof sel[0], cmp_str);
    for (int i = 0; i < m; i++) { pio_s("env "); pio_s(sel[i]); pio_end(); }
    pio_s("envc "); pio_u((uint64_t)m); pio_end();

    pio_s("exit "); pio_u(code); pio_end();
    exit((int)code);
}
