#!/usr/bin/env bash
# Builds and runs a libFuzzer target.
# usage: Fuzz/run.sh image|module|restore|config|config-node|classfile|interpreter [SECONDS]
#
# SwiftPM builds the target as a static library with fuzzer instrumentation;
# swiftc then links it with libFuzzer's own main (SwiftPM cannot: it renames
# executables' entry points and links with gold). Seeds: a small real image
# (image); the committed Programs/wasm fixtures, Fuzz/seeds and, with wabt, the
# spec suite's modules (module); Genode configs in XML and HID with a
# dictionary of both syntaxes' tokens (config, and config-node: the C parser of
# our components, Programs/c/config_node.h, built with clang-14, ASan and
# UBSan instead of SwiftPM); Phantom VM class files, bundles and assembly
# texts with a dictionary of record markers and directives (classfile; the
# seeds are built by seeds/build.sh); the Phantom VM running class files and
# bytecode (interpreter: the persistence and regression programs of
# Programs/pvm as class files and the code of their methods, built by
# seeds/build-interpreter.sh, and the class-file seeds). Crashes are written
# to Fuzz/.build-fuzz/ as crash-* files; rerun one with the binary and its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: run.sh image|module|restore|config|config-node|classfile|interpreter [SECONDS]}
seconds=${2:-60}
if [ "$target" = config-node ]; then
  mkdir -p "$here/.build-fuzz/corpus-config-node"
  cp "$here"/seeds/config-* "$here/.build-fuzz/corpus-config-node/"
  clang-14 -O1 -g -std=c11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$here/../Programs/c" "$here/c/config_node.c" -o "$here/.build-fuzz/fuzz-config-node"
  cd "$here/.build-fuzz"
  exec ./fuzz-config-node -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -dict="$here/seeds/config.dict" corpus-config-node
fi
case "$target" in
  image) product=FuzzImage ;;
  module) product=FuzzModule ;;
  restore) product=FuzzRestore ;;
  config) product=FuzzConfig ;;
  classfile) product=FuzzClassFile ;;
  interpreter) product=FuzzInterpreter ;;
  *) echo "unknown target $target (image, module, restore, config, config-node, classfile or interpreter)" >&2; exit 2 ;;
esac
cd "$here"
swift build -c release --product "$product" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer -Xcc -fsanitize=fuzzer-no-link
echo '// The fuzz target (LLVMFuzzerTestOneInput) comes from the static library.' > .build-fuzz/driver.swift
swiftc -sanitize=fuzzer -parse-as-library -use-ld=lld -o ".build-fuzz/fuzz-$target" .build-fuzz/driver.swift \
  -Xlinker --whole-archive ".build-fuzz/release/lib$product.a" -Xlinker --no-whole-archive
corpus=".build-fuzz/corpus-$target"
extra=()
mkdir -p "$corpus"
if [ "$target" = module ]; then
  for file in "$here"/../Programs/wasm/*/*.wasm; do
    cp "$file" "$corpus/$(basename "$(dirname "$file")")-$(basename "$file")"
  done
  # Modules without imports reach the interpreter: our fusion tests' modules
  # (seeds/, from Tests/PhantomWasmTests/TranslationTests.swift) and, where wabt and
  # the spec suite are at hand, the suite's modules.
  cp "$here"/seeds/*.wasm "$corpus/"
  suite=${PHANTOM_WASM_TESTSUITE:-$here/../../shared/wasm-testsuite}
  if command -v wast2json >/dev/null && [ -d "$suite" ]; then
    for name in i32 i64 f64 loop br_if br_table block call call_indirect memory local_tee select fac; do
      [ -f "$suite/$name.wast" ] && (cd "$corpus" && wast2json --disable-simd "$suite/$name.wast" -o "spec-$name.json" >/dev/null 2>&1 || true)
    done
    rm -f "$corpus"/*.json "$corpus"/*.wat
  fi
elif [ "$target" = config ]; then
  cp "$here"/seeds/config-* "$corpus/"
  extra=(-dict="$here/seeds/config.dict")
elif [ "$target" = classfile ]; then
  cp "$here"/seeds/classfile-* "$corpus/"
  extra=(-dict="$here/seeds/classfile.dict")
elif [ "$target" = interpreter ]; then
  # Programs run: keep the process's memory and a slow input in check
  # (the VM's space is 1 GiB; a run is 40 rounds of 1000 instructions).
  cp "$here"/seeds/interpreter-*.pc "$here"/seeds/interpreter-*.bin "$here"/seeds/classfile-*.pc "$corpus/"
  extra=(-dict="$here/seeds/interpreter.dict" -timeout=20 -max_len=65536)
elif [ "$target" = restore ]; then
  # Inputs are forgeries (FuzzRestore.swift): the empty one forges nothing.
  cp "$here"/seeds/restore-* "$corpus/"
else
  seed=$(mktemp -d)
  (cd "$here/.." && swift build -c release --product phantom >/dev/null && \
   .build/release/phantom --image "$seed/seed.img" --iterations 50 --quiet >/dev/null)
  # Drop the zero tail the image grew by, so the seed stays small.
  python3 - "$seed/seed.img" "$corpus/seed.img" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
blocks = [data[i:i + 4096] for i in range(0, len(data), 4096)]
while blocks and not any(blocks[-1]): blocks.pop()
open(sys.argv[2], 'wb').write(b''.join(blocks))
PY
  rm -rf "$seed"
fi
cd .build-fuzz
"./fuzz-$target" -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 "${extra[@]}" "corpus-$target"
