# avahi_env.sh - a private D-Bus system bus and an avahi-daemon for tests.
#
# Source it from a bash test script. Typical use:
#
#     . tests/lib/avahi_env.sh
#     avahi_env_isolate "$0" "$@"   # re-runs this script in its own net+mount ns
#     avahi_env_start               # bus + avahi on lo, waits until ready
#     ... DBUS_SYSTEM_BUS_ADDRESS is exported; run nodes / test programs ...
#     avahi_env_restart_avahi       # kill the daemon by PID, start it again
#     (teardown runs from the EXIT trap that avahi_env_start installs)
#
# What was found to work here (avahi 0.8, Debian, kernel 6.x, as root):
# - mDNS must never reach eth0, so every test runs inside a fresh network
#   namespace (`unshare -n`) whose only interface is lo, AND the daemon is
#   restricted with allow-interfaces=lo / deny-interfaces=eth0,... Two fences.
# - /run/avahi-daemon is a fixed path (pid file + socket) and other engineers'
#   tests may run an avahi-daemon at the same time, so the same `unshare -m`
#   bind-mounts a private directory over /run/avahi-daemon.
# - avahi accepts lo without the MULTICAST flag (loopback is special-cased)
#   and one daemon answers its own clients from its local registry, so one
#   daemon on lo is enough for any number of processes in the namespace.
#   We still set `lo multicast on` — allowed only because the namespace is
#   ours — so that the daemon's own probes/announces really go out and loop.
# - The daemon runs in the foreground (`&`, PID from $!) with --no-drop-root
#   --no-chroot: `-D` returns before it is ready and hides the PID.
# - Readiness: GetState over D-Bus returns int32 2 (running) after ~1 s.
# - The bus config is derived from /usr/share/dbus-1/system.conf (a minimal
#   hand-written policy does not work); avahi's policy in
#   /usr/share/dbus-1/system.d/avahi-dbus.conf lets root own the name.

AVAHI_ENV_DIR=""
AVAHI_ENV_BUS_PID=""
AVAHI_ENV_AVAHI_PID=""

# Re-executes the calling script inside new network + mount namespaces
# (once: AVAHI_ENV_ISOLATED marks the inner run). Exits with its status.
avahi_env_isolate() {
    if [ "${AVAHI_ENV_ISOLATED:-}" = 1 ]; then
        return 0
    fi
    mkdir -p /run/avahi-daemon   # mount point only; contents stay private
    AVAHI_ENV_ISOLATED=1 exec unshare --net --mount --propagation private \
        bash "$@"
}

# Inside the isolated namespaces: bring lo up and make the avahi dir private.
avahi_env_prepare_ns() {
    ip link set lo up
    ip link set lo multicast on
    mkdir -p "$AVAHI_ENV_DIR/run-avahi"
    mount --bind "$AVAHI_ENV_DIR/run-avahi" /run/avahi-daemon
}

avahi_env_write_bus_conf() {
    local dir=$1
    sed -e "s|<listen>.*</listen>|<listen>unix:path=$dir/bus.sock</listen>|" \
        -e "s|<pidfile>.*</pidfile>|<pidfile>$dir/bus.pid</pidfile>|" \
        -e '/<user>.*<\/user>/d' -e '/<syslog\/>/d' -e '/<fork\/>/d' \
        -e "s|<includedir>system.d</includedir>|<includedir>/usr/share/dbus-1/system.d</includedir>|" \
        /usr/share/dbus-1/system.conf >"$dir/bus.conf"
}

# Starts dbus-daemon on DIR/bus.sock; exports DBUS_SYSTEM_BUS_ADDRESS.
avahi_env_start_bus() {
    local dir=$1
    avahi_env_write_bus_conf "$dir"
    dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile \
        >"$dir/bus.log" 2>&1 &
    AVAHI_ENV_BUS_PID=$!
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/bus.sock"
    local i
    for i in $(seq 100); do
        [ -S "$dir/bus.sock" ] && return 0
        sleep 0.05
    done
    echo "avahi_env: dbus-daemon did not start" >&2
    cat "$dir/bus.log" >&2
    return 1
}

# avahi_env_write_avahi_conf DIR HOSTNAME IFACES  (IFACES comma-separated)
avahi_env_write_avahi_conf() {
    local dir=$1 host=$2 ifaces=$3
    cat >"$dir/avahi.conf" <<EOF
[server]
host-name=$host
use-ipv4=yes
use-ipv6=no
allow-interfaces=$ifaces
deny-interfaces=eth0,eth1,wlan0,docker0
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
publish-domain=no
[reflector]
enable-reflector=no
[rlimits]
EOF
}

