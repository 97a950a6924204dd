#!/usr/bin/env bash
# run.sh [mesh options] - install what is needed, build, put `mesh` on PATH,
# make mDNS discovery work, and run a node (with its dashboard in a terminal).
#   contrib/run.sh --authkey-file mesh.key
# When the key file given with --authkey-file does not exist yet, a new key
# is made with `mesh keygen` (mode 0600): copy that file to every machine.
# What the user must know (a new key, discovery off, where the CLI is) is
# printed before the dashboard takes the screen, and waited for.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
say() { echo "run.sh: $*" >&2; }
notices=0 # lines the user must read before the dashboard hides them
notice() { echo "run.sh: $*" >&2; notices=$((notices + 1)); }

"$top/contrib/deps.sh" run

# Build; its output only when it fails (then all of it that matters). The
# unit and the completion go under the prefix too (/usr/local), never over
# what a package installed under /lib and /usr/share.
log="$top/build-run.log"
prefix_dirs=(-Dsystemdsystemunitdir=/usr/local/lib/systemd/system
             -Dbashcompletiondir=/usr/local/share/bash-completion/completions)
if [ ! -d "$build" ]; then
    meson setup "$build" "$top" "${prefix_dirs[@]}" >"$log" 2>&1 ||
        { cat "$log" >&2; say "meson setup failed (log: $log)"; exit 1; }
else
    meson configure "$build" "${prefix_dirs[@]}" >"$log" 2>&1 ||
        { cat "$log" >&2; say "meson configure failed (log: $log)"; exit 1; }
fi
if ! ninja -C "$build" >"$log" 2>&1; then
    grep -v '^\[[0-9]*/[0-9]*\] ' "$log" | tail -60 >&2
    say "the build failed (whole log: $log)"
    exit 1
fi

# `mesh` on PATH: installed under the build's prefix (/usr/local) as root.
mesh="$build/src/mesh"
if [ "$(id -u)" = 0 ]; then
    if meson install -C "$build" --no-rebuild --quiet >"$log" 2>&1; then
        prefix=$(meson introspect "$build" --buildoptions |
            python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
        mesh="$prefix/bin/mesh"
        case ":$PATH:" in
            *":$prefix/bin:"*) say "installed $mesh (on PATH: \`mesh status\` works in another terminal)" ;;
            *) notice "installed $mesh, but $prefix/bin is not on PATH: run it as $mesh" ;;
        esac
    else
        cat "$log" >&2
        notice "meson install failed: running $mesh from the build tree"
    fi
else
    notice "mesh is not on PATH: \`sudo meson install -C $build\` puts it in /usr/local/bin (or run $mesh)"
fi

# Options that change what to tell the user.
args=("$@")
data_dir= headless=0 mdns=1
for ((i = 0; i < ${#args[@]}; i++)); do
    key=
    case ${args[i]} in
        --authkey-file) key=${args[i + 1]:-} ;;
        --authkey-file=*) key=${args[i]#--authkey-file=} ;;
        --data-dir) data_dir=${args[i + 1]:-} ;;
        --data-dir=*) data_dir=${args[i]#--data-dir=} ;;
        --headless) headless=1 ;;
        --no-mdns) mdns=0 ;;
    esac
    if [ -n "$key" ] && [ ! -e "$key" ]; then
        (umask 077 && "$mesh" keygen >"$key")
        notice "NEW MESH KEY in $key: copy this file to every machine of the mesh" \
            "and start each with the same command"
    fi
done

# Discovery: avahi-daemon running, or a loud word on how to do without.
# Starting it needs root: a user is asked for sudo only when it is not running.
avahi_start() { "$@" "$top/contrib/avahi-start.sh"; }
if [ "$mdns" = 1 ]; then
    if out=$(avahi_start 2>"$log") ||
        { [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && out=$(avahi_start sudo 2>"$log"); }; then
        sed 's/^/run.sh: /' <<<"$out" >&2
    else
        cat "$log" >&2 # why, and the fix (--peer)
        notices=$((notices + 1))
    fi
fi

if [ -n "$data_dir" ]; then
    say "data dir $data_dir: every CLI command needs it: mesh --data-dir $data_dir status"
else
    data_dir=${XDG_STATE_HOME:+$XDG_STATE_HOME/mesh}
    [ -n "$data_dir" ] || { [ "$(id -u)" = 0 ] && data_dir=/var/lib/mesh; } ||
        data_dir=$HOME/.local/state/mesh
    say "data dir $data_dir (log: $data_dir/mesh.log); in another terminal: mesh status"
fi

# A notice must be read before the dashboard covers the screen.
if [ "$notices" -gt 0 ] && [ "$headless" = 0 ] && [ -t 0 ] && [ -t 1 ]; then
    read -r -t 30 -p "run.sh: read the above; press Enter to start the node (30 s) " _ || echo
fi
exec "$mesh" "$@"
