#define SENSOR_NO_MAIN
#include "system/sensor.c"
#include "t_servers.h"
void t_sensor_event(const phantom_request_t *info, const char *data) { sensor_event(info, data); }
void t_sensor_configure(const char *config) { sensor_configure(config); }
