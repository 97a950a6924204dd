#!/bin/bash
# netns_probe_test.sh PROBE - three hosts (network namespaces on a bridge),
# each with its own avahi-daemon and one discovery_probe: every probe must
# discover the two others at their 10.213.0.x address, so mDNS really
# crossed the bridge. Skipped (exit 77) when not root.
set -u
probe=$1
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/netns_env.sh"
[ "$(id -u)" = 0 ] || exit 77

netns_env_create_with_avahi 3 || exit 1
pids=()
for i in 1 2 3; do
    netns_env_spawn "$i" "$probe" "host$i" "0$i" abcd "700$i" 2 3000 20000 \
        >"$NETNS_ENV_DIR/probe$i.out"
    pids+=("$NETNS_ENV_LAST_PID")
done
rc=0
for i in 1 2 3; do
    wait "${pids[$((i - 1))]}" || { echo "probe $i failed" >&2; rc=1; }
done
for i in 1 2 3; do
    out="$NETNS_ENV_DIR/probe$i.out"
    echo "host $i saw:"; cat "$out"
    for j in 1 2 3; do
        [ "$i" = "$j" ] && continue
        grep -qx "peer 0$j 10.213.0.$j 700$j" "$out" ||
            { echo "host $i did not see host $j" >&2; rc=1; }
    done
done
exit $rc
