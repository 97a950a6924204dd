"""Hard numbers of ordinary batches go to the whole mesh (doc/DESIGN.md,
"Hard numbers of ordinary batches go to the whole mesh"): a `--file` batch
on a real 3-node mesh on loopback (one worker each) with two 196-bit
semiprimes among small numbers. The leader routes each hard one to a spread
batch of its own ("route:P:I"), every node sieves it, and its factors land
in the file batch at its line; its progress is seen mesh-wide while it
runs; cancelling the file batch cancels its spread batches and frees every
worker.

Usage: test_spread_route.py MESH_BINARY [unittest args...]

Every node is stopped by its PID in tearDown; data dirs are deleted."""
import os
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh, parse_results, submit  # noqa: E402
from meshnode import free_port, wait_for  # noqa: E402
from primes import is_prime, semiprime  # noqa: E402

MESH = None
SMALL = [1000003 * 999983, 2 ** 61 - 1, 600851475143, 97 * 89 * 83, 1234567891011]


class MetricsMesh(Mesh):
    """A Mesh whose nodes serve --metrics on loopback ports of their own."""

    def __init__(self, count):
        self.metrics_ports = [free_port() for _ in range(count)]
        super().__init__(MESH, count, workers=1)

    def _start(self, i, data_dir=None, extra=(), env=None):
        return super()._start(i, data_dir=data_dir, env=env,
                              extra=["--metrics", "127.0.0.1:%d" % self.metrics_ports[i]] +
                              list(extra))

    def scrape(self, node):
        i = self.nodes.index(node)
        url = "http://127.0.0.1:%d/metrics" % self.metrics_ports[i]
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.read().decode("utf-8")


