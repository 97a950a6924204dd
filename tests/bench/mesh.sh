#!/usr/bin/env bash
# mesh.sh [BUILD_DIR] [RUNS] - the work plane of a 3-node loopback mesh
# (encrypted links, Raft replication, 1 worker per node), on the path users
# take: `mesh submit` on a follower, then `mesh results --wait` on another
# node until every line is printed. Median (min-max) of RUNS runs each:
#   trivial numbers 1..1,000,000, chunks of 43
#   30,000 one-number jobs (chunks of 1)
#   the classic batch: 999 odd numbers from 999999999999, chunks of 43
# Each against the Python managers job server of shared/seed, run here in the
# same benchmark with as many worker processes (3): tests/bench/managers_ref.py.
# Then the failover figure: SIGKILL the leader in the middle of a batch and
# time until the next result is committed (seen in a survivor's status).
# Every node is stopped by its PID and its data dir removed on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
mesh=${1:-$top/build}/src/mesh
runs=${2:-5}
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

ports=()
for i in 0 1 2; do
    ports+=("$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')")
done
start_node() { # start_node I
    local i=$1 peers=() j
    for j in 0 1 2; do
        [ "$j" = "$i" ] || peers+=(--peer "127.0.0.1:${ports[$j]}")
    done
    mkdir -p "$work/n$i"
    "$mesh" --authkey bench-mesh --data-dir "$work/n$i" --headless --no-mdns --workers 1 \
        --name "n$i" --port "${ports[$i]}" --log-file "$work/n$i/log" "${peers[@]}" &
    pids[i]=$!
}
st() { "$mesh" --data-dir "$work/n$1" status --json 2>/dev/null; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
leader_index() { # the index of the node every node agrees leads, or nothing
    local ids="" i l
    for i in 0 1 2; do
        [ -n "${pids[i]:-}" ] && kill -0 "${pids[i]}" 2>/dev/null || continue
        l=$(st "$i" | field 'd["leader"]' 2>/dev/null) || return 0
        ids+="$l"$'\n'
    done
    [ "$(sort -u <<<"$ids" | grep -c .)" = 1 ] || return 0
    for i in 0 1 2; do
        [ "$(st "$i" | field 'd["id"]' 2>/dev/null)" = "$(head -1 <<<"$ids")" ] && echo "$i"
    done
}
wait_leader() {
    local k l
    for k in $(seq 200); do
        l=$(leader_index)
        [ -n "$l" ] && { echo "$l"; return 0; }
        sleep 0.05
    done
    echo "no leader" >&2
    return 1
}

for i in 0 1 2; do start_node "$i"; done
lead=$(wait_leader)
for k in $(seq 100); do   # all three voters
    [ "$(st "$lead" | field 'd["quorum"]["voters"]')" = 3 ] && break
    sleep 0.1
done
follower=$(( (lead + 1) % 3 ))
reader=$(( (lead + 2) % 3 ))

once() { # once ARGS... : seconds from submit (follower) to the last line (reader)
    local t0 t1 b n
    t0=$(date +%s%N)
    b=$("$mesh" --data-dir "$work/n$follower" submit "$@")
    n=$("$mesh" --data-dir "$work/n$reader" results "$b" --wait | wc -l)
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000 )) $n"
}
median() { # median RUNS ARGS... : prints "median min max" in seconds and the line count
    local r out times=() n
    for r in $(seq "$runs"); do
        out=$(once "$@")
        times+=("${out% *}")
        n=${out#* }
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v n="$n" '
        {t[NR]=$1} END {printf "%.4f %.4f %.4f %d\n", t[int((NR+1)/2)]/1e6, t[1]/1e6, t[NR]/1e6, n}'
}
ref_runs=${REF_RUNS:-3}
reference() { # reference START COUNT STEP CHUNK: median seconds of the Python job server
    local r
    for r in $(seq "$ref_runs"); do
        python3 "$top/tests/bench/managers_ref.py" "$1" "$2" "$3" "$4" 3
    done | sort -n | awk '{t[NR]=$1} END {print t[int((NR+1)/2)]}'
}
report() { # report LABEL UNIT START COUNT STEP CHUNK
    local label=$1 unit=$2 start=$3 count=$4 step=$5 chunk=$6 ref
    read -r med lo hi n < <(median --start "$start" --count "$count" --step "$step" --chunk "$chunk")
    [ "$n" = "$count" ] || { echo "$label: got $n lines, want $count" >&2; exit 1; }
    ref=$(reference "$start" "$count" "$step" "$chunk")
    awk -v l="$label" -v u="$unit" -v c="$count" -v m="$med" -v lo="$lo" -v hi="$hi" -v r="$ref" '
        BEGIN { printf "%-36s %8.0f %s (median %.3f s, %.3f-%.3f); Python job server %.0f %s: %.1fx\n",
                       l, c/m, u, m, lo, hi, c/r, u, r/m }'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "3-node loopback mesh, 1 worker each, $runs runs each"
lead_ticks=$(cpu_ticks "${pids[lead]}")
report "trivial 1..1000000, chunks of 43" "numbers/s" 1 1000000 1 43
lead_ticks=$(( $(cpu_ticks "${pids[lead]}") - lead_ticks ))
awk -v t="$lead_ticks" -v hz="$(getconf CLK_TCK)" -v n=$((runs * 1000000)) 'BEGIN {
    printf "%-40s %8.2f us (leader process CPU, its own worker not included)\n",
    "leader CPU per committed result", t / hz / n * 1e6 }'
report "30000 one-number jobs" "jobs/s" 1 30000 1 1
read -r med lo hi n < <(median --start 999999999999 --step 2 --count 999 --chunk 43)
ref=$(reference 999999999999 999 2 43)
awk -v m="$med" -v lo="$lo" -v hi="$hi" -v r="$ref" 'BEGIN {
    printf "%-36s %8.1f ms (min %.1f, max %.1f); Python job server %.0f ms: %.0fx\n",
    "classic 999 batch, end to end", m*1000, lo*1000, hi*1000, r*1000, r/m }'

# Failover (its own mesh): tests/bench/failover.py.
cleanup
trap - EXIT
python3 "$top/tests/bench/failover.py" "$mesh" "$runs"
