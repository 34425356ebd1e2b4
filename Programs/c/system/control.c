/*
 * control.c - the tank level controller of the default system.
 *
 * Config (ROM "config", read from /rom/config once at start; any syntax in
 * which a key is followed by '=' or ':' and a value, quotes optional):
 *     period_ms  control period (default 200)
 *     high       high alarm threshold in % (default 80)
 *     low        low alarm threshold in % (default 20)
 * Sessions: "Sensor" (label "tank"), "Historian" (label "history"),
 * "Report" (label "status").
 *
 * Every period: sleep period_ms (nanosleep), call the sensor with the
 * current valve position ("valve=NN.NN"), and from the sample's level
 *   - run a PI controller towards the setpoint (high+low)/2 -> valve %
 *     (0..100, conditional integration against wind-up);
 *   - raise and clear alarms with a hysteresis of 5 %:
 *       ALARM HIGH level=L   when level >= high    CLEAR HIGH level=L when level < high-5
 *       ALARM LOW level=L    when level <= low     CLEAR LOW level=L  when level > low+5
 *   - send the record "seq,level,valve,alarm" (alarm none|high|low, seq the
 *     sensor's) to the historian;
 *   - every 10 cycles publish the report
 *       <status cycle="N" level="L" valve="V" alarm="none|high|low"/>
 *     and print "cycle N level=L valve=V".
 * A session whose server went away (PHANTOM_CLOSED) is opened again. The
 * Historian and Report sessions are optional: if they cannot be opened the
 * controller runs without them.
 *
 * Invariant: the cycle counter lives in linear memory and is strictly
 * monotonic across any kill -9 / restore. "control: first start" is printed
 * once per instance (a persistent flag), not after a restore.
 */
#include "component.h"

#define HYSTERESIS 5.0
#define KP 4.0
#define KI 0.2

enum { ALARM_NONE = 0, ALARM_HIGH = 1, ALARM_LOW = 2 };
static const char *const alarm_names[] = { "none", "high", "low" };

static struct {
    int started;                    /* persistent "first start" flag */
    uint64_t period_ms;
    double high, low, setpoint;
    int32_t sensor, historian, report;
    uint64_t cycle;
    double level, valve, integral;
    int alarm;
    uint32_t seq;
} st;

static char config[4096];

/* ---- controller (no I/O except the alarm lines) ---------------------------- */

static void control_init(const char *cfg) {
    st.period_ms = cfg_u64(cfg, "period_ms", 200);
    st.high = cfg_double(cfg, "high", 80.0);
    st.low = cfg_double(cfg, "low", 20.0);
    st.setpoint = (st.high + st.low) / 2.0;
    st.valve = 40.0;
    st.integral = 40.0;
    st.alarm = ALARM_NONE;
}

static double clamp_valve(double v) { return v < 0.0 ? 0.0 : v > 100.0 ? 100.0 : v; }

/* PI step: the tank is drained by the valve, so a level above the setpoint
 * opens it. The integral only moves while the output is not saturated in
 * the direction the error pushes it. */
static void control_step(double level) {
    double err = level - st.setpoint;
    double candidate = KP * err + st.integral + KI * err;
    if (candidate >= 0.0 && candidate <= 100.0) st.integral += KI * err;
    else if (candidate > 100.0 && err < 0.0) st.integral += KI * err;
    else if (candidate < 0.0 && err > 0.0) st.integral += KI * err;
    if (st.integral < 0.0) st.integral = 0.0;
    if (st.integral > 100.0) st.integral = 100.0;
    st.valve = clamp_valve(KP * err + st.integral);
    st.level = level;
}

static void alarm_line(const char *what, double level) {
    pio_s(what); pio_s(" level="); pio_f(level, 2); pio_end();
}

static void alarm_step(double level) {
    if (st.alarm == ALARM_HIGH && level < st.high - HYSTERESIS) {
        st.alarm = ALARM_NONE;
        alarm_line("CLEAR HIGH", level);
    } else if (st.alarm == ALARM_LOW && level > st.low + HYSTERESIS) {
        st.alarm = ALARM_NONE;
        alarm_line("CLEAR LOW", level);
    }
    if (st.alarm != ALARM_HIGH && level >= st.high) {
        if (st.alarm == ALARM_LOW) alarm_line("CLEAR LOW", level);
        st.alarm = ALARM_HIGH;
        alarm_line("ALARM HIGH", level);
    } else if (st.alarm != ALARM_LOW && level <= st.low) {
        if (st.alarm == ALARM_HIGH) alarm_line("CLEAR HIGH", level);
        st.alarm = ALARM_LOW;
        alarm_line("ALARM LOW", level);
    }
}

/* ---- text building (a small buffer, separate from pio's line) --------------------- */

static char text[256];
static uint32_t text_len;

