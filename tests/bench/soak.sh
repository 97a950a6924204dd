#!/usr/bin/env bash
# soak.sh [BUILD_DIR] [ROUNDS] [BATCH] [-- NODE_OPTIONS...] - a mesh that runs
# for long: a 3-node loopback mesh (1 worker each) fed range batches of BATCH
# numbers (default 5,000,000, chunks of 1000) back to back, each submitted on
# node 0 and read in full with `mesh results --wait` on node 1, as a user
# would. After each batch one table row: numbers done so far, RSS per node
# (min-max, and its anonymous part: what the heap holds, not the mapped
# result files the kernel can drop), the raft dir, the results dir (the
# spilled batches' files) and the whole data dir per node (max), where the
# largest node's anonymous RSS is (the heap; other anonymous mappings: glibc's
# per-thread arenas, where snapshots are encoded on the libuv pool, and
# thread stacks), and what the mesh retains against --results-budget (default
# 256MiB; pass e.g. `-- --results-budget 128MiB` to change it). ROUNDS
# defaults to 20 (100M numbers). Every node is stopped by its PID and its
# data dir removed on exit; SOAK_LOGS=DIR copies the nodes' logs there first
# (with `-- --log-level debug` they carry a memory line a second: memwatch.c).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mesh=${1:-$top/build}/src/mesh
rounds=${2:-20}
batch=${3:-5000000}
shift $(($# < 3 ? $# : 3))
[ "${1:-}" = -- ] && shift
extra=("$@")
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -n "${SOAK_LOGS:-}" ]; then
        mkdir -p "$SOAK_LOGS"
        for i in 0 1 2; do cp "$work/n$i/log" "$SOAK_LOGS/n$i.log" 2>/dev/null || true; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

ports=()
for i in 0 1 2; do
    ports+=("$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')")
done
for i in 0 1 2; do
    peers=()
    for j in 0 1 2; do [ "$j" = "$i" ] || peers+=(--peer "127.0.0.1:${ports[$j]}"); done
    mkdir -p "$work/n$i"
    "$mesh" --authkey soak-bench-key --data-dir "$work/n$i" --headless --no-mdns --workers 1 \
        --name "n$i" --port "${ports[$i]}" --log-file "$work/n$i/log" "${peers[@]}" \
        "${extra[@]}" &
    pids[i]=$!
done
voters() { "$mesh" --data-dir "$work/n$1" status --json 2>/dev/null |
           /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["quorum"]["voters"])' 2>/dev/null; }
for k in $(seq 300); do   # one mesh of three voters, seen by every node
    [ "$(voters 0)" = 3 ] && [ "$(voters 1)" = 3 ] && [ "$(voters 2)" = 3 ] && break
    sleep 0.1
done

kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$2/status"; }
mib_range() { # mib_range V...: "min-max" in MiB
    printf '%s\n' "$@" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 }
        END { if (lo == hi) printf "%d", lo / 1024; else printf "%d-%d", lo / 1024, hi / 1024 }'
}
retained() {
    "$mesh" --data-dir "$work/n0" status --json | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)["retained"]
print("%d batches, %d of %d MiB" % (r["batches"], r["bytes"] >> 20, r["budget"] >> 20))'
}

# The largest anonymous RSS of the nodes, in MiB: "heap + other anonymous".
anon_split() {
    local best=0 out=""
    for p in "$@"; do
        read -r heap other < <(awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6; anon = ($4 == "00:00") }
            /^Rss:/ { if (name == "[heap]") h += $2; else if (anon) o += $2 }
            END { printf "%d %d\n", h / 1024, o / 1024 }' "/proc/$p/smaps")
        if [ $((heap + other)) -gt "$best" ]; then best=$((heap + other)); out="$heap + $other"; fi
    done
    echo "$out"
}

echo "| numbers done | s per batch | RSS per node (MiB) | of it anonymous | largest: heap + other anon | raft dir | results dir | data dir | retained |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
    start=$(( (r - 1) * batch + 2 ))
    t0=$(date +%s%N)
    id=$("$mesh" --data-dir "$work/n0" submit --start "$start" --count "$batch" --chunk 1000 |
         awk '{ print $NF }')
    "$mesh" --data-dir "$work/n1" results "$id" --wait >/dev/null
    t1=$(date +%s%N)
    sleep 3   # a moment for spilling and snapshots to settle, as between a user's batches
    rss=() anon=() raft=() res=() data=()
    for i in 0 1 2; do
        rss+=("$(kib VmRSS "${pids[i]}")")
        anon+=("$(kib RssAnon "${pids[i]}")")
        raft+=("$(du -sk "$work/n$i/raft" | cut -f1)")
        res+=("$(du -sk "$work/n$i/results" 2>/dev/null | cut -f1 || echo 0)")
        data+=("$(du -sk "$work/n$i" | cut -f1)")
    done
    printf '| %dM | %.1f | %s | %s | %s | %s MiB | %s MiB | %s MiB | %s |\n' $((r * batch / 1000000)) \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" \
        "$(mib_range "${rss[@]}")" "$(mib_range "${anon[@]}")" "$(anon_split "${pids[@]}")" \
        "$(printf '%s\n' "${raft[@]}" | sort -n | tail -1 | awk '{ printf "%d", $1 / 1024 }')" \
        "$(printf '%s\n' "${res[@]}" | sort -n | tail -1 | awk '{ printf "%d", $1 / 1024 }')" \
        "$(printf '%s\n' "${data[@]}" | sort -n | tail -1 | awk '{ printf "%d", $1 / 1024 }')" \
        "$(retained)"
done
