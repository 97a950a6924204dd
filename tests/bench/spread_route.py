#!/usr/bin/env python3
"""Not a test: the wall time of a `--file` batch with one hard number
among small ones on 1 node x 1 worker (the number stays with that worker:
one worker, nothing to route to) against NODES nodes x 1 worker (the
leader routes it to a spread batch of its own; doc/DESIGN.md, "Hard
numbers of ordinary batches go to the whole mesh"). Runs are interleaved,
same numbers; times are from submit to the batch done, seen by polling the
leader's status every 50 ms.

usage: spread_route.py MESH_BINARY BITS RUNS [NODES]"""
import os
import sys
from statistics import median
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh  # noqa: E402
from meshnode import wait_for  # noqa: E402
from primes import semiprime  # noqa: E402

SMALL = [1000003 * 999983, 600851475143, 97 * 89 * 83, 1234567891011]


def timed(mesh_bin, nodes, numbers):
    mesh = Mesh(mesh_bin, nodes, workers=1)
    try:
        lead = mesh.working(mesh.formed(nodes))
        t0 = time.monotonic()
        r = lead.cli("submit", "--file", "-", "--number-timeout", "none",
                     input="".join("%d\n" % x for x in numbers))
        bid = int(r.stdout.split()[-1])

        def done():
            st = lead.status()
            return any(b["id"] == bid and b["state"] == "done" for b in st["batches"])
        wait_for(done, 900, interval=0.05, what="batch done")
        elapsed = time.monotonic() - t0
        routed = sum(1 for b in lead.status()["batches"]
                     if (b.get("name") or "").startswith("route:%d:" % bid))
        return elapsed, routed
    finally:
        mesh.stop()


def main():
    mesh_bin, bits, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    nodes = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    ones, manys, ratios = [], [], []
    for run in range(runs):
        numbers = SMALL[:2] + [semiprime(bits, 200 + run)] + SMALL[2:]
        one, r1 = timed(mesh_bin, 1, numbers)
        many, r2 = timed(mesh_bin, nodes, numbers)
        ones.append(one)
        manys.append(many)
        ratios.append(one / many)
        print("%d bits run %d: 1 node x 1 worker %.2f s (routed %d); %d nodes x 1 worker "
              "%.2f s (routed %d); %.2fx" % (bits, run, one, r1, nodes, many, r2, one / many),
              flush=True)
    print("%d bits, %d runs: medians %.2f s and %.2f s; ratio median %.2fx (range %.2f-%.2fx)"
          % (bits, runs, median(ones), median(manys), median(ratios), min(ratios),
             max(ratios)))


if __name__ == "__main__":
    main()
