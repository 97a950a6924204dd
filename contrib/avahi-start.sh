#!/usr/bin/env bash
# avahi-start.sh - make mDNS discovery work on this machine: start
# avahi-daemon when it is installed and not running, the way its package's
# postinst starts it on a machine without systemd: the D-Bus system bus
# first (avahi-daemon publishes and browses for mesh through it), then the
# daemon. Idempotent: what already runs is left alone.
#
#   contrib/avahi-start.sh            (as root; contrib/run.sh calls it)
#
# Exit 0: avahi-daemon runs and answers on the system bus (it did, or was
# started); one line on stdout says which. Exit 1: discovery cannot work
# here; stderr says why and what to do instead (--peer).
#
# AVAHI_START_CONF names the daemon's config file (default: the package's
# /etc/avahi/avahi-daemon.conf); tests use it to keep the daemon on their
# own network namespace's interfaces.
set -uo pipefail
conf=${AVAHI_START_CONF:-/etc/avahi/avahi-daemon.conf}
bus_dir=/run/dbus

cannot() {
    cat >&2 <<EOF
mesh: mDNS discovery is OFF on this machine: $*
mesh: nodes will not find each other by themselves. Give each node the
mesh: address of one that runs:  mesh --peer HOST:47110 ...
EOF
    exit 1
}

bus_answers() {
    dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.GetId >/dev/null 2>&1
}

avahi_answers() { # the daemon is up and running (state 2) on the bus
    local state
    state=$(dbus-send --system --print-reply --dest=org.freedesktop.Avahi / \
        org.freedesktop.Avahi.Server.GetState 2>/dev/null) &&
        [[ $state == *"int32 2"* ]]
}

wait_for() { # wait_for TENTHS COMMAND: poll until COMMAND succeeds
    local tenths=$1 i
    shift
    for ((i = 0; i < tenths; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

pid_alive() { # pid_alive PIDFILE
    local pid
    pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

start_bus() { # as /etc/init.d/dbus does
    command -v dbus-daemon >/dev/null ||
        cannot "no D-Bus daemon (Debian package dbus: contrib/deps.sh run installs it)"
    # A pid file or socket left by a bus that died stops a new one starting.
    if ! pid_alive "$bus_dir/pid"; then
        rm -f "$bus_dir/pid" "$bus_dir/system_bus_socket"
    fi
    mkdir -p "$bus_dir"
    chown messagebus:messagebus "$bus_dir" 2>/dev/null
    dbus-uuidgen --ensure 2>/dev/null
    dbus-daemon --system --fork >/dev/null 2>&1 ||
        cannot "the D-Bus system bus would not start (dbus-daemon --system)"
    wait_for 50 bus_answers || cannot "the D-Bus system bus does not answer"
    echo "started the D-Bus system bus"
}

start_avahi() {
    rm -f /run/avahi-daemon/pid   # a stale one makes avahi-daemon refuse
    local out
    out=$(avahi-daemon -D -f "$conf" 2>&1) ||
        cannot "avahi-daemon would not start: $out"
    wait_for 100 avahi_answers ||
        cannot "avahi-daemon started but does not answer on the system bus"
    echo "started avahi-daemon (mDNS discovery on)"
}

command -v avahi-daemon >/dev/null ||
    cannot "avahi-daemon is not installed (contrib/deps.sh run installs it)"
if avahi_answers; then
    echo "avahi-daemon runs (mDNS discovery on)"
    exit 0
fi
[ "$(id -u)" = 0 ] ||
    cannot "avahi-daemon is not running and starting it needs root (sudo $0)"
bus_answers || start_bus
if avahi-daemon --check 2>/dev/null; then
    # Running but not on the bus (started before the bus): start it afresh.
    avahi-daemon --kill 2>/dev/null
    wait_for 50 sh -c '! avahi-daemon --check 2>/dev/null'
fi
start_avahi