static void t_s(const char *s) { while (*s && text_len + 1 < sizeof text) text[text_len++] = *s++; }
static void t_u(uint64_t v) {
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n && text_len + 1 < sizeof text) text[text_len++] = tmp[--n];
}
/* non-negative fixed point with 2 decimals, rounded half up (like pio_f) */
static void t_f2(double d) {
    if (d < 0.0) { t_s("-"); d = -d; }
    uint64_t q = (uint64_t)(d * 100.0 + 0.5);
    t_u(q / 100);
    t_s(".");
    char frac[3] = { (char)('0' + (q / 10) % 10), (char)('0' + q % 10), 0 };
    t_s(frac);
}
static const char *t_done(void) { text[text_len] = 0; text_len = 0; return text; }

static const char *record_text(void) {
    t_u(st.seq); t_s(","); t_f2(st.level); t_s(","); t_f2(st.valve); t_s(",");
    t_s(alarm_names[st.alarm]);
    return t_done();
}

static const char *report_text(void) {
    t_s("<status cycle=\""); t_u(st.cycle);
    t_s("\" level=\""); t_f2(st.level);
    t_s("\" valve=\""); t_f2(st.valve);
    t_s("\" alarm=\""); t_s(alarm_names[st.alarm]);
    t_s("\"/>");
    return t_done();
}

/* ---- sessions ------------------------------------------------------------------------ */

static int32_t open_session(const char *service, const char *label, int required) {
    int32_t h = phantom_open_str(service, label);
    if (h < 0) {
        pio_s("control: open "); pio_s(service); pio_s(" failed: "); pio_i(h);
        pio_s(" ("); pio_s(phantom_strerror(h)); pio_s(required ? ")" : "), running without it");
        pio_end();
        return 0;
    }
    return h;
}

/* session_call that opens the session again when its server went away. */
static int32_t call(int32_t *handle, const char *service, const char *label, const char *request,
                    char *reply, uint32_t cap, uint32_t *len) {
    if (*handle <= 0) return PHANTOM_INVALID;
    uint32_t dummy;
    int32_t r = session_call(*handle, request, phantom_strlen(request), reply, cap, len ? len : &dummy);
    if (r == PHANTOM_CLOSED) {
        pio_s("control: "); pio_s(service); pio_s(" closed, opening it again"); pio_end();
        session_close(*handle);
        *handle = open_session(service, label, 1);
        if (*handle <= 0) return PHANTOM_CLOSED;
        r = session_call(*handle, request, phantom_strlen(request), reply, cap, len ? len : &dummy);
    }
    return r;
}

/* One control cycle after the sleep. Returns 0, or the sensor's error. */
static int32_t control_cycle(void) {
    char reply[256];
    uint32_t len = 0;
    t_s("valve="); t_f2(st.valve);
    const char *request = t_done();
    int32_t r = call(&st.sensor, "Sensor", "tank", request, reply, sizeof reply - 1, &len);
    if (r < 0) { comp_report_error("control", "Sensor call", r); return r; }
    reply[len < sizeof reply ? len : sizeof reply - 1] = 0;
    double level = field_double(reply, "level", -1.0);
    if (level < 0.0) { pio_s("control: bad sample: "); pio_s(reply); pio_end(); return PHANTOM_INVALID; }
    st.seq = (uint32_t)cfg_u64(reply, "seq", st.seq + 1);

    st.cycle++;
    control_step(level);
    alarm_step(level);
    if (st.historian > 0) {
        r = call(&st.historian, "Historian", "history", record_text(), 0, 0, 0);
        if (r != 0) comp_report_error("control", "Historian call", r);
    }
    if (st.cycle % 10 == 0) {
        if (st.report > 0) {
            r = call(&st.report, "Report", "status", report_text(), 0, 0, 0);
            if (r < 0) comp_report_error("control", "Report call", r);
        }
        pio_s("cycle "); pio_u(st.cycle);
        pio_s(" level="); pio_f(st.level, 2);
        pio_s(" valve="); pio_f(st.valve, 2);
        pio_end();
    }
    return 0;
}

#ifndef CONTROL_NO_MAIN
int main(void) {
    if (!st.started) {
        st.started = 1;
        pio_line_s("control: first start");
    }
    if (comp_read_file(PHANTOM_ROM_DIR "/config", config, sizeof config) < 0) {
        pio_line_s("control: no /rom/config, using defaults");
        config[0] = 0;
    }
    control_init(config);
    pio_s("control: period_ms="); pio_u(st.period_ms);
    pio_s(" high="); pio_f(st.high, 2);
    pio_s(" low="); pio_f(st.low, 2);
    pio_end();

    st.sensor = open_session("Sensor", "tank", 1);
    if (st.sensor <= 0) return 1;
    st.historian = open_session("Historian", "history", 0);
    st.report = open_session("Report", "status", 0);

    for (;;) {
        comp_sleep_ms(st.period_ms);
        int32_t r = control_cycle();
        if (r != 0 && st.sensor <= 0) return 1;
    }
}
#endif
