#!/usr/bin/env bash
# lan.sh [BUILD_DIR] [RUNS] - the README's "LAN full of strangers" figures:
#   1. time for a genuine node to link while 250 source addresses open 1,000
#      idle connections a second and hold them (median of RUNS, default 5);
#   2. memory (VmRSS) of a node after 1024 dead identities linked to it;
#   3. memory of a node linked for 60 s to a peer that never reads.
# Loopback only; every process is stopped by PID.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
runs=${2:-5}
mesh=$build/src/mesh
attack=$build/tests/net/bench_attack

times=()
for _ in $(seq "$runs"); do
    t=$(python3 "$top/tests/net/lan_attack_test.py" "$mesh" starve |
        sed -n 's/^starve: linked in \([0-9.]*\) s.*/\1/p')
    times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n |
    awk '{v[NR]=$1} END {printf "genuine link under the flood: median %.3f s (min %.3f, max %.3f, %d runs)\n", v[int((NR+1)/2)], v[1], v[NR], NR}'

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

run_node() { # run_node -> sets node_pid, node_port, node_dir
    node_dir=$(mktemp -d)
    "$mesh" --authkey lan-bench --data-dir "$node_dir" --headless --no-mdns --port 0 \
        --workers 1 --log-file "$node_dir/log" &
    node_pid=$!
    for _ in $(seq 200); do
        "$mesh" --data-dir "$node_dir" status >/dev/null 2>&1 && break
        sleep 0.05
    done
    node_port=$("$mesh" --data-dir "$node_dir" status --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])')
}
stop_node() {
    kill "$node_pid" && wait "$node_pid" 2>/dev/null || true
    rm -rf "$node_dir"
}
trap 'stop_node 2>/dev/null || true' EXIT

run_node
before=$(rss "$node_pid")
"$attack" "$node_port" lan-bench identities 1024
sleep 1
peers=$("$mesh" --data-dir "$node_dir" status --json |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["nodes"]) - 1)')
echo "1024 dead identities: VmRSS $(rss "$node_pid") KiB (idle node $before KiB), $peers peers listed"
stop_node

run_node
before=$(rss "$node_pid")
"$attack" "$node_port" lan-bench noread 60
echo "peer that never reads, after 60 s: VmRSS $(rss "$node_pid") KiB (idle node $before KiB)"
stop_node
trap - EXIT
