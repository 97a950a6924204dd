#!/usr/bin/env bash
# run.sh [mesh options] - install what is needed, build, and run a node.
#   contrib/run.sh --authkey KEY
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/contrib/deps.sh" run
[ -d "$top/build" ] || meson setup "$top/build" "$top" >/dev/null
ninja -C "$top/build" >/dev/null
exec "$top/build/src/mesh" "$@"
