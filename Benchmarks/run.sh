#!/usr/bin/env bash
# Builds every runner in release mode, then runs the side-by-side benchmark.
# usage: Benchmarks/run.sh [--runs N] [--only NAME]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
(cd "$here" && swift build -c release --product wasmkit-reference)
(cd "$here/.." && swift build -c release --product phantom)
python3 -c "import wasmtime" 2>/dev/null || pip install -q wasmtime || echo "wasmtime not installed: its column is left out" >&2
python3 "$here/run.py" "$@"
