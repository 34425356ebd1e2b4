#define HISTORIAN_NO_MAIN
#include "system/historian.c"
#include "t_servers.h"
static __typeof__(hs) saved;
void t_historian_start(const char *path) { historian_start(path); }
void t_historian_event(const phantom_request_t *info, const char *data) { historian_event(info, data); }
/* a "snapshot" of the historian's memory (its state struct; the fd stays) */
void t_historian_snapshot(void) { saved = hs; }
void t_historian_restore(void) { hs = saved; }
