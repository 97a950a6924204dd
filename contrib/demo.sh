#!/usr/bin/env bash
# demo.sh - a three-node mesh on this machine, in a minute.
#
# Starts three nodes (alpha, beta, gamma) on 127.0.0.1, each in its own
# temporary data dir, linked by --peer with mDNS off (nothing leaves
# loopback); waits until every node sees the other two; submits the classic
# batch and a batch of 64-bit semiprimes on alpha; prints `mesh status` from
# each node and the first lines of each batch's results; then stops every
# node by its PID and removes the temporary dirs (also on Ctrl-C).
#
#   MESH=path/to/mesh  the binary (default: build/src/mesh of this tree)
#   WORKERS=N          worker processes per node (default 1)
#   LINES=N            result lines shown per batch (default 5)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
MESH=${MESH:-$top/build/src/mesh}
WORKERS=${WORKERS:-1}
LINES=${LINES:-5}
names=(alpha beta gamma)

if [ ! -x "$MESH" ]; then
    echo "demo: no mesh binary at $MESH (build it, or set MESH=path)" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesh-demo.XXXXXX")
pids=()

cleanup() {
    local pid i
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        # Give each node 10 s to stop its workers, then insist.
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT
trap 'echo "demo: terminated" >&2; exit 143' TERM

die() {
    echo "demo: $*" >&2
    for n in "${names[@]}"; do
        [ -f "$tmp/$n.log" ] && { echo "--- $n.log" >&2; tail -20 "$tmp/$n.log" >&2; }
    done
    exit 1
}

cli() { # cli NODE ARGS...: a mesh command against NODE's data dir
    local node=$1
    shift
    "$MESH" --data-dir "$tmp/$node" "$@"
}

wait_for() { # wait_for WHAT SECONDS COMMAND...: poll until COMMAND succeeds
    local what=$1 tries=$(($2 * 10))
    shift 2
    while ! "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || die "timed out waiting for $what"
        sleep 0.1
    done
}

port_of() { # the peer port a node listens on, from `mesh status`
    cli "$1" status | sed -n 's/^links on port \([0-9][0-9]*\).*/\1/p'
}

linked() { # linked NODE: the node sees all three nodes connected
    [ "$(cli "$1" status --json | grep -c '"connected": true')" -eq 3 ]
}

# One key for the whole mesh, in a file only we can read.
(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/authkey")

ports=()
for n in "${names[@]}"; do
    args=(--authkey-file "$tmp/authkey" --data-dir "$tmp/$n" --name "$n"
          --port 0 --no-mdns --headless --workers "$WORKERS")
    for p in "${ports[@]}"; do
        args+=(--peer "127.0.0.1:$p")
    done
    "$MESH" "${args[@]}" >"$tmp/$n.log" 2>&1 &
    pids+=($!)
    wait_for "node $n to start" 15 cli "$n" status
    port=$(port_of "$n")
    [ -n "$port" ] || die "cannot read the port of $n"
    ports+=("$port")
    echo "started $n (pid ${pids[-1]}) on 127.0.0.1:$port"
done

for n in "${names[@]}"; do
    wait_for "$n to link to the other nodes" 20 linked "$n"
done
echo "all three nodes linked"
echo

classic=$(cli alpha submit --name classic) || die "submit failed"
semi=$(cli alpha submit --semiprimes 64 --count 1000 --seed 7 --name semiprimes64) ||
    die "submit failed"
echo "submitted batch $classic (classic: 999 odd numbers from 999999999999)"
echo "submitted batch $semi (1000 balanced 64-bit semiprimes, seed 7)"

cli alpha results "$classic" --wait >"$tmp/classic.out" || die "results $classic failed"
cli alpha results "$semi" --wait >"$tmp/semi.out" || die "results $semi failed"
echo

for n in "${names[@]}"; do
    echo "=== mesh status on $n"
    cli "$n" status || die "status on $n failed"
    echo
done

echo "=== mesh results $classic ($(wc -l <"$tmp/classic.out") lines), first $LINES"
head -n "$LINES" "$tmp/classic.out"
echo
echo "=== mesh results $semi ($(wc -l <"$tmp/semi.out") lines), first $LINES"
head -n "$LINES" "$tmp/semi.out"
echo

cleanup
echo "demo: all nodes stopped, temporary files removed"
