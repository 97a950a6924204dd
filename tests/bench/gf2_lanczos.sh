#!/bin/sh
# gf2_lanczos.sh - the SIQS matrix step (gf2_sparse.h) on random
# SIQS-shaped matrices (NCOLS columns, NCOLS - 100 rows, ~20 entries a
# column): structured elimination then dense elimination, the same then
# block Lanczos, and Lanczos on the whole matrix; the least CPU seconds of
# ROUNDS runs of each (the machine is shared: wall time drifts).
# usage: tests/bench/gf2_lanczos.sh BUILDDIR [ROUNDS] [NCOLS...]
#   defaults: 3 rounds, 3000 10000 30000 50000 columns.
set -eu
build=${1:?usage: gf2_lanczos.sh BUILDDIR [ROUNDS] [NCOLS...]}
rounds=${2:-3}
[ $# -ge 2 ] && shift 2 || shift $#
sizes=${*:-3000 10000 30000 50000}
bench="$build/tests/factor/gf2_bench"
# left: columns left for the last step after the full structured
# elimination (dense) and after the light one Lanczos takes.
printf '%8s %8s %8s %10s %10s %10s\n' ncols left_d left_l dense_s lanczos_s raw_s
for n in $sizes; do
    line="$n"
    for mode in dense lanczos raw; do
        best=
        for r in $(seq "$rounds"); do
            out=$(nice "$bench" "$mode" "$n" "$r")
            cpu=$(echo "$out" | awk '{print $9}')
            [ "$mode" = dense ] && left_d=$(echo "$out" | awk '{print $5}')
            [ "$mode" = lanczos ] && left_l=$(echo "$out" | awk '{print $5}')
            best=$(echo "${best:-$cpu} $cpu" | awk '{print ($2 < $1) ? $2 : $1}')
        done
        line="$line $best"
    done
    echo "$line" | awk -v d="$left_d" -v l="$left_l" \
        '{printf "%8s %8s %8s %10s %10s %10s\n", $1, d, l, $2, $3, $4}'
done
