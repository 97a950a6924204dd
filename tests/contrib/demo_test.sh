#!/usr/bin/env bash
# demo_test.sh MESH DEMO COMPLETION - the shell files parse, and contrib/demo.sh
# runs three linked nodes to completion: exit 0, the status of three nodes
# each seeing all three, results printed, no node or temp dir left behind.
set -uo pipefail
mesh=${1:?usage: demo_test.sh MESH DEMO COMPLETION}
demo=${2:?}
comp=${3:?}

bash -n "$comp" || { echo "bash -n $comp failed"; exit 1; }
bash -n "$demo" || { echo "bash -n $demo failed"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
# The demo's temp dirs go under $tmp so leftovers are ours to find.
MESH=$mesh TMPDIR=$tmp timeout -k 10 120 bash "$demo" >"$out" 2>&1
rc=$?
fail() { echo "FAIL: $*"; echo "--- demo output:"; cat "$out"; exit 1; }
[ "$rc" -eq 0 ] || fail "demo.sh exited $rc"

# Three status reports, one per node, each listing alpha, beta and gamma.
headers=$(grep -cE '^node (alpha|beta|gamma) \([0-9a-f]+\)' "$out")
[ "$headers" -eq 3 ] || fail "expected the status of 3 nodes, saw $headers"
for n in alpha beta gamma; do
    grep -qE "^node $n \(" "$out" || fail "no status from $n"
done
# (status rows: NAME, short ID, ADDRESS, ROLE, STATE, LINK, ...)
connected=$(grep -cE '^(alpha|beta|gamma) +[0-9a-f]{8} +[^ ]+ +[a-z]+ +[a-z]+ +up ' "$out")
[ "$connected" -eq 6 ] || fail "expected 6 connected peer rows (2 per node), saw $connected"
grep -qx '999999999999: 3 3 3 7 11 13 37 101 9901' "$out" ||
    fail "first line of the classic batch missing"
grep -q 'lines), first' "$out" || fail "no results printed"

# Cleaned up: no data dir left, no node still running on one.
leftover=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'mesh-demo.*')
[ -z "$leftover" ] || fail "demo left $leftover behind"
if pgrep -f -- "--data-dir $tmp/" >/dev/null 2>&1; then
    fail "a demo node is still running: $(pgrep -af -- "--data-dir $tmp/")"
fi
echo "demo ok: three nodes linked, both batches factored, all cleaned up"
