#!/usr/bin/env python3
"""`mesh factor` against PARI/GP factor() on balanced semiprimes size by
size (where SIQS, src/factor/siqs.c, takes over from PARI and how far
ahead it stays): for each size a generated corpus (fixed seed), the
fastest of ROUNDS runs of each, timed as kernel_runs.py times them (one
core; CPU time of the whole `mesh factor` process, gp's time inside its
loop). Use enough numbers that mesh's start-up is small against them.
usage: sizes_vs_gp.py BUILDDIR BITS[,BITS...] [COUNT [ROUNDS]]"""
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kernel_corpus import semiprimes  # noqa: E402
from kernel_runs import cpu_us_per_number, gp_us  # noqa: E402


def main():
    build, sizes = sys.argv[1], [int(b) for b in sys.argv[2].split(",")]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
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


if __name__ == "__main__":
    main()
