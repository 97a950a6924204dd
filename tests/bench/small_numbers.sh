#!/bin/sh
# small_numbers.sh - the drop-in's everyday load: `seq 0 N | mesh factor`
# against coreutils `factor`, whole process, one core, ROUNDS rounds in
# turn, output into a pipe (as in `seq | factor | ...`) and into /dev/null;
# prints CPU seconds (median, min-max) and the ratio per round.
# usage: tests/bench/small_numbers.sh BUILDDIR [N] [ROUNDS]
set -eu
build=${1:?usage: small_numbers.sh BUILDDIR [N] [ROUNDS]}
n=${2:-10000000}
rounds=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
seq 0 "$n" > "$work/seq.txt"
factor < "$work/seq.txt" > "$work/want"
"$build/src/mesh" factor < "$work/seq.txt" | cmp -s - "$work/want" ||
    { echo "output differs from coreutils factor" >&2; exit 1; }
python3 - "$build/src/mesh" "$work/seq.txt" "$rounds" <<'PY'
import resource, shutil, subprocess, sys
mesh, corpus, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
def cpu(argv, out):
    with open(corpus, "rb") as f:
        b = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(pin + argv, stdin=f, stdout=out, check=True)
        a = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime
def s(v, d=2):
    v = sorted(v)
    return "%.*f (%.*f-%.*f)" % (d, v[len(v) // 2], d, v[0], d, v[-1])
for name, out in (("a pipe", subprocess.PIPE), ("/dev/null", subprocess.DEVNULL)):
    m, c = [], []
    for _ in range(rounds):
        m.append(cpu([mesh, "factor"], out))
        c.append(cpu(["factor"], out))
    print("seq 0 N | factor > %s, CPU s, %d rounds: mesh factor %s, coreutils %s"
          % (name, rounds, s(m), s(c)))
    print("  mesh factor %sx faster than coreutils (per round)"
          % s([b / a for a, b in zip(m, c)]))
PY
