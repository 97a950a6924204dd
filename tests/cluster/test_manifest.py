"""Manifest snapshots: a snapshot names finished batches' result files by
hash instead of carrying their results, and a node restored from one
fetches the files it lacks from its peers (doc/DESIGN.md, "Manifest
snapshots"). Real nodes on loopback; snapshots every 8 entries
(MESH_SNAPSHOT_EVERY, a test-only knob) so a stopped node catches up by
InstallSnapshot.

Usage: test_manifest.py MESH_BINARY [unittest args...]

Every node is stopped by its PID in tearDown and its data dir deleted. The
oracle for results is arithmetic (tests/lib/primes.py)."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh, check_factored, parse_results, submit  # noqa: E402
from meshnode import wait_for  # noqa: E402

MESH = None
BIG = [(10 ** 9 + 100000 * k, 3000) for k in range(3)]


def result_files(node):
    d = os.path.join(node.dir, "results")
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if len(f) == 64)


def newest_snapshot_path(node):
    d = os.path.join(node.dir, "raft")
    snaps = [f for f in os.listdir(d) if f.startswith("snapshot-") and not f.endswith(".meta")]
    if not snaps:
        return None
    return os.path.join(d, max(snaps, key=lambda f: int(f.split("-")[2])))


def newest_snapshot_bytes(node):
    path = newest_snapshot_path(node)
    return os.path.getsize(path) if path is not None else None


class ManifestTest(unittest.TestCase):
    def setUp(self):
        self.mesh = None
        self.env = dict(os.environ, MESH_SNAPSHOT_EVERY="8")

    def tearDown(self):
        if self.mesh is not None:
            self.mesh.stop()

    def finished(self, node, bid, start, count, timeout=120):
        out = node.cli("results", bid, "--wait", timeout=timeout).stdout
        check_factored(self, parse_results(out), list(range(start, start + count)))

    def mesh_with_a_stopped_node(self):
        """Three nodes; the third is stopped while the big batches finish,
        are moved to their files on the others and snapshotted as a
        manifest. Returns the batch ids."""
        self.mesh = Mesh(MESH, 3, envs={i: self.env for i in range(3)})
        a, b, c = self.mesh.nodes
        self.mesh.formed(3)
        lead = self.mesh.leader()
        victim = 2 if lead is not c else 1
        self.mesh.nodes[victim].kill(signal.SIGKILL)
        self.mesh.leader()
        live = [n for n in self.mesh.alive()]
        ids = [submit(self, live[0], "--start", str(s), "--count", str(n)) for s, n in BIG]
        for bid, (s, n) in zip(ids, BIG):
            self.finished(live[1], bid, s, n)
        # each finished batch goes to its file on the next tick (a second)
        wait_for(lambda: all(len(result_files(n)) >= len(BIG) for n in live), 10,
                 what="the finished batches in their files")
        # more entries: snapshots now name those files
        for k in range(6):
            bid = submit(self, live[0], "--start", str(50 + 100 * k), "--count", "20")
            self.finished(live[0], bid, 50 + 100 * k, 20)
        return victim, ids

    def test_restarted_node_fetches_result_files(self):
        victim, ids = self.mesh_with_a_stopped_node()
        # the leader's snapshot is the queue's state and a manifest: a few
        # hundred bytes, where the 9000 results inline took ~100 KB
        for n in self.mesh.alive():
            size = newest_snapshot_bytes(n)
            self.assertIsNotNone(size)
            self.assertLess(size, 8000, "snapshot of %s" % n.name)
        node = self.mesh.restart(victim, env=self.env)
        for bid, (s, n) in zip(ids, BIG):
            self.finished(node, bid, s, n)
        log = node.log()
        self.assertIn("results fetched from node", log)
        # every finished batch ends in the same file on every node (fetched,
        # or spilled here from the entries after the snapshot: canonical)
        names = lambda n: sorted(os.path.basename(p) for p in result_files(n))  # noqa: E731
        wait_for(lambda: names(node) == names(self.mesh.nodes[0]) and len(names(node)) == 9,
                 15, what="the same result files on the restarted node as on node 0")
        # forgetting a batch removes its file on every node
        before = {n.name: len(result_files(n)) for n in self.mesh.nodes}
        node.cli("forget", ids[0])
        for n in self.mesh.nodes:
            wait_for(lambda n=n: len(result_files(n)) == before[n.name] - 1, 10,
                     what="the forgotten batch's file removed on %s" % n.name)
        for bid, (s, n) in list(zip(ids, BIG))[1:]:
            self.finished(node, bid, s, n)

    def batch(self, node, bid):
        return next((b for b in node.status()["batches"] if b["id"] == int(bid)), None)

    def test_restarted_node_fetches_running_segments(self):
        """A running batch's full pages are in segment files (64 pages of
        1024 results each) and the snapshot names them: a node restored from
        it mid-batch fetches them and holds the same results."""
        self.mesh = Mesh(MESH, 3, envs={i: self.env for i in range(3)})
        self.mesh.formed(3)
        lead = self.mesh.leader()
        victim = 2 if lead is not self.mesh.nodes[2] else 1
        names = [n.status()["name"] for n in self.mesh.nodes]
        self.mesh.nodes[victim].kill(signal.SIGKILL)
        self.mesh.leader()
        live = self.mesh.alive()
        bid = submit(self, live[0], "--start", "1000", "--count", "3000000")
        # (the mesh does ~100k/s here; under ASan on a loaded host it took
        # more than 120 s)
        wait_for(lambda: self.batch(live[0], bid)["done"] >= 400000, 200, interval=0.05,
                 what="400k results")
        for name in names:   # the batch stays running, part done (a write may
            # meet a leader change under load: asked again)
            wait_for(lambda name=name: live[0].cli("drain", name, check=False).returncode == 0,
                     90, what="drain %s" % name)
        done = [-1]

        def settled():
            now = self.batch(live[0], bid)["done"]
            still, done[0] = now == done[0], now
            return still
        wait_for(settled, 30, interval=1, what="the drained mesh's results settled")
        self.assertEqual(self.batch(live[0], bid)["state"], "running")
        wait_for(lambda: all(len(result_files(n)) >= 6 for n in live), 20,
                 what="the full pages in segment files")
        for k in range(10):   # entries: snapshots now name the segments
            submit(self, live[0], "--start", str(50 + 100 * k), "--count", "20")
        # 400k+ results inline would be 3.5 MB and more: only those past the
        # last full segment are carried. A snapshot taken while a segment's
        # file was still being named (on the thread pool) carries its pages:
        # more entries bring the next one (a write is one entry since commits
        # are pushed without a barrier, so 10 writes may make one snapshot).
        # Under 2 MB: inline are the results of the segment being filled and
        # past it the lease frontier (up to 16 leases of 1024 numbers a
        # worker while much is left: ~1.1 MB seen), not the 400k+.
        def small_snapshots():
            if all((newest_snapshot_bytes(n) or 1 << 30) < 2000000 for n in live):
                return True
            submit(self, live[0], "--start", "50", "--count", "20")
            return False
        try:
            wait_for(small_snapshots, 60, interval=0.5, what="snapshots under 2 MB")
        except AssertionError:
            for n in live:
                sys.stderr.write("%s: newest snapshot %s bytes, %d result files, retained %s\n"
                                 % (n.name, newest_snapshot_bytes(n), len(result_files(n)),
                                    n.status().get("retained")))
            self.mesh.dump()
            raise
        # Three snapshots' worth of entries more (MESH_SNAPSHOT_EVERY=8, 4
        # kept after each): no live node's log still holds the entries the
        # victim missed, so it is sent a snapshot, not them (1 run of 2 here
        # caught up by entries once a batch's results took few entries).
        for k in range(24):
            submit(self, live[0], "--start", str(7000 + 100 * k), "--count", "20")
        node = self.mesh.restart(victim, env=self.env)
        wait_for(lambda: (lambda b: b is not None and b["done"] == done[0] and
                          not b["results_elsewhere"])(self.batch(node, bid)), 60,
                 what="the restarted node's segments loaded")
        self.assertIn("results fetched from node", node.log())
        wait_for(lambda: live[0].cli("cancel", bid, check=False).returncode == 0, 60,
                 what="cancel")
        for n in self.mesh.nodes:
            wait_for(lambda n=n: self.batch(n, bid)["state"] == "cancelled", 10,
                     what="cancel replicated")
        here = node.cli("results", bid, timeout=120).stdout
        there = live[0].cli("results", bid, timeout=120).stdout
        self.assertEqual(here, there)
        rows = parse_results(here)
        self.assertEqual(len(rows), done[0])
        check_factored(self, rows, [n for n, _ in rows])
        # the cancelled batch's file, canonical: the same name everywhere
        wait_for(lambda: set(map(os.path.basename, result_files(node))) ==
                 set(map(os.path.basename, result_files(live[0]))), 30,
                 what="the same result files on the restarted node as on a peer")

    def drain_all(self, node, names, verb="drain"):
        for name in names:   # (a write may meet a leader change under load: again)
            wait_for(lambda name=name: node.cli(verb, name, check=False).returncode == 0,
                     90, what="%s %s" % (verb, name))

    def test_finished_batch_is_on_disk_once(self):
        """A finished batch's segment files go as soon as its own file is
        written: every node's results dir holds the batch once, the same
        canonical file everywhere. A node restarted from its own snapshot,
        taken while the batch ran and naming its segments, makes them again
        from the own file (not from the peers); with its results dir lost,
        the peers answer for them from their own files. Its results read the
        same, and forgetting the batch frees the space (doc/DESIGN.md,
        "Partial spill")."""
        count = 1000000
        self.mesh = Mesh(MESH, 3, envs={i: self.env for i in range(3)})
        self.mesh.formed(3)
        a, b, c = self.mesh.nodes
        names = [n.status()["name"] for n in self.mesh.nodes]
        bid = submit(self, a, "--start", "1000", "--count", str(count))
        wait_for(lambda: self.batch(a, bid)["done"] >= 300000, 200, interval=0.05,
                 what="300k results")
        # held part way, so that c's snapshots name segments: drained, then
        # entries until c's newest snapshot names one of its segment files
        # (by its hash: snapshots are stored uncompressed)
        self.drain_all(a, names)
        seg = lambda n: [p for p in result_files(n) if os.path.getsize(p) > 100000]  # noqa: E731
        wait_for(lambda: len(seg(c)) >= 3, 30, what="c's full pages in segment files")

        def names_a_segment():
            snap = newest_snapshot_path(c)
            try:
                with open(snap, "rb") as f:
                    data = f.read()
            except (OSError, TypeError):   # none yet, or raft removed it meanwhile
                data = b""
            if any(bytes.fromhex(os.path.basename(p)) in data for p in seg(c)):
                return True
            submit(self, a, "--start", "50", "--count", "20")
            return False
        try:
            wait_for(names_a_segment, 60, interval=0.5, what="c's snapshot naming segments")
        except AssertionError:
            sys.stderr.write("c: newest snapshot %s bytes, %d segment files\n"
                             % (newest_snapshot_bytes(c), len(seg(c))))
            self.mesh.dump()
            raise
        self.drain_all(a, names, "undrain")
        rows = parse_results(b.cli("results", bid, "--wait", timeout=200).stdout)
        self.assertEqual([n for n, _ in rows], list(range(1000, 1000 + count)))
        check_factored(self, rows[::1000], [n for n, _ in rows[::1000]])
        sizes = lambda n: [os.path.getsize(p) for p in seg(n)]  # noqa: E731
        try:
            wait_for(lambda: all(len(sizes(n)) == 1 and sizes(n)[0] > 5000000
                                 for n in self.mesh.nodes), 30,
                     what="the batch's own file alone on every node")
        except AssertionError:
            for n in self.mesh.nodes:
                sys.stderr.write("%s: %s\n" % (n.name, sizes(n)))
            raise
        files = {os.path.basename(seg(n)[0]) for n in self.mesh.nodes}
        self.assertEqual(len(files), 1, "the same canonical file on every node")
        expect = b.cli("results", bid).stdout
        c.kill(signal.SIGKILL)
        c = self.mesh.restart(2, extra=["--log-level", "debug"], env=self.env)
        self.assertEqual(c.cli("results", bid, "--wait", timeout=120).stdout, expect)
        log = c.log()
        self.assertIn("a segment file made again from its own file", log)
        self.assertNotIn("fetching them from the peers", log)
        wait_for(lambda: {os.path.basename(p) for p in seg(c)} == files, 30,
                 what="the restarted node's segments gone again, its own file alone")
        # again with its results dir lost: the peers, whose segment files
        # are gone too, answer for them from their own files
        c.kill(signal.SIGKILL)
        for p in result_files(c):
            os.unlink(p)
        c = self.mesh.restart(2, extra=["--log-level", "debug"], env=self.env)
        try:
            self.assertEqual(c.cli("results", bid, "--wait", timeout=120).stdout, expect)
        except BaseException:
            self.mesh.dump()
            raise
        self.assertIn("results fetched from node", c.log())
        for n in (a, b):
            self.assertEqual({os.path.basename(p) for p in seg(n)}, files)
        wait_for(lambda: {os.path.basename(p) for p in seg(c)} == files, 30,
                 what="the restarted node's own file alone, made from the fetched segments")
        self.assertEqual(a.cli("results", bid).stdout, expect)
        a.cli("forget", bid)
        for n in self.mesh.nodes:
            wait_for(lambda n=n: seg(n) == [], 15,
                     what="the forgotten batch's file removed on %s" % n.name)

    def test_spill_catches_up_when_its_tick_is_starved(self):
        """Spill's tick given no time (MESH_SPILL_SLICE_US=0: as a loaded
        host starves it, and as the fast result plane outran its 15 ms):
        results in memory stay bounded on every node while a 2.5M-number
        batch (~30 MB of results) runs, because spill catches up on its own
        timer once more than 8 MiB are held (src/node/spill.c); every line
        is answered (one in 500 checked by arithmetic)."""
        count = 2500000
        env = dict(os.environ, MESH_SPILL_SLICE_US="0")
        self.mesh = Mesh(MESH, 3, envs={i: env for i in range(3)})
        self.mesh.formed(3)
        node = self.mesh.nodes[0]
        bid = submit(self, node, "--start", "1000", "--count", str(count), "--chunk", "1000")
        peak = {n.name: 0 for n in self.mesh.nodes}
        deadline = time.monotonic() + 240
        while True:
            states = []
            for n in self.mesh.nodes:
                st = n.status()
                peak[n.name] = max(peak[n.name], st["retained"]["in_memory"])
                b = next((x for x in st["batches"] if x["id"] == int(bid)), None)
                states.append(b is not None and b["state"] == "done")
            if all(states):
                break
            self.assertLess(time.monotonic(), deadline, "the batch did not finish")
            time.sleep(0.2)
        # 8 MiB make spill catch up; a segment is ~0.8 MB, a lease frontier
        # holds a few pages not full yet: 16 MiB is room, 30 MB would not be
        print("results in memory at most (bytes):", peak)
        for name, p in peak.items():
            self.assertLess(p, 16 << 20, "%s held %d bytes of results in memory" % (name, p))
        self.assertTrue(all(len(result_files(n)) >= 20 for n in self.mesh.nodes),
                        "the running batch's segments written")
        rows = parse_results(node.cli("results", bid, "--wait", timeout=120).stdout)
        self.assertEqual([n for n, _ in rows], list(range(1000, 1000 + count)))
        check_factored(self, rows[::500], [n for n, _ in rows[::500]])

    def test_damaged_result_file_is_refused_and_fetched_again(self):
        victim, ids = self.mesh_with_a_stopped_node()
        node = self.mesh.restart(victim, env=self.env)
        for bid, (s, n) in zip(ids, BIG):
            self.finished(node, bid, s, n)
        files = result_files(node)
        self.assertGreaterEqual(len(files), len(BIG))
        # stopped again, one byte of each result file flipped (in a result's
        # item, past the headers): a restart must not serve them
        node.kill(signal.SIGKILL)
        for path in files:
            with open(path, "r+b") as f:
                f.seek(os.path.getsize(path) - 10)
                byte = f.read(1)
                f.seek(-1, 1)
                f.write(bytes([byte[0] ^ 0x01]))
        node = self.mesh.restart(victim, env=self.env)
        for bid, (s, n) in zip(ids, BIG):
            self.finished(node, bid, s, n)
        log = node.log()
        self.assertIn("is damaged: removed, fetching it again", log)
        self.assertIn("results fetched from node", log)
        others = self.mesh.nodes[0] if victim != 0 else self.mesh.nodes[1]
        names = lambda n: sorted(os.path.basename(p) for p in result_files(n))  # noqa: E731
        wait_for(lambda: names(node) == names(others), 15,
                 what="the same result files on the restarted node as on its peers")

    def test_damaged_file_from_a_peer_is_refused(self):
        victim, ids = self.mesh_with_a_stopped_node()
        node = self.mesh.restart(victim, env=self.env)
        for bid, (s, n) in zip(ids, BIG):
            self.finished(node, bid, s, n)
        node.kill(signal.SIGKILL)
        for path in result_files(node):
            os.unlink(path)
        # the peers' files damaged under their names (new files: the peers'
        # own mappings keep the good ones), the good ones kept aside
        peers = [n for n in self.mesh.alive()]
        # the peers' spill done first (a finished batch's whole file is
        # written after its segments): the listing unchanged for a second
        seen = [None]

        def files_settled():
            now = sorted(path for p in peers for path in result_files(p))
            still, seen[0] = now == seen[0], now
            return still
        wait_for(files_settled, 30, interval=1, what="the peers' result files settled")
        damaged = [path for p in peers for path in result_files(p)]
        for path in damaged:
            with open(path, "rb") as f:
                data = bytearray(f.read())
            os.rename(path, path + ".good")
            data[len(data) // 2] ^= 0x04
            with open(path, "wb") as f:
                f.write(bytes(data))
        node = self.mesh.restart(victim, env=self.env)
        wait_for(lambda: "is damaged" in node.log() and "refused, fetching it again" in
                 node.log(), 20, what="a damaged file from a peer refused")
        r = node.cli("status", "--json", check=False)
        self.assertEqual(r.returncode, 0)
        # nothing wrong was served meanwhile: the batches still wait
        self.assertTrue(any(b["results_elsewhere"] for b in node.status()["batches"]))
        # the files damaged above, not a listing now: a peer may have
        # written another since (spill keeps up with a running batch)
        for path in damaged:
            os.rename(path + ".good", path)
        for bid, (s, n) in zip(ids, BIG):
            self.finished(node, bid, s, n)
        self.assertIn("results fetched from node", node.log())

    def test_node_alone_waits_for_its_result_files(self):
        victim, ids = self.mesh_with_a_stopped_node()
        node = self.mesh.restart(victim, env=self.env)
        for bid, (s, n) in zip(ids, BIG):
            self.finished(node, bid, s, n)
        # every node down; the victim's files gone; it starts alone, from its
        # snapshot that names them: it says so, and serves no gaps
        for n in self.mesh.alive():
            n.kill(signal.SIGKILL)
        for path in result_files(node):
            os.unlink(path)
        node = self.mesh.restart(victim, env=self.env)

        def elsewhere():
            rows = {str(b["id"]): b for b in node.status()["batches"]}
            return all(rows[bid]["results_elsewhere"] for bid in ids)
        wait_for(elsewhere, 10, what="the batches shown as fetching their results")
        self.assertIn("[results being fetched from peers]", node.cli("status").stdout)
        with node.cli_running("results", ids[0]) as p:
            time.sleep(2)
            self.assertIsNone(p.poll(), "results of a batch being fetched waited for")
            # the others come back: the file arrives, the reader gets every line
            for i in range(3):
                if i != victim:
                    self.mesh.restart(i, env=self.env)
            out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        check_factored(self, parse_results(out), list(range(BIG[0][0], BIG[0][0] + BIG[0][1])))
        for bid, (s, n) in zip(ids, BIG):
            self.finished(node, bid, s, n)

    def test_file_on_no_node_is_told_and_bounded(self):
        victim, ids = self.mesh_with_a_stopped_node()
        node = self.mesh.restart(victim, env=self.env)
        for bid, (s, n) in zip(ids, BIG):
            self.finished(node, bid, s, n)
        # every node stopped, every copy of the files deleted: all restart
        # from snapshots naming files that no node has any more
        for n in self.mesh.alive():
            n.kill(signal.SIGKILL)
        for n in self.mesh.nodes:
            for path in result_files(n):
                os.unlink(path)
        for i in range(3):
            self.mesh.restart(i, env=self.env)
        node = self.mesh.nodes[victim]
        self.mesh.formed(3)

        def waits():
            rows = {str(b["id"]): b for b in node.status()["batches"]}
            return all(rows[bid].get("results_wait", {}).get("missing") for bid in ids)
        wait_for(waits, 60, what="every batch's file shown as on no reachable node")
        row = {str(b["id"]): b for b in node.status()["batches"]}[ids[0]]
        self.assertEqual(row["results_wait"]["asked"], 2, row)
        self.assertLessEqual(row["results_wait"]["since"], time.time())
        self.assertIn("[results on no reachable node (asked 2) since",
                      node.cli("status").stdout)
        # a reader without --wait: a clear error, not a wait without end
        t0 = time.monotonic()
        r = node.cli("results", ids[0], check=False, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("results of batch %s are not on any reachable node (asked 2 peers)"
                      % ids[0], r.stderr)
        self.assertLess(time.monotonic() - t0, 10)
        # told once per batch as an event, not once a second
        time.sleep(4)
        own = [e for e in node.cli("events", "--json", "--no-follow").stdout.splitlines()
               if "on no reachable node" in e and '"%s"' % node.name in e]
        for bid in ids:
            self.assertEqual(sum("batch %s:" % bid in e for e in own), 1, own)
        # with --wait the reader keeps waiting; everything else works
        with node.cli_running("results", ids[1], "--wait") as p:
            try:
                bid = submit(self, node, "--start", "1000", "--count", "50")
            except AssertionError:
                self.mesh.dump()  # CI met "no answer from the leader in time" once
                raise
            self.finished(node, bid, 1000, 50)
            self.assertIsNone(p.poll(), "a reader with --wait gave up")


if __name__ == "__main__":
    MESH = sys.argv.pop(1)
    unittest.main()
