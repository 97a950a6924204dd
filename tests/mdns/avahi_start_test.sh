#!/bin/bash
# avahi_start_test.sh MESH AVAHI_START - contrib/avahi-start.sh (what
# contrib/run.sh runs before a node) makes discovery work on a machine where
# avahi-daemon is installed but stopped, with no D-Bus system bus either:
# two "machines" (network namespaces on a bridge, tests/lib/netns_env.sh),
# in each the script starts the bus and avahi-daemon, then one mesh node
# without --peer; the two must find each other and form one mesh (one
# cluster, one leader). Also: a second run leaves the running daemon alone,
# and without avahi-daemon the script fails loudly naming --peer.
#
# mDNS never reaches eth0: each machine's /run/dbus and /run/avahi-daemon
# are private directories bind-mounted in its own mount namespace, and the
# daemon's config (AVAHI_START_CONF) allows only the namespace's veth.
# Skipped (exit 77) when not root or avahi-daemon / dbus-daemon is missing.
set -u
# The daemons the script starts fork away from the test; once stopped they
# would stay zombies (this machine's PID 1 does not reap), so the test runs
# under a subreaper that reaps them after it.
if [ -z "${AVAHI_START_TEST_REAPED:-}" ]; then
    exec env AVAHI_START_TEST_REAPED=1 python3 -c '
import ctypes, os, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
test = os.fork()
if test == 0:
    os.execvp("bash", ["bash"] + sys.argv[1:])
_, status = os.waitpid(test, 0)
deadline = time.monotonic() + 3
while time.monotonic() < deadline:  # the stopped daemons
    try:
        if os.waitpid(-1, os.WNOHANG)[0] == 0:
            time.sleep(0.05)
    except ChildProcessError:
        break
sys.exit(os.waitstatus_to_exitcode(status) % 256)' "$0" "$@"
fi
mesh=$(readlink -f "$1")
avahi_start=$(readlink -f "$2")
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/netns_env.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
for prog in avahi-daemon dbus-daemon dbus-send; do
    command -v "$prog" >/dev/null || { echo "SKIP: no $prog"; exit 77; }
done
fail() { echo "FAIL: $*" >&2; exit 1; }

# The daemons the script starts fork away; they are stopped by the PIDs in
# their pid files (inside each machine's private run directories).
stop_daemons() {
    local i f pid
    for i in 1 2; do
        for f in run-avahi/pid run-dbus/pid; do
            pid=$(cat "$NETNS_ENV_DIR/host$i/$f" 2>/dev/null) || continue
            [ -n "$pid" ] && kill "$pid" 2>/dev/null
        done
    done
}
NETNS_ENV_EXTRA_TEARDOWN=stop_daemons
netns_env_create 2 || fail "namespaces"

# on_machine I SCRIPT [ARG0 ARGS...]: bash -c SCRIPT ARG0 ARGS on machine I, with its own
# /run/dbus and /run/avahi-daemon (a fresh mount namespace each call).
on_machine() {
    local i=$1 dir="$NETNS_ENV_DIR/host$1"
    shift
    mkdir -p "$dir/run-dbus" "$dir/run-avahi" /run/dbus /run/avahi-daemon
    ip netns exec "$(netns_env_name "$i")" env -u DBUS_SYSTEM_BUS_ADDRESS \
        AVAHI_START_CONF="$dir/avahi.conf" bash -c '
        mount --bind "$1/run-dbus" /run/dbus &&
            mount --bind "$1/run-avahi" /run/avahi-daemon || exit 99
        shift
        exec bash -c "$@"' _ "$dir" "$@"
}

for i in 1 2; do
    netns_env_write_avahi_conf "$i"
    out=$(on_machine "$i" '"$0"' "$avahi_start" 2>&1) ||
        fail "host $i: avahi-start.sh failed: $out"
    grep -q "started the D-Bus system bus" <<<"$out" || fail "host $i: no bus started: $out"
    grep -q "started avahi-daemon" <<<"$out" || fail "host $i: no daemon started: $out"
done
out=$(on_machine 1 '"$0"' "$avahi_start" 2>&1) || fail "second run failed: $out"
[ "$out" = "avahi-daemon runs (mDNS discovery on)" ] || fail "second run: $out"
avahi_pid=$(cat "$NETNS_ENV_DIR/host1/run-avahi/pid")
kill -0 "$avahi_pid" 2>/dev/null || fail "avahi-daemon of host 1 (pid $avahi_pid) is not running"

# Without avahi-daemon (not on PATH), the script says so and names --peer.
if out=$(on_machine 1 'PATH=/usr/bin:/bin "$0"' "$avahi_start" 2>&1); then
    fail "without avahi-daemon the script succeeded: $out"
fi
grep -q "mDNS discovery is OFF" <<<"$out" && grep -q -- "--peer" <<<"$out" ||
    fail "without avahi-daemon, not said loudly: $out"

# One node per machine, no --peer: the node uses the default bus address,
# /run/dbus/system_bus_socket, as a user's node does.
for i in 1 2; do
    dir="$NETNS_ENV_DIR/host$i"
    mkdir -p "$NETNS_ENV_DIR/node$i"
    # a simple command, so that $! is the node's PID (each layer execs)
    ip netns exec "$(netns_env_name "$i")" env -u DBUS_SYSTEM_BUS_ADDRESS bash -c '
        mount --bind "$1/run-dbus" /run/dbus &&
            mount --bind "$1/run-avahi" /run/avahi-daemon || exit 99
        exec "$2" --authkey avahi-start-test-key --data-dir "$3" --name "host$4" \
            --headless --workers 1' _ "$dir" "$mesh" "$NETNS_ENV_DIR/node$i" "$i" \
        >"$NETNS_ENV_DIR/node$i.log" 2>&1 </dev/null &
    NETNS_ENV_PIDS+=("$!")
done

# Prints "CLUSTER LEADER PEERS..." from a status JSON on stdin.
summary() {
    python3 -c '
import json, sys
try:
    st = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
peers = [n.get("name") for n in st.get("nodes", []) if not n.get("self") and n.get("connected")]
print(st.get("cluster_id") or "-", st.get("leader") or "-", *peers)'
}
status_of() { netns_env_exec "$1" "$mesh" --data-dir "$NETNS_ENV_DIR/node$1" status --json 2>/dev/null; }

one_mesh() {
    local s1 s2
    s1=$(status_of 1 | summary)
    s2=$(status_of 2 | summary)
    read -r c1 l1 p1 _ <<<"$s1"
    read -r c2 l2 p2 _ <<<"$s2"
    [ "${p1:-}" = host2 ] && [ "${p2:-}" = host1 ] &&
        [ "${c1:--}" != - ] && [ "$c1" = "$c2" ] && [ "${l1:--}" != - ] && [ "$l1" = "$l2" ]
}

for _ in $(seq 120); do # 30 s: discovery ~1 s, the founding window 3 s
    if one_mesh; then
        echo "ok: avahi-start.sh started the bus and avahi-daemon; two nodes without --peer formed one mesh"
        exit 0
    fi
    sleep 0.25
done
for i in 1 2; do
    echo "---- host $i status" >&2
    status_of "$i" >&2
    echo "---- host $i log" >&2
    tail -n 30 "$NETNS_ENV_DIR/node$i.log" >&2
done
fail "the two nodes did not form one mesh"
