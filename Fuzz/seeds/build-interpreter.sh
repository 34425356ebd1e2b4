#!/usr/bin/env bash
# Rebuilds the interpreter fuzzer's seeds (Fuzz/run.sh interpreter) from the
# programs of Programs/pvm, with `phantom pvm asm` (PHANTOM, default: the
# debug build): each class as a class file (interpreter-*.pc), and the code
# of each of its methods alone (interpreter-code-*.bin), which the fuzz
# target runs as the startup method of its boot class.
set -euo pipefail
cd "$(dirname "$0")"
phantom=${PHANTOM:-../../.build/debug/phantom}
rm -f interpreter-*.pc interpreter-code-*.bin
for source in ../../Programs/pvm/*/*.pas interpreter-natives.pas interpreter-threads.pas interpreter-weak.pas; do
  program=$(basename "$(dirname "$(realpath "$source")")")
  class=$(basename "$source" .pas)
  [ "$program" = seeds ] && name=$class || name=interpreter-$program-$class
  "$phantom" pvm asm "$source" -o "$name.pc"
done
python3 - interpreter-*.pc <<'PY'
import struct, sys
for path in sys.argv[1:]:
    data = open(path, 'rb').read()
    start = 0
    while start < len(data):
        tag = data[start + 5:start + 6]
        length = struct.unpack('>i', data[start + 6:start + 10])[0]
        payload = data[start + 10:start + length]
        if tag == b'M':
            size = struct.unpack('>i', payload[:4])[0]
            name = payload[4:4 + size].decode().replace('<', '').replace('>', '')
            code = payload[4 + size + 4:]
            stem = path[len('interpreter-'):-len('.pc')]
            open('interpreter-code-%s-%s.bin' % (stem, name), 'wb').write(code)
        start += length
PY
