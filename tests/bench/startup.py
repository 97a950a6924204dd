#!/usr/bin/env python3
"""What `mesh factor N` costs when a shell loop runs it once per number
(start-up, one small number, exit), against coreutils `factor N`.
Each round runs CALLS invocations of each in turn, mesh first, and takes
per call the CPU time (user + sys) of the processes and the wall clock of
the loop; prints the median over the rounds, the spread (min-max) and the
ratio round by round. One core: this process and its children run on
CPU 0 (no pinning process of its own in the figures).
usage: startup.py BUILDDIR [ROUNDS] [CALLS]"""
import os
import resource
import subprocess
import sys
import time

NUMBER = "1234567"   # 127 * 9721: trial division, as most calls a loop makes


def per_call(argv, calls):
    """(CPU ms, wall ms) per invocation, over calls invocations."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    for _ in range(calls):
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu * 1e3 / calls, wall * 1e3 / calls


def spread(values):
    v = sorted(values)
    return "%.2f (%.2f-%.2f)" % (v[len(v) // 2], v[0], v[-1])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    os.sched_setaffinity(0, {0})
    mesh = os.path.join(sys.argv[1], "src/mesh")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    out = subprocess.run([mesh, "factor", NUMBER], capture_output=True, text=True).stdout
    ref = subprocess.run(["factor", NUMBER], capture_output=True, text=True).stdout
    assert out == ref, "mesh factor and coreutils disagree: %r %r" % (out, ref)
    figures = {k: [] for k in ("mesh_cpu", "mesh_wall", "cu_cpu", "cu_wall")}
    for _ in range(rounds):
        c, w = per_call([mesh, "factor", NUMBER], calls)
        figures["mesh_cpu"].append(c)
        figures["mesh_wall"].append(w)
        c, w = per_call(["factor", NUMBER], calls)
        figures["cu_cpu"].append(c)
        figures["cu_wall"].append(w)
    print("`factor %s`, %d calls a round, %d rounds: median (min-max), ms per call"
          % (NUMBER, calls, rounds))
    print("  mesh factor  CPU %s  wall %s" % (spread(figures["mesh_cpu"]),
                                             spread(figures["mesh_wall"])))
    print("  coreutils    CPU %s  wall %s" % (spread(figures["cu_cpu"]),
                                             spread(figures["cu_wall"])))
    print("  mesh / coreutils, round by round: CPU %sx  wall %sx" % (
        spread([m / c for m, c in zip(figures["mesh_cpu"], figures["cu_cpu"])]),
        spread([m / c for m, c in zip(figures["mesh_wall"], figures["cu_wall"])])))


if __name__ == "__main__":
    main()
