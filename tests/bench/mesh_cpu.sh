#!/usr/bin/env bash
# mesh_cpu.sh [BUILD_DIR] [COUNT] [CHUNK] [PERF_DIR] - CPU cost per number of
# each process of a 3-node loopback mesh (mesh.sh's setup: encrypted links,
# Raft, 1 worker per node), judged by CPU ticks, not wall time, so a loaded
# host still gives a figure: a batch of trivial numbers 1..COUNT in chunks
# of CHUNK is submitted on a follower and read to its last line on the
# other; then per process (leader, the two followers, the three workers)
# the CPU microseconds per number (/proc/PID/stat utime+stime across the
# batch). With PERF_DIR, `perf record -g` runs on the three nodes during
# the batch (PERF_DIR/{leader,follower,reader}.data).
# Every node is stopped by its PID and its data dir removed on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mesh=${1:-$top/build}/src/mesh
count=${2:-1000000}
chunk=${3:-43}
perf_dir=${4:-}
work=$(mktemp -d)
pids=()
perfs=()
cleanup() {
    for p in "${perfs[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${perfs[@]}"; do wait "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -n "${KEEP_LOGS:-}" ]; then  # the nodes' logs, to read after
        for i in 0 1 2; do cp "$work/n$i/log" "$KEEP_LOGS.n$i.log" 2>/dev/null || true; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

ports=()
for i in 0 1 2; do
    ports+=("$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')")
done
for i in 0 1 2; do
    peers=()
    for j in 0 1 2; do
        [ "$j" = "$i" ] || peers+=(--peer "127.0.0.1:${ports[$j]}")
    done
    mkdir -p "$work/n$i"
    "$mesh" --authkey bench-mesh --data-dir "$work/n$i" --headless --no-mdns --workers 1 \
        --name "n$i" --port "${ports[$i]}" --log-file "$work/n$i/log" "${peers[@]}" &
    pids[i]=$!
done
st() { "$mesh" --data-dir "$work/n$1" status --json 2>/dev/null; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
lead=""
for k in $(seq 300); do
    l=$(st 0 | field 'd["leader"] if d["quorum"]["voters"] == 3 else ""' 2>/dev/null || true)
    if [ -n "$l" ] && [ "$l" != None ]; then
        for i in 0 1 2; do
            [ "$(st "$i" | field 'd["id"]' 2>/dev/null)" = "$l" ] && lead=$i
        done
        [ -n "$lead" ] && break
    fi
    sleep 0.1
done
[ -n "$lead" ] || { echo "no leader" >&2; exit 1; }
follower=$(( (lead + 1) % 3 ))
reader=$(( (lead + 2) % 3 ))
sleep 0.5 # the workers started
role() { case $1 in "$lead") echo leader;; "$follower") echo follower;; *) echo reader;; esac; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
worker_of() { # the node's worker child, once it has started
    local k c
    for k in $(seq 100); do
        c=$(pgrep -P "$1" | head -1 || true)
        [ -n "$c" ] && { echo "$c"; return 0; }
        sleep 0.1
    done
    echo "node $1 has no worker" >&2
    return 1
}
declare -A before procs
for i in 0 1 2; do
    procs[$(role "$i")]=${pids[i]}
    procs[$(role "$i")-worker]=$(worker_of "${pids[i]}")
done
for k in "${!procs[@]}"; do before[$k]=$(ticks "${procs[$k]}"); done
if [ -n "$perf_dir" ]; then
    mkdir -p "$perf_dir"
    for k in "${!procs[@]}"; do
        if [ -n "${PERF_STAT:-}" ]; then  # syscalls and context switches
            perf stat -e raw_syscalls:sys_enter,context-switches -o "$perf_dir/$k.stat" \
                -p "${procs[$k]}" 2>/dev/null &
        elif [ "${k%-worker}" = "$k" ] || [ -n "${PERF_WORKERS:-}" ]; then
            perf record -q -F ${PERF_FREQ:-400} -g -o "$perf_dir/$k.data" -p "${procs[$k]}" 2>/dev/null &
        else
            continue
        fi
        perfs+=($!)
    done
    sleep 0.3
fi
t0=$(date +%s%N)
for _ in $(seq "${REPEAT:-1}"); do  # REPEAT batches back to back, as mesh.sh runs them
    b=$("$mesh" --data-dir "$work/n$follower" submit --start 1 --count "$count" --chunk "$chunk")
    n=$(timeout "${WAIT_S:-300}" "$mesh" --data-dir "$work/n$reader" results "$b" --wait | wc -l)
    [ "$n" = "$count" ] || break
done
t1=$(date +%s%N)
count=$(( count * ${REPEAT:-1} ))  # per number, over every batch
for p in "${perfs[@]}"; do kill -INT "$p" 2>/dev/null || true; done
for p in "${perfs[@]}"; do wait "$p" 2>/dev/null || true; done
perfs=()
[ "$n" = "$(( count / ${REPEAT:-1} ))" ] || { echo "got $n lines, want $(( count / ${REPEAT:-1} ))" >&2; exit 1; }
now=$(st "$lead" | field 'd["leader"] == d["id"]' 2>/dev/null || true)
[ "$now" = True ] || echo "note: the leader changed during the batch (per-role figures mixed)"
hz=$(getconf CLK_TCK)
total=0
echo "1..$count in chunks of $chunk: $(( (t1 - t0) / 1000000 )) ms wall, load $(cut -d' ' -f1-3 /proc/loadavg)"
for k in leader follower reader leader-worker follower-worker reader-worker; do
    d=$(( $(ticks "${procs[$k]}") - ${before[$k]} ))
    total=$(( total + d ))
    awk -v k="$k" -v d="$d" -v hz="$hz" -v n="$count" \
        'BEGIN { printf "%-16s %7.3f us CPU per number\n", k, d / hz / n * 1e6 }'
done
awk -v d="$total" -v hz="$hz" -v n="$count" \
    'BEGIN { printf "%-16s %7.3f us CPU per number\n", "all six", d / hz / n * 1e6 }'
