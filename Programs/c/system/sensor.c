/*
 * sensor.c - the "Sensor" service of the default system: a simulated tank.
 *
 * Announces "Sensor". Each call advances a deterministic model of a tank by
 * one sample and replies (status 0) with one line of text:
 *     seq=17 level=52.31 inflow=5.12 temp=21.80
 * seq    sample number, 1, 2, 3, ... (one model for all clients)
 * level  fill level in % (0..100)
 * inflow inflow in % of the tank per sample
 * temp   temperature in degrees Celsius
 * The request may carry the outlet valve position, "valve=NN.NN" (0..100 %);
 * an empty request keeps the last one (initially 40). The outflow is
 * valve/10 + 1 (a constant consumer) % per sample, so a client that drives
 * the valve closes the loop (c/system/control.c).
 *
 * The inflow follows a noisy first-order response to a target of 5 %/sample;
 * now and then a surge (target 14, more than a fully open valve drains) or a
 * drought (target 0) lasts 20-80 samples. All randomness comes from a seeded
 * xorshift64 in the component's own memory (seed: config key "seed",
 * default 0x9e3779b97f4a7c15), so the same sequence of requests always gives
 * the same samples, also after a restart from a snapshot.
 *
 * Logs "sensor: serving <label>" for each session opened.
 */
#include "component.h"

enum { CALM = 0, SURGE = 1, DROUGHT = 2 };

static struct {
    uint64_t rng;
    uint32_t seq;
    uint32_t event, event_left;
    double level, inflow, temp, valve;
} tank = { 0x9e3779b97f4a7c15ull, 0, CALM, 0, 50.0, 5.0, 21.5, 40.0 };

static double rnd(void) {          /* uniform in [0, 1) */
    uint64_t x = tank.rng;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    tank.rng = x;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

/* Advance the model by one sample with the valve at `valve` %. */
static void tank_step(double valve) {
    if (valve < 0.0) valve = 0.0;
    if (valve > 100.0) valve = 100.0;
    tank.valve = valve;
    tank.seq++;
    if (tank.event_left > 0) {
        tank.event_left--;
    } else {
        double u = rnd();
        tank.event = CALM;
        if (u < 1.0 / 120.0) {
            tank.event = SURGE;
            tank.event_left = 20 + (uint32_t)(rnd() * 30.0);
        } else if (u < 2.0 / 120.0) {
            tank.event = DROUGHT;
            tank.event_left = 30 + (uint32_t)(rnd() * 50.0);
        }
    }
    double target = tank.event == SURGE ? 14.0 : tank.event == DROUGHT ? 0.0 : 5.0;
    tank.inflow += 0.3 * (target - tank.inflow) + (rnd() - 0.5) * 0.6;
    if (tank.inflow < 0.0) tank.inflow = 0.0;
    double outflow = tank.valve / 10.0 + 1.0;
    tank.level += (tank.inflow - outflow) * 0.5;
    if (tank.level < 0.0) tank.level = 0.0;
    if (tank.level > 100.0) tank.level = 100.0;
    tank.temp += 0.05 * (21.5 - tank.temp) + (rnd() - 0.5) * 0.2 + (tank.inflow - 5.0) * 0.01;
}

/* The reply text of the current sample into pio's line buffer (no newline). */
static void tank_format(void) {
    pio_s("seq="); pio_u(tank.seq);
    pio_s(" level="); pio_f(tank.level, 2);
    pio_s(" inflow="); pio_f(tank.inflow, 2);
    pio_s(" temp="); pio_f(tank.temp, 2);
}

/* Handle one call: payload -> reply text in out (returns its length). */
static uint32_t sensor_call(const char *payload, char *out, uint32_t cap) {
    tank_step(cfg_double(payload, "valve", tank.valve));
    pio_len = 0;
    tank_format();
    uint32_t n = pio_len < cap ? pio_len : cap;
    memcpy(out, pio_line, n);
    pio_len = 0;
    return n;
}

/* One event of the service. */
static void sensor_event(const phantom_request_t *info, const char *data) {
    if (info->kind == PHANTOM_EVENT_OPEN) {
        pio_s("sensor: serving "); pio_s(data); pio_end();
        service_reply(info->request, 0, 0, 0);
    } else if (info->kind == PHANTOM_EVENT_CALL) {
        char reply[128];
        uint32_t n = sensor_call(data, reply, sizeof reply);
        service_reply(info->request, 0, reply, n);
    }
}

/* Config: "seed" (a non-zero decimal) replaces the default seed. */
static void sensor_configure(const char *cfg) {
    char v[32];
    if (cfg_get(cfg, "seed", v, sizeof v)) {
        uint64_t seed = pio_atou(v, 0);
        if (seed) tank.rng = seed;
    }
}

#ifndef SENSOR_NO_MAIN
int main(void) {
    static char config[1024];
    if (comp_read_file(PHANTOM_ROM_DIR "/config", config, sizeof config) >= 0) sensor_configure(config);
    int32_t r = phantom_announce_str("Sensor");
    if (r != 0) { comp_report_error("sensor", "announce", r); return 1; }
    for (;;) {
        phantom_request_t info;
        const char *data;
        r = comp_next_event(&info, &data);
        if (r != 0) { comp_report_error("sensor", "service_next", r); return 1; }
        sensor_event(&info, data);
    }
}
#endif
