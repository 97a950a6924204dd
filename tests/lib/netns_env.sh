# netns_env.sh - N test "hosts": network namespaces on one bridge, each with
# its own D-Bus system bus and avahi-daemon, so mDNS really crosses a network.
#
#     . tests/lib/netns_env.sh
#     netns_env_create 3           # hosts 1..3, 10.213.0.1..3/24
#     netns_env_start_avahi 1      # (for each host)
#     netns_env_exec 1 mesh ...    # run in host 1 with its bus exported
#     netns_env_spawn 1 mesh ...   # same, in the background, PID recorded
#     (teardown runs from the EXIT trap installed by netns_env_create)
#
# Layout: a hub namespace holds bridge br0 (mcast_snooping 0, so multicast
# floods to every port without IGMP state) and one port per host; each host
# namespace has lo and `mesh0`, the other end of its veth. Nothing is created
# in the caller's namespace except the two fences below, so 10.213.0.0/24
# and all mDNS traffic exist only inside these namespaces.
# - avahi-daemon is restricted to mesh0 (allow-interfaces) and denies eth0.
# - /run/avahi-daemon is a fixed path: `ip netns exec` gives each command a
#   private mount namespace, where a per-host directory is bind-mounted over
#   it before exec'ing avahi-daemon.
# - Every process is started in the background and killed by its PID;
#   namespaces are deleted, which also removes their veths and the bridge.
# - Needs root and iproute2. The `dummy` link type is not available here,
#   veth + bridge are.

# The daemon config is the same as for the loopback tests, on mesh0.
. "$(dirname "${BASH_SOURCE[0]}")/avahi_env.sh"

NETNS_ENV_PREFIX=""
NETNS_ENV_DIR=""
NETNS_ENV_COUNT=0
NETNS_ENV_PIDS=()

netns_env_name() { echo "${NETNS_ENV_PREFIX}-$1"; }
netns_env_addr() { echo "10.213.0.$1"; }
netns_env_bus() { echo "unix:path=$NETNS_ENV_DIR/host$1/bus.sock"; }

# netns_env_create N: hub + N hosts, all links up, EXIT trap installed.
netns_env_create() {
    local n=$1 i ns hub
    NETNS_ENV_PREFIX="mtest$$"
    NETNS_ENV_DIR=$(mktemp -d /tmp/netns-env.XXXXXX)
    NETNS_ENV_COUNT=$n
    trap 'eval "${NETNS_ENV_EXTRA_TEARDOWN:-:}"; netns_env_teardown' EXIT
    trap 'exit 130' INT TERM
    hub="${NETNS_ENV_PREFIX}-hub"
    ip netns add "$hub" || return 1
    ip -n "$hub" link set lo up
    ip -n "$hub" link add br0 type bridge mcast_snooping 0 || return 1
    ip -n "$hub" link set br0 up
    for i in $(seq "$n"); do
        ns=$(netns_env_name "$i")
        mkdir -p "$NETNS_ENV_DIR/host$i/run-avahi"
        ip netns add "$ns" || return 1
        ip -n "$ns" link set lo up
        ip -n "$ns" link add mesh0 type veth peer name "port$i" netns "$hub" ||
            return 1
        ip -n "$hub" link set "port$i" master br0
        ip -n "$hub" link set "port$i" up
        ip -n "$ns" addr add "$(netns_env_addr "$i")/24" dev mesh0
        ip -n "$ns" link set mesh0 multicast on
        ip -n "$ns" link set mesh0 up
    done
}

# Runs a command in host I with its bus exported (foreground).
netns_env_exec() {
    local i=$1
    shift
    ip netns exec "$(netns_env_name "$i")" \
        env DBUS_SYSTEM_BUS_ADDRESS="$(netns_env_bus "$i")" "$@"
}

# Same in the background; the PID (of the command itself: ip netns exec
# execs it) is appended to NETNS_ENV_PIDS and left in NETNS_ENV_LAST_PID.
netns_env_spawn() {
    local i=$1
    shift
    # a simple command, not a function, so that $! is the command's PID
    ip netns exec "$(netns_env_name "$i")" \
        env DBUS_SYSTEM_BUS_ADDRESS="$(netns_env_bus "$i")" "$@" &
    NETNS_ENV_LAST_PID=$!
    NETNS_ENV_PIDS+=("$NETNS_ENV_LAST_PID")
}

netns_env_write_avahi_conf() {
    avahi_env_write_avahi_conf "$NETNS_ENV_DIR/host$1" "${NETNS_ENV_PREFIX}-host$1" mesh0
}

# Private bus + avahi-daemon for host I; waits until avahi is running.
netns_env_start_avahi() {
    local i=$1 dir="$NETNS_ENV_DIR/host$1" k
    sed -e "s|<listen>.*</listen>|<listen>unix:path=$dir/bus.sock</listen>|" \
        -e '/<pidfile>.*<\/pidfile>/d' \
        -e '/<user>.*<\/user>/d' -e '/<syslog\/>/d' -e '/<fork\/>/d' \
        -e "s|<includedir>system.d</includedir>|<includedir>/usr/share/dbus-1/system.d</includedir>|" \
        /usr/share/dbus-1/system.conf >"$dir/bus.conf"
    netns_env_spawn "$i" dbus-daemon --config-file="$dir/bus.conf" --nofork \
        >"$dir/bus.log" 2>&1
    for k in $(seq 100); do
        [ -S "$dir/bus.sock" ] && break
        sleep 0.05
    done
    netns_env_write_avahi_conf "$i"
    mkdir -p /run/avahi-daemon   # mount point only
    netns_env_spawn "$i" sh -c 'mount --bind "$1" /run/avahi-daemon &&
        exec avahi-daemon -f "$2" --no-drop-root --no-chroot --no-rlimits' \
        sh "$dir/run-avahi" "$dir/avahi.conf" >"$dir/avahi.log" 2>&1 </dev/null
    echo "$NETNS_ENV_LAST_PID" >"$dir/avahi.pid"
    for k in $(seq 100); do
        if netns_env_exec "$i" dbus-send --system --print-reply \
            --dest=org.freedesktop.Avahi / \
            org.freedesktop.Avahi.Server.GetState 2>/dev/null |
            grep -q 'int32 2'; then
            return 0
        fi
        sleep 0.1
    done
    echo "netns_env: avahi-daemon of host $i not ready" >&2
    cat "$dir/avahi.log" >&2
    return 1
}

# netns_env_create_with_avahi N: hosts 1..N, each with its avahi-daemon up.
netns_env_create_with_avahi() {
    netns_env_create "$1" || return 1
    local i
    for i in $(seq "$1"); do
        netns_env_start_avahi "$i" || return 1
    done
}

netns_env_teardown() {
    local pid i
    for pid in "${NETNS_ENV_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${NETNS_ENV_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    NETNS_ENV_PIDS=()
    if [ -n "$NETNS_ENV_PREFIX" ]; then
        for i in $(seq "$NETNS_ENV_COUNT"); do
            ip netns del "$(netns_env_name "$i")" 2>/dev/null
        done
        ip netns del "${NETNS_ENV_PREFIX}-hub" 2>/dev/null
        NETNS_ENV_PREFIX=""
    fi
    [ -n "$NETNS_ENV_DIR" ] && rm -rf "$NETNS_ENV_DIR"
    NETNS_ENV_DIR=""
}