class SpreadRouteTest(unittest.TestCase):
    def setUp(self):
        self.mesh = None
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        if self.mesh is not None:
            self.mesh.stop()
        self.tmp.cleanup()

    def batch(self, node, bid):
        return next((b for b in node.status()["batches"] if b["id"] == bid), None)

    def children(self, node, bid):
        """The spread batches routed from batch bid: {index: batch}."""
        out = {}
        for b in node.status()["batches"]:
            name = b.get("name") or ""
            if name.startswith("route:%d:" % bid):
                out[int(name.rsplit(":", 1)[1])] = b
        return out

    def submit_file(self, node, numbers):
        path = os.path.join(self.tmp.name, "numbers.txt")
        with open(path, "w") as f:
            f.write("".join("%d\n" % x for x in numbers))
        return int(submit(self, node, "--file", path))

    def start(self):
        self.mesh = MetricsMesh(3)
        return self.mesh.working(self.mesh.formed(3))

    def numbers(self, seed, bits=196):
        hard = [semiprime(bits, seed), semiprime(bits, seed + 1)]
        numbers = SMALL[:2] + [hard[0]] + SMALL[2:4] + [hard[1]] + SMALL[4:]
        return numbers, {2: hard[0], 5: hard[1]}

    def spread_progress(self, node):
        """Every node's spread progress rows, by (node, job batch)."""
        rows = {}
        for x in node.status().get("spread", []):
            rows[x["batch"]] = x
        return rows

    def test_file_batch_hard_numbers_sieved_by_every_node(self):
        lead = self.start()
        numbers, hard = self.numbers(40)
        t0 = time.monotonic()
        bid = self.submit_file(lead, numbers)
        wait_for(lambda: len(self.children(lead, bid)) == 2, 20, interval=0.1,
                 what="both hard numbers routed")
        kids = self.children(lead, bid)
        self.assertEqual(sorted(kids), sorted(hard))
        # While they run, every node's status shows their progress mesh-wide:
        # found grows, and the nodes sieving are every node.
        watcher = next(x for x in self.mesh.nodes if x is not lead)
        seen_found, seen_nodes = {}, {}
        ids = {b["id"] for b in kids.values()}
        shown = {"metrics": False, "text": False}

        def watch():
            for jb, row in self.spread_progress(watcher).items():
                if jb in ids:
                    seen_found.setdefault(jb, []).append(row["found"])
                    seen_nodes.setdefault(jb, set()).update(row["nodes"])
                    self.assertEqual(row["for_batch"], bid)
                    self.assertIn(row["index"], hard)
                    self.assertEqual(row["bits"], hard[row["index"]].bit_length())
                    self.assertIn(row["phase"], ("sieving", "matrix"))
                    if not shown["metrics"]:
                        shown["metrics"] = ('mesh_spread_found{batch="%d",for_batch="%d",'
                                            'index="%d"' % (jb, bid, row["index"])
                                            in self.mesh.scrape(watcher))
                    if not shown["text"]:
                        lines = watcher.cli("status").stdout.splitlines()
                        shown["text"] = any(x.split()[:3] == [str(bid), str(row["index"]),
                                                              str(jb)] for x in lines)
            return self.batch(lead, bid)["state"] == "done"
        wait_for(watch, 240, interval=0.1, what="the file batch done")
        elapsed = time.monotonic() - t0
        rows = parse_results(lead.cli("results", str(bid)).stdout)
        self.assertEqual([r[0] for r in rows], numbers)
        for i, n in hard.items():
            f = rows[i][1]
            self.assertEqual(len(f), 2, rows[i])
            self.assertEqual(f[0] * f[1], n)
            self.assertTrue(all(is_prime(p) for p in f), f)
        for i, (n, f) in enumerate(rows):
            prod = 1
            for p in f:
                prod *= p
            self.assertEqual(prod, n, "line %d" % i)
        for x in self.mesh.nodes:
            self.assertEqual(parse_results(x.cli("results", str(bid)).stdout), rows)
        names = {x.node_id: x.name for x in self.mesh.nodes} if hasattr(
            self.mesh.nodes[0], "node_id") else None
        print("two 196-bit numbers routed: %.1f s; found seen %s; nodes sieving %s" %
              (elapsed, {k: (v[0], v[-1], len(v)) for k, v in seen_found.items()},
               seen_nodes), file=sys.stderr)
        for jb in ids:
            self.assertIn(jb, seen_found, "no progress seen of spread batch %d" % jb)
            self.assertGreater(seen_found[jb][-1], seen_found[jb][0], seen_found[jb])
        self.assertTrue(shown["metrics"], "no mesh_spread_found series seen")
        self.assertTrue(shown["text"], "no spread row seen in `mesh status`")
        every = set().union(*seen_nodes.values())
        self.assertEqual(len(every), 3, "nodes seen sieving: %s (%s)" % (every, names))
        kids = self.children(lead, bid)
        self.assertTrue(all(b["state"] == "done" for b in kids.values()), kids)
        # Gone once done: no node shows a spread row any more.
        wait_for(lambda: all(not self.spread_progress(x) for x in self.mesh.nodes), 10,
                 interval=0.1, what="every spread progress row gone")

    def check_lines(self, node, bid, numbers, hard):
        rows = parse_results(node.cli("results", str(bid)).stdout)
        self.assertEqual([r[0] for r in rows], numbers)
        for i, (n, f) in enumerate(rows):
            prod = 1
            for p in f:
                prod *= p
            self.assertEqual(prod, n, "line %d" % i)
            self.assertTrue(all(is_prime(p) for p in f), f)
        for i in hard:
            self.assertEqual(len(rows[i][1]), 2, rows[i])
        return rows

    def test_routed_numbers_survive_their_leader_killed(self):
        # The leader SIGKILLed once both numbers are routed and sieving: the
        # new leader finds the links in the log (the spread batches' names),
        # holds the numbers, rebuilds the coordinators from the committed
        # relations and hands the factors to the file batch.
        lead = self.start()
        numbers, hard = self.numbers(60)
        bid = self.submit_file(lead, numbers)
        wait_for(lambda: len(self.children(lead, bid)) == 2 and
                 all(b["done"] >= 3 for b in self.children(lead, bid).values()), 60,
                 interval=0.1, what="both routed, ranges of each committed")
        lead.kill()
        new = self.mesh.leader(30)
        self.assertIsNot(new, lead)
        wait_for(lambda: self.batch(new, bid)["state"] == "done", 240, interval=0.2,
                 what="the file batch done under the new leader")
        rows = self.check_lines(new, bid, numbers, hard)
        kids = self.children(new, bid)
        self.assertEqual(sorted(kids), sorted(hard))
        self.assertTrue(all(b["state"] == "done" for b in kids.values()), kids)
        for x in self.mesh.nodes:
            if x is not lead:
                self.assertEqual(parse_results(x.cli("results", str(bid)).stdout), rows)

    def test_cancel_frees_every_worker(self):
        lead = self.start()
        # 240 bits: a quiet host splits a 196-bit number in ~4 s, before
        # the cancel (a spread batch done is not cancelled)
        numbers, hard = self.numbers(50, 240)
        bid = self.submit_file(lead, numbers)
        wait_for(lambda: len(self.children(lead, bid)) == 2 and
                 sum(b["done"] for b in self.children(lead, bid).values()) >= 3, 30,
                 interval=0.1, what="both routed, ranges committed")
        wait_for(lambda: all(x["busy"] > 0 for x in lead.status()["nodes"]), 20,
                 interval=0.1, what="every worker busy")
        lead.cli("cancel", str(bid))
        wait_for(lambda: all(b["state"] == "cancelled"
                             for b in self.children(lead, bid).values()), 10,
                 interval=0.1, what="the spread batches cancelled")
        for x in self.mesh.nodes:
            wait_for(lambda: all(y["busy"] == 0 for y in x.status()["nodes"]), 15,
                     interval=0.1, what="every worker free on %s" % x.name)
        self.assertEqual(self.batch(lead, bid)["state"], "cancelled")


if __name__ == "__main__":
    MESH = sys.argv.pop(1)
    unittest.main()
