"""Watching a mesh from outside the terminal: --metrics (Prometheus text,
parsed by the real Prometheus client parser, python3-prometheus-client) and
`mesh events` (the mesh's event log, streamed), on a real 3-node mesh on
loopback.

Usage: test_observe.py MESH_BINARY [unittest args...]

Every node and every `mesh events` stream is stopped by its PID in
tearDown; data dirs are deleted. A check that needs a tool this machine
lacks (the Prometheus parser, promtool) exits 77: skipped, never silent."""
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import Mesh  # noqa: E402
from meshnode import Node, free_port, wait_for  # noqa: E402
from primes import is_prime, nextprime  # noqa: E402

MESH = None
SKIP = 77


def find_promtool():
    """contrib/promtool.sh's unpacked copy ($MESH_PROMTOOL), or one on PATH."""
    path = os.environ.get("MESH_PROMTOOL", "")
    if path and os.access(path, os.X_OK):
        return path
    return shutil.which("promtool")


def prometheus_parser():
    """text_string_to_metric_families from Debian's python3-prometheus-client
    (in /usr/lib/python3/dist-packages when python3 is another build)."""
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            return None
    return text_string_to_metric_families


class MetricsMesh(Mesh):
    """A Mesh whose nodes serve --metrics on loopback ports of their own."""

    def __init__(self, count):
        self.metrics_ports = [free_port() for _ in range(count)]
        super().__init__(MESH, count)

    def _start(self, i, data_dir=None, extra=(), env=None):
        return super()._start(i, data_dir=data_dir, env=env,
                              extra=["--metrics", "127.0.0.1:%d" % self.metrics_ports[i]] +
                              list(extra))

    def scrape(self, i):
        url = "http://127.0.0.1:%d/metrics" % self.metrics_ports[i]
        with urllib.request.urlopen(url, timeout=10) as r:
            self_type = r.headers["Content-Type"]
            return self_type, r.read().decode("utf-8")


def samples(families):
    """name -> list of (labels, value) over every family."""
    out = {}
    for fam in families:
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


