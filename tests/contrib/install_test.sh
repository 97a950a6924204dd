#!/bin/sh
# install_test.sh MESON BUILDDIR CONTRIB_DIR BINDIR MANDIR COMPLETIONDIR UNITDIR MODULEDIR
# `meson install` with DESTDIR puts the binary, the PARI module, the man
# page, the bash completion and the systemd unit where the build says, with
# the contents of the tree (the unit pointing at the installed binary); the
# installed binary finds its module, and a binary without one says so.
set -eu
meson=$1 build=$2 contrib=$3 bindir=$4 mandir=$5 compdir=$6 unitdir=$7 moduledir=$8
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$dest.log" 2>&1 ||
    { cat "$dest.log"; rm -f "$dest.log"; fail "meson install"; }
rm -f "$dest.log"

[ -x "$dest$bindir/mesh" ] || fail "no $bindir/mesh"
"$dest$bindir/mesh" --version | grep -q '^mesh ' || fail "installed mesh does not run"
[ -f "$dest$moduledir/mesh-pari.so" ] || fail "no PARI module at $moduledir"
# A 361-bit cube of a 121-bit prime: past the built-in SIQS (340 bits), and
# ECM leaves perfect powers to PARI, which takes the root at once (gp:
# p=nextprime(2^120+2026); p^3). The installed
# binary finds its module from its own directory (the tests'
# MESH_PARI_MODULE is unset).
big=2348542582773833227889480596789348142610567069724137279231868145250127573270953341353814713312802033409123217
want="$big: 1329227995784915872903807060280346673 1329227995784915872903807060280346673 1329227995784915872903807060280346673"
got=$(env -u MESH_PARI_MODULE "$dest$bindir/mesh" factor "$big") ||
    fail "installed mesh factor failed: $got"
[ "$got" = "$want" ] || fail "installed mesh factor: $got"
mkdir "$dest/alone"
cp "$dest$bindir/mesh" "$dest/alone/mesh"
if got=$(env -u MESH_PARI_MODULE "$dest/alone/mesh" factor "$big" 2>"$dest/alone/err"); then
    fail "a binary without its module factored $big: $got"
fi
[ "$got" = "$big: unfactored:$big" ] || fail "without the module: $got"
grep -q "no PARI module" "$dest/alone/err" || fail "without the module, no word: $(cat "$dest/alone/err")"
cmp "$contrib/mesh.1" "$dest$mandir/man1/mesh.1" || fail "man page not at $mandir/man1"
cmp "$contrib/mesh.bash-completion" "$dest$compdir/mesh" || fail "completion not at $compdir/mesh"
unit="$dest$unitdir/mesh.service"
[ -f "$unit" ] || fail "no unit at $unitdir"
grep -q "^ExecStart=$bindir/mesh " "$unit" || fail "unit does not start $bindir/mesh: $(grep ExecStart "$unit")"
# Apart from that line, the unit is the tree's.
[ "$(grep -v '^ExecStart=' "$unit")" = "$(grep -v '^ExecStart=' "$contrib/mesh.service")" ] ||
    fail "unit differs from contrib/mesh.service"
echo "install: binary, PARI module, man page, completion and unit in place"
