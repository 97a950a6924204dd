#!/bin/sh
# regen_table.sh GENERATOR COMMITTED - a generated table must be exactly
# what its generator writes today: reruns GENERATOR (a Python script that
# writes the table to stdout) and diffs the output against COMMITTED.
set -eu
gen=${1:?usage: regen_table.sh GENERATOR COMMITTED}
committed=${2:?usage: regen_table.sh GENERATOR COMMITTED}
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM
python3 "$gen" > "$out" 2>/dev/null
if ! diff -u "$committed" "$out"; then
    echo "FAIL: $committed differs from what $gen writes; regenerate it" >&2
    exit 1
fi
echo "regenerated $(basename "$committed"): identical"