class ObserveTest(unittest.TestCase):
    def setUp(self):
        self.mesh = None
        self.procs = []
        self.tmp = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        if self.mesh is not None:
            self.mesh.stop()
        for d in self.tmp:
            shutil.rmtree(d, ignore_errors=True)

    def run_range(self, node, count):
        r = node.cli("submit", "--start", "1000", "--count", str(count))
        bid = int(r.stdout.split()[-1])
        wait_for(lambda: any(b["id"] == bid and b["state"] == "done"
                             for b in node.status()["batches"]),
                 60, interval=0.2, what="batch %d done" % bid)
        return bid

    # ---- metrics -----------------------------------------------------------

    def test_metrics_parse_on_every_node(self):
        parse = prometheus_parser()
        self.mesh = MetricsMesh(3)
        lead = self.mesh.formed(3)
        bid = self.run_range(lead, 200)
        for i, node in enumerate(self.mesh.nodes):
            def scraped():
                ctype, text = self.mesh.scrape(i)
                s = samples(parse(text))
                done = [v for lab, v in s.get("mesh_batch_numbers_done", [])
                        if lab["batch"] == str(bid)]
                up = s.get("mesh_nodes_up", [({}, 0)])[0][1]
                return (ctype, text, s) if done == [200] and up == 3 else None
            ctype, text, s = wait_for(scraped, 20, interval=0.3,
                                      what="node %s metrics of the batch" % node.name)
            self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
            self.assertEqual(s["mesh_nodes"][0][1], 3)
            self.assertEqual(s["mesh_quorum"][0][1], 1)
            self.assertEqual(s["mesh_voters"][0][1], 3)
            self.assertEqual(s["mesh_voters_reachable"][0][1], 3)
            self.assertGreaterEqual(s["mesh_raft_term"][0][1], 1)
            infos = s["mesh_node_info"]
            self.assertEqual(sorted(lab["node"] for lab, _ in infos), ["n0", "n1", "n2"])
            self.assertEqual([lab["role"] for lab, _ in infos].count("leader"), 1)
            self.assertEqual(s["mesh_leader_info"][0][0]["id"], lead.status()["id"])
            # counters keep the _total suffix in their samples; units in names
            self.assertIn("mesh_node_numbers_done_total", s)
            self.assertEqual(len(s["mesh_node_workers"]), 3)
            self.assertIn("mesh_node_numbers_per_second", s)
            self.assertEqual(s["mesh_batch_progress_ratio"][0][1], 1.0)
            self.assertIn("process_resident_memory_bytes", s)
            self.assertIn("process_cpu_seconds_total", s)
            # the numbers the mesh factored: every one counted on some node
            self.assertEqual(s["mesh_numbers_pending"][0][1], 0)
            self.assertIn('mesh_build_info{version="', text)
        # every number counted on the node that factored it (peers' counts
        # arrive with their stats, a moment later)
        wait_for(lambda: sum(v for _, v in samples(parse(self.mesh.scrape(0)[1]))
                             ["mesh_node_numbers_done_total"]) >= 200, 20, interval=0.3,
                 what="the nodes' done counters to add up")

    def test_metrics_http_edges(self):
        self.mesh = MetricsMesh(1)
        self.mesh.formed(1)
        port = self.mesh.metrics_ports[0]
        for path, code in (("/", 404), ("/metrics/x", 404)):
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10)
            self.assertEqual(e.exception.code, code)
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % port, data=b"x",
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(e.exception.code, 405)
        # an endless request head is cut off, not buffered
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /metrics HTTP/1.0\r\n" + b"X: " + b"a" * 8192)
            answer = s.recv(200)
        self.assertTrue(answer.startswith(b"HTTP/1.0 431"), answer)
        # a silent client is dropped after the timeout; the node still serves
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(idle.close)
        self.assertEqual(self.mesh.scrape(0)[0].split(";")[0], "text/plain")

    def test_metrics_bad_address_is_a_clear_error(self):
        for bad in ("nonsense", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000",
                    "localhost:9464", "::1:9464"):
            r = subprocess.run([MESH, "--authkey", "k", "--metrics", bad, "--headless"],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("--metrics", r.stderr)
            self.assertIn("ADDR:PORT", r.stderr)
        # a port already taken: the node says so and exits 1
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            node = Node(MESH, extra=["--metrics", "127.0.0.1:%d" % port])
            try:
                self.assertEqual(node.proc.wait(timeout=30), 1)
                self.assertIn("cannot listen on 127.0.0.1 port %d" % port, node.log())
            finally:
                node.stop()

    def test_promtool_check_metrics(self):
        promtool = find_promtool()
        if promtool is None:   # run alone (meson), main() exits 77 before this
            self.skipTest("no promtool")
        self.mesh = MetricsMesh(1)
        node = self.mesh.formed(1)
        self.run_range(node, 20)
        # and with a long number running: its mesh_hard_* series too
        rng = random.Random(7)
        n = nextprime(rng.getrandbits(102) | 1 << 101) * nextprime(rng.getrandbits(102) | 1 << 101)
        node.cli("submit", "--file", "-", "--number-timeout", "120s", input="%d\n" % n)
        text = wait_for(lambda: (lambda t: t if "\nmesh_hard_found{" in t else None)(
                        self.mesh.scrape(0)[1]), 60, interval=0.1, what="a long number's series")
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    # ---- progress of a hard number -----------------------------------------

    def test_hard_number_progress_seen_mesh_wide(self):
        # One balanced 206-bit semiprime: the multi-precision SIQS sieves it
        # for a few seconds on one worker of one node. The other node sees
        # that worker's progress (told over the link) in status --json and
        # in /metrics: phase sieving, found growing towards needed; at the
        # end the right factors, and the progress gone everywhere. The other
        # node is drained first, so that it does not take the same number at
        # the batch's tail: one worker, one observer.
        rng = random.Random(20)
        p = nextprime(rng.getrandbits(103) | 1 << 102)
        q = nextprime(rng.getrandbits(103) | 1 << 102)
        n = p * q
        self.assertEqual(n.bit_length(), 206)
        self.mesh = MetricsMesh(2)
        lead = self.mesh.formed(2)
        observer = next(x for x in self.mesh.nodes if x is not lead)
        lead.cli("drain", observer.name)
        wait_for(lambda: [u["state"] for u in lead.status()["nodes"] if u["name"] ==
                          observer.name] == ["drained"], 20, interval=0.1,
                 what="%s drained" % observer.name)
        r = lead.cli("submit", "--file", "-", "--number-timeout", "120s", input="%d\n" % n)
        bid = int(r.stdout.split()[-1])
        seen = {}  # (observer, worker's node) -> [(phase, found, needed, rate, eta_s)]
        t0 = time.monotonic()
        done = False
        metrics_seen = 0
        text_rows = []  # `mesh status` rows of a peer's sieving number
        while time.monotonic() - t0 < 60 and not done:
            for i, node in enumerate(self.mesh.nodes):
                st = node.status()
                done = any(b["id"] == bid and b["state"] == "done" for b in st["batches"])
                for u in st["nodes"]:
                    for h in u["hard"]:
                        self.assertEqual((h["batch"], h["index"], h["bits"]), (bid, 0, 206))
                        self.assertEqual(h["worker"], 0)
                        if not u["self"]:
                            seen.setdefault((node.name, u["name"]), []).append(
                                (h["phase"], h["found"], h["needed"], h["rate"], h["eta_s"]))
                            if h["phase"] == "sieving":
                                metrics_seen += self.check_hard_metrics(i, u["name"], bid)
                            if h["phase"] == "sieving" and len(text_rows) < 3:
                                text_rows += [line for line in
                                              node.cli("status").stdout.splitlines()
                                              if line.startswith(u["name"] + " ") and
                                              " sieving " in line]
            time.sleep(0.1)
        self.assertTrue(done, "the batch did not finish in 60 s")
        self.assertEqual(list(seen), [(observer.name, lead.name)], seen)
        for rows in seen.values():
            sieving = [row for row in rows if row[0] == "sieving"]
            founds = [row[1] for row in sieving]
            self.assertEqual(founds, sorted(founds), rows)  # one sieving phase: only grows
            self.assertTrue(all(0 < row[2] < 100000 for row in sieving), rows)
        grew = [rows for rows in seen.values()
                if len({row[1] for row in rows if row[0] == "sieving"}) >= 2 and
                any(row[3] > 0 and row[4] is not None for row in rows)]
        self.assertTrue(grew, "sieving progress that grows, seen from another node: %s" % seen)
        self.assertGreater(metrics_seen, 0, "no mesh_hard_found in a peer's /metrics")
        self.assertTrue(text_rows, "no sieving row in a peer's `mesh status`")
        cols = text_rows[0].split()  # NODE WORKER BATCH INDEX BITS PHASE FOUND/NEEDED ...
        self.assertEqual(cols[1:6], ["0", str(bid), "0", "206", "sieving"])
        self.assertRegex(cols[6], r"^\d+/\d+$")
        print("progress seen: %s" % {k: v[-3:] for k, v in seen.items()}, file=sys.stderr)
        line = lead.cli("results", str(bid), "--wait", timeout=60).stdout.strip()
        self.assertEqual(line, "%d: %d %d" % (n, min(p, q), max(p, q)))
        for node in self.mesh.nodes:
            wait_for(lambda: all(u["hard"] == [] for u in node.status()["nodes"]), 5,
                     interval=0.1, what="progress gone on %s" % node.name)

    def check_hard_metrics(self, i, worker_node, bid):
        """Node i's /metrics has the worker's gauges (read by hand: the
        labels are plain, and the promtool test checks the format)."""
        s = {}
        for m in re.finditer(r'^(mesh_hard_\w+)\{([^}]*)\} (\S+)$', self.mesh.scrape(i)[1],
                             re.M):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            s.setdefault(m.group(1), []).append((labels, float(m.group(3))))
        found = [(lab, v) for lab, v in s.get("mesh_hard_found", [])
                 if lab["batch"] == str(bid) and lab["node"] == worker_node]
        if not found:
            return 0  # it just ended, between the status and the scrape
        lab, v = found[0]
        self.assertEqual((lab["index"], lab["worker"]), ("0", "0"))
        self.assertIn(lab["phase"], ("ecm", "sieving", "matrix", "sqrt"))
        self.assertEqual({lab["bits"] for lab, _ in s["mesh_hard_needed"]}, {"206"})
        return 1

    # ---- events ------------------------------------------------------------

    def events(self, node, *args):
        r = node.cli("events", "--json", "--no-follow", *args)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_events_mesh_wide_and_streamed(self):
        self.mesh = Mesh(MESH, 3)
        lead = self.mesh.formed(3)
        follower = next(n for n in self.mesh.nodes if n is not lead)
        target = next(n for n in self.mesh.nodes if n not in (lead, follower))
        # the leader's election is news on every node
        for n in self.mesh.nodes:
            wait_for(lambda: any(e["kind"] == "election" for e in self.events(n)), 20,
                     what="election event on %s" % n.name)
        # stream on the follower, drain the third node from the leader's CLI
        stream = subprocess.Popen([MESH, "--data-dir", follower.dir, "events", "--json"],
                                  stdout=subprocess.PIPE, text=True)
        self.procs.append(stream)
        lead.cli("drain", target.name)
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            line = stream.stdout.readline()
            self.assertTrue(line, "the stream ended early")
            e = json.loads(line)
            seen.append(e)
            if e["kind"] == "drain" and target.name in e["text"]:
                break
        else:
            self.fail("no drain event streamed: %s" % seen)
        self.assertEqual(set(e.keys()), {"seq", "time", "time_ms", "kind", "node", "node_id",
                                         "text"})
        self.assertEqual([e["seq"] for e in seen], sorted(e["seq"] for e in seen))
        # every node holds it once (duplicates dropped), the text mode too
        for n in self.mesh.nodes:
            wait_for(lambda: sum(1 for e in self.events(n)
                                 if e["kind"] == "drain" and target.name in e["text"]
                                 and "drained" in e["text"]) == 1, 20,
                     what="one 'drained' event on %s" % n.name)
        text = follower.cli("events", "--no-follow").stdout
        self.assertRegex(text, r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  drain +\S+ +node %s"
                         % target.name)
        stream.kill()
        stream.wait(timeout=10)

    def test_refused_peer_is_an_event_told_to_the_mesh(self):
        self.mesh = Mesh(MESH, 2)
        self.mesh.formed(2)
        target = self.mesh.nodes[0]
        stranger = Node(MESH, authkey="another-key-entirely-0123456789",
                        peers=["127.0.0.1:%d" % target.port])
        try:
            for n in self.mesh.nodes:   # seen by the target, told to its peer
                wait_for(lambda: any(e["kind"] == "refused" and "wrong authkey" in e["text"]
                                     and e["node"] == target.name for e in self.events(n)),
                         30, what="refused event on %s" % n.name)
        finally:
            stranger.stop()

    def test_events_usage_and_no_node(self):
        d = os.path.join(os.environ.get("TMPDIR", "/tmp"), "mesh-no-node-%d" % os.getpid())
        os.makedirs(d, exist_ok=True)
        self.tmp.append(d)
        r = subprocess.run([MESH, "--data-dir", d, "events"], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(r.returncode, 3, r.stderr)
        r = subprocess.run([MESH, "events", "--bogus"], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: mesh events", r.stderr)


def main():
    global MESH
    MESH = os.path.abspath(sys.argv.pop(1))
    wanted = " ".join(sys.argv[1:])
    if "metrics_parse" in wanted and prometheus_parser() is None:
        print("SKIP: python3-prometheus-client is not installed (contrib/deps.sh test)")
        sys.exit(SKIP)
    if "promtool" in wanted and find_promtool() is None:
        print("SKIP: promtool not found (contrib/promtool.sh unpacks it from Debian's "
              "prometheus package; it could not here)")
        sys.exit(SKIP)
    unittest.main()


if __name__ == "__main__":
    main()
