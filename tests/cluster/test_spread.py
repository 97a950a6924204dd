"""One hard number, the whole mesh (doc/DESIGN.md, "One hard number, the
whole mesh"): `mesh submit --spread N` on a real 3-node mesh on loopback
(one worker each). N's SIQS polynomial ranges are leased to every node's
worker like any batch's numbers, their relations come back as results, the
leader combines them and commits N's factors as the batch's last result.

Usage: test_spread.py MESH_BINARY [unittest args...]

Every node is stopped by its PID in tearDown (a killed one is SIGKILLed by
its PID); data dirs are deleted."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh, done_of, submit  # noqa: E402
from meshnode import wait_for  # noqa: E402
from primes import is_prime, nextprime, semiprime  # noqa: E402

MESH = None


class SpreadTest(unittest.TestCase):
    def setUp(self):
        self.mesh = None

    def tearDown(self):
        if self.mesh is not None:
            self.mesh.stop()

    def batch(self, node, bid):
        st = node.status()
        return next((b for b in st["batches"] if b["id"] == bid), None)

    def factors_of(self, node, bid, n):
        """The result of the batch's last index, N's: its factors. A reader
        sees N's line only, never the range jobs' relations."""
        out = node.cli("results", str(bid)).stdout
        rows = out.splitlines()
        self.assertEqual(len(rows), 1, out[:2000])
        self.assertTrue(rows[0].startswith("%d:" % n), out[:2000])
        return [int(f) for f in rows[0].split(":", 1)[1].split()]

    def check_factors(self, n, factors):
        self.assertEqual(len(factors), 2, factors)
        self.assertEqual(factors[0] * factors[1], n)
        self.assertTrue(all(is_prime(f) for f in factors), factors)
        self.assertEqual(factors, sorted(factors))

    def spread(self, bits, seed, kill=None):
        """kill: None, "follower" or "leader", SIGKILLed by its PID once a
        few ranges are committed. A follower's leases go to the others; a
        killed leader's successor rebuilds the merge from the committed
        relations (none of them is lost) and leases the rest."""
        n = semiprime(bits, seed)
        self.mesh = Mesh(MESH, 3, workers=1)
        lead = self.mesh.working(self.mesh.formed(3))
        before = done_of(lead.status())
        t0 = time.monotonic()
        bid = int(submit(self, lead, "--spread", str(n), "--name", "hard"))
        total = self.batch(lead, bid)["total"]
        self.assertGreater(total, 10)
        victim = None
        if kill is not None:
            wait_for(lambda: self.batch(lead, bid)["done"] >= 3, 60, interval=0.1,
                     what="three ranges committed")
            victim = lead if kill == "leader" else \
                next(x for x in self.mesh.nodes if x is not lead)
            victim.kill()
            if victim is lead:
                lead = self.mesh.leader(30)
                self.assertIsNot(lead, victim)
        wait_for(lambda: self.batch(lead, bid)["state"] == "done", 180, interval=0.2,
                 what="the spread batch done")
        elapsed = time.monotonic() - t0
        factors = self.factors_of(lead, bid, n)
        self.check_factors(n, factors)
        after = done_of(lead.status())
        worked = {name: after.get(name, 0) - before.get(name, 0) for name in before}
        print("%d bits: %.1f s; ranges committed per node %s" % (bits, elapsed, worked),
              file=sys.stderr)
        survivors = [x for x in self.mesh.nodes if x is not victim]
        # Every node sieves when none is killed. After a kill, how the
        # survivors share the rest depends on when each sees the new
        # leasing (a node just re-registered may get none of a 2 s batch):
        # what must hold is that they did the rest.
        if victim is None:
            # One node may spend the whole sieve (4 s on a quiet host) on
            # the batch's ECM curve job (a 196-bit number has one, leased
            # beside the ranges), which the split ends uncommitted.
            sieving = [x.name for x in survivors if worked[x.name] > 0]
            self.assertGreaterEqual(len(sieving), len(survivors) - 1,
                                    "nodes sieved: %s" % worked)
        else:
            self.assertGreater(sum(worked[x.name] for x in survivors), 0,
                               "the survivors sieved nothing: %s" % worked)
        for x in survivors:
            # A follower applies the last commit after the leader (1 run
            # of 4 here, load average 15, read it a moment before).
            wait_for(lambda: self.batch(x, bid)["state"] == "done", 30, interval=0.1,
                     what="the spread batch done on %s" % x.name)
            self.assertEqual(self.factors_of(x, bid, n), factors)
        if kill == "leader":
            self.assertIn("spread batch %d: split" % bid, lead.log())

    def test_hard_number_sieved_by_every_node(self):
        self.spread(196, 20)

    def test_hard_number_survives_a_killed_node(self):
        self.spread(196, 21, kill="follower")

    def test_hard_number_survives_its_leader_killed(self):
        self.spread(196, 22, kill="leader")

    def test_unsievable_number_goes_to_one_worker(self):
        # An odd cube of 118 bits passes the batch's checks, but no combine
        # can split a power: the coordinator gives the ranges up at once
        # (an empty result each) and N, the last index, is leased and
        # factored like any number.
        p = nextprime(1 << 39)
        n = p ** 3
        self.assertEqual(n.bit_length(), 118)
        self.mesh = Mesh(MESH, 1, workers=1)
        lead = self.mesh.formed(1)
        bid = int(submit(self, lead, "--spread", str(n)))
        wait_for(lambda: self.batch(lead, bid)["state"] == "done", 60, interval=0.2,
                 what="the spread batch done")
        self.assertEqual(self.factors_of(lead, bid, n), [p, p, p])
        self.assertIn("spread batch %d: its number cannot be sieved here" % bid, lead.log())


if __name__ == "__main__":
    MESH = sys.argv.pop(1)
    unittest.main()
