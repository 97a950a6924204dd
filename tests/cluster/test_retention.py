"""Retention tests: a mesh that forgets what it was told to, on every node
at the same log index, and nothing else. Real nodes on loopback (real Raft,
real links, real signals).

Usage: test_retention.py MESH_BINARY [unittest args...]

Every node is stopped by its PID in tearDown and its data dir deleted. The
oracle for results is arithmetic (tests/lib/primes.py)."""
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh, check_factored, parse_results, submit  # noqa: E402
from meshnode import wait_for  # noqa: E402

MESH = None


class RetentionTest(unittest.TestCase):
    def setUp(self):
        self.mesh = None

    def tearDown(self):
        if self.mesh is not None:
            self.mesh.stop()

    def submit(self, node, *args):
        return submit(self, node, *args)

    def finished(self, node, bid, start, count):
        out = node.cli("results", bid, "--wait", timeout=120).stdout
        check_factored(self, parse_results(out), list(range(start, start + count)))

    def forgotten_everywhere(self, bid, why, timeout=10):
        """Every live node answers 'batch BID was forgotten (..., WHY)'."""
        def told():
            for n in self.mesh.alive():
                r = n.cli("results", bid, check=False)
                if r.returncode == 0 or "batch %s was forgotten" % bid not in r.stderr:
                    return False
                self.assertIn(why, r.stderr)
            return True
        wait_for(told, timeout, interval=0.2, what="batch %s forgotten everywhere" % bid)

    def retained(self, node):
        return node.status()["retained"]

    def test_forget_from_any_node(self):
        self.mesh = Mesh(MESH, 3)
        a, b, c = self.mesh.nodes
        self.mesh.formed(3)
        first = self.submit(a, "--start", "1000", "--count", "500")
        second = self.submit(a, "--start", "5000", "--count", "500")
        self.finished(c, first, 1000, 500)
        self.finished(c, second, 5000, 500)
        # b's own replica must hold both whole before its bytes are the
        # reference (c finishing does not say b applied every result: a
        # clean-clone run once read b's count with the second batch short)
        self.finished(b, first, 1000, 500)
        self.finished(b, second, 5000, 500)
        held = self.retained(b)
        self.assertEqual(held["batches"], 2)
        self.assertGreater(held["bytes"], 0)
        out = c.cli("forget", first).stdout
        self.assertIn("batch %s forgotten" % first, out)
        self.forgotten_everywhere(first, "forgotten on request")
        for n in self.mesh.nodes:
            self.finished(n, second, 5000, 500)
            wait_for(lambda n=n: self.retained(n)["batches"] == 1, 5, what="one batch kept")
            wait_for(lambda n=n: self.retained(n)["bytes"] < held["bytes"], 5,
                     what="fewer bytes kept than with both batches")
            self.assertNotIn(int(first), [x["id"] for x in n.status()["batches"]])
        # forgetting it again is fine; an id that never was is an error
        c.cli("forget", first)
        r = b.cli("forget", "999", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no batch 999", r.stderr)
        # the leader told the mesh
        lead = self.mesh.leader()
        try:
            wait_for(lambda: "batch %s forgotten" % first in
                     lead.cli("events", "--no-follow").stdout, 5, what="a forgotten event")
        except AssertionError:
            sys.stderr.write(lead.cli("events", "--no-follow").stdout)
            raise

    def test_running_batch_is_never_forgotten(self):
        self.mesh = Mesh(MESH, 3, extra=["--keep-results", "2s"])
        a, b, _ = self.mesh.nodes
        self.mesh.formed(3)
        done = self.submit(a, "--start", "1000", "--count", "200")
        self.finished(a, done, 1000, 200)
        running = self.submit(a, "--semiprimes", "100", "--count", "100000", "--seed", "4")
        r = b.cli("forget", running, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("batch %s is running: cancel it first" % running, r.stderr)
        # past --keep-results: the finished batch goes by age, the running one stays
        self.forgotten_everywhere(done, "older than --keep-results", timeout=15)
        for n in self.mesh.nodes:
            ids = [x["id"] for x in n.status()["batches"]]
            self.assertIn(int(running), ids)
        b.cli("cancel", running)
        self.forgotten_everywhere(running, "older than --keep-results", timeout=15)

    def test_budget_forgets_the_oldest_first(self):
        budget = 64 * 1024
        self.mesh = Mesh(MESH, 3, extra=["--results-budget", str(budget)])
        a, b, c = self.mesh.nodes
        self.mesh.formed(3)
        ids = []
        for k in range(6):
            bid = self.submit(a, "--start", str(10 ** 12 + 10000 * k), "--count", "1500")
            self.finished(b, bid, 10 ** 12 + 10000 * k, 1500)
            ids.append(bid)
        lead = self.mesh.leader()
        wait_for(lambda: self.retained(lead)["bytes"] <= budget, 10,
                 what="the leader back under the budget")
        kept = [x["id"] for x in lead.status()["batches"]]
        self.assertIn(int(ids[-1]), kept)
        gone = [i for i in ids if int(i) not in kept]
        self.assertGreater(len(gone), 0)
        # oldest first: what is kept is the newest ones, in a row
        self.assertEqual(sorted(kept), [int(i) for i in ids[len(gone):]])
        for bid in gone:
            self.forgotten_everywhere(bid, "oldest past --results-budget")
        for n in self.mesh.nodes:
            self.finished(n, ids[-1], 10 ** 12 + 50000, 1500)

    def test_running_batches_filling_the_budget_refuse_submits(self):
        self.mesh = Mesh(MESH, 3, extra=["--results-budget", "8KiB"])
        a, b, c = self.mesh.nodes
        self.mesh.formed(3)
        big = self.submit(a, "--semiprimes", "64", "--count", "200000", "--seed", "9")
        wait_for(lambda: self.retained(a)["full"], 30, what="the budget full of running work")
        r = c.cli("submit", "--start", "7", "--count", "3", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("results budget full", r.stderr)
        self.assertIn("SUBMITS REFUSED", b.cli("status").stdout)
        # making room: the running batch is cancelled, then goes by the budget
        c.cli("cancel", big)
        self.forgotten_everywhere(big, "oldest past --results-budget")
        bid = self.submit(c, "--start", "7", "--count", "3")
        self.finished(a, bid, 7, 3)

    def test_results_forget_after_every_line(self):
        self.mesh = Mesh(MESH, 3)
        a, b, c = self.mesh.nodes
        self.mesh.formed(3)
        bid = self.submit(a, "--start", "2000", "--count", "3000")
        out = b.cli("results", bid, "--wait", "--forget", timeout=120).stdout
        check_factored(self, parse_results(out), list(range(2000, 5000)))
        self.forgotten_everywhere(bid, "read in full with --forget")
        # a running batch read without --wait is not forgotten, and says so
        run = self.submit(a, "--semiprimes", "100", "--count", "50000", "--seed", "2")
        r = c.cli("results", run, "--forget", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("still running", r.stderr)
        self.assertIn(int(run), [x["id"] for x in c.status()["batches"]])

    def test_restarted_and_new_nodes_agree_after_forgetting(self):
        self.mesh = Mesh(MESH, 3)
        a, b, c = self.mesh.nodes
        self.mesh.formed(3)
        ids = [self.submit(a, "--start", str(100 + 1000 * k), "--count", "400")
               for k in range(4)]
        for k, bid in enumerate(ids):
            self.finished(c, bid, 100 + 1000 * k, 400)
        b.kill(signal.SIGKILL)
        self.mesh.leader()  # b may have led: the two others elect one first
        a.cli("forget", ids[0], ids[2])
        b = self.mesh.restart(1)
        self.forgotten_everywhere(ids[0], "forgotten on request")
        self.forgotten_everywhere(ids[2], "forgotten on request")
        for n in self.mesh.nodes:
            for k in (1, 3):
                self.finished(n, ids[k], 100 + 1000 * k, 400)
        # a fourth node joins after the forgetting (a standby: it gets the log)
        from meshnode import Node, free_port  # noqa: E402
        port = free_port()
        d = Node(MESH, name="n3", workers=1, port=port,
                 peers=["127.0.0.1:%d" % p for p in self.mesh.ports])
        self.mesh.nodes.append(d)
        d.wait_ready()
        wait_for(lambda: d.status()["cluster_id"] != "" and
                 d.status()["applied_index"] >= a.status()["commit_index"] - 5, 30,
                 what="the new node caught up")
        self.forgotten_everywhere(ids[2], "forgotten on request")
        self.finished(d, ids[3], 3100, 400)

    def test_forget_through_a_leader_change(self):
        self.mesh = Mesh(MESH, 3)
        self.mesh.formed(3)
        lead = self.mesh.leader()
        follower = self.mesh.followers()[0]
        bid = self.submit(follower, "--start", "50", "--count", "300")
        self.finished(follower, bid, 50, 300)
        with follower.cli_running("forget", bid) as p:
            lead.kill(signal.SIGKILL)
            out, err = p.communicate(timeout=60)
        self.mesh.leader()
        if p.returncode != 0:
            # the write may have died with the leader: said clearly, and
            # forgetting it again works
            self.assertTrue(err.strip(), "a failed forget says why")
            follower.cli("forget", bid)
        self.forgotten_everywhere(bid, "forgotten on request")


if __name__ == "__main__":
    MESH = sys.argv.pop(1)
    unittest.main()
