#!/usr/bin/env bash
# catchup.sh [BUILD_DIR] [COUNT] - what a node that was down costs to catch
# up: a 3-node loopback mesh (1 worker each, snapshots every 64 entries with
# the test knob MESH_SNAPSHOT_EVERY), node 2 killed, a range batch of COUNT
# numbers (default 2,000,000, chunks of 1000) submitted and read in full on
# node 0, a few small batches after it (so the leader snapshots once the big
# one is in its file), then node 2 started again: it catches up by
# InstallSnapshot. Prints the leader's newest snapshot size, the seconds
# until node 2 answers the big batch in full, node 2's peak RSS (VmHWM) and
# its RSS after. Run it on two builds to compare (doc/DESIGN.md, "Manifest
# snapshots"). Every node is stopped by its PID and the data dirs removed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mesh=${1:-$top/build}/src/mesh
count=${2:-2000000}
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
export MESH_SNAPSHOT_EVERY=64

ports=()
for i in 0 1 2; do
    ports+=("$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')")
done
start() {
    local i=$1 peers=()
    for j in 0 1 2; do [ "$j" = "$i" ] || peers+=(--peer "127.0.0.1:${ports[$j]}"); done
    mkdir -p "$work/n$i"
    "$mesh" --authkey catchup-bench-key --data-dir "$work/n$i" --headless --no-mdns \
        --workers 1 --name "n$i" --port "${ports[$i]}" --log-file "$work/n$i/log" \
        "${peers[@]}" &
    pids[i]=$!
}
for i in 0 1 2; do start "$i"; done
voters() { "$mesh" --data-dir "$work/n$1" status --json 2>/dev/null |
           /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["quorum"]["voters"])' 2>/dev/null; }
for k in $(seq 300); do
    [ "$(voters 0)" = 3 ] && [ "$(voters 1)" = 3 ] && [ "$(voters 2)" = 3 ] && break
    sleep 0.1
done
kill -9 "${pids[2]}"
wait "${pids[2]}" 2>/dev/null || true

bid() { "$mesh" --data-dir "$work/n0" submit "$@" | awk '{ print $NF }'; }
big=$(bid --start 1000000 --count "$count" --chunk 1000)
"$mesh" --data-dir "$work/n0" results "$big" --wait > /dev/null
sleep 3   # the finished batch goes to its file on the nodes' next ticks
for k in $(seq 40); do
    b=$(bid --start $((10 + 100 * k)) --count 20)
    "$mesh" --data-dir "$work/n0" results "$b" --wait > /dev/null
done
newest() { ls -t "$work/n$1/raft"/snapshot-* 2>/dev/null | grep -v meta | head -1; }
for i in 0 1; do
    s=$(newest "$i")
    echo "node $i newest snapshot: $(stat -c %s "$s") bytes"
done

t0=$(date +%s%N)
start 2
lines=0
until [ "$lines" = "$count" ]; do
    lines=$("$mesh" --data-dir "$work/n2" results "$big" --wait 2>/dev/null | wc -l || echo 0)
done
t1=$(date +%s%N)
kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$2/status"; }
echo "node 2 answered $count lines $(( (t1 - t0) / 1000000 )) ms after its start"
echo "node 2 peak RSS $(( $(kib VmHWM "${pids[2]}") / 1024 )) MiB, RSS now $(( $(kib VmRSS "${pids[2]}") / 1024 )) MiB"
du -sh "$work/n2/raft" "$work/n2" 2>/dev/null | sed 's/^/node 2 disk: /'
