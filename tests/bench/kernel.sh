#!/bin/sh
# kernel.sh - per-core speed of the factoring kernel on the paths users
# take (`mesh factor`, whole process; the worker pipeline of a one-node
# batch) beside the bare kernel, against coreutils `factor` and PARI/GP
# `factor()` on the same generated corpora (kernel_corpus.py).
# usage: tests/bench/kernel.sh BUILDDIR [ROUNDS] [SCALE]
#   BUILDDIR holds src/mesh and tests/factor/kernel_bench (ninja -C
#   BUILDDIR); ROUNDS (default 5) gives the median and spread; SCALE
#   multiplies the corpus sizes (default 1). One core: taskset -c 0.
set -eu
build=${1:?usage: kernel.sh BUILDDIR [ROUNDS] [SCALE]}
rounds=${2:-5}
scale=${3:-1}
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
python3 "$here/kernel_corpus.py" "$work" "$scale"
python3 "$here/kernel_runs.py" "$build" "$work" "$rounds"
