#!/usr/bin/env bash
# Rebuilds the class-file fuzzer's binary seeds (Fuzz/run.sh classfile) from
# the .pas texts beside them, with `phantom pvm asm` (PHANTOM, default: the
# debug build): each class with current-layout signatures and with old ones,
# and a bundle of them (512-byte name, little-endian length, class file).
set -euo pipefail
cd "$(dirname "$0")"
phantom=${PHANTOM:-../../.build/debug/phantom}
for source in classfile-*.pas; do
  "$phantom" pvm asm "$source" -o "${source%.pas}.pc"
  "$phantom" pvm asm "$source" -o "${source%.pas}-old.pc" --old-signatures
done
python3 - classfile-bundle.pcb <<'PY'
import struct, sys
out = b''
for name in ['counter', 'switch']:
    data = open('classfile-%s.pc' % name, 'rb').read()
    out += ('ru.dz.demo.' + name).encode().ljust(512, b'\0') + struct.pack('<I', len(data)) + data
open(sys.argv[1], 'wb').write(out)
PY
