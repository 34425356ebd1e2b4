#!/usr/bin/env bash
# Every benchmark of docs/BENCHMARKS.md in one run, printed as Markdown.
# usage: Benchmarks/all.sh [--quick]   (run from anywhere; images go to a scratch directory on the same disk; about 6 minutes, 3 with --quick)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=5; pause_runs=40; quick=0
[ "${1:-}" = "--quick" ] && { runs=3; pause_runs=20; quick=1; }
(cd "$root" && swift build -c release --product phantom) >&2
(cd "$root/Benchmarks" && swift build -c release --product wasmkit-reference) >&2
phantom="$root/.build/release/phantom"
scratch=$(mktemp -d "$root/.bench-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
echo "## Machine"; echo; echo '```'; nproc; grep -m1 "model name" /proc/cpuinfo || true; uname -sr; df -h . | tail -1; date -u; echo '```'; echo
echo "## Store and object space"; echo
"$phantom" bench dirty-tracking; echo
"$phantom" bench pause --runs "$pause_runs" --directory "$scratch"; echo
# 4 GiB too needs ~8.5 GiB of RAM and ~2 min more: add 4096 to --sizes by hand (docs/BENCHMARKS.md).
"$phantom" bench capture --sizes 4,64,1024 --runs "$pause_runs" --large-runs 3 --directory "$scratch"; echo
"$phantom" bench commit --runs "$runs" --directory "$scratch"
"$phantom" bench commit --runs "$runs" --megabytes 256 --directory "$scratch"; echo
"$phantom" bench restore --runs "$runs" --directory "$scratch"
if [ "$(id -u)" = 0 ]; then "$phantom" bench restore --runs "$runs" --cold --directory "$scratch"; fi; echo
"$phantom" bench frequency --seconds 5 --directory "$scratch"; echo
echo "## WebAssembly"; echo
(cd "$root" && "$phantom" bench wasm --runs "$runs" --directory "$scratch"); echo
python3 "$root/Benchmarks/run.py" --runs "$runs"
echo; echo "## Kernel"; echo
programs="$root/Programs/wasm/bench_kernel"
"$phantom" bench kernel sessions --runs "$runs" --programs "$programs"; echo
"$phantom" bench kernel log --runs "$runs" --programs "$programs"; echo
"$phantom" bench kernel pause --programs "$programs" --directory "$scratch"; echo
"$phantom" bench kernel restore --runs "$runs" --programs "$programs" --directory "$scratch"; echo
if [ "$quick" = 1 ]; then idle=(--runs 1 --seconds 5); else idle=(--runs 3); fi
"$phantom" bench kernel idle "${idle[@]}" --programs "$programs" --directory "$scratch"
echo; echo "## Phantom VM"; echo
(cd "$root" && "$phantom" bench pvm --runs "$runs" --module "$root/Programs/wasm/bench/vm_compare.wasm" --directory "$scratch")
