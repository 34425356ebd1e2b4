#!/usr/bin/env bash
# Runs the committed component fixtures under Node.js with mock_kernel.mjs (a
# stand-in for the kernel's session ABI) and checks their output. With a
# Swift toolchain it also builds swift_echo_server.swift (test only) and runs
# the echo scenario against it, which exercises the server half of
# PhantomSession.swift.
#
# usage: Programs/test/mock.sh        (needs node >= 20; swiftc optional)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
P=$(dirname "$HERE")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
command -v node >/dev/null || { echo "mock.sh: node not found (apt-get install nodejs)" >&2; exit 1; }
fail() { echo "mock.sh: FAIL: $*" >&2; exit 1; }
run() { node --no-warnings "$HERE/mock_kernel.mjs" "$W/$1" "$2" ${3:+"$3"} || fail "scenario $1"; }

# ---- echo + opener (blocking open before the server announces) ----
check_echo() {
    local d=$W/$1
    diff <(printf 'reply %d status=%d: echo_client -> test: hello %d\n' 1 1 1 2 2 2 3 3 3 4 4 4; echo done) "$d/echo_client.out" \
        || fail "$1: echo_client output"
    diff <(printf 'echo: open echo_client -> test\necho: close echo_client -> test\necho: open opener -> x\necho: close opener -> x\n') \
        "$d/echo_server.out" || fail "$1: echo_server output"
    [ "$(cat "$d/opener.out")" = "open Echo: 1 (ok)" ] || fail "$1: opener"
    [ "$(cat "$d/opener2.out")" = "open Secret: -1 (denied)" ] || fail "$1: opener denied"
    [ "$(cat "$d/opener3.out")" = "open Echo: -3 (quota)" ] || fail "$1: opener quota"
    grep -q "echo_client waits for Echo" "$d/kernel.txt" || fail "$1: the open did not wait for the announce"
    echo "$1: ok"
}
run echo echo
check_echo echo

SWIFTC=${SWIFTC:-$(command -v swiftc || true)}
[ -z "$SWIFTC" ] && [ -x /opt/swift/usr/bin/swiftc ] && SWIFTC=/opt/swift/usr/bin/swiftc
if [ -n "$SWIFTC" ]; then
    mkdir "$W/sw"
    cp "$P/swift/wasi.h" "$P/swift/io.swift" "$P/swift/PhantomSession.swift" "$HERE/swift_echo_server.swift" "$W/sw/"
    (cd "$W/sw" && "$SWIFTC" -target wasm32-unknown-none-wasm -enable-experimental-feature Embedded \
        -enable-experimental-feature Extern -wmo -Osize -parse-as-library -Xcc -fno-stack-protector \
        -Xfrontend -disable-stack-protector -Xcc -mcpu=mvp -import-objc-header wasi.h \
        -module-name swift_echo_server -c io.swift PhantomSession.swift swift_echo_server.swift -o s.o) \
        || fail "swiftc swift_echo_server"
    LD="$(dirname "$SWIFTC")/wasm-ld"; [ -x "$LD" ] || LD=$(command -v wasm-ld-14 || command -v wasm-ld)
    "$LD" --no-entry --export=_start -z stack-size=1048576 --strip-all "$W/sw/s.o" -o "$W/sw/echo.wasm"
    run echo-swift echo "$W/sw/echo.wasm"
    check_echo echo-swift
else
    echo "echo-swift: SKIP (no swiftc)"
fi

# ---- ROM updates, including one larger than rom_watcher's first buffer ----
run rom rom
d=$W/rom
[ "$(sed -n 1p "$d/rom_watcher.out")" = "rom_watcher: /rom/config 25 bytes" ] || fail "rom: size line"
grep -qx 'config 1: <config a="1"/>' "$d/rom_watcher.out" || fail "rom: version 1"
grep -qx 'config 2: <config a="2"/>' "$d/rom_watcher.out" || fail "rom: version 2"
grep -q '^config 3: xxxx' "$d/rom_watcher.out" || fail "rom: version 3 (5000 bytes)"
echo "rom: ok"

# ---- ticker and spinner ----
run misc misc
d=$W/misc
n=$(wc -l < "$d/ticker.out")
[ "$n" -ge 5 ] && [ "$n" -le 11 ] || fail "misc: $n ticks in ~1 s"
diff <(seq 1 "$n" | sed 's/^/tick /') "$d/ticker.out" || fail "misc: ticks"
[ ! -s "$d/spinner.out" ] || fail "misc: spinner printed something"
echo "misc: ok ($n ticks)"

# ---- the default system + the Swift sensor client ----
run system system
d=$W/system
python3 - "$d" <<'PY'
import sys, zlib, re, os
d = sys.argv[1]
def fail(m): print("mock.sh: FAIL: system:", m); sys.exit(1)
out = open(os.path.join(d, "control.out")).read().splitlines()
if out[:2] != ["control: first start", "control: period_ms=10 high=80.00 low=20.00"]: fail("control start %r" % out[:2])
cyc = [int(l.split()[1]) for l in out if l.startswith("cycle ")]
if len(cyc) < 10 or cyc != list(range(10, 10 * len(cyc) + 1, 10)): fail("cycles %r" % cyc[:5])
sensor = open(os.path.join(d, "sensor.out")).read().splitlines()
if sorted(sensor) != ["sensor: serving control -> tank", "sensor: serving sensor_client -> swift"]: fail("sensor %r" % sensor)
if open(os.path.join(d, "sensor_client.out")).read() != "sensor_client: done 5\n": fail("sensor_client")
samples = open(os.path.join(d, "sensor_client.LOG")).read().splitlines()
if len(samples) != 5 or not all(re.fullmatch(r"sample seq=\d+ level=\d+\.\d\d inflow=\d+\.\d\d temp=\d+\.\d\d", s) for s in samples): fail("samples %r" % samples)
hist = open(os.path.join(d, "data", "history.csv")).read().split("\n")
if hist[0] != "seq,level,valve,alarm,crc" or hist[-1] != "": fail("history framing")
seqs = []
for r in hist[1:-1]:
    body, crc = r.rsplit(",", 1)
    if "%08x" % zlib.crc32(body.encode()) != crc: fail("crc " + r)
    seqs.append(int(body.split(",")[0]))
if seqs != sorted(set(seqs)) or len(seqs) < cyc[-1]: fail("history seqs")
reports = open(os.path.join(d, "reports.txt")).read().splitlines()
if len(reports) != len(cyc) or not all(re.fullmatch(r'control -> status: <status cycle="%d" level="\d+\.\d\d" valve="\d+\.\d\d" alarm="(none|high|low)"/>' % c, r) for c, r in zip(cyc, reports)): fail("reports")
hlog = open(os.path.join(d, "historian.out")).read().splitlines()
if hlog[0] != "historian: first start" or hlog[1:] != ["historian: %d records" % (50 * i) for i in range(1, len(hlog))]: fail("historian log")
print("system: ok (%d cycles, %d records)" % (cyc[-1], len(seqs)))
PY
echo "mock.sh: all ok"
