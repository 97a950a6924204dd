#!/bin/sh
# install_test.sh MESON BUILDDIR CONTRIB_DIR BINDIR MANDIR COMPLETIONDIR UNITDIR
# `meson install` with DESTDIR puts the binary, the man page, the bash
# completion and the systemd unit where the build says, with the contents
# of the tree (the unit pointing at the installed binary).
set -eu
meson=$1 build=$2 contrib=$3 bindir=$4 mandir=$5 compdir=$6 unitdir=$7
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$dest.log" 2>&1 ||
    { cat "$dest.log"; rm -f "$dest.log"; fail "meson install"; }
rm -f "$dest.log"

[ -x "$dest$bindir/mesh" ] || fail "no $bindir/mesh"
"$dest$bindir/mesh" --version | grep -q '^mesh ' || fail "installed mesh does not run"
cmp "$contrib/mesh.1" "$dest$mandir/man1/mesh.1" || fail "man page not at $mandir/man1"
cmp "$contrib/mesh.bash-completion" "$dest$compdir/mesh" || fail "completion not at $compdir/mesh"
unit="$dest$unitdir/mesh.service"
[ -f "$unit" ] || fail "no unit at $unitdir"
grep -q "^ExecStart=$bindir/mesh " "$unit" || fail "unit does not start $bindir/mesh: $(grep ExecStart "$unit")"
# Apart from that line, the unit is the tree's.
[ "$(grep -v '^ExecStart=' "$unit")" = "$(grep -v '^ExecStart=' "$contrib/mesh.service")" ] ||
    fail "unit differs from contrib/mesh.service"
echo "install: binary, man page, completion and unit in place"
