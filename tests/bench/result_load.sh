#!/usr/bin/env bash
# result_load.sh [BUILD_DIR] [COUNT] [RUNS] - how long loading a finished
# batch's results file (hash and layout check) holds a node's event loop:
# on the loop, as before, and on the libuv pool, as src/node/result_fetch.c
# runs it now. COUNT results (default 10,000,000: a file of ~100 MB), RUNS
# runs (default 3) of tests/core/bench_result_load; read the minimum of the
# stalls. A 1 ms timer ticks on the loop meanwhile: its longest gap is the
# stall. Timing, so not a test: run it on a quiet machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
ninja -C "$build" tests/core/bench_result_load >/dev/null
for r in $(seq "${3:-3}"); do
    echo "run $r"
    "$build/tests/core/bench_result_load" "${2:-10000000}"
done
