#!/usr/bin/env bash
# catchup.sh [BUILD_DIR] [COUNT] [BATCHES] - what a node that was down costs
# to catch up: a 3-node loopback mesh (1 worker each, snapshots every 64
# entries with the test knob MESH_SNAPSHOT_EVERY), node 2 killed, BATCHES
# (default 1) range batches of COUNT numbers (default 2,000,000, chunks of
# 1000) submitted and read in full on node 0 (4 x 5,000,000 is a full
# default budget: 232 of 256 MiB), a few small batches after them (so the
# leader snapshots once the big ones are in their files), then node 2
# started again: it catches up by InstallSnapshot. Prints the leader's
# newest snapshot size, the seconds until node 2 answers every big batch in
# full, node 2's peak RSS (VmHWM) and
# its RSS after. Run it on two builds to compare (doc/DESIGN.md, "Manifest
# snapshots"). Every node is stopped by its PID and the data dirs removed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mesh=${1:-$top/build}/src/mesh
count=${2:-2000000}
batches=${3:-1}
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

bid() {   # retried while an election is under way (node 2 may have led)
    local out
    for k in $(seq 100); do
        out=$("$mesh" --data-dir "$work/n0" submit "$@" 2>/dev/null) && break
        sleep 0.2
    done
    echo "$out" | awk '{ print $NF }'
}
bigs=()
for k in $(seq "$batches"); do
    bigs+=("$(bid --start $((1000000 + k * count)) --count "$count" --chunk 1000)")
    "$mesh" --data-dir "$work/n0" results "${bigs[-1]}" --wait > /dev/null
done
# the finished batch goes to its file a slice per tick (results/, when the
# build has manifest snapshots: up to a minute for 2M); an older build: 3 s
t_done=$(date +%s%N)
for k in $(seq 120); do
    big_files=0
    for i in 0 1; do
        big_files=$((big_files + $(find "$work/n$i/results" -size +1M -name '????????????????????????????????????????????????????????????????' 2>/dev/null | wc -l)))
    done
    if [ "$big_files" = $((2 * batches)) ]; then
        echo "big batches in their files on nodes 0 and 1 $(( ($(date +%s%N) - t_done) / 1000000 )) ms after it was read"
        break
    fi
    [ -d "$work/n0/results" ] || { sleep 3; break; }
    sleep 1
done
for k in $(seq 40); do
    b=$(bid --start $((10 + 100 * k)) --count 20)
    "$mesh" --data-dir "$work/n0" results "$b" --wait > /dev/null
done
newest() { ls -t "$work/n$1/raft"/snapshot-* 2>/dev/null | grep -v meta | head -1; }
for i in 0 1; do
    s=$(newest "$i")
    echo "node $i newest snapshot: $(stat -c %s "$s") bytes"
done

kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$2/status"; }
t0=$(date +%s%N)
start 2
until "$mesh" --data-dir "$work/n2" status --json >/dev/null 2>&1; do sleep 0.05; done
echo "node 2 up: peak RSS $(( $(kib VmHWM "${pids[2]}") / 1024 )) MiB so far"
# VmHWM is set at start by a fixed allocation (Argon2id's 128 MiB while the
# node derives its link key from --authkey, freed at once), so the
# catch-up's own peak is sampled from here on: the most anonymous memory
# (heap) seen every 10 ms
( peak=0; while [ -e "/proc/${pids[2]}/status" ]; do
      a=$(kib RssAnon "${pids[2]}" 2>/dev/null || echo 0); [ "${a:-0}" -gt "$peak" ] && peak=$a
      echo "$peak" > "$work/anon_peak"; sleep 0.01; done ) &
sampler=$!
# caught up: every big batch's file fetched from a peer and checked by its hash
for k in $(seq 600); do
    [ "$(find "$work/n2/results" -size +1M -name '????????????????????????????????????????????????????????????????' 2>/dev/null | wc -l)" = "$batches" ] && break
    sleep 0.05
done
echo "node 2 holds the ${#bigs[@]} result files $(( ($(date +%s%N) - t0) / 1000000 )) ms after its start"
for big in "${bigs[@]}"; do
    lines=0
    until [ "$lines" = "$count" ]; do
        lines=$("$mesh" --data-dir "$work/n2" results "$big" --wait 2>/dev/null | wc -l || echo 0)
    done
done
t1=$(date +%s%N)
echo "node 2 answered ${#bigs[@]} x $count lines $(( (t1 - t0) / 1000000 )) ms after its start"
echo "node 2 peak RSS $(( $(kib VmHWM "${pids[2]}") / 1024 )) MiB, RSS now $(( $(kib VmRSS "${pids[2]}") / 1024 )) MiB (anonymous $(( $(kib RssAnon "${pids[2]}") / 1024 )) MiB)"
kill "$sampler"; wait "$sampler" 2>/dev/null || true
echo "node 2 peak anonymous RSS from then on $(( $(cat "$work/anon_peak") / 1024 )) MiB"
du -sh "$work/n2/raft" "$work/n2" 2>/dev/null | sed 's/^/node 2 disk: /'
