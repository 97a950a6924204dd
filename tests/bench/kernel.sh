#!/bin/sh
# kernel.sh - per-core speed of the factoring kernel against coreutils
# `factor` and PARI/GP `factor()` on the same generated corpora.
# usage: tests/bench/kernel.sh BUILDDIR [SCALE]
#   BUILDDIR holds tests/factor/kernel_bench (ninja -C BUILDDIR
#   tests/factor/kernel_bench); SCALE multiplies the corpus sizes (default 1).
# Everything runs on one core (taskset -c 0 when available).
set -eu
build=${1:?usage: kernel.sh BUILDDIR [SCALE]}
scale=${2:-1}
here=$(dirname "$0")
bench="$build/tests/factor/kernel_bench"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"

python3 "$here/kernel_corpus.py" "$work" "$scale"

# microseconds per number of a command reading the corpus on stdin
us_per_number() { # corpus command...
    corpus=$1; shift
    count=$(wc -l < "$corpus")
    start=$(date +%s%N)
    $pin "$@" < "$corpus" > /dev/null
    end=$(date +%s%N)
    echo "$start $end $count" | awk '{printf "%.1f", ($2-$1)/1000/$3}'
}

gp_us_per_number() { # corpus: time inside gp, so start-up is not counted
    printf 'v=readvec("%s");t=getabstime();for(i=1,#v,factor(v[i]));print(1000.0*(getabstime()-t)/#v)\nquit\n' \
        "$1" | $pin gp -q -f --default parisizemax=512M | awk '{printf "%.1f", $1}'
}

ours() { # mode corpus
    $pin "$bench" "$1" "$2" | awk '{printf "%.1f", $5}'
}

printf '%-34s %12s %12s %12s\n' "corpus (us per number, 1 core)" mesh coreutils "PARI/GP"
for set in semi64:u64 rand64:u64 semi100:decimal semi124:decimal \
           rand100:decimal mixed100:decimal; do
    name=${set%%:*}
    mode=${set##*:}
    corpus="$work/$name.txt"
    m=$(ours "$mode" "$corpus")
    g=$(gp_us_per_number "$corpus")
    c="-"
    case $name in *64) c=$(us_per_number "$corpus" factor) ;; esac
    printf '%-34s %12s %12s %12s\n' "$name ($(wc -l < "$corpus") numbers)" "$m" "$c" "$g"
done
