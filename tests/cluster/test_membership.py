"""Membership that runs itself: real nodes on loopback, killed with real
signals. The leader keeps --voters voters, replaces one unreachable past
its grace, removes a node gone too long; nodes learn each other from any
one of them; `mesh leave` and `mesh recover --force` work end to end.

Usage: test_membership.py MESH_BINARY [unittest args...]

Every node is stopped by its PID in tearDown and its data dir deleted.
Short grace periods (--voter-grace, --remove-after) keep the tests short;
the defaults (10 s, 10 min) are the same code with other numbers."""
import json
import os
import re
import shutil
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh, check_factored, parse_results  # noqa: E402
from meshnode import Node, free_port, wait_for  # noqa: E402

MESH = None
GRACE_S = 3


def roles(status):
    return {x["name"]: x["role"] for x in status["nodes"]}


def voters_of(status):
    return sorted(n for n, r in roles(status).items() if r in ("leader", "voter"))


class MembershipTest(unittest.TestCase):
    def setUp(self):
        self.mesh = None
        self.extra_nodes = []

    def tearDown(self):
        if self.mesh is not None:
            self.mesh.stop()
        for n in self.extra_nodes:
            n.stop()

    def submit(self, node, *args):
        r = node.cli("submit", *args)
        m = re.search(r"(\d+)\s*$", r.stdout.strip())
        self.assertIsNotNone(m, r.stdout)
        return m.group(1)

    def three_healthy_voters(self, timeout):
        """Every live node sees 3 voters, all of them alive and reachable."""
        alive = {n.name for n in self.mesh.alive()}

        def ok():
            for _, s in self.mesh.statuses():
                v = voters_of(s)
                if len(v) != 3 or not set(v) <= alive or s["quorum"] != {
                        "voters": 3, "reachable": 3, "ok": True}:
                    return False
            return True
        try:
            wait_for(ok, timeout, interval=0.2, what="3 healthy voters everywhere")
        except AssertionError:
            self.mesh.dump()
            raise

    # ---- autopilot ---------------------------------------------------------

    def test_dead_voters_replaced_in_turn(self):
        self.mesh = Mesh(MESH, 5, extra=["--voter-grace", str(GRACE_S)])
        self.mesh.formed(3)
        self.three_healthy_voters(20)
        # a follower voter, then the leader, each replaced within grace + 5 s
        for victim_is_leader in (False, True):
            lead = self.mesh.leader()
            st = lead.status()
            names = voters_of(st)
            victim = lead if victim_is_leader else next(
                n for n in self.mesh.alive() if n.name in names and n is not lead)
            t0 = time.monotonic()
            victim.kill(signal.SIGKILL)
            self.three_healthy_voters(GRACE_S + 5 + (3 if victim_is_leader else 0))
            # 5 nodes: 3 voters, and 2 standbys counting the demoted dead ones
            m = self.mesh.leader().status()["members"]
            self.assertEqual((m["voters"], m["standbys"], m["removed"]), (3, 2, 0))
            sys.stderr.write("voter %s replaced after %.1f s\n" %
                             (victim.name, time.monotonic() - t0))
        # two nodes left: a third voter is gone with nobody to take its place,
        # yet 2 of 3 is a quorum and the mesh still works
        lead = self.mesh.leader()
        victim = next(n for n in self.mesh.alive()
                      if n is not lead and n.name in voters_of(lead.status()))
        victim.kill(signal.SIGKILL)
        time.sleep(GRACE_S + 1)
        lead = self.mesh.leader()
        bid = self.submit(lead, "--start", "1000", "--count", "300")
        rows = parse_results(lead.cli("results", bid, "--wait", timeout=120).stdout)
        check_factored(self, rows, list(range(1000, 1300)))
        st = lead.status()
        self.assertEqual(st["quorum"]["voters"], 3)
        self.assertEqual(st["quorum"]["reachable"], 2)

    def test_node_gone_too_long_is_removed_and_needs_rejoin(self):
        self.mesh = Mesh(MESH, 4, extra=["--voter-grace", "2", "--remove-after", "4"])
        self.mesh.formed(3)
        lead = self.mesh.leader()
        victim = next(n for n in self.mesh.alive() if n is not lead)
        bid = self.submit(lead, "--start", "5000", "--count", "200")
        lead.cli("results", bid, "--wait", timeout=120)
        victim.kill(signal.SIGKILL)
        wait_for(lambda: roles(self.mesh.leader().status()).get(victim.name) == "removed",
                 20, interval=0.2, what="the victim shown as removed")
        idx = self.mesh.nodes.index(victim)
        back = self.mesh.restart(idx)
        # it says so, takes no work, and never forks a cluster of its own
        wait_for(lambda: back.status()["nodes"][0]["state"] == "removed", 20, interval=0.2,
                 what="the restarted node knows it was removed")
        self.assertIn("--rejoin", back.log())
        self.assertNotEqual(back.status()["leader"], back.status()["id"])
        back.own_dir = False   # keep the data dir for the next start
        back.stop()
        again = self.mesh.restart(idx, extra=["--rejoin"])
        wait_for(lambda: roles(self.mesh.leader().status()).get(victim.name)
                 in ("voter", "standby"), 30, interval=0.2, what="the node joined afresh")
        # the old batch is there, from the mesh's log
        rows = parse_results(again.cli("results", bid, "--wait", timeout=60).stdout)
        check_factored(self, rows, list(range(5000, 5200)))

    # ---- peer exchange and --expect ----------------------------------------------

    def test_peer_chain_links_everyone(self):
        ports = [free_port() for _ in range(4)]
        for i in range(4):
            peers = ["127.0.0.1:%d" % ports[i - 1]] if i > 0 else []
            self.extra_nodes.append(Node(MESH, name="c%d" % i, workers=1, port=ports[i],
                                         peers=peers))
        for n in self.extra_nodes:
            n.wait_ready()

        def linked_all():
            for n in self.extra_nodes:
                up = [x for x in n.status()["nodes"] if x["connected"]]
                if len(up) != 4:
                    return False
            return True
        wait_for(linked_all, 30, interval=0.2, what="every node linked to every node")

        def one_cluster():
            sts = [n.status() for n in self.extra_nodes]
            return (len({s["cluster_id"] for s in sts}) == 1 and sts[0]["cluster_id"] != "" and
                    len({s["leader"] for s in sts}) == 1 and sts[0]["leader"] != "")
        # (two nodes may found clusters before they link: those merge)
        wait_for(one_cluster, 30, interval=0.2, what="one cluster with one leader")

    def test_expect_waits_for_enough_nodes(self):
        ports = [free_port() for _ in range(3)]

        def start(i):
            peers = ["127.0.0.1:%d" % p for j, p in enumerate(ports) if j != i]
            n = Node(MESH, name="e%d" % i, workers=1, port=ports[i], peers=peers,
                     extra=["--expect", "3"])
            self.extra_nodes.append(n)
            return n.wait_ready()
        first = start(0)
        second = start(1)
        time.sleep(5)   # well past the organising window (2 s)
        for n in (first, second):
            self.assertEqual(n.status()["cluster_id"], "", "founded a cluster with 2 of 3")
        start(2)
        wait_for(lambda: all(n.status()["quorum"]["voters"] == 3
                             for n in self.extra_nodes), 30, interval=0.2,
                 what="one mesh of 3 voters")
        # a joiner learns the cluster id from its peers' gossip (4 per second)
        wait_for(lambda: len({n.status()["cluster_id"] for n in self.extra_nodes}) == 1, 5,
                 interval=0.2, what="one cluster id")

    # ---- clusters that meet merge ----------------------------------------------------

    def test_two_clusters_merge_through_a_third_node(self):
        ports = [free_port() for _ in range(3)]
        a = Node(MESH, name="ma", workers=1, port=ports[0])
        b = Node(MESH, name="mb", workers=1, port=ports[1])
        self.extra_nodes += [a, b]
        ids = []
        for n, start in ((a, 100000), (b, 200000)):
            n.wait_ready()
            wait_for(lambda: n.status()["leader"] == n.status()["id"], 20, interval=0.2,
                     what="a one-node cluster")
            ids.append(self.submit(n, "--start", str(start), "--count", "3000"))
            wait_for(lambda: n.status()["batches"][0]["done"] > 0, 30, what="progress")
        self.assertNotEqual(ids[0], ids[1], "batch ids are unique mesh-wide")
        self.assertNotEqual(a.status()["cluster_id"], b.status()["cluster_id"])
        c = Node(MESH, name="mc", workers=1, port=ports[2],
                 peers=["127.0.0.1:%d" % p for p in ports[:2]])
        self.extra_nodes.append(c)
        c.wait_ready()
        nodes = (a, b, c)

        def one_mesh():
            sts = [n.status() for n in nodes]
            return (len({s["cluster_id"] for s in sts}) == 1 and sts[0]["cluster_id"] != "" and
                    len({s["leader"] for s in sts}) == 1 and sts[0]["leader"] != "" and
                    all(len(s["batches"]) == 2 for s in sts))
        try:
            wait_for(one_mesh, 40, interval=0.2, what="one mesh with both batches")
        except AssertionError:
            for n in nodes:
                sys.stderr.write("--- %s\n%s\n" % (n.name, "\n".join(n.log().splitlines()[-30:])))
            raise
        # the mesh's event log says which cluster moved: exactly one
        events = [json.loads(line) for line in
                  c.cli("events", "--json", "--no-follow").stdout.splitlines()]
        movers = {e["node"] for e in events if "batches into it" in e["text"]}
        self.assertEqual(len(movers), 1, events)
        self.assertTrue(movers <= {"ma", "mb"}, movers)
        for n in nodes:
            for bid, start in zip(ids, (100000, 200000)):
                rows = parse_results(n.cli("results", bid, "--wait", timeout=120).stdout)
                check_factored(self, rows, list(range(start, start + 3000)))

    def test_node_of_a_gone_cluster_moves_its_batches_with_rejoin(self):
        self.gone_cluster_rejoin(forget_cluster_id=False)

    def test_node_that_never_heard_its_cluster_id_rejoins(self):
        # A node that joined a moment before the rest of its cluster died
        # never heard the cluster's id (a member's gossip tells it); CI met
        # this by chance. The recorded id is erased to meet it every time.
        self.gone_cluster_rejoin(forget_cluster_id=True)

    def gone_cluster_rejoin(self, forget_cluster_id):
        # cluster X: three nodes; two die for good, the third is stopped
        x = Mesh(MESH, 3)
        self.mesh = x
        x.formed(3)
        bid = self.submit(x.nodes[0], "--start", "300000", "--count", "2000")
        x.nodes[0].cli("results", bid, "--wait", timeout=120)
        for n in x.nodes[1:]:
            n.kill(signal.SIGKILL)
        survivor = x.nodes[0]
        survivor.own_dir = False   # its data dir outlives the process: restarted below
        self.addCleanup(shutil.rmtree, survivor.dir, True)
        survivor.stop()
        if forget_cluster_id:
            marker = os.path.join(survivor.dir, "raft", "member")
            with open(marker) as f:
                words = f.read().split()
            self.assertEqual(words[0:3:2], ["member", "cluster"])
            with open(marker, "w") as f:
                f.write("member %s cluster %016x\n" % (words[1], 0))
        # cluster Y: three other nodes
        y_ports = [free_port() for _ in range(3)]
        y = [Node(MESH, name="y%d" % i, workers=1, port=y_ports[i],
                  peers=["127.0.0.1:%d" % p for j, p in enumerate(y_ports) if j != i])
             for i in range(3)]
        self.extra_nodes += y
        for n in y:
            n.wait_ready()
        wait_for(lambda: len({n.status()["leader"] for n in y} - {""}) == 1 and
                 all(n.status()["quorum"]["ok"] for n in y), 20, interval=0.2,
                 what="cluster Y")
        peers = ["127.0.0.1:%d" % p for p in y_ports]

        def start_x(extra):
            # its cluster out of sight for --voter-grace is gone
            n = Node(MESH, name="x0", workers=1, port=x.ports[0], peers=peers,
                     data_dir=survivor.dir, extra=["--voter-grace", str(GRACE_S)] + extra)
            self.extra_nodes.append(n)
            return n.wait_ready()
        # without --rejoin it says so and takes no work
        back = start_x([])
        try:
            wait_for(lambda: back.status()["nodes"][0]["state"] == "removed", 30, interval=0.5,
                     what="the node of the gone cluster says so")
        except AssertionError:
            sys.stderr.write(back.log()[-5000:])
            sys.stderr.write(json.dumps(back.status(), indent=1)[:3000])
            raise
        self.assertIn("--rejoin", back.log())
        back.stop()
        # with --rejoin its batch moves into Y, and it joins Y
        back = start_x(["--rejoin"])
        try:
            wait_for(lambda: back.status()["cluster_id"] == y[0].status()["cluster_id"], 40,
                     interval=0.5, what="the node joined cluster Y")
        except AssertionError:
            sys.stderr.write(back.log()[-6000:])
            for n in y:
                sys.stderr.write("\n--- %s\n%s" % (n.name, n.log()[-3000:]))
            raise
        for n in (y[0], back):
            r = n.cli("results", bid, "--wait", timeout=60, check=False)
            if r.returncode != 0:
                sys.stderr.write(back.log()[-4000:])
            rows = parse_results(r.stdout)
            check_factored(self, rows, list(range(300000, 302000)))

    # ---- leave and forced recovery --------------------------------------------------

    def test_leader_leaves_during_a_batch(self):
        self.mesh = Mesh(MESH, 4, extra=["--voter-grace", str(GRACE_S)])
        self.mesh.formed(3)
        lead = self.mesh.leader()
        other = next(n for n in self.mesh.alive() if n is not lead)
        bid = self.submit(other, "--semiprimes", "64", "--count", "6000", "--seed", "3")
        wait_for(lambda: other.status()["batches"][0]["done"] > 200, 60, what="progress")
        r = lead.cli("leave", timeout=120)
        self.assertIn("left", r.stdout)
        self.assertEqual(lead.proc.wait(timeout=20), 0)
        self.three_healthy_voters(GRACE_S + 10)
        rows = parse_results(other.cli("results", bid, "--wait", timeout=300).stdout)
        self.assertEqual(len(rows), 6000)
        check_factored(self, rows, [n for n, _ in rows])
        st = self.mesh.leader().status()
        self.assertNotIn(lead.name, voters_of(st))
        self.assertEqual(roles(st).get(lead.name), "removed")

    def test_recover_force_after_lost_majority(self):
        self.mesh = Mesh(MESH, 3)
        self.mesh.formed(3)
        survivor = self.mesh.nodes[0]
        bid = self.submit(survivor, "--start", "700", "--count", "100")
        survivor.cli("results", bid, "--wait", timeout=60)
        for n in self.mesh.nodes[1:]:
            n.kill(signal.SIGKILL)
        wait_for(lambda: not survivor.status()["quorum"]["ok"], 10, interval=0.1,
                 what="the survivor sees the quorum lost")
        r = survivor.cli("submit", "--start", "1", "--count", "5", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no quorum", r.stderr)
        r = survivor.cli("recover", check=False)
        self.assertEqual(r.returncode, 2, "recover without --force must refuse")
        r = survivor.cli("recover", "--force")
        self.assertIn("WARNING", r.stderr)
        wait_for(lambda: survivor.status()["leader"] == survivor.status()["id"], 20,
                 interval=0.2, what="the survivor leads")
        bid2 = self.submit(survivor, "--start", "9000", "--count", "300")
        rows = parse_results(survivor.cli("results", bid2, "--wait", timeout=120).stdout)
        check_factored(self, rows, list(range(9000, 9300)))
        rows = parse_results(survivor.cli("results", bid).stdout)
        check_factored(self, rows, list(range(700, 800)))
        self.assertEqual(survivor.status()["quorum"]["voters"], 1)


if __name__ == "__main__":
    MESH = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
