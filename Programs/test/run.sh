#!/usr/bin/env bash
# Native logic tests of the C components (not fixtures, nothing committed):
# builds stub_kernel (a single-process stand-in for the kernel's session ABI,
# see stub_kernel.c) with clang-14 and checks the config parser, CRC-32, the
# sensor/controller/historian loop, the historian's restart behaviour, echo,
# opener, rom_watcher, and dummy with its config parser (t_dummy.c).
#
# usage: Programs/test/run.sh [CYCLES]   (default 3000 control cycles)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
C=$(dirname "$HERE")/c
INC=$(dirname "$HERE")/include
CYCLES=${1:-3000}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
CC=${CC:-clang-14}
FLAGS=(-O2 -std=c11 -Wall -Wextra -Werror -ffp-contract=off -D_GNU_SOURCE -I"$C" -I"$INC" -I"$HERE"
       -DPHANTOM_ROM_DIR='"rom"' -DHISTORY_PATH='"data/history.csv"')
cc() { "$CC" "${FLAGS[@]}" -c "$@"; }
cc "$HERE/t_sensor.c" -o "$W/t_sensor.o"
cc "$HERE/t_historian.c" -o "$W/t_historian.o"
cc "$HERE/t_echo.c" -o "$W/t_echo.o"
cc -Dmain=control_main "$C/system/control.c" -o "$W/control.o"
cc -Dmain=echo_client_main "$C/kernel/echo_client.c" -o "$W/echo_client.o"
cc -Dmain=rom_watcher_main "$C/kernel/rom_watcher.c" -o "$W/rom_watcher.o"
cc -Dmain=opener_main "$C/kernel/opener.c" -o "$W/opener.o"
cc "$HERE/stub_kernel.c" -o "$W/stub_kernel.o"
"$CC" "$W"/*.o -o "$W/stub_kernel"

fail() { echo "run.sh: FAIL: $*" >&2; exit 1; }
scratch() { rm -rf "$W/run" && mkdir -p "$W/run/rom" "$W/run/data" && cd "$W/run"; }

# ---- unit ----
scratch; "$W/stub_kernel" unit

# ---- control + sensor + historian ----
scratch
printf '<config period_ms="0" high="80" low="20"/>\n' > rom/config
"$W/stub_kernel" system "$CYCLES" > out.txt || { cat out.txt; fail "system run"; }
python3 - "$CYCLES" out.txt data/history.csv <<'PY'
import sys, zlib, re
cycles = int(sys.argv[1]); out = open(sys.argv[2]).read().splitlines(); hist = open(sys.argv[3]).read()
def fail(m): print("FAIL:", m); sys.exit(1)
if out.count("control: first start") != 1: fail("first start count")
if out.count("historian: first start") != 1: fail("historian first start count")
if "sensor: serving control -> tank" not in out: fail("sensor open log")
cyc = [int(l.split()[1]) for l in out if l.startswith("cycle ")]
if cyc != list(range(10, cycles + 1, 10)): fail("cycle lines %r" % cyc[:5])
for l in out:
    if l.startswith("cycle "):
        if not re.fullmatch(r"cycle \d+ level=\d+\.\d\d valve=\d+\.\d\d", l): fail("cycle line " + l)
state = "none"; alarms = {"ALARM HIGH": 0, "ALARM LOW": 0}
for l in out:
    m = re.fullmatch(r"(ALARM|CLEAR) (HIGH|LOW) level=(\d+\.\d\d)", l)
    if not m: continue
    kind, which, level = m.group(1), m.group(2).lower(), float(m.group(3))
    if kind == "ALARM":
        if state == which: fail("double alarm " + l)
        if which == "high" and level < 80: fail(l)
        if which == "low" and level > 20: fail(l)
        alarms[l.split(" level")[0]] += 1; state = which
    else:
        if state != which: fail("clear without alarm " + l)
        if which == "high" and level >= 75: fail("hysteresis " + l)
        if which == "low" and level <= 25: fail("hysteresis " + l)
        state = "none"
lines = hist.split("\n")
if lines[0] != "seq,level,valve,alarm,crc": fail("header")
if lines[-1] != "": fail("no final newline")
recs = lines[1:-1]
if len(recs) != cycles: fail("%d records" % len(recs))
levels = []
for i, r in enumerate(recs, 1):
    body, crc = r.rsplit(",", 1)
    if "%08x" % zlib.crc32(body.encode()) != crc: fail("crc " + r)
    seq, level, valve, alarm = body.split(",")
    if int(seq) != i: fail("seq " + r)
    if alarm not in ("none", "high", "low"): fail("alarm " + r)
    if not 0 <= float(valve) <= 100: fail("valve " + r)
    levels.append(float(level))
if sum(1 for l in out if l.startswith("historian: ") and l.endswith(" records")) != cycles // 50: fail("historian N records lines")
calm = sorted(levels)[len(levels) // 2]
print("system: %d cycles, %d high / %d low alarms, median level %.2f, min %.2f max %.2f"
      % (cycles, alarms["ALARM HIGH"], alarms["ALARM LOW"], calm, min(levels), max(levels)))
last = [l for l in out if l.startswith("stopped")][0]
if not re.search(r'last <status cycle="%d" level="\d+\.\d\d" valve="\d+\.\d\d" alarm="(none|high|low)"/>' % (cycles - cycles % 10), last): fail(last)
PY

# ---- historian restart (re-executed writes overwrite identical bytes) ----
scratch
"$W/stub_kernel" historian-restart > out.txt || { cat out.txt; fail "historian-restart"; }
python3 - data/history.csv <<'PY'
import sys, zlib
want = "seq,level,valve,alarm,crc\n" + "".join("%s,%08x\n" % (r, zlib.crc32(r.encode())) for r in
    ["1,50.00,40.00,none", "2,50.50,42.00,none", "3,51.00,44.00,none", "4,51.20,45.00,none", "5,51.30,45.50,none", "6,51.10,45.00,none"])
got = open(sys.argv[1]).read()
if got != want: print("FAIL: history after restart:\n" + got); sys.exit(1)
print("historian-restart: ok")
PY
# a new instance on the old file continues after the last complete line
printf '7,1.00,2.00,none,00000000\n8,1.0' >> data/history.csv
"$W/stub_kernel" historian-restart > out2.txt || { cat out2.txt; fail "historian-restart 2"; }
grep -q "historian: dropping a torn line of 5 bytes" out2.txt || fail "torn line not dropped"
[ "$(grep -c '^seq,' data/history.csv)" = 1 ] || fail "second header"
[ "$(wc -l < data/history.csv)" = 14 ] || fail "lines after second run: $(wc -l < data/history.csv)"

# ---- echo ----
scratch
"$W/stub_kernel" echo 3 > out.txt || { cat out.txt; fail "echo"; }
cat > want.txt <<'TXT'
echo: open echo_client -> test
reply 1 status=1: echo_client -> test: hello 1
reply 2 status=2: echo_client -> test: hello 2
reply 3 status=3: echo_client -> test: hello 3
echo: close echo_client -> test
done
exit 0
TXT
diff want.txt out.txt || fail "echo output"
echo "echo: ok"

# ---- rom_watcher ----
scratch
printf '<config version="1"/>\nsecond line\n' > rom/config
"$W/stub_kernel" rom > out.txt || { cat out.txt; fail "rom"; }
cat > want.txt <<'TXT'
rom_watcher: /rom/config 34 bytes
<config version="1"/>
second line
config 1: <config version="1"/>
config 2: <config version="2"/>
config 3: <config version="3"/>
stopped at version 3
TXT
diff want.txt out.txt || fail "rom_watcher output"
echo "rom_watcher: ok"

# ---- opener ----
scratch
"$W/stub_kernel" opener Secret > out.txt || true
diff <(printf 'open Secret: -1 (denied)\nexit 1\n') out.txt || fail "opener denied"
"$W/stub_kernel" opener Echo x > out.txt
diff <(printf 'echo: open opener -> x\nopen Echo: 1 (ok)\necho: close opener -> x\nexit 0\n') out.txt || fail "opener ok"
"$W/stub_kernel" opener Echo x 4000000000 > out.txt || true
diff <(printf 'open Echo: -3 (quota)\nexit 1\n') out.txt || fail "opener quota"
printf '<config service="Echo" label="cfg"/>\n' > rom/config
"$W/stub_kernel" opener > out.txt
grep -q 'open Echo: 1 (ok)' out.txt || fail "opener from config"
grep -q 'echo: open opener -> cfg' out.txt || fail "opener label from config"
echo "opener: ok"

# ---- dummy (Genode's test-init component) and its config parser ----
# t_dummy.c includes kernel/dummy.c and stubs the session ABI; it runs its
# own scenarios (see there). Built once plain, and once with AddressSanitizer
# and UBSan when the toolchain has them.
cd "$W"
"$CC" "${FLAGS[@]}" "$HERE/t_dummy.c" -o "$W/t_dummy"
"$W/t_dummy" > dummy.txt 2>&1 || { cat dummy.txt; fail "dummy"; }
tail -1 dummy.txt
if "$CC" -fsanitize=address,undefined -x c - -o "$W/probe" <<< 'int main(void){return 0;}' 2>/dev/null; then
    "$CC" "${FLAGS[@]}" -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all "$HERE/t_dummy.c" -o "$W/t_dummy_asan"
    ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=1024 "$W/t_dummy_asan" > dummy_asan.txt 2>&1 \
        || { cat dummy_asan.txt; fail "dummy (sanitizers)"; }
    echo "dummy (ASan, UBSan): ok"
fi
echo "dummy: ok"
echo "run.sh: all ok"
