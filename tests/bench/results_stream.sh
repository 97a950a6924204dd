#!/usr/bin/env bash
# results_stream.sh [BUILD_DIR] [COUNT] [RUNS] - how fast `mesh results`
# streams a finished batch, on the path users take: a one-node mesh factors
# COUNT numbers (default 2,000,000, a range in chunks of 1000), then
# `mesh results ID > /dev/null` is timed RUNS times (default 5) with
# /usr/bin/time; prints each run's wall, user and sys seconds and the
# median in lines per second. The node is stopped by its PID on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mesh=${1:-$top/build}/src/mesh
count=${2:-2000000}
runs=${3:-5}
dir=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
"$mesh" --authkey results-stream-bench --data-dir "$dir" --headless --no-mdns --voters 1 \
    --port 0 --log-file "$dir/log" &
pid=$!
for _ in $(seq 100); do "$mesh" --data-dir "$dir" status >/dev/null 2>&1 && break; sleep 0.1; done
id=$("$mesh" --data-dir "$dir" submit --start 1 --count "$count" --chunk 1000 | awk '{ print $NF }')
"$mesh" --data-dir "$dir" results "$id" --wait >/dev/null
sleep 5  # the finished batch moves to disk meanwhile, as it would between a user's commands
walls=()
for r in $(seq "$runs"); do
    t=$( { /usr/bin/time -f '%e %U %S' "$mesh" --data-dir "$dir" results "$id" >/dev/null; } 2>&1 )
    echo "run $r: wall user sys = $t"
    walls+=("${t%% *}")
done
printf '%s\n' "${walls[@]}" | sort -n | awk -v n="$count" '{ a[NR] = $1 }
    END { m = a[int((NR + 1) / 2)]; printf "median %.2f s: %.2fM lines/s\n", m, n / m / 1e6 }'
