"""ECM across the mesh (doc/DESIGN.md, "ECM across the mesh"): `mesh
submit --spread N` for a 150-digit N (past SIQS's 340 bits: ECM only) on a
real 3-node mesh on loopback, one worker each. N's curve jobs are leased
to every node's worker like any batch's numbers; the first factor found
(checked by the leader to divide N before it is committed) ends the batch
on every node: N's factors are committed, every curve job not yet done is
ended, and the workers still running one are released.

N = P * Q, P = 437978765085889961639949130369 (30 digits), Q =
nextprime(7 * 10^119). P was searched for offline so that an early curve
finds it (tests/factor/test_ecm_range.c says how): curve 2 of level 2
(B1 = 5e4), after levels 0 and 1 (3 jobs, ~9 s of one core at 497 bits)
found nothing. So the test needs ~10-20 s of CPU, however the nodes share
it; a mesh that ran every planned curve (240 jobs, levels to 30 digits)
would take an hour.

Usage: test_spread_ecm.py MESH_BINARY [unittest args...]

Every node is stopped by its PID in tearDown (a killed one is SIGKILLed by
its PID); data dirs are deleted."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh, done_of, submit  # noqa: E402
from meshnode import wait_for  # noqa: E402
from primes import is_prime, nextprime  # noqa: E402

MESH = None
P = 437978765085889961639949130369
Q = nextprime(7 * 10 ** 119)
N = P * Q
# Curve jobs of levels 0..3 (1 + 2 + 22 + 215), then N.
TOTAL = 241


class SpreadEcmTest(unittest.TestCase):
    def setUp(self):
        self.mesh = None

    def tearDown(self):
        if self.mesh is not None:
            self.mesh.stop()

    def batch(self, node, bid):
        st = node.status()
        return next((b for b in st["batches"] if b["id"] == bid), None)

    def factors_of(self, node, bid):
        out = node.cli("results", str(bid)).stdout
        rows = out.splitlines()
        self.assertEqual(len(rows), 1, out[:2000])
        self.assertTrue(rows[0].startswith("%d:" % N), out[:2000])
        return [int(f) for f in rows[0].split(":", 1)[1].split()]

    def busy(self, node):
        return {x["name"]: x["busy"] for x in node.status()["nodes"]}

    def spread(self, kill=None):
        self.assertEqual(len(str(N)), 150)
        self.assertTrue(is_prime(P) and is_prime(Q))
        self.mesh = Mesh(MESH, 3, workers=1)
        lead = self.mesh.working(self.mesh.formed(3))
        before = done_of(lead.status())
        t0 = time.monotonic()
        bid = int(submit(self, lead, "--spread", str(N), "--name", "ecm"))
        self.assertEqual(self.batch(lead, bid)["total"], TOTAL)
        victim = None
        if kill is not None:
            # The first curve job (level 0) committed: the node is killed
            # holding one of level 1 or 2, which goes to the others.
            wait_for(lambda: self.batch(lead, bid)["done"] >= 1, 120, interval=0.1,
                     what="a curve job committed")
            victim = lead if kill == "leader" else \
                next(x for x in self.mesh.nodes if x is not lead)
            victim.kill()
            if victim is lead:  # its successor's watch reads the committed results
                lead = self.mesh.leader(30)
                self.assertIsNot(lead, victim)
        seen = []  # (node, hard entry) of this batch, seen by the leader

        def done():
            st = lead.status()
            seen.extend((x["name"], h) for x in st["nodes"] for h in x.get("hard") or []
                        if h["batch"] == bid)
            b = next((b for b in st["batches"] if b["id"] == bid), None)
            return b is not None and b["state"] == "done"
        wait_for(done, 240, interval=0.2, what="the spread batch done")
        elapsed = time.monotonic() - t0
        self.assertEqual(self.factors_of(lead, bid), [P, Q])
        self.assertIn("spread batch %d: ECM found a factor" % bid, lead.log())
        after = done_of(lead.status())
        worked = {name: after.get(name, 0) - before.get(name, 0) for name in before}
        print("ECM spread: %.1f s; jobs committed per node %s" % (elapsed, worked),
              file=sys.stderr)
        survivors = [x for x in self.mesh.nodes if x is not victim]
        # Progress through the existing paths: a curve job shows in status
        # --json as phase ecm, its B1, the curve of the level's planned.
        ecm = [(name, h) for name, h in seen if h["phase"] == "ecm"]
        self.assertTrue(ecm, seen[:5])
        # Job 0 is level 0 (B1 2e3, 25 curves), 1-2 level 1, then level 2.
        level = lambda i: (2000, 25) if i == 0 else (11000, 74) if i < 3 else (50000, 214)
        for _, h in ecm:
            self.assertEqual((h["b1"], h["needed"], h["bits"]), level(h["index"]) + (497,), h)
            self.assertLess(h["found"], h["needed"], h)
        # Levels 0, 1 and the finding job: at least 4 jobs were worked; the
        # rest (~237) were ended by the factor, not run.
        self.assertGreaterEqual(sum(worked.values()), 4, worked)
        self.assertLess(sum(worked.values()), 40, worked)
        self.assertGreaterEqual(sum(1 for x in survivors if worked[x.name] > 0), 2, worked)
        for x in survivors:
            self.assertEqual(self.factors_of(x, bid), [P, Q])
            self.assertEqual(self.batch(x, bid)["done"], TOTAL)
        # The curve jobs still running when the factor came were aborted:
        # every survivor's worker is idle at once (a level-2 job left alone
        # runs ~5 s of one core, far longer on a loaded host).
        wait_for(lambda: all(b == 0 for name, b in self.busy(lead).items()
                             if victim is None or name != victim.name), 4, interval=0.1,
                 what="every worker released")

    def test_ecm_spread_finds_a_30_digit_factor(self):
        self.spread()

    def test_ecm_spread_survives_a_killed_node(self):
        self.spread(kill="follower")

    def test_ecm_spread_survives_its_leader_killed(self):
        self.spread(kill="leader")

    def test_ecm_then_siqs_spread_finds_a_15_digit_factor(self):
        # Inside SIQS's range a spread plans the ladder's ECM pass first
        # (228 bits: level 0 and 19 curves of level 1, two curve jobs),
        # then SIQS ranges. p is the first prime past 314159265358979 that
        # one of level 0's first 6 named curves finds on N (tried offline
        # with libecm): curve 4. The factor ends the ranges unneeded.
        p = 314159265359279
        q = nextprime(1 << 179)
        n = p * q
        self.assertEqual(n.bit_length(), 228)
        self.mesh = Mesh(MESH, 1, workers=2)
        lead = self.mesh.formed(1)
        bid = int(submit(self, lead, "--spread", str(n)))
        total = self.batch(lead, bid)["total"]
        self.assertGreater(total, 100)  # 2 curve jobs, the ranges, N
        wait_for(lambda: self.batch(lead, bid)["state"] == "done", 120, interval=0.2,
                 what="the spread batch done")
        out = lead.cli("results", str(bid)).stdout.split()
        self.assertEqual(out, ["%d:" % n, str(p), str(q)])
        self.assertIn("spread batch %d: ECM found a factor after" % bid, lead.log())
        self.assertEqual(self.batch(lead, bid)["done"], total)

    def test_ecm_factor_with_a_small_composite_cofactor_goes_to_one_worker(self):
        # The same p (a curve's group mod p does not depend on N, so curve
        # 4 of level 0 finds it here too) times an 81-bit and an 86-bit
        # prime: ECM's factor leaves a composite cofactor of 166 bits, below
        # the 180 where spreading pays (cofactor_rule.h): every job is ended
        # and N, the last index, goes to one worker, whose ladder splits it.
        p = 314159265359279
        q, r = nextprime(1 << 80), nextprime(1 << 85)
        n = p * q * r
        self.assertEqual((q * r).bit_length(), 166)
        self.mesh = Mesh(MESH, 1, workers=2)
        lead = self.mesh.formed(1)
        bid = int(submit(self, lead, "--spread", str(n)))
        wait_for(lambda: self.batch(lead, bid)["state"] == "done", 120, interval=0.2,
                 what="the spread batch done")
        out = lead.cli("results", str(bid)).stdout.split()
        self.assertEqual(out, ["%d:" % n, str(p), str(q), str(r)])
        log = lead.log()
        self.assertIn("spread batch %d: ECM found a factor after" % bid, log)
        self.assertIn("spread batch %d: a split into composites; N goes to one worker" % bid, log)
        names = [b["name"] for b in lead.status()["batches"]]
        self.assertNotIn("cofactor:%d" % bid, names)

    def test_ecm_factor_with_a_composite_cofactor_spread_again(self):
        # The same p times the primes after 2^99 and 2^100: ECM's factor
        # leaves a 200-bit semiprime cofactor, which becomes a spread batch
        # of its own ("cofactor:B") sieved by every node; N's line is then
        # p and the cofactor's factors, on every node.
        p = 314159265359279
        q, r = nextprime(1 << 99), nextprime(1 << 100)
        n = p * q * r
        self.assertEqual((q * r).bit_length(), 200)
        self.mesh = Mesh(MESH, 3, workers=1)
        lead = self.mesh.working(self.mesh.formed(3))
        t0 = time.monotonic()
        bid = int(submit(self, lead, "--spread", str(n), "--name", "cofactor"))
        name = "cofactor:%d" % bid
        watcher = next(x for x in self.mesh.nodes if x is not lead)
        kid, nodes, found = {}, set(), []

        def done():
            st = watcher.status()
            for b in st["batches"]:
                if b["name"] == name and "id" not in kid:
                    kid["id"] = b["id"]
                    kid["done_before"] = done_of(st)  # each node's count when it began
            for row in st.get("spread", []):
                if row["batch"] == kid.get("id"):
                    nodes.update(row["nodes"])
                    found.append(row["found"])
            b = next((b for b in st["batches"] if b["id"] == bid), None)
            return b is not None and b["state"] == "done"
        wait_for(done, 240, interval=0.2, what="the spread batch done")
        elapsed = time.monotonic() - t0
        print("cofactor spread: %.1f s; nodes seen sieving the cofactor %s; found %s" %
              (elapsed, sorted(nodes), found[-5:]), file=sys.stderr)
        self.assertIn("id", kid, "no %s batch seen" % name)
        cid = kid["id"]
        for x in self.mesh.nodes:
            out = x.cli("results", str(bid)).stdout.split()
            self.assertEqual(out, ["%d:" % n, str(p), str(q), str(r)], x.name)
            self.assertEqual(x.cli("results", str(cid)).stdout.split(),
                             ["%d:" % (q * r), str(q), str(r)], x.name)
            self.assertEqual(self.batch(x, cid)["state"], "done")
        log = lead.log()
        self.assertIn("spread batch %d: ECM found a factor after" % bid, log)
        self.assertIn("spread batch %d: its composite cofactor (200 bits) goes to the whole mesh"
                      % bid, log)
        self.assertIn("spread batch %d: N's factors with its cofactor's from batch %d"
                      % (bid, cid), log)
        self.assertNotIn("N goes to one worker", log)
        # The cofactor's ranges went to the mesh, not one worker: at least
        # two nodes sieved them. Since the coordinator merges on each commit
        # the 200-bit cofactor splits in ~2 s: a node's progress record (a
        # few a second, gossiped) may never be sampled by the 0.2 s polls, so
        # the nodes whose work count grew while the cofactor ran count too;
        # one node may spend it all on the cofactor batch's ECM curve job
        # (ended uncommitted by the split), as test_spread.py's tests allow.
        after = done_of(watcher.status())
        worked = {x for x, d in after.items() if d > kid["done_before"].get(x, d)}
        self.assertGreaterEqual(max(len(nodes), len(worked)), 2, (nodes, worked))
        self.assertTrue(found and max(found) > 0, found)

    def test_ecm_cofactor_spread_survives_its_leader_killed(self):
        # As above, with the leader SIGKILLed once the cofactor's batch has
        # a few ranges committed: the new leader finds p again in the
        # committed curve results, sees "cofactor:B" in the log (no second
        # one), holds N, and hands N's line when the cofactor splits.
        p = 314159265359279
        q, r = nextprime(1 << 99), nextprime(1 << 100)
        n = p * q * r
        self.mesh = Mesh(MESH, 3, workers=1)
        lead = self.mesh.working(self.mesh.formed(3))
        bid = int(submit(self, lead, "--spread", str(n)))
        name = "cofactor:%d" % bid

        def kid(node):
            return next((b for b in node.status()["batches"] if b["name"] == name), None)
        wait_for(lambda: (kid(lead) or {}).get("done", 0) >= 3, 120, interval=0.1,
                 what="three of the cofactor's ranges committed")
        cid = kid(lead)["id"]
        lead.kill()
        survivors = [x for x in self.mesh.nodes if x is not lead]
        new = self.mesh.leader(30)
        self.assertIsNot(new, lead)
        wait_for(lambda: self.batch(new, bid)["state"] == "done", 240, interval=0.2,
                 what="the spread batch done")
        for x in survivors:
            self.assertEqual(x.cli("results", str(bid)).stdout.split(),
                             ["%d:" % n, str(p), str(q), str(r)], x.name)
            self.assertEqual([b["id"] for b in x.status()["batches"] if b["name"] == name],
                             [cid], x.name)
        log = new.log()
        self.assertIn("spread batch %d: N's factors with its cofactor's from batch %d"
                      % (bid, cid), log)
        self.assertNotIn("N goes to one worker", log)

if __name__ == "__main__":
    MESH = sys.argv.pop(1)
    unittest.main()
