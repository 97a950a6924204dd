#!/usr/bin/env bash
# classic.sh [BUILD_DIR] - the classic workload end to end on one node:
# `mesh submit` (999 odd numbers from 999999999999, chunks of 43) until
# `mesh results --wait` has printed every line. The Python managers
# reference takes 4.19 s for this on this kind of machine (DESIGN.md).
set -euo pipefail
. "$(dirname "$0")/bench_node.sh" "${1:-}"
runs=${RUNS:-10}
python3 - "$mesh" "$dir" "$runs" <<'PY'
import subprocess, sys, time
mesh, d, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    bid = subprocess.run([mesh, "--data-dir", d, "submit"], capture_output=True,
                         text=True, check=True).stdout.strip()
    out = subprocess.run([mesh, "--data-dir", d, "results", bid, "--wait"],
                         capture_output=True, text=True, check=True).stdout
    times.append(time.perf_counter() - t0)
    assert len(out.splitlines()) == 999
times.sort()
med = times[len(times) // 2]
print("classic workload (999 numbers, submit -> all results), %d runs:" % runs)
print("  median %.1f ms, best %.1f ms; reference 4190 ms -> %.0fx faster"
      % (med * 1e3, times[0] * 1e3, 4.19 / med))
PY
