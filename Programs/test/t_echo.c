#define ECHO_NO_MAIN
#include "kernel/echo_server.c"
#include "t_servers.h"
void t_echo_event(const phantom_request_t *info, const char *data) { echo_event(info, data); }
