#!/bin/bash
# deb_test.sh SOURCE_DIR - the Debian package, as a user gets it: built with
# `dpkg-buildpackage -us -uc -b` in a copy of the tree (never in the source
# dir), checked by lintian (no errors), installed with dpkg -i on this
# machine, then:
#   - the installed `mesh --version` and `mesh factor 12` run, and a number
#     that needs the PARI module (in LIBDIR/mesh) is factored;
#   - the man page, bash completion and unit are in place, the unit enabled
#     and starting /usr/bin/mesh with --authkey-file /etc/mesh/mesh.key;
#   - the system user mesh, /var/lib/mesh (0700, mesh) and /etc/mesh/mesh.key
#     (0640, group mesh, from `mesh keygen`) exist, and the unit's command
#     runs as that user (on loopback, --no-mdns) and answers `mesh status`;
# then `dpkg -r` removes the program and keeps the key, and `dpkg -P`
# removes the state, the key and the user.
# Skipped (exit 77) when not root, when dpkg-buildpackage, debhelper or
# lintian is missing, or when this machine already has a mesh package or
# user (a user's install is never touched).
set -u
src=$(readlink -f "${1:?usage: deb_test.sh SOURCE_DIR}")
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i)"
for prog in dpkg-buildpackage dh lintian; do
    command -v "$prog" >/dev/null ||
        skip "no $prog (contrib/deps.sh test installs dpkg-dev, debhelper, lintian)"
done
# One package test at a time on the machine (worktrees share it).
exec 9>/run/lock/mesh-deb-test.lock
flock -w 900 9 || skip "another package test holds /run/lock/mesh-deb-test.lock"
dpkg-query -W -f='${Status}' mesh 2>/dev/null | grep -q "installed" &&
    skip "a mesh package is installed on this machine"
getent passwd mesh >/dev/null && skip "a user mesh exists on this machine"
getent group mesh >/dev/null && skip "a group mesh exists on this machine"

