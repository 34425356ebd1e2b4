#!/usr/bin/env bash
# Smoke-test the committed fixtures: run each module and compare its stdout
# and exit status with Programs/expected/<case>.txt.
#
# usage: Programs/smoke.sh [--native DIR] [--update] [CASE...]
#   (default)     run Programs/wasm/**.wasm under `wasmkit run` (the WasmKit
#                 CLI shipped with the Swift toolchain; an old release, so
#                 this is only a smoke test of the fixtures, not of Phantom)
#   --native DIR  instead run the native builds from build.sh's scratch dir
#                 (default Programs/.build-native) for the C programs and
#                 benchmarks: checks that the expected files describe the
#                 programs themselves, not one runtime's quirks
#   --update      rewrite the expected file of every case that ran
#   CASE...       only these cases (see `grep ^case_ smoke.sh`)
#
# Each case's output is the program's stdout followed by a line "exit=N"
# ("exit=timeout" when it was stopped after a few seconds, as intended for
# infinite_loop). Numbers that legitimately vary (timings, argv[0]) are
# normalised before comparing. A case whose runtime lacks a needed WASI call
# (e.g. poll_oneoff or path_rename in WasmKit 0.1.6) is reported as SKIP.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WASM="$HERE/wasm"
EXPECTED="$HERE/expected"
MODE=wasm
NATIVE="$HERE/.build-native"
UPDATE=0
ONLY=()
while [ $# -gt 0 ]; do
    case "$1" in
        --native) MODE=native; if [ $# -gt 1 ] && [ "${2#-}" = "$2" ] && [ -d "$2" ]; then NATIVE=$2; shift; fi ;;
        --update) UPDATE=1 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) ONLY+=("$1") ;;
    esac
    shift
done

if [ $MODE = wasm ]; then
    WASMKIT=$(command -v wasmkit || true)
    [ -z "$WASMKIT" ] && [ -x /opt/swift/usr/bin/wasmkit ] && WASMKIT=/opt/swift/usr/bin/wasmkit
    if [ -z "$WASMKIT" ]; then echo "smoke.sh: no wasmkit found; nothing to run"; echo "0 passed, 0 failed"; exit 0; fi
else
    [ -d "$NATIVE" ] || { echo "smoke.sh: $NATIVE missing; run Programs/build.sh first" >&2; exit 1; }
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ERR="$WORK/stderr"

