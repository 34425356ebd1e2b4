#!/usr/bin/env bash
# Rebuild every committed WebAssembly fixture in Programs/wasm/ from source,
# and native reference executables into a scratch directory (never committed).
#
# usage: Programs/build.sh [NATIVE_DIR]
#   NATIVE_DIR  where native executables go (default: Programs/.build-native)
#
# Environment:
#   REQUIRE_SWIFT=1   fail (instead of skipping with a warning) when no Swift
#                     toolchain with Embedded Swift support is found
#   SWIFTC=...        swiftc to use (default: swiftc on PATH, else /opt/swift)
#
# Outputs are deterministic: fixed flags, no debug info, names and custom
# sections stripped, so rebuilding on the same toolchain gives identical bytes.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/wasm"
NATIVE="${1:-$HERE/.build-native}"
mkdir -p "$NATIVE"
NATIVE=$(cd "$NATIVE" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

die() { echo "build.sh: error: $*" >&2; exit 1; }
APT_HINT="install them with: apt-get update && apt-get install -y clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 wabt"

# ---- tool checks -------------------------------------------------------------
command -v clang-14 >/dev/null || die "clang-14 not found; $APT_HINT"
# clang-14's wasm backend can emit different (equally valid) code depending on
# the compiler's memory layout, which shifts with ASLR, with the length of the
# working directory, the arguments and the environment (seen with counter.c).
# So wasm objects are compiled with ASLR disabled, from a scratch directory
# whose path always has the same length, with relative paths and an empty
# environment: the output is then byte-for-byte reproducible wherever the
# repository is checked out and whoever runs the build.
NOASLR=()
if setarch "$(uname -m)" -R true 2>/dev/null; then NOASLR=(setarch "$(uname -m)" -R); fi
CLANG_BIN=$(command -v clang-14)
clang14() { "${NOASLR[@]}" "$CLANG_BIN" "$@"; }
CLANG=clang14
CANON=$(mktemp -d /tmp/phantom-build.XXXXXXXX)
trap 'rm -rf "$TMP" "$CANON"' EXIT
cp -r "$HERE/c" "$HERE/bench" "$HERE/swift" "$HERE/include" "$CANON/"
# wasm_cc SUBDIR NAME OUT [FLAGS...]: compile $CANON/SUBDIR/NAME.c to OUT
wasm_cc() {
    local sub=$1 name=$2 out=$3; shift 3
    (cd "$CANON/$sub" && env -i PATH=/usr/bin:/bin "${NOASLR[@]}" "$CLANG_BIN" \
        "${WASM_CFLAGS[@]}" "$name.c" -o "$name.wasm" "${WASM_LDFLAGS[@]}" "$@") \
        || die "clang-14 failed for $sub/$name.c"
    mv "$CANON/$sub/$name.wasm" "$out"
}
command -v wasm-ld-14 >/dev/null || command -v wasm-ld >/dev/null || die "wasm-ld (lld-14) not found; $APT_HINT"
for t in wat2wasm wasm-validate wasm-strip wasm-objdump; do
    command -v $t >/dev/null || die "$t (wabt) not found; $APT_HINT"
done
echo 'int main(void){return 0;}' > "$TMP/probe.c"
"$CLANG" --target=wasm32-wasi -O2 "$TMP/probe.c" -o "$TMP/probe.wasm" 2>"$TMP/probe.err" \
    || { cat "$TMP/probe.err" >&2; die "clang-14 cannot build for wasm32-wasi (missing wasi-libc or libclang-rt-14-dev-wasm32?); $APT_HINT"; }

# Fixtures must stay WebAssembly 1.0 (MVP + mutable globals): no SIMD,
# sign-extension, saturating truncation, bulk memory, multi-value or
# reference types, so the engine only has to implement the 1.0 spec.
validate() {
    wasm-validate --disable-simd --disable-sign-extension --disable-saturating-float-to-int \
        --disable-bulk-memory --disable-multi-value --disable-reference-types "$1" \
        || die "$1 is not a valid WebAssembly 1.0 module"
}

finish() {   # strip custom sections, validate
    wasm-strip "$1"
    validate "$1"
}

# Every import must be a WASI preview 1 function or one of the six functions
# of the session ABI (docs/SESSION-ABI.md) with exactly its signature.
check_session_imports() {
    wasm-objdump -x "$1" | awk -v file="$1" '
        BEGIN {
            want["session_open"] = "(i32, i32, i32, i32, i64) -> i32"
            want["session_call"] = "(i32, i32, i32, i32, i32, i32) -> i32"
            want["session_close"] = "(i32) -> i32"
            want["session_upgrade"] = "(i32, i64) -> i32"
            want["parent_resource_request"] = "(i64, i64) -> i32"
            want["memory_discard"] = "(i32, i32) -> i32"
            want["service_announce_flags"] = "(i32, i32, i32) -> i32"
            want["service_announce"] = "(i32, i32) -> i32"
            want["service_next"] = "(i32, i32, i32, i64) -> i32"
            want["service_reply"] = "(i32, i32, i32, i32) -> i32"
        }
        /^Type\[/ { section = "type"; next }
        /^Import\[/ { section = "import"; next }
        /^[A-Z][a-z]*\[/ { section = ""; next }
        section == "type" && /^ - type\[/ {
            n = $2; sub(/^type\[/, "", n); sub(/\]$/, "", n)
            sig = $0; sub(/^ - type\[[0-9]+\] /, "", sig); types[n] = sig
        }
        section == "import" && /<- / {
            what = $NF; split(what, parts, ".")
            if (parts[1] == "wasi_snapshot_preview1") next
            if (parts[1] != "phantom_session" || !(parts[2] in want)) { print file ": unexpected import " what; bad = 1; next }
            s = $3; sub(/^sig=/, "", s)
            if ($2 !~ /^func/ || types[s] != want[parts[2]]) { print file ": " what " has type " types[s] ", expected " want[parts[2]]; bad = 1 }
        }
        END { exit bad }' >&2 || die "$1 imports something outside WASI and the session ABI"
}

CFLAGS_COMMON=(-O2 -std=c11 -Wall -Werror -ffp-contract=off -fno-ident -D_GNU_SOURCE)
WASM_CFLAGS=(--target=wasm32-wasi -mcpu=mvp "${CFLAGS_COMMON[@]}")
WASM_LDFLAGS=(-Wl,--strip-all)

mkdir -p "$OUT/c" "$OUT/traps" "$OUT/bench" "$OUT/swift" "$OUT/system" "$OUT/kernel" "$OUT/bench_kernel" "$NATIVE/bench" "$NATIVE/c"

# ---- C persistence programs ----------------------------------------------------
for p in counter recursion appender kvstore memgrow sleeper args_env dirtier; do
    extra=()
    # recursion keeps 10000+ frames of 32 bytes in the shadow stack
    [ "$p" = recursion ] && extra=(-Wl,-z,stack-size=1048576)
    wasm_cc c "$p" "$OUT/c/$p.wasm" "${extra[@]}"
    finish "$OUT/c/$p.wasm"
    "$CLANG" "${CFLAGS_COMMON[@]}" "$HERE/c/$p.c" -o "$NATIVE/c/$p"
done

# ---- components (session ABI) ----------------------------------------------------
# The default system's components (c/system/) and the kernel's test components
# (c/kernel/): WASI commands that also import phantom_session
# (include/phantom_session.h, helpers in c/component.h). Not runnable outside
# the Phantom kernel; their logic is tested natively by test/run.sh and test/mock_kernel.mjs.
for p in sensor control historian; do
    wasm_cc c/system "$p" "$OUT/system/$p.wasm" -I.. -I../../include
    finish "$OUT/system/$p.wasm"
    check_session_imports "$OUT/system/$p.wasm"
done
for p in echo_server echo_client opener memory_bomb spinner ticker rom_watcher log_server console dummy timer_client; do
    extra=()
    # spinner has its own _start: no start code, so not a single import
    [ "$p" = spinner ] && extra=(-nostartfiles)
    wasm_cc c/kernel "$p" "$OUT/kernel/$p.wasm" -I.. -I../../include "${extra[@]}"
    finish "$OUT/kernel/$p.wasm"
    check_session_imports "$OUT/kernel/$p.wasm"
done

# The kernel benchmarks' components (c/bench_kernel/, `phantom bench kernel …`).
for p in bench_server bench_client bench_ticker; do
    wasm_cc c/bench_kernel "$p" "$OUT/bench_kernel/$p.wasm" -I.. -I../../include
    finish "$OUT/bench_kernel/$p.wasm"
    check_session_imports "$OUT/bench_kernel/$p.wasm"
done

# ---- trap programs (WAT) ---------------------------------------------------------
for f in "$HERE"/c/traps/*.wat; do
    b=$(basename "$f" .wat)
    wat2wasm --disable-bulk-memory --disable-reference-types --disable-multi-value \
        --disable-sign-extension --disable-saturating-float-to-int "$f" -o "$OUT/traps/$b.wasm"
    finish "$OUT/traps/$b.wasm"
done

# ---- benchmarks -------------------------------------------------------------------
for p in coremark_like sieve matmul sha256 nbody clock_loop vm_compare; do
    wasm_cc bench "$p" "$OUT/bench/$p.wasm"
    finish "$OUT/bench/$p.wasm"
    "$CLANG" "${CFLAGS_COMMON[@]}" "$HERE/bench/$p.c" -o "$NATIVE/bench/$p" -lm
done

# ---- Embedded Swift ---------------------------------------------------------------
SWIFTC=${SWIFTC:-$(command -v swiftc || true)}
[ -z "$SWIFTC" ] && [ -x /opt/swift/usr/bin/swiftc ] && SWIFTC=/opt/swift/usr/bin/swiftc
if [ -n "$SWIFTC" ]; then
    SWIFT_LD="$(dirname "$SWIFTC")/wasm-ld"
    [ -x "$SWIFT_LD" ] || SWIFT_LD=$(command -v wasm-ld-14 || command -v wasm-ld)
    # Compiled like the C files (fixed-length scratch dir, relative paths,
    # empty environment): swiftc also embeds a hash of the object's path.
    SWIFTFLAGS=(-target wasm32-unknown-none-wasm -enable-experimental-feature Embedded -wmo -Osize
        -parse-as-library -Xcc -fno-stack-protector -Xfrontend -disable-stack-protector
        -Xcc -mcpu=mvp -import-objc-header wasi.h)
    # sensor_client uses the session ABI binding (PhantomSession.swift), whose
    # @_extern(wasm) imports need the experimental feature Extern.
    for p in counter recursion sensor_client; do
        rm -rf "$CANON/sw" && mkdir "$CANON/sw"
        sources=(io.swift)
        flags=("${SWIFTFLAGS[@]}")
        if [ "$p" = sensor_client ]; then
            sources+=(PhantomSession.swift)
            flags+=(-enable-experimental-feature Extern)
        fi
        sources+=("$p.swift")
        for f in wasi.h "${sources[@]}"; do cp "$HERE/swift/$f" "$CANON/sw/"; done
        (cd "$CANON/sw" && env -i PATH=/usr/bin:/bin HOME=/tmp "${NOASLR[@]}" "$SWIFTC" "${flags[@]}" -module-name "$p" -c "${sources[@]}" -o "$p.o") \
            || die "swiftc failed for $p.swift"
        "$SWIFT_LD" --no-entry --export=_start -z stack-size=1048576 --strip-all \
            "$CANON/sw/$p.o" -o "$OUT/swift/$p.wasm"
        finish "$OUT/swift/$p.wasm"
        check_session_imports "$OUT/swift/$p.wasm"
    done
else
    msg="no swiftc found: Embedded Swift fixtures in wasm/swift/ left as committed"
    [ "${REQUIRE_SWIFT:-0}" = 1 ] && die "$msg"
    echo "build.sh: warning: $msg" >&2
fi

# ---- summary -----------------------------------------------------------------------
echo "fixtures (bytes, imports: WASI by name, the session ABI as phantom_session.NAME):"
(cd "$OUT" && find . -name '*.wasm' | sort) | while read -r f; do
    imports=$({ wasm-objdump -x -j Import "$OUT/$f" 2>/dev/null || true; } \
        | sed -n -e 's/.*<- wasi_snapshot_preview1\.\([a-z_]*\).*/\1/p' \
                 -e 's/.*<- \(phantom_session\.[a-z_]*\).*/\1/p' | tr '\n' ' ')
    printf '  %-26s %6d  %s\n' "${f#./}" "$(stat -c %s "$OUT/$f")" "$imports"
done
echo "native reference executables in $NATIVE"
