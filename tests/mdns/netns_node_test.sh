#!/bin/bash
# netns_node_test.sh MESH - three hosts (network namespaces on a bridge),
# each with its own avahi-daemon and one mesh node without --peer: every
# node must list the two others as connected, so discovery really crossed a
# network and the links used the advertised 10.213.0.x addresses.
# Skipped (exit 77) when not root.
set -u
mesh=$(readlink -f "$1")
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/netns_env.sh"
[ "$(id -u)" = 0 ] || exit 77

netns_env_create_with_avahi 3 || exit 1
for i in 1 2 3; do
    mkdir -p "$NETNS_ENV_DIR/node$i"
    netns_env_spawn "$i" "$mesh" --authkey netns-test-key \
        --data-dir "$NETNS_ENV_DIR/node$i" --name "host$i" --port 0 \
        --headless --workers 1 >"$NETNS_ENV_DIR/node$i.log" 2>&1 </dev/null
done

# Prints the names of the connected peers in a status JSON on stdin.
connected_names() {
    python3 -c '
import json, sys
try:
    st = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for n in st.get("nodes", []):
    if not n.get("self") and n.get("connected"):
        print(n.get("name"))'
}

all_linked() {
    local i j names
    for i in 1 2 3; do
        names=$(netns_env_exec "$i" "$mesh" --data-dir "$NETNS_ENV_DIR/node$i" \
            status --json 2>/dev/null | connected_names)
        for j in 1 2 3; do
            [ "$i" = "$j" ] && continue
            grep -qx "host$j" <<<"$names" || return 1
        done
    done
    return 0
}

for _ in $(seq 120); do      # 30 s: discovery ~1 s, links a few more
    if all_linked; then
        echo "ok: all three hosts linked over the bridge"
        exit 0
    fi
    sleep 0.25
done
echo "FAIL: hosts did not all link" >&2
for i in 1 2 3; do
    echo "---- host $i status" >&2
    netns_env_exec "$i" "$mesh" --data-dir "$NETNS_ENV_DIR/node$i" \
        status --json >&2
    echo "---- host $i log" >&2
    tail -n 40 "$NETNS_ENV_DIR/node$i.log" >&2
done
exit 1
