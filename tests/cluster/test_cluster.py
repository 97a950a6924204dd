"""Mesh tests: real nodes on loopback forming ONE mesh through real Raft
over real encrypted links, killed and stopped with real signals.

Usage: test_cluster.py MESH_BINARY [unittest args...]

Every node is stopped by its PID in tearDown and its data dir deleted.
The oracle for every result is arithmetic: the factors multiply back to
the number and each is prime (tests/lib/primes.py)."""
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh, check_factored, done_of, parse_results, submit  # noqa: E402
from meshnode import wait_for  # noqa: E402

MESH = None


class ClusterTest(unittest.TestCase):
    def setUp(self):
        self.mesh = None

    def tearDown(self):
        if self.mesh is not None:
            self.mesh.stop()

    def submit(self, node, *args):
        return submit(self, node, *args)

    # ---- agreement and shared work ---------------------------------------

    def test_one_leader_work_on_every_node(self):
        self.mesh = Mesh(MESH, 3)
        lead = self.mesh.formed(3)
        sts = self.mesh.statuses()
        roles = sorted(x["role"] for x in sts[0][1]["nodes"])
        self.assertEqual(roles, ["leader", "voter", "voter"])
        for _, s in sts:
            self.assertEqual(s["quorum"], {"voters": 3, "reachable": 3, "ok": True})
            self.assertGreater(s["term"], 0)
        # the founder's id, learned by every member from the gossip
        self.mesh.cluster_id(timeout=5)
        follower, third = [n for n in self.mesh.nodes if n is not lead][:2]
        # enough work that no node can take it all before the others get
        # leases (a quiet host once finished 6000 on the leader alone)
        start, count = 10 ** 15 + 1, 30000
        bid = self.submit(follower, "--start", str(start), "--count", str(count),
                          "--step", "2")
        # read-your-writes: the batch is visible on the submitting follower at once
        st = follower.status()
        self.assertIn(int(bid), [b["id"] for b in st["batches"]])
        out = third.cli("results", bid, "--wait", timeout=120).stdout
        check_factored(self, parse_results(out), list(range(start, start + 2 * count, 2)))
        # peers' counts travel in their once-a-second stats
        wait_for(lambda: len([d for d in done_of(lead.status()).values() if d > 0]) >= 2, 5,
                 what="work done on at least two nodes: %s" % lead.status()["nodes"])

    def test_batch_number_timeout_holds_on_every_node(self):
        # Every node keeps the default budget (60 s); the batch's own 300 ms
        # reaches them with the batch, so each node's one worker gives up on
        # each 400-bit semiprime in 300 ms and the leader takes the
        # unfactored answers: six numbers over three workers in seconds,
        # where the node default would hold each for a minute.
        self.mesh = Mesh(MESH, 3)
        lead = self.mesh.formed(3)
        follower, third = [n for n in self.mesh.nodes if n is not lead][:2]
        t0 = time.monotonic()
        bid = self.submit(follower, "--semiprimes", "400", "--count", "6",
                          "--number-timeout", "300ms")
        lines = third.cli("results", bid, "--wait", timeout=60).stdout.splitlines()
        took = time.monotonic() - t0
        self.assertEqual(len(lines), 6)
        for line in lines:
            number = line.split(":")[0]
            self.assertEqual(line, "%s: unfactored:%s" % (number, number))
        self.assertLess(took, 30, "300 ms per number took %.1f s" % took)
        for node in self.mesh.nodes:  # replicated: every node shows the batch's budget
            row = [b for b in node.status()["batches"] if b["id"] == int(bid)][0]
            self.assertEqual(row["number_timeout_ms"], 300)
        wait_for(lambda: len([d for d in done_of(lead.status()).values() if d > 0]) >= 2, 5,
                 what="work done on at least two nodes: %s" % lead.status()["nodes"])

    def test_first_batch_read_on_a_replica_before_it_arrives(self):
        # A user submits on one node and at once asks another for the
        # results: that replica may not have the batch yet. The first batch
        # of a cluster is numbered from the cluster's own base, far past an
        # empty queue's next id, and must still be waited for, not "no".
        self.mesh = Mesh(MESH, 3)
        self.mesh.formed(3)
        cid = self.mesh.cluster_id()
        first = ((cid % 0xFFFF) + 1) << 20 | 1   # the numbering rule in consensus.c
        writer, reader = self.mesh.nodes[0], self.mesh.nodes[1]
        with reader.cli_running("results", str(first), "--wait") as waiting:
            time.sleep(0.3)   # the reader has the request before the batch exists
            self.assertIsNone(waiting.poll(), "answered before the batch was submitted")
            start, count = 10 ** 12 + 1, 200
            bid = self.submit(writer, "--start", str(start), "--count", str(count))
            self.assertEqual(int(bid), first)
            out, err = waiting.communicate(timeout=60)
        self.assertEqual(waiting.returncode, 0, err)
        check_factored(self, parse_results(out), list(range(start, start + count)))
        # outside the window "no" comes at once; inside it, after the wait
        t0 = time.monotonic()
        far = reader.cli("results", str(first + 1000), check=False)
        self.assertEqual((far.returncode, far.stderr.strip()),
                         (1, "mesh results: no batch %d" % (first + 1000)))
        self.assertLess(time.monotonic() - t0, 1.5)
        near = reader.cli("results", str(first + 1), check=False)
        self.assertEqual((near.returncode, near.stderr.strip()),
                         (1, "mesh results: no batch %d" % (first + 1)))
        self.assertGreater(time.monotonic() - t0, 1.5)
        # with --wait the reader waits longer (10 s) for a lagging replica
        t0 = time.monotonic()
        near = reader.cli("results", str(first + 1), "--wait", check=False)
        self.assertEqual((near.returncode, near.stderr.strip()),
                         (1, "mesh results: no batch %d" % (first + 1)))
        self.assertGreater(time.monotonic() - t0, 9.5)

    def test_writes_from_any_node(self):
        self.mesh = Mesh(MESH, 3)
        self.mesh.formed(3)
        a, b, c = self.mesh.nodes
        bid = self.submit(a, "--semiprimes", "64", "--count", "20000", "--seed", "3")
        # b may not have applied the submit yet: its cancel goes through the
        # leader, which has
        b.cli("cancel", bid)
        for n in (a, b, c):
            wait_for(lambda n=n: [x["state"] for x in n.status()["batches"]
                                  if x["id"] == int(bid)] == ["cancelled"],
                     10, what="cancel replicated")
        target = c.status()["name"]
        self.assertIn(a.cli("drain", target).stdout.strip(), ("draining", "drained", "active"))
        wait_for(lambda: [x for x in b.status()["nodes"] if x["name"] == target][0]["state"]
                 in ("draining", "drained"), 10, what="drain seen everywhere")
        a.cli("undrain", target)
        r = a.cli("drain", "no-such-node", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no node named", r.stderr)

    def test_lost_write_reply_is_sent_again(self):
        # Every node loses the first REPLY it would send as leader (the
        # test fault MESH_FAULT_DROP_REPLIES): a follower's forwarded submit
        # commits on the leader, its answer never arrives. The follower
        # sends it to the same leader again after 3 s (a write is safe to
        # apply twice): one batch, the submit answered, where it used to
        # fail with "no answer from the leader in time" (a reply lost on a
        # link the other side had closed as a duplicate).
        env = dict(os.environ, MESH_FAULT_DROP_REPLIES="1")
        self.mesh = Mesh(MESH, 3, envs={i: env for i in range(3)})
        lead = self.mesh.formed(3)
        follower = [n for n in self.mesh.nodes if n is not lead][0]
        before = len(lead.status()["batches"])
        t0 = time.monotonic()
        bid = self.submit(follower, "--start", "1000001", "--count", "50")
        took = time.monotonic() - t0
        self.assertGreater(took, 2.5, "answered before any resend: was a reply dropped?")
        self.assertIn("reply to write", lead.log())
        self.assertIn("sent again", follower.log())
        for n in self.mesh.nodes:
            wait_for(lambda n=n: len(n.status()["batches"]) == before + 1, 10,
                     what="one batch on every node, not two")
        out = follower.cli("results", bid, "--wait", timeout=60).stdout
        check_factored(self, parse_results(out), list(range(1000001, 1000051)))
    def test_commit_reaches_followers_before_a_heartbeat(self):
        # A write on a follower is answered once that follower applied it,
        # and a reader elsewhere sees it once its replica did: both learn
        # the commit index from the leader. With a 1 s heartbeat, a leader
        # that waited for its heartbeat would make each write take 0.5 s
        # on average; it tells followers at once (consensus.c,
        # push_commit), in an empty AppendEntries, not in an extra log
        # entry each follower must first write to disk (the barrier it
        # used before: two entries a write).
        self.mesh = Mesh(MESH, 3, extra=("--heartbeat", "1000", "--election-timeout", "10000"))
        lead = self.mesh.formed(3)
        writer, reader = [n for n in self.mesh.nodes if n is not lead][:2]
        name = writer.status()["name"]
        before = lead.status()["commit_index"]
        took = []
        for _ in range(10):
            t0 = time.monotonic()
            writer.cli("undrain", name)   # one entry, answered once applied here
            took.append(time.monotonic() - t0)
        target = lead.status()["commit_index"]
        t0 = time.monotonic()
        wait_for(lambda: reader.status()["applied_index"] >= target, 5,
                 what="the reader's replica at the leader's commit index %d" % target)
        seen = time.monotonic() - t0
        fast = [t for t in took if t < 0.2]
        # waiting for heartbeats, 8 of 10 under 0.2 s has a chance of 7e-5
        self.assertGreaterEqual(len(fast), 8, "writes took %s s" % took)
        self.assertLess(seen, 0.4, "the reader saw the commit after %.3f s" % seen)
        # one entry per write (the mesh is idle: at most two of its own)
        self.assertLessEqual(target - before, 12, "%d entries for 10 writes" % (target - before))
        self.assertGreaterEqual(target - before, 10)

    def test_big_list_goes_in_parts(self):
        # ~2.6 MB of numbers: three log entries of under 1 MiB, one batch, visible whole
        self.mesh = Mesh(MESH, 3, workers=1)
        self.mesh.formed(3)
        follower = self.mesh.followers()[0]
        numbers = [10 ** 12 + 7 * i for i in range(200000)]
        path = os.path.join(follower.dir, "numbers.txt")
        with open(path, "w") as f:
            f.write("\n".join(map(str, numbers)) + "\n")
        bid = self.submit(follower, "--file", path)
        st = follower.status()
        b = [x for x in st["batches"] if x["id"] == int(bid)][0]
        self.assertEqual(b["total"], len(numbers))
        self.assertEqual(len(st["batches"]), 1)   # the parts are not batches
        other = [n for n in self.mesh.nodes if n is not follower][0]
        rows = parse_results(other.cli("results", bid, "--wait", timeout=300).stdout)
        check_factored(self, rows, numbers)

    def test_big_list_survives_a_leader_kill_mid_upload(self):
        # The leader is stopped while a follower uploads a list in parts,
        # then killed: parts and SUBMIT it may or may not have committed go
        # again to the next leader, and the queue recognises what is in
        # already. One batch, every number in it, submit exit 0.
        self.mesh = Mesh(MESH, 3, workers=1)
        lead = self.mesh.formed(3)
        lead_id = lead.status()["id"]
        follower = self.mesh.followers()[0]
        count = 800000
        path = os.path.join(follower.dir, "numbers.txt")
        with open(path, "w") as f:
            f.write("\n".join(str(10 ** 12 + 7 * i) for i in range(count)) + "\n")
        with follower.cli_running("submit", "--file", path) as cli:
            time.sleep(0.3)
            upload_running = cli.poll() is None
            os.kill(lead.pid, signal.SIGSTOP)
            wait_for(lambda: follower.status()["leader"] not in ("", lead_id), 20,
                     interval=0.1, what="a new leader")
            lead.kill(signal.SIGKILL)
            out, err = cli.communicate(timeout=120)
        self.assertEqual(cli.returncode, 0, err)
        bid = int(re.search(r"(\d+)\s*$", out.strip()).group(1))
        st = follower.status()
        self.assertEqual([b["id"] for b in st["batches"]], [bid])
        self.assertEqual(st["batches"][0]["total"], count)
        other = next(n for n in self.mesh.alive() if n is not follower)
        rows = parse_results(other.cli("results", str(bid), "--wait", timeout=600).stdout)
        self.assertEqual([n for n, _ in rows], [10 ** 12 + 7 * i for i in range(count)])
        check_factored(self, rows[::997], [10 ** 12 + 7 * i for i in range(0, count, 997)])
        if not upload_running:
            sys.stderr.write("note: the upload had ended before the leader was stopped\n")

    # ---- failures ---------------------------------------------------------

    def test_leader_sigkill_five_times_loses_nothing(self):
        self.mesh = Mesh(MESH, 3, extra=["--number-timeout", "30"])
        lead = self.mesh.leader()
        start, count = 2 ** 62 + 1, 40000
        bid = self.submit(self.mesh.followers()[0], "--start", str(start),
                          "--count", str(count), "--step", "2")
        for round_ in range(5):
            lead = self.mesh.leader()
            before = lead.status()["batches"][0]["done"]
            if before >= count:
                break
            idx = self.mesh.nodes.index(lead)
            lead.kill(signal.SIGKILL)
            self.mesh.leader()  # the two others elect a new one
            self.mesh.restart(idx)
        survivor = self.mesh.alive()[0]
        out = survivor.cli("results", bid, "--wait", timeout=300).stdout
        check_factored(self, parse_results(out), list(range(start, start + 2 * count, 2)))
        for n in self.mesh.alive():
            b = [x for x in n.status()["batches"] if x["id"] == int(bid)][0]
            wait_for(lambda n=n: [x for x in n.status()["batches"]
                                  if x["id"] == int(bid)][0]["done"] == count, 20,
                     what="every replica complete")
            self.assertEqual(b["total"], count)

    def test_no_quorum_refuses_writes_at_once(self):
        self.mesh = Mesh(MESH, 3)
        self.mesh.formed(3)
        a, b, c = self.mesh.nodes
        b.kill(signal.SIGKILL)
        c.kill(signal.SIGKILL)
        wait_for(lambda: a.status()["quorum"]["reachable"] == 1, 15, what="peers gone")
        wait_for(lambda: a.status()["leader"] == "", 15, what="leadership lost")
        t0 = time.monotonic()
        r = a.cli("submit", "--count", "10", check=False)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no quorum: 1 of 3 voters reachable", r.stderr)
        # reads still answer from the replica
        self.assertEqual(a.cli("status").returncode, 0)

    def test_restart_every_node_keeps_results_and_finishes(self):
        self.mesh = Mesh(MESH, 3)
        lead = self.mesh.leader()
        first = self.submit(lead, "--count", "999")
        lead.cli("results", first, "--wait")
        big = self.submit(lead, "--semiprimes", "64", "--count", "40000", "--seed", "9")
        wait_for(lambda: lead.status()["batches"][1]["done"] > 1000, 60, what="progress")
        for n in self.mesh.nodes:
            n.proc.send_signal(signal.SIGTERM)
        for n in self.mesh.nodes:
            n.proc.wait(timeout=20)
        for i in range(3):
            self.mesh.restart(i)
        lead = self.mesh.leader(timeout=30)
        out = lead.cli("results", first).stdout
        check_factored(self, parse_results(out), list(range(999999999999, 999999999999 + 999)))
        rows = parse_results(lead.cli("results", big, "--wait", timeout=300).stdout)
        self.assertEqual(len(rows), 40000)
        check_factored(self, rows, [n for n, _ in rows])

    def test_drain_leader_moves_leadership(self):
        self.mesh = Mesh(MESH, 3)
        lead = self.mesh.leader()
        bid = self.submit(lead, "--semiprimes", "64", "--count", "20000", "--seed", "7")
        wait_for(lambda: lead.status()["batches"][0]["done"] > 100, 60, what="progress")
        lead.cli("drain")
        new = self.mesh.leader()
        wait_for(lambda: self.mesh.leader() is not lead, 15, what="leadership moved")
        new = self.mesh.leader()
        rows = parse_results(new.cli("results", bid, "--wait", timeout=300).stdout)
        self.assertEqual(len(rows), 20000)
        check_factored(self, rows, [n for n, _ in rows])
        self.assertEqual([x for x in new.status()["nodes"] if x["name"] == lead.name][0]
                         ["state"], "drained")


if __name__ == "__main__":
    MESH = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
