/*
 * console.c - a component on init's console: the kernel's Terminal session.
 *
 * Reads lines from stdin (its Terminal session, routed to the console of
 * `phantom boot`) and logs each with a running count:
 *   "console: ready"                 once, at its first start
 *   "console: line N: TEXT"          for every line read
 *   "console: end of input after N lines"   at end of input, then exit 0
 * The count lives in linear memory, so after a kill -9 and a restore it
 * continues from the last snapshot: no line is counted twice or skipped
 * once its log line was followed by a committed generation.
 */
#include <stdio.h>
#include <string.h>

static int count;

int main(void) {
    char line[256];
    printf("console: ready\n");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        count++;
        printf("console: line %d: %s\n", count, line);
        fflush(stdout);
    }
    printf("console: end of input after %d lines\n", count);
    return 0;
}
