#!/usr/bin/env python3
"""siqs_parallel.py - one hard number on 1 and on K cores: the wall time of
the multi-precision SIQS (siqs_mp_factor_jobs, src/factor/siqs_mp_par.c)
on balanced semiprimes, runs of 1 and K jobs interleaved (so both see the
same load), medians and their ratio in the same run.

usage: tests/bench/siqs_parallel.py BUILDDIR [BITS] [RUNS] [JOBS] [NUMBERS]
  BITS 200, RUNS 5 (per number and job count), JOBS 2, NUMBERS 1: how many
  different semiprimes (seeded, the same every time). Target (issue 20):
  200 bits with 2 jobs >= 1.8x faster than with 1 on an idle 2-core machine.
  On a shared machine wall times mostly measure the load: with
  sched_autogroup on, a session under contention gets its share of the CPU
  however many processes it runs, so K jobs need K idle cores to show. So the CPU times are reported
  too, and with them the speed-up an idle machine would give, bounded
  from below: CPU(1 job) / (CPU of the K-job parent + workers' CPU / K),
  counting all of the parent's merging as if it never overlapped sieving.
"""
import os
import random
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from primes import nextprime  # noqa: E402


def semiprime(bits, rng):
    while True:
        ps = []
        for b in (bits // 2, bits - bits // 2):
            ps.append(nextprime(rng.getrandbits(b) | (1 << (b - 1))))
        n = ps[0] * ps[1]
        if n.bit_length() == bits and ps[0] != ps[1]:
            return n


def time_ms(bench, n, jobs):
    """(wall ms, parent CPU ms, workers' CPU ms) of one run."""
    out = subprocess.run([bench, str(n), str(jobs)], check=True, capture_output=True,
                         text=True, timeout=3600).stdout.split()
    if n % int(out[1]) != 0:
        sys.exit(f"wrong factor {out[1]} of {n}")
    return float(out[0]), float(out[2]), float(out[3])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    bits = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    bench = os.path.join(build, "tests/factor/siqs_par_bench")
    rng = random.Random(20261207 + bits)
    print(f"{bits} bits, {runs} runs each, 1 vs {jobs} jobs; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ratios, idle = [], []
    for _ in range(count):
        n = semiprime(bits, rng)
        one, many, cpu1, bound = [], [], [], []
        for _ in range(runs):
            wall, parent, kids = time_ms(bench, n, 1)
            one.append(wall)
            cpu1.append(parent + kids)
            wall, parent, kids = time_ms(bench, n, jobs)
            many.append(wall)
            bound.append(parent + kids / jobs)
        m1, mk = statistics.median(one), statistics.median(many)
        c1, ck = statistics.median(cpu1), statistics.median(bound)
        ratios.append(m1 / mk)
        idle.append(c1 / ck)
        print(f"n={n}\n  1 job:  wall median {m1:8.0f} ms  {[round(t) for t in one]}"
              f"  CPU {c1:.0f} ms\n"
              f"  {jobs} jobs: wall median {mk:8.0f} ms  {[round(t) for t in many]}"
              f"  parent + workers/{jobs} CPU {ck:.0f} ms\n"
              f"  wall speed-up {m1 / mk:.2f}x; idle-machine speed-up >= {c1 / ck:.2f}x")
    print(f"median wall speed-up {statistics.median(ratios):.2f}x, idle-machine bound "
          f"{statistics.median(idle):.2f}x (load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
