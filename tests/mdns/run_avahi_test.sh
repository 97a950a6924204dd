#!/bin/bash
# run_avahi_test.sh MODE PROGRAM [ARGS...] - runs a test program in its own
# network + mount namespaces (only lo, so mDNS cannot leave the machine).
#   with-avahi  private D-Bus + avahi-daemon on lo; MDNS_TEST_AVAHI_STOP /
#               MDNS_TEST_AVAHI_START let the program restart the daemon
#   no-bus      no D-Bus and no daemon at all
#   bus-only    a private D-Bus but no avahi-daemon
set -u
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (network and mount namespaces)"
    exit 77
fi
if [ "${1:-}" = with-avahi ] && ! command -v avahi-daemon >/dev/null; then
    echo "SKIP: no avahi-daemon (Debian package avahi-daemon)"
    exit 77
fi
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/avahi_env.sh"
avahi_env_isolate "$0" "$@"

mode=$1
shift
case "$mode" in
with-avahi)
    avahi_env_start || exit 1
    avahi_env_export_commands
    ;;
no-bus)
    AVAHI_ENV_DIR=$(mktemp -d /tmp/avahi-env.XXXXXX)
    trap avahi_env_teardown EXIT
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$AVAHI_ENV_DIR/no-such-bus.sock"
    ;;
bus-only)
    AVAHI_ENV_DIR=$(mktemp -d /tmp/avahi-env.XXXXXX)
    trap avahi_env_teardown EXIT
    avahi_env_start_bus "$AVAHI_ENV_DIR" || exit 1
    ;;
*)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
"$@"
