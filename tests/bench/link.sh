#!/bin/sh
# Link benchmark: handshake cost, loopback link set-up, encrypted throughput.
# Usage: tests/bench/link.sh [BUILD_DIR] [MiB per message size]
# Uses (and if missing, sets up) the build-net build dir unless one is given.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build-net}
if [ ! -d "$build" ]; then
    meson setup "$build" "$top" >/dev/null
fi
ninja -C "$build" tests/net/bench_link >/dev/null
"$build/tests/net/bench_link" "${2:-2048}" 2>/dev/null
