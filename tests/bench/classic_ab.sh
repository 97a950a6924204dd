#!/usr/bin/env bash
# classic_ab.sh ROUNDS RUNS BUILD_DIR... - the classic batch's latency of
# several builds, alternated, for a host whose load moves under a single
# run: each round starts a fresh 3-node loopback mesh per build in turn
# (mesh.sh's setup: encrypted links, Raft, 1 worker each), submits one
# warm-up classic batch, then RUNS classic batches (`mesh submit` on a
# follower, `mesh results --wait` on the other to the last line), and stops
# it. At the end, per build: min, p10, p25, median, p75 of every run, and
# the load average. Every node is stopped by its PID, data dirs removed.
# BATCH="--start 1 --count 30000 --chunk 1" LINES=30000 times another batch.
set -euo pipefail
rounds=${1:?rounds} runs=${2:?runs}
read -r -a batch <<<"${BATCH:-}"
lines=${LINES:-999}
shift 2
[ $# -ge 1 ] || { echo "usage: classic_ab.sh ROUNDS RUNS BUILD_DIR..." >&2; exit 2; }
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
trap 'cleanup; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

round() { # round MESH OUT: one mesh, RUNS classic batches, microseconds to OUT
    local mesh=$1 out=$2 dir ports=() i j lead="" f r k t0 t1 b n
    dir=$(mktemp -d "$work/mesh.XXXX")
    for i in 0 1 2; do ports+=("$(free_port)"); done
    for i in 0 1 2; do
        local peers=()
        for j in 0 1 2; do [ "$j" = "$i" ] || peers+=(--peer "127.0.0.1:${ports[$j]}"); done
        mkdir -p "$dir/n$i"
        "$mesh" --authkey bench-mesh --data-dir "$dir/n$i" --headless --no-mdns --workers 1 \
            --name "n$i" --port "${ports[$i]}" --log-file "$dir/n$i/log" "${peers[@]}" &
        pids+=($!)
    done
    for k in $(seq 200); do
        sleep 0.05
        local ids=() leaders=() ok=1
        for i in 0 1 2; do
            local st
            st=$("$mesh" --data-dir "$dir/n$i" status --json 2>/dev/null) || { ok=0; break; }
            ids[i]=$(field 'd["id"]' <<<"$st")
            leaders[i]=$(field 'd["leader"] + " " + str(d["quorum"]["voters"])' <<<"$st")
        done
        [ "$ok" = 1 ] && [ "${leaders[0]}" = "${leaders[1]}" ] && [ "${leaders[1]}" = "${leaders[2]}" ] &&
            [ "${leaders[0]#* }" = 3 ] || continue
        for i in 0 1 2; do [ "${ids[i]}" = "${leaders[0]% *}" ] && lead=$i; done
        [ -n "$lead" ] && break
    done
    [ -n "$lead" ] || { echo "no leader" >&2; exit 1; }
    f=$(( (lead + 1) % 3 )) r=$(( (lead + 2) % 3 ))
    b=$("$mesh" --data-dir "$dir/n$f" submit "${batch[@]}")
    "$mesh" --data-dir "$dir/n$r" results "$b" --wait >/dev/null
    for k in $(seq "$runs"); do
        t0=$(date +%s%N)
        b=$("$mesh" --data-dir "$dir/n$f" submit "${batch[@]}")
        n=$("$mesh" --data-dir "$dir/n$r" results "$b" --wait | wc -l)
        t1=$(date +%s%N)
        [ "$n" = "$lines" ] || { echo "got $n lines, want $lines" >&2; exit 1; }
        echo $(( (t1 - t0) / 1000 )) >>"$out"
    done
    cleanup
    rm -rf "$dir"
}

load0=$(cut -d' ' -f1 /proc/loadavg)
for k in $(seq "$rounds"); do
    i=0
    for build in "$@"; do
        round "$build/src/mesh" "$work/times.$i"
        i=$((i + 1))
    done
done
echo "${BATCH:-classic batch}, $rounds rounds x $runs runs per build, alternated; load average $load0 -> $(cut -d' ' -f1 /proc/loadavg)"
i=0
for build in "$@"; do
    sort -n "$work/times.$i" | awk -v b="$build" '{t[NR] = $1} END {
        printf "%-40s min %.1f  p10 %.1f  p25 %.1f  median %.1f  p75 %.1f ms (%d runs)\n", b,
               t[1] / 1e3, t[int(NR / 10) + 1] / 1e3, t[int(NR / 4) + 1] / 1e3,
               t[int((NR + 1) / 2)] / 1e3, t[int(NR * 3 / 4)] / 1e3, NR }'
    i=$((i + 1))
done
