#!/usr/bin/env bash
# run.sh [mesh options] - install what is needed, build, and run a node.
#   contrib/run.sh --authkey-file mesh.key
# When the key file given with --authkey-file does not exist yet, a new key
# is made with `mesh keygen` (mode 0600): copy that file to every machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/contrib/deps.sh" run
[ -d "$top/build" ] || meson setup "$top/build" "$top" >/dev/null
ninja -C "$top/build" >/dev/null
mesh="$top/build/src/mesh"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    key=
    case ${args[i]} in
        --authkey-file) key=${args[i + 1]:-} ;;
        --authkey-file=*) key=${args[i]#--authkey-file=} ;;
    esac
    if [ -n "$key" ] && [ ! -e "$key" ]; then
        (umask 077 && "$mesh" keygen >"$key")
        echo "run.sh: new mesh key in $key: copy this file to every machine of the mesh" >&2
    fi
done
exec "$mesh" "$@"
