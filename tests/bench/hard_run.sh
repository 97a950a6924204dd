#!/usr/bin/env bash
# hard_run.sh DIR start MESH_BINARY | submit BITS [SEED] | status | stop | log
#
# Not a test: one hard number on a 3-node loopback mesh whose data dirs
# live in DIR, so the run survives its nodes being stopped and started
# again (issue 20's 100-digit run: ~5.5 CPU-hours, more than one sitting on
# a 2-core machine). tests/bench/hard_number.py is the same run in one
# sitting, with its own temp dirs.
#   start: copies MESH_BINARY (and mesh-pari.so beside it) into DIR/bin the
#          first time, then always runs that copy (a rebuild of the tree
#          never changes a run under way), and starts the nodes that are
#          not running, at nice 19, 1 worker each: the run takes what CPU
#          the machine leaves over. A node started again restores its
#          state from its data dir, the relations committed included.
#          The mesh's key is DIR/key (`mesh keygen` the first time).
#   submit: the balanced semiprime of BITS bits (tests/lib/primes.py,
#          seed SEED, default 330: the one hard_number.py factors) as a
#          spread batch, no time limit.
#   status: the mesh's own status (progress line, rate, ETA).
#   stop:  SIGTERM to each node by its PID (SIGKILL after 10 s).
#   log:   what happened when (DIR/history).
# Nodes listen on 127.0.0.1 ports 47311-47313 only, without mDNS.
set -uo pipefail
dir=${1:?usage: hard_run.sh DIR start MESH|submit BITS [SEED]|status|stop|log}
cmd=${2:-status}
top=$(cd "$(dirname "$0")/../.." && pwd)
ports=(47311 47312 47313)
mesh=$dir/bin/mesh
mkdir -p "$dir"

note() { echo "$(date -u +%FT%TZ) $*" >>"$dir/history"; }

start_node() { # start_node I
    local i=$1 peers=() j
    for j in 0 1 2; do [ "$j" != "$i" ] && peers+=(--peer "127.0.0.1:${ports[$j]}"); done
    mkdir -p "$dir/n$i"
    if [ -f "$dir/n$i/pid" ] && kill -0 "$(cat "$dir/n$i/pid")" 2>/dev/null; then
        echo "n$i is running"
        return
    fi
    # A heartbeat of 300 ms and elections after 3 s: the nodes run at nice
    # 19 beside whatever else the machine does and may wait for the CPU.
    setsid nice -n 19 "$mesh" --authkey-file "$dir/key" --data-dir "$dir/n$i" --headless \
        --name "n$i" --workers 1 --port "${ports[$i]}" --log-file "$dir/n$i/node.log" \
        --no-mdns --election-timeout 3000 --heartbeat 300 --results-budget 4GiB \
        "${peers[@]}" </dev/null >>"$dir/n$i/stderr.txt" 2>&1 &
    echo $! >"$dir/n$i/pid"
    note "start n$i pid $!"
}

stop_node() { # stop_node I
    local i=$1 p k
    [ -f "$dir/n$i/pid" ] || return 0
    p=$(cat "$dir/n$i/pid")
    kill -TERM "$p" 2>/dev/null
    for k in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p"
    rm -f "$dir/n$i/pid"
    note "stop n$i pid $p"
}

case "$cmd" in
start)
    if [ ! -x "$mesh" ]; then
        src=${3:?start needs MESH_BINARY the first time}
        mkdir -p "$dir/bin"
        cp "$src" "$dir/bin/mesh" || exit 1
        [ -f "$(dirname "$src")/mesh-pari.so" ] && cp "$(dirname "$src")/mesh-pari.so" "$dir/bin/"
        git -C "$top" rev-parse HEAD >"$dir/bin/COMMIT" 2>/dev/null
    fi
    [ -f "$dir/key" ] || (umask 077 && "$mesh" keygen >"$dir/key") || exit 1
    for i in 0 1 2; do start_node "$i"; done
    ;;
submit)
    bits=${3:?submit needs BITS}
    n=$(python3 -c "import sys; sys.path.insert(0, '$top/tests/lib')
from primes import semiprime; print(semiprime($bits, ${4:-330}))") || exit 1
    out=$("$mesh" --data-dir "$dir/n0" submit --spread "$n" --number-timeout none) || exit 1
    echo "$out"
    note "submitted $bits bits N=$n: $out (binary of $(cat "$dir/bin/COMMIT" 2>/dev/null))"
    ;;
status) "$mesh" --data-dir "$dir/n0" status ;;
stop) for i in 0 1 2; do stop_node "$i"; done ;;
log) cat "$dir/history" ;;
*) echo "usage: hard_run.sh DIR start MESH|submit BITS [SEED]|status|stop|log" >&2; exit 2 ;;
esac
