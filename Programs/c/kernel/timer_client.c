/*
 * timer_client.c - test component for the kernel: WASI clocks and sleeps,
 * which the kernel serves through the component's Timer session.
 *
 * usage: timer_client [SLEEPS [MS]]   (defaults 2, 100; SLEEPS 0 = forever)
 *
 * First one probe of each clock call, made directly through WASI so that
 * the errno is seen as the kernel gives it:
 *     clock_res_get: E (NAME)          (CLOCK_MONOTONIC)
 *     clock_time_get monotonic: E (NAME)
 *     clock_time_get realtime: E (NAME)
 *     poll_oneoff clock: E (NAME) nevents=N event_error=E2 (NAME2) type=T
 * (E is 0 "success", or 76 "notcapable" without a Timer session). Then
 * SLEEPS rounds of
 *     sleeping I ms=MS
 *     woke I slept_ms=A ok            (or SHORT_SLEEP, or "sleep I failed: E")
 * A is the sleep's length by CLOCK_MONOTONIC, which must be >= MS, also
 * when the system was restarted during the sleep (the monotonic clock is
 * persistent and counts the downtime). A round whose sleep failed waits
 * 100 ms in service_next (the session ABI's own timeout, no clock call)
 * before the next, so that a component without a Timer does not spin.
 * The program then reads the monotonic clock once more and prints "done".
 * Exit value 0 when every
 * call succeeded and every sleep was long enough, 3 when the clocks were
 * not capable (no Timer session) and every call said so consistently,
 * 1 otherwise.
 */
#include <wasi/api.h>
#include "../pio.h"
#include "phantom_session.h"

static const char *name(int e) {
    switch (e) {
    case __WASI_ERRNO_SUCCESS: return "success";
    case __WASI_ERRNO_NOTCAPABLE: return "notcapable";
    case __WASI_ERRNO_INVAL: return "inval";
    case __WASI_ERRNO_FAULT: return "fault";
    case __WASI_ERRNO_NOSYS: return "nosys";
    default: return "other";
    }
}

static void result(const char *what, int e) {
    pio_s(what); pio_s(": "); pio_u((uint64_t)e); pio_s(" ("); pio_s(name(e)); pio_c(')');
}

static int poll_clock(uint64_t timeout_ns, __wasi_event_t *event, __wasi_size_t *nevents) {
    __wasi_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.userdata = 42;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = timeout_ns;
    sub.u.u.clock.precision = 0;
    sub.u.u.clock.flags = 0;
    memset(event, 0, sizeof *event);
    *nevents = 0;
    return __wasi_poll_oneoff(&sub, event, 1, nevents);
}

int main(int argc, char **argv) {
    uint64_t sleeps = pio_atou(pio_arg(argc, argv, 1), 2);
    uint64_t ms = pio_atou(pio_arg(argc, argv, 2), 100);
    int failed = 0, notcapable = 0, calls = 0;

    __wasi_timestamp_t resolution = 0, monotonic = 0, realtime = 0;
    int e = __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &resolution);
    result("clock_res_get", e); pio_end();
    calls++; notcapable += e == __WASI_ERRNO_NOTCAPABLE; failed += e != 0 && e != __WASI_ERRNO_NOTCAPABLE;
    e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &monotonic);
    result("clock_time_get monotonic", e); pio_end();
    calls++; notcapable += e == __WASI_ERRNO_NOTCAPABLE; failed += e != 0 && e != __WASI_ERRNO_NOTCAPABLE;
    e = __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &realtime);
    result("clock_time_get realtime", e); pio_end();
    calls++; notcapable += e == __WASI_ERRNO_NOTCAPABLE; failed += e != 0 && e != __WASI_ERRNO_NOTCAPABLE;

    __wasi_event_t event;
    __wasi_size_t nevents;
    e = poll_clock(1000000, &event, &nevents);
    result("poll_oneoff clock", e);
    pio_s(" nevents="); pio_u(nevents);
    result(" event_error", event.error);
    pio_s(" type="); pio_u(event.type);
    pio_end();
    calls++;
    if (e != 0 || nevents != 1 || event.userdata != 42 || event.type != __WASI_EVENTTYPE_CLOCK) failed++;
    else if (event.error == __WASI_ERRNO_NOTCAPABLE) notcapable++;
    else if (event.error != 0) failed++;

    for (uint64_t i = 1; sleeps == 0 || i <= sleeps; i++) {
        pio_s("sleeping "); pio_u(i); pio_s(" ms="); pio_u(ms); pio_end();
        __wasi_timestamp_t before = 0, after = 0;
        int e1 = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &before);
        int e2 = poll_clock(ms * 1000000ULL, &event, &nevents);
        int e3 = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &after);
        calls += 3;
        int sleep_error = e2 != 0 ? e2 : nevents == 1 ? event.error : -1;
        if (e1 || e3 || sleep_error) {
            pio_s("sleep "); pio_u(i); pio_s(" failed: ");
            pio_i(e1); pio_c(' '); pio_i(sleep_error); pio_c(' '); pio_i(e3); pio_end();
            int all_notcapable = e1 == __WASI_ERRNO_NOTCAPABLE && sleep_error == __WASI_ERRNO_NOTCAPABLE
                                 && e3 == __WASI_ERRNO_NOTCAPABLE;
            if (all_notcapable) notcapable += 3; else failed++;
            static char buffer[256];
            phantom_request_t info;
            service_next(buffer, sizeof buffer, &info, 100000000);
            continue;
        }
        pio_s("woke "); pio_u(i); pio_s(" slept_ms="); pio_u((after - before) / 1000000);
        if (after < before || after - before < ms * 1000000ULL) { pio_s(" SHORT_SLEEP"); failed++; }
        else pio_s(" ok");
        pio_end();
    }
    e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &monotonic);
    calls++; notcapable += e == __WASI_ERRNO_NOTCAPABLE; failed += e != 0 && e != __WASI_ERRNO_NOTCAPABLE;
    pio_line_s("done");
    if (failed) return 1;
    if (notcapable == 0) return 0;
    return notcapable == calls ? 3 : 1;
}
