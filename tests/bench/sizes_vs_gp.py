#!/usr/bin/env python3
"""`mesh factor` against PARI/GP factor() on balanced semiprimes size by
size (where SIQS, src/factor/siqs.c and siqs_mp.c, takes over from PARI
and how far ahead it stays): for each size a generated corpus (fixed
seed), timed as kernel_runs.py times them (one core; CPU time of the
whole `mesh factor` process, gp's time inside its loop).

Default mode, for the small sizes: the corpus as one batch, the fastest
of ROUNDS runs of each. Use enough numbers that mesh's start-up is small
against them.

--median mode, for the large sizes (140 bits and up, seconds a number):
each number timed on its own, once, by both (one `mesh factor` process
per number, CPU time; gp's CPU time for that factor() alone), and the
medians per size printed with the ratio of medians; every answer of
mesh is checked (product == N, as many factors as gp's).
--jobs K passes `--jobs K` to every `mesh factor` (without it mesh takes its
default: every online core for one number, even pinned to one core, so the
CPU time then includes K forked workers sharing core 0 and the parent's
merge of their relations; --jobs 1 is the engine alone on the one core).

usage: sizes_vs_gp.py BUILDDIR BITS[,BITS...] [COUNT [ROUNDS]]
       sizes_vs_gp.py --median [--jobs K] BUILDDIR BITS[,BITS...] [COUNT]"""
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_corpus import semiprimes  # noqa: E402
from kernel_runs import PIN, cpu_us_per_number, gp_us  # noqa: E402


def batch_mode(build, sizes, count, rounds):
    mesh = os.path.join(build, "src/mesh")
    rng = random.Random(20250611)
    with tempfile.TemporaryDirectory() as work:
        for bits in sizes:
            corpus = os.path.join(work, "semi%d.txt" % bits)
            with open(corpus, "w") as f:
                f.write("\n".join(map(str, semiprimes(rng, bits, count))) + "\n")
            m, g = [], []
            for _ in range(rounds):  # alternated, so both see the same load
                m.append(cpu_us_per_number([mesh, "factor"], corpus, count))
                g.append(gp_us(corpus))
            m, g = min(m), min(g)
            print("%3d bits: mesh factor %9.1f us  gp %9.1f us  %.2fx" % (bits, m, g, g / m),
                  flush=True)


def mesh_seconds(mesh, n, jobs):
    """CPU seconds of one `mesh factor n` process; checks its answer."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    opts = ["--jobs", str(jobs)] if jobs else []
    out = subprocess.run(PIN + [mesh, "factor"] + opts + [str(n)], capture_output=True,
                         text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    factors = [int(f) for f in out.split(":")[1].split()]
    product = 1
    for f in factors:
        product *= f
    assert product == n and len(factors) == 2, "mesh factor: bad answer %r" % out
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def gp_seconds(n):
    script = ('t=getabstime();f=factor(%d);print(getabstime()-t," ",#f~)\nquit\n' % n)
    out = subprocess.run(PIN + ["gp", "-q", "-f", "--default", "parisizemax=1G"],
                         input=script, capture_output=True, text=True, check=True).stdout
    ms, nf = out.split()
    assert int(nf) == 2, "gp: %r" % out
    return int(ms) / 1000.0


def median_mode(build, sizes, count, jobs):
    mesh = os.path.join(build, "src/mesh")
    print("bits  mesh median  gp median  gp/mesh   (%d balanced semiprimes per size, "
          "CPU seconds per number)" % count, flush=True)
    for bits in sizes:
        rng = random.Random(20261207 + bits)
        m, g = [], []
        for n in semiprimes(rng, bits, count):  # alternated: both see the same load
            m.append(mesh_seconds(mesh, n, jobs))
            g.append(gp_seconds(n))
        mm, gm = statistics.median(m), statistics.median(g)
        print("%4d  %10.3f s %9.3f s  %6.2fx   mesh %s  gp %s" % (
            bits, mm, gm, gm / mm, " ".join("%.2f" % t for t in m),
            " ".join("%.2f" % t for t in g)), flush=True)


def main():
    if sys.argv[1] == "--median":
        args, jobs = sys.argv[2:], None
        if args[0] == "--jobs":
            jobs, args = int(args[1]), args[2:]
        build, sizes = args[0], [int(b) for b in args[1].split(",")]
        median_mode(build, sizes, int(args[2]) if len(args) > 2 else 5, jobs)
        return
    build, sizes = sys.argv[1], [int(b) for b in sys.argv[2].split(",")]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    batch_mode(build, sizes, count, rounds)


if __name__ == "__main__":
    main()
