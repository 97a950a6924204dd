#!/usr/bin/env python3
"""mesh30_test.py MESH [COUNT] - thirty nodes on this machine become one mesh.

Runs inside tests/mdns/run_avahi_test.sh with-avahi: its own network
namespace (only lo) with a private avahi-daemon, so mDNS never leaves the
test. Nodes get no --peer: every link comes from discovery or from peer
exchange (mDNS alone dials at most 8 keys per host, and all thirty share
127.0.0.1). Each node has one worker.

Asserts: one mesh (one cluster id, one leader, 3 voters, every node a
member) and a batch of 64-bit semiprimes submitted on one node is factored
by at least 20 distinct nodes, every result checked by arithmetic. Every
node is stopped by its PID and the temp dir deleted."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import check_factored, parse_results  # noqa: E402
from meshnode import wait_for  # noqa: E402

KEY = "thirty-node-test-key"


class Check:
    """check_factored's assertion interface, outside unittest."""

    def assertEqual(self, a, b, msg=None):
        assert a == b, msg or "%r != %r" % (a, b)

    def assertTrue(self, x, msg=None):
        assert x, msg


def start(mesh, root, i):
    d = os.path.join(root, "n%02d" % i)
    os.makedirs(d)
    log = open(os.path.join(d, "out.log"), "w")
    p = subprocess.Popen([mesh, "--authkey", KEY, "--data-dir", d, "--name", "n%02d" % i,
                          "--port", "0", "--headless", "--workers", "1",
                          "--log-file", os.path.join(d, "node.log")],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return p, d


def status(mesh, d):
    try:
        r = subprocess.run([mesh, "--data-dir", d, "status", "--json"], capture_output=True,
                           text=True, timeout=20)
        return json.loads(r.stdout) if r.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        return None


def one_mesh(mesh, dirs, count):
    sts = [status(mesh, d) for d in dirs]
    if any(s is None for s in sts):
        return None
    ids = {s["cluster_id"] for s in sts}
    leaders = {s["leader"] for s in sts}
    if len(ids) != 1 or "" in ids or len(leaders) != 1 or "" in leaders:
        return None
    roles = [x["role"] for x in sts[0]["nodes"]]
    members = [r for r in roles if r in ("leader", "voter", "standby")]
    if len(members) != count or sts[0]["quorum"]["voters"] != 3:
        return None
    return sts


def main():
    mesh = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    root = tempfile.mkdtemp(prefix="mesh30-")
    procs = []
    try:
        for i in range(count):
            procs.append(start(mesh, root, i))
        t_last = time.monotonic()
        dirs = [d for _, d in procs]
        try:
            sts = wait_for(lambda: one_mesh(mesh, dirs, count), 120, interval=1.0,
                           what="one mesh of %d nodes" % count)
        except AssertionError:
            for _, d in procs[:3]:
                sys.stderr.write(open(os.path.join(d, "node.log")).read()[-3000:])
            raise
        print("one mesh of %d nodes %.1f s after the last start" %
              (count, time.monotonic() - t_last))
        sub = subprocess.run([mesh, "--data-dir", dirs[count // 2], "submit", "--semiprimes",
                              "64", "--count", "20000", "--seed", "30"],
                             capture_output=True, text=True, timeout=60)
        assert sub.returncode == 0, sub.stderr
        bid = sub.stdout.split()[-1]
        out = subprocess.run([mesh, "--data-dir", dirs[0], "results", bid, "--wait"],
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        rows = parse_results(out.stdout)
        assert len(rows) == 20000, len(rows)
        check_factored(Check(), rows, [n for n, _ in rows])
        st = status(mesh, dirs[0])
        workers = [x["name"] for x in st["nodes"] if x["done"] > 0]
        print("%d distinct nodes factored numbers of the batch" % len(workers))
        assert len(workers) >= 20, workers
        print("ok")
        return 0
    finally:
        for p, _ in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, _ in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
