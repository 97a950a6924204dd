#!/usr/bin/env python3
"""mesh30_test.py MESH [COUNT] - thirty nodes on this machine become one mesh.

Runs inside tests/mdns/run_avahi_test.sh with-avahi (tests/lib/manynodes.py):
no --peer, one worker per node, one private avahi-daemon on lo. Asserts one
mesh (one cluster id, one leader, 3 voters, every node a member), then that
a batch of 64-bit semiprimes submitted on one node is factored by at least
20 distinct nodes, every result checked by arithmetic."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from manynodes import Fleet  # noqa: E402
from meshcluster import check_factored, parse_results  # noqa: E402
from meshnode import wait_for  # noqa: E402


class Check:
    """check_factored's assertion interface, outside unittest."""

    def assertEqual(self, a, b, msg=None):
        assert a == b, msg or "%r != %r" % (a, b)

    def assertTrue(self, x, msg=None):
        assert x, msg

    def fail(self, msg):
        raise AssertionError(msg)


def main():
    mesh = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    fleet = Fleet(mesh, count)
    try:
        t_last = time.monotonic()
        try:
            wait_for(fleet.one_mesh, 120, interval=1.0, what="one mesh of %d nodes" % count)
        except AssertionError:
            for i in range(3):
                sys.stderr.write(fleet.log(i)[-3000:])
            raise
        print("one mesh of %d nodes %.1f s after the last start" %
              (count, time.monotonic() - t_last))
        sub = fleet.cli(count // 2, "submit", "--semiprimes", "64", "--count", "20000",
                        "--seed", "30")
        assert sub.returncode == 0, sub.stderr
        bid = sub.stdout.split()[-1]
        out = fleet.cli(0, "results", bid, "--wait", timeout=600)
        assert out.returncode == 0, out.stderr
        rows = parse_results(out.stdout)
        assert len(rows) == 20000, len(rows)
        check_factored(Check(), rows, [n for n, _ in rows])
        # peers' counts reach node 0 in their once-a-second stats: the last
        # ones may trail the results by a second
        def workers():
            return [x["name"] for x in fleet.status(0)["nodes"] if x["done"] > 0]
        try:
            wait_for(lambda: len(workers()) >= 20, 5, what="20 nodes with work done")
        finally:
            print("%d distinct nodes factored numbers of the batch" % len(workers()))
        print("ok")
        return 0
    finally:
        fleet.stop()


if __name__ == "__main__":
    sys.exit(main())
