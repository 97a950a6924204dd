#!/usr/bin/env python3
"""ECM in the factoring ladder (src/factor/ecm_mp.c), measured.

unbalanced: `mesh factor` against PARI/GP factor() on numbers with one
medium prime factor: a D-digit prime times a prime making the number T
digits (past SIQS's 340 bits from 103 digits up, so ECM is the method).
Each number is timed on its own by both, alternated so both see the same
load: CPU seconds of one `mesh factor` process (no budget), gp's time for
that factor() alone; medians per case and the ratio of medians. Every
answer is checked (product == N, as many factors as gp's).

pass: the cost of the short ECM pass before SIQS on balanced semiprimes
(which it cannot split): `mesh factor` of BUILD against that of
BUILD_NOPASS (the same tree set up with -Dc_args=-DMESH_ECM_PASS_SHARE=0),
medians per size.

usage: ecm_vs_gp.py unbalanced BUILD D:T[,D:T...] [COUNT]
       ecm_vs_gp.py pass BUILD BUILD_NOPASS BITS[,BITS...] [COUNT]
e.g.   ecm_vs_gp.py unbalanced build 25:120,30:120,25:150,30:150 5"""
import os
import random
import resource
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_corpus import semiprimes  # noqa: E402
from kernel_runs import PIN  # noqa: E402


def next_prime(n):
    out = subprocess.run(["gp", "-q", "-f"], input="print(nextprime(%d))\nquit\n" % n,
                         capture_output=True, text=True, check=True).stdout
    return int(out)


def unbalanced(rng, digits, total):
    p = next_prime(rng.randrange(10 ** (digits - 1), 10 ** digits))
    lo, hi = 10 ** (total - 1) // p + 1, 10 ** total // p
    q = next_prime(rng.randrange(lo, hi))
    return p * q


def mesh_seconds(mesh, n):
    """CPU seconds of one `mesh factor n`; returns (seconds, factor count)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(PIN + [mesh, "factor", str(n)], capture_output=True, text=True,
                         check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    factors = [int(f) for f in out.split(":")[1].split()]
    product = 1
    for f in factors:
        product *= f
    assert product == n, "mesh factor: bad answer %r" % out
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), len(factors)


def gp_seconds(n):
    script = 't=getabstime();f=factor(%d);print(getabstime()-t," ",#f~)\nquit\n' % n
    out = subprocess.run(PIN + ["gp", "-q", "-f", "--default", "parisizemax=1G"],
                         input=script, capture_output=True, text=True, check=True).stdout
    ms, count = out.split()
    return int(ms) / 1000.0, int(count)


def unbalanced_mode(build, cases, count):
    mesh = os.path.join(build, "src/mesh")
    print("factor  number   mesh median   gp median  gp/mesh   (%d numbers per case, "
          "CPU seconds per number)" % count, flush=True)
    for digits, total in cases:
        rng = random.Random(20261207 + 1000 * digits + total)
        m, g = [], []
        for _ in range(count):
            n = unbalanced(rng, digits, total)
            ms, mcount = mesh_seconds(mesh, n)
            gs, gcount = gp_seconds(n)
            assert mcount == gcount == 2, (n, mcount, gcount)
            m.append(ms)
            g.append(gs)
        mm, gm = statistics.median(m), statistics.median(g)
        print("%3d dig %3d dig  %9.2f s  %9.2f s  %6.2fx   mesh %s  gp %s" % (
            digits, total, mm, gm, gm / mm, " ".join("%.1f" % t for t in m),
            " ".join("%.1f" % t for t in g)), flush=True)


def pass_mode(build, build_nopass, sizes, count):
    with_pass = os.path.join(build, "src/mesh")
    without = os.path.join(build_nopass, "src/mesh")
    print("bits  with pass  without   cost of the pass   (%d balanced semiprimes, "
          "CPU seconds, medians)" % count, flush=True)
    for bits in sizes:
        rng = random.Random(20261207 + bits)
        w, wo = [], []
        for n in semiprimes(rng, bits, count):  # alternated: the same load for both
            w.append(mesh_seconds(with_pass, n)[0])
            wo.append(mesh_seconds(without, n)[0])
        mw, mwo = statistics.median(w), statistics.median(wo)
        print("%4d  %8.3f s  %7.3f s  %+6.1f%%" % (bits, mw, mwo, 100.0 * (mw - mwo) / mwo),
              flush=True)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    if sys.argv[1] == "unbalanced":
        cases = [tuple(int(x) for x in c.split(":")) for c in sys.argv[3].split(",")]
        unbalanced_mode(sys.argv[2], cases, int(sys.argv[4]) if len(sys.argv) > 4 else 5)
    elif sys.argv[1] == "pass":
        sizes = [int(b) for b in sys.argv[4].split(",")]
        pass_mode(sys.argv[2], sys.argv[3], sizes, int(sys.argv[5]) if len(sys.argv) > 5 else 5)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
