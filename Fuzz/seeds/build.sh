#!/usr/bin/env bash
# Rebuilds the module fuzzer's seeds from their WAT (the modules of the fusion
# tests in Tests/PhantomWasmTests/TranslationTests.swift). Needs wabt (`apt-get install wabt`).
set -euo pipefail
cd "$(dirname "$0")"
for source in *.wat; do
  wat2wasm --enable-all "$source" -o "${source%.wat}.wasm"
done
