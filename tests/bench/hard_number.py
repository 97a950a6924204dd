#!/usr/bin/env python3
"""Not a test: one hard number, unattended, end to end, on a loopback mesh
(issue 20's 100-digit run). Starts NODES nodes of WORKERS workers each,
submits one balanced semiprime of BITS bits with `mesh submit --spread`
from the leader, prints the mesh's own progress line for it (`mesh status`'s
spread list: phase, relations found of those needed, rate, ETA) every
REPORT seconds, and at the end the wall time, the factors `mesh results`
printed and whether they multiply to N.

usage: hard_number.py MESH_BINARY BITS [NODES [WORKERS [REPORT [SEED]]]]

Defaults: 3 nodes, 1 worker each, a line a minute, seed 330. The nodes
stop when the script ends, the way every test's nodes do (by PID)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh  # noqa: E402
from primes import semiprime  # noqa: E402


def cpu_seconds(node):
    """CPU time of a node and all its workers so far: its own, its reaped
    children's (workers that ended) and its live children's."""
    hz = os.sysconf("SC_CLK_TCK")

    def fields(pid):
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    own = fields(node.pid)
    total = sum(int(x) for x in own[11:15])  # utime stime cutime cstime
    for child in node.children():
        try:
            total += sum(int(x) for x in fields(child)[11:13])
        except OSError:
            pass  # ended meanwhile: counted as reaped next time
    return total / hz


def progress_line(status, elapsed):
    """The spread entry of the one hard number, as one line."""
    parts = []
    for s in status.get("spread", []):
        parts.append(json.dumps(s, sort_keys=True))
    return "%7.0f s  %s" % (elapsed, " | ".join(parts) if parts else "(no spread entry)")


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    mesh_bin, bits = args[0], int(args[1])
    nodes = int(args[2]) if len(args) > 2 else 3
    workers = int(args[3]) if len(args) > 3 else 1
    report = float(args[4]) if len(args) > 4 else 60.0
    seed = int(args[5]) if len(args) > 5 else 330
    n = semiprime(bits, seed)
    print("N = %d (%d bits, %d digits), %d nodes x %d workers" %
          (n, n.bit_length(), len(str(n)), nodes, workers), flush=True)
    mesh = Mesh(mesh_bin, nodes, workers=workers)
    try:
        lead = mesh.formed(nodes)
        t0 = time.monotonic()
        r = lead.cli("submit", "--spread", str(n), "--number-timeout", "none")
        bid = int(r.stdout.split()[-1])
        next_report = 0.0
        while True:
            elapsed = time.monotonic() - t0
            try:
                st = lead.status()
            except Exception:  # the node asked went away: ask the leader now
                lead = mesh.leader()
                continue
            batch = [b for b in st["batches"] if b["id"] == bid]
            if batch and batch[0]["state"] in ("done", "cancelled"):
                break
            if elapsed >= next_report:
                print(progress_line(st, elapsed), flush=True)
                next_report += report
            time.sleep(1.0)
        elapsed = time.monotonic() - t0
        cpu = sum(cpu_seconds(x) for x in mesh.alive())
        out = lead.cli("results", str(bid)).stdout.strip()
        factors = [int(f) for f in out.split(":", 1)[1].split()] if ":" in out else []
        product = 1
        for f in factors:
            product *= f
        print("done in %.0f s (%.2f h), CPU of every node and worker %.0f s; load average "
              "%s: %s" % (elapsed, elapsed / 3600, cpu, " ".join(
                  "%.1f" % x for x in os.getloadavg()), out), flush=True)
        print("factors multiply to N: %s; all proper: %s" %
              (product == n, len(factors) >= 2 and all(1 < f < n for f in factors)))
        for line in mesh.leader().log().splitlines():  # what the coordinator said
            if "spread batch" in line:
                print("  " + line)
    finally:
        mesh.stop()


if __name__ == "__main__":
    main()