tmp=$(mktemp -d /tmp/mesh-deb.XXXXXX)
installed=0 node_pid=
cleanup() {
    [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
    [ "$installed" = 1 ] && dpkg -P mesh >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# The copy: the tree without build dirs and git metadata.
mkdir "$tmp/mesh"
tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . | tar -C "$tmp/mesh" -xf - ||
    fail "copying the tree"
start=$(date +%s)
(cd "$tmp/mesh" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
    { tail -60 "$tmp/build.log"; fail "dpkg-buildpackage"; }
version=$(cd "$tmp/mesh" && dpkg-parsechangelog -S Version)
deb="$tmp/mesh_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "no $deb: $(ls "$tmp")"
echo "built $(basename "$deb") in $(($(date +%s) - start)) s"

lintian --fail-on error "$deb" >"$tmp/lintian.log" 2>&1
lintian_rc=$?
echo "lintian: $(grep -c '^E:' "$tmp/lintian.log") errors," \
    "$(grep -c '^W:' "$tmp/lintian.log") warnings"
cat "$tmp/lintian.log"
[ "$lintian_rc" = 0 ] || fail "lintian reports errors"

dpkg -i "$deb" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "dpkg -i"; }
installed=1
grep -q "new mesh key in /etc/mesh/mesh.key" "$tmp/install.log" ||
    fail "postinst did not tell of the new key: $(cat "$tmp/install.log")"

# The installed program (its own path: PATH may name a /usr/local one).
bin=/usr/bin/mesh
"$bin" --version | grep -q "^mesh $version" || fail "mesh --version: $("$bin" --version)"
[ "$("$bin" factor 12)" = "12: 2 2 3" ] || fail "mesh factor 12: $("$bin" factor 12)"
# The cube of a 121-bit prime (361 bits): past the built-in SIQS and ECM,
# it needs the PARI module (the same number as tests/contrib/install_test.sh).
big=2348542582773833227889480596789348142610567069724137279231868145250127573270953341353814713312802033409123217
want="$big: 1329227995784915872903807060280346673 1329227995784915872903807060280346673 1329227995784915872903807060280346673"
[ "$(env -u MESH_PARI_MODULE "$bin" factor "$big")" = "$want" ] ||
    fail "mesh factor (PARI module): $(env -u MESH_PARI_MODULE "$bin" factor "$big" 2>&1)"
ls /usr/lib/*/mesh/mesh-pari.so >/dev/null 2>&1 || fail "no LIBDIR/mesh/mesh-pari.so"
[ -f /usr/share/man/man1/mesh.1.gz ] || fail "no man page"
[ -f /usr/share/bash-completion/completions/mesh ] || fail "no bash completion"
unit=/lib/systemd/system/mesh.service
grep -q '^ExecStart=/usr/bin/mesh .*--authkey-file /etc/mesh/mesh.key' "$unit" ||
    fail "unit: $(grep ExecStart "$unit" 2>&1)"
grep -q '^Wants=.*avahi-daemon.service' "$unit" || fail "unit does not want avahi-daemon"
[ -L /etc/systemd/system/multi-user.target.wants/mesh.service ] || fail "unit not enabled"

# The user, the state directory and the key.
getent passwd mesh >/dev/null || fail "no user mesh"
[ "$(stat -c '%U %a' /var/lib/mesh)" = "mesh 700" ] ||
    fail "/var/lib/mesh: $(stat -c '%U %a' /var/lib/mesh)"
[ "$(stat -c '%U %G %a' /etc/mesh/mesh.key)" = "root mesh 640" ] ||
    fail "/etc/mesh/mesh.key: $(stat -c '%U %G %a' /etc/mesh/mesh.key)"
[ "$(wc -l </etc/mesh/mesh.key)" = 1 ] && grep -qE '^[A-Za-z0-9+/_=-]{43,}$' /etc/mesh/mesh.key ||
    fail "the key is not one from mesh keygen: $(cat /etc/mesh/mesh.key)"
key=$(cat /etc/mesh/mesh.key)

# The unit's command as the unit runs it (user mesh), in a network
# namespace of its own with only lo (the CLI reaches it by its unix socket).
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
unshare --net sh -c 'ip link set lo up && exec "$@"' _ \
    setpriv --reuid=mesh --regid=mesh --init-groups $exec_start --no-mdns --port 0 \
    --workers 1 >"$tmp/node.log" 2>&1 </dev/null &
node_pid=$!
for _ in $(seq 100); do
    "$bin" status --json 2>/dev/null | grep -q '"leader": *"[^"]' && break
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.2
done
"$bin" status --json 2>/dev/null | grep -q '"leader": *"[^"]' ||
    { cat "$tmp/node.log"; fail "the unit's command as user mesh: no node answers mesh status"; }
kill "$node_pid"
wait "$node_pid" 2>/dev/null
node_pid=

dpkg -r mesh >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; fail "dpkg -r"; }
[ ! -e "$bin" ] || fail "dpkg -r left $bin"
[ "$(cat /etc/mesh/mesh.key 2>/dev/null)" = "$key" ] || fail "dpkg -r lost the key"
dpkg -P mesh >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "dpkg -P"; }
installed=0
for gone in /var/lib/mesh /etc/mesh /etc/systemd/system/multi-user.target.wants/mesh.service; do
    [ ! -e "$gone" ] && [ ! -L "$gone" ] || fail "dpkg -P left $gone"
done
getent passwd mesh >/dev/null && fail "dpkg -P left the user mesh"
getent group mesh >/dev/null && fail "dpkg -P left the group mesh"
dpkg-query -W mesh >/dev/null 2>&1 && fail "dpkg still knows mesh: $(dpkg -l mesh | tail -1)"
echo "ok: $(basename "$deb") built, lintian clean of errors, installed, ran, removed, purged"