# run MODULE [--env K=V|--dir D|--stack-size N]... -- ARGS...
# Runs one module (or its native build) and appends "exit=N" to stdout.
# Returns 77 if this mode has no such program.
run() {
    local mod=$1; shift
    local opts=() envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case "$1" in
            --env) opts+=(--env "$2"); envs+=("$2"); shift 2 ;;
            --dir|--stack-size) opts+=("$1" "$2"); shift 2 ;;
            *) echo "run: bad option $1" >&2; return 2 ;;
        esac
    done
    [ "${1:-}" = -- ] && shift
    local cmd rc
    if [ $MODE = wasm ]; then
        cmd=("$WASMKIT" run "${opts[@]}" "$WASM/$mod" "$@")
    else
        case "$mod" in
            c/*|bench/*) cmd=(env "${envs[@]}" "$NATIVE/${mod%.wasm}" "$@") ;;
            *) return 77 ;;
        esac
    fi
    timeout "${TIMEOUT:-60}" "${cmd[@]}" 2>>"$ERR"
    rc=$?
    if [ $rc = 124 ]; then echo "exit=timeout"; else echo "exit=$rc"; fi
}

# Known gaps of the runtime (not bugs in the programs): skip, don't fail.
unsupported() { grep -q -E 'not implemented|errno=58' "$ERR" "$1" 2>/dev/null; }

# ---------------------------------------------------------------- cases ----
case_counter()        { run c/counter.wasm -- 5000 1000; }
case_counter_env()    { run c/counter.wasm --env COUNTER_EVERY=2500 -- 10000; }
case_counter_swift()  { run swift/counter.wasm -- 5000 1000; }
case_recursion()      { run c/recursion.wasm --stack-size 16777216 -- 10000 300 7; }
case_recursion_swift(){ run swift/recursion.wasm --stack-size 16777216 -- 10000 300 7; }
case_memgrow()        { run c/memgrow.wasm -- 16 256; }
case_sleeper()        { run c/sleeper.wasm -- 2 50; }
case_args_env()       { run c/args_env.wasm --env PHANTOM_B=2 --env PHANTOM_A=x --env OTHER=1 -- 7 "hello world" ""; }
case_appender() {
    local d="$WORK/appender"; mkdir -p "$d"
    run c/appender.wasm --dir "$d" -- "$d/log.txt" 3
    printf 'line 4\nli' >> "$d/log.txt"        # simulate a torn last line
    run c/appender.wasm --dir "$d" -- "$d/log.txt" 2
    echo "--- log.txt"; cat "$d/log.txt"
}
case_kvstore() {
    local d="$WORK/kv"; mkdir -p "$d"
    run c/kvstore.wasm --dir "$d" -- "$d" set b 2 set a hello get a get zz stat list dump \
        del b list dump undump undump stat
    run c/kvstore.wasm --dir "$d" -- "$d" set c 3 list
    echo "--- files"; (cd "$d" && ls -1A)
}
for t in oob_load unreachable div_zero int_overflow bad_indirect stack_exhaust grow_limit; do
    eval "case_trap_$t() { run traps/$t.wasm; }"
done
case_trap_infinite_loop() { TIMEOUT=2 run traps/infinite_loop.wasm; }
case_bench_coremark_like() { run bench/coremark_like.wasm -- 100; }
case_bench_sieve()         { run bench/sieve.wasm -- 2; }
case_bench_matmul()        { run bench/matmul.wasm -- 2; }
case_bench_sha256()        { run bench/sha256.wasm -- 2; }
case_bench_nbody()         { run bench/nbody.wasm -- 1000; }

normalize() {
    sed -E -e 's/^argv\[0\]=.*/argv[0]=PROGRAM/' \
           -e 's/(slept_ms|mono_ms|real_s)=[0-9]+/\1=N/g' \
           -e "$( [ $MODE = native ] && echo 's/pages=[0-9]+/pages=P/g' || echo 's/^$//' )"
}

CASES=$(declare -F | awk '{print $3}' | sed -n 's/^case_//p')
[ ${#ONLY[@]} -gt 0 ] && CASES="${ONLY[*]}"
pass=0; fail=0; skip=0
for c in $CASES; do
    : > "$ERR"
    out="$WORK/$c.out"
    "case_$c" > "$out" 2>>"$ERR"
    st=$?
    if [ $st = 77 ]; then skip=$((skip + 1)); printf 'SKIP %-26s (no %s build)\n' "$c" $MODE; continue; fi
    if unsupported "$out"; then
        skip=$((skip + 1))
        printf 'SKIP %-26s (runtime lacks a WASI call: %s)\n' "$c" \
            "$(grep -h -o -E '"[a-z_]+" not implemented yet|errno=58' "$ERR" "$out" | head -1)"
        continue
    fi
    exp="$EXPECTED/$c.txt"
    if [ $UPDATE = 1 ]; then
        normalize < "$out" > "$exp"
    fi
    if [ -f "$exp" ] && diff -u <(normalize < "$exp") <(normalize < "$out") > "$WORK/diff"; then
        pass=$((pass + 1)); printf 'PASS %s\n' "$c"
    else
        fail=$((fail + 1)); printf 'FAIL %s\n' "$c"
        [ -f "$exp" ] && head -20 "$WORK/diff" || echo "  (no $exp)"
        head -5 "$ERR" | sed 's/^/  stderr: /'
    fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
