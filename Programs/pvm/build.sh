#!/usr/bin/env bash
# Rebuilds the committed Phantom VM bundles from their assembly sources:
# system/rom/uptime.bundle (the default system's Phantom VM component).
# PvmCommandTests checks that the committed bundle is what this makes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
phantom=${PHANTOM:-"$root/.build/debug/phantom"}
[ -x "$phantom" ] || { echo "build phantom first (swift build), or set PHANTOM" >&2; exit 1; }
"$phantom" pvm bundle -o "$root/system/rom/uptime.bundle" "$here/uptime"