# Starts avahi-daemon in the foreground (background job); PID in
# AVAHI_ENV_AVAHI_PID. Needs DBUS_SYSTEM_BUS_ADDRESS and the conf written.
avahi_env_start_avahi() {
    local dir=$1
    rm -f /run/avahi-daemon/pid /run/avahi-daemon/socket
    avahi-daemon -f "$dir/avahi.conf" --no-drop-root --no-chroot \
        --no-rlimits >>"$dir/avahi.log" 2>&1 </dev/null &
    AVAHI_ENV_AVAHI_PID=$!
    echo "$AVAHI_ENV_AVAHI_PID" >"$dir/avahi.pid"
    avahi_env_wait_ready "$dir"
}

# Polls org.freedesktop.Avahi.Server.GetState until it says 2 (running).
avahi_env_wait_ready() {
    local dir=$1 i
    for i in $(seq 100); do
        if dbus-send --system --print-reply --dest=org.freedesktop.Avahi / \
            org.freedesktop.Avahi.Server.GetState 2>/dev/null |
            grep -q 'int32 2'; then
            return 0
        fi
        sleep 0.1
    done
    echo "avahi_env: avahi-daemon not ready after 10 s" >&2
    cat "$dir/avahi.log" >&2
    return 1
}

# Kills the daemon by the PID in DIR/avahi.pid and waits until it is gone
# (polling: a daemon started by a child shell is not our child to `wait`).
avahi_env_stop_avahi() {
    local dir=${1:-$AVAHI_ENV_DIR} pid i
    pid=$(cat "$dir/avahi.pid" 2>/dev/null) || return 0
    rm -f "$dir/avahi.pid"
    AVAHI_ENV_AVAHI_PID=""
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

avahi_env_restart_avahi() {
    avahi_env_stop_avahi
    avahi_env_start_avahi "$AVAHI_ENV_DIR"
}

# Commands a test program can run (from inside the same namespaces) to stop
# and start the daemon, e.g. via MDNS_TEST_AVAHI_STOP / _START.
avahi_env_export_commands() {
    local self
    self=$(readlink -f "${BASH_SOURCE[0]}")
    export AVAHI_ENV_DIR
    export MDNS_TEST_AVAHI_STOP="bash $self stop-avahi $AVAHI_ENV_DIR"
    export MDNS_TEST_AVAHI_START="bash $self start-avahi $AVAHI_ENV_DIR"
}

# Stops everything this helper started, by PID, and removes the temp dir.
avahi_env_teardown() {
    [ -n "$AVAHI_ENV_DIR" ] && avahi_env_stop_avahi "$AVAHI_ENV_DIR"
    if [ -n "$AVAHI_ENV_BUS_PID" ]; then
        kill "$AVAHI_ENV_BUS_PID" 2>/dev/null
        wait "$AVAHI_ENV_BUS_PID" 2>/dev/null
        AVAHI_ENV_BUS_PID=""
    fi
    if [ -n "$AVAHI_ENV_DIR" ]; then
        umount /run/avahi-daemon 2>/dev/null
        rm -rf "$AVAHI_ENV_DIR"
        AVAHI_ENV_DIR=""
    fi
}

# One-call setup for a test already inside avahi_env_isolate: temp dir,
# namespace prep, bus, avahi on lo, EXIT trap (which also runs any
# AVAHI_ENV_EXTRA_TEARDOWN command first, e.g. to kill the test's nodes).
avahi_env_start() {
    AVAHI_ENV_DIR=$(mktemp -d /tmp/avahi-env.XXXXXX)
    trap 'eval "${AVAHI_ENV_EXTRA_TEARDOWN:-:}"; avahi_env_teardown' EXIT
    trap 'exit 130' INT TERM
    avahi_env_prepare_ns || return 1
    avahi_env_start_bus "$AVAHI_ENV_DIR" || return 1
    avahi_env_write_avahi_conf "$AVAHI_ENV_DIR" "mesh-test-$$" lo
    avahi_env_start_avahi "$AVAHI_ENV_DIR"
}

# Executed (not sourced): `bash avahi_env.sh stop-avahi|start-avahi DIR`.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
    stop-avahi) avahi_env_stop_avahi "$2" ;;
    start-avahi) avahi_env_start_avahi "$2" ;;
    *) echo "usage: $0 stop-avahi|start-avahi DIR" >&2; exit 2 ;;
    esac
fi
