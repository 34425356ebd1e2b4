/* test/t_servers.h - the entry points of the components compiled into the
 * native test (see run.sh). */
#ifndef T_SERVERS_H
#define T_SERVERS_H
#include "phantom_session.h"

void t_sensor_event(const phantom_request_t *info, const char *data);
void t_sensor_configure(const char *config);
void t_historian_start(const char *path);
void t_historian_event(const phantom_request_t *info, const char *data);
void t_historian_snapshot(void);
void t_historian_restore(void);
void t_echo_event(const phantom_request_t *info, const char *data);

int control_main(void);
int echo_client_main(int argc, char **argv);
int rom_watcher_main(void);
int opener_main(int argc, char **argv);
#endif
