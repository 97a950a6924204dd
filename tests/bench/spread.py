#!/usr/bin/env python3
"""Not a test: the wall time of one hard number on 1 node x 1 worker (the
plain path: `mesh submit --file`; and the same node with --spread, the
cost of the leases and the merge) against `mesh submit --spread` on a
3-node loopback mesh of 1 worker each (doc/DESIGN.md, "One hard number,
the whole mesh"). Runs are interleaved; times are from submit to the
factors printed by `mesh results BATCH --wait` (a user's wait).

usage: spread.py MESH_BINARY BITS RUNS [NODES]

NODES (default 3): the spread mesh's size. The issue's scaling figure is
2 nodes x 1 worker against 1 node x 1 worker: on a 2-core machine a third
node adds no core. Ends with the medians and the median of the per-run
ratios (each pair run back to back, same number)."""
import os
import sys
from statistics import median
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh  # noqa: E402
from primes import semiprime  # noqa: E402


def timed(mesh_bin, nodes, n, spread):
    mesh = Mesh(mesh_bin, nodes, workers=1)
    try:
        lead = mesh.formed(nodes)
        mesh.working(lead)  # the leader leases to every node from the first job
        t0 = time.monotonic()
        if spread:
            r = lead.cli("submit", "--spread", str(n), "--number-timeout", "none")
        else:
            r = lead.cli("submit", "--file", "-", "--number-timeout", "none",
                         input="%d\n" % n)
        bid = int(r.stdout.split()[-1])
        # One blocked reader, as a user waits: polling status every 50 ms
        # spawned 20 CLI processes a second, CPU the two workers needed.
        out = lead.cli("results", str(bid), "--wait", timeout=900).stdout
        elapsed = time.monotonic() - t0
        if str(n) not in out or "unfactored" in out:
            raise AssertionError("batch %d: %r" % (bid, out))
        combines = [line.split(" info  ")[-1] for line in lead.log().splitlines()
                    if "spread batch" in line]
        return elapsed, combines
    finally:
        mesh.stop()


def main():
    mesh_bin, bits, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    nodes = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    ones, spreads, ratios = [], [], []
    for run in range(runs):
        n = semiprime(bits, 100 + run)
        one, _ = timed(mesh_bin, 1, n, False)
        one_spread, _ = timed(mesh_bin, 1, n, True)
        many, log = timed(mesh_bin, nodes, n, True)
        ones.append(one)
        spreads.append(many)
        ratios.append(one / many)
        print("%d bits run %d: 1 node x 1 worker %.2f s, the same --spread %.2f s; "
              "%d-node --spread %.2f s (%.2fx); %s" %
              (bits, run, one, one_spread, nodes, many, one / many,
               log[-2:] if log else "no combine logged"), flush=True)
    print("%d bits, %d runs: 1 node x 1 worker median %.2f s; %d nodes x 1 worker --spread "
          "median %.2f s; ratio median %.2fx (range %.2f-%.2fx)" %
          (bits, runs, median(ones), nodes, median(spreads), median(ratios),
           min(ratios), max(ratios)))


if __name__ == "__main__":
    main()
