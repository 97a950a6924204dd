#!/usr/bin/env python3
"""The whole mesh on every dashboard: three real nodes on loopback, each
running its dashboard in a private tmux server, driven by keys and checked
on the captured screens (and against `mesh status --json`).

    test_mesh_dashboard.py MESH [MeshDashboardTest.test_name ...]

Every node is stopped by its PID (TmuxPane.close), data dirs deleted."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tmuxpane import require_tmux, TmuxPane  # noqa: E402
from meshnode import Node, free_port, wait_for  # noqa: E402

MESH = None
KEY = "mesh-dashboard-test-key-0123456789abcdef"
NAMES = ("n0", "n1", "n2")


def row(screen, name):
    m = re.search(r"^[> ][* ] %s .*$" % re.escape(name), screen, re.M)
    return m.group(0) if m else None


class MeshDashboardTest(unittest.TestCase):
    def setUp(self):
        self.dirs, self.panes, self.extra_nodes = [], [], []

    def tearDown(self):
        for p in self.panes:
            p.close()
        for n in self.extra_nodes:
            n.stop()
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def start_mesh(self, width=100, height=30, extra_peer_ports=()):
        ports = [free_port() for _ in NAMES]
        for i, name in enumerate(NAMES):
            d = tempfile.mkdtemp(prefix="mesh-ui-mesh-")
            self.dirs.append(d)
            peers = []
            for j, p in enumerate(list(ports) + list(extra_peer_ports)):
                if j != i:
                    peers += ["--peer", "127.0.0.1:%d" % p]
            self.panes.append(TmuxPane([MESH, "--authkey", KEY, "--data-dir", d, "--no-mdns",
                                        "--port", str(ports[i]), "--workers", "1",
                                        "--name", name] + peers, width, height))
        self.ports = ports
        return self.panes

    def log(self, i):
        try:
            with open(os.path.join(self.dirs[i], "mesh.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return "(no log)"

    def wait(self, i, what, timeout=40.0):
        try:
            return self.panes[i].wait_for(what, timeout)
        except AssertionError as e:
            raise AssertionError("%s\nlog of %s:\n%s" % (e, NAMES[i], self.log(i))) from None

    def status(self, i):
        r = subprocess.run([MESH, "--data-dir", self.dirs[i], "status", "--json"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def whole_mesh_shown(self, screen):
        """Every node's row, one leader marked, and the header naming it."""
        rows = [row(screen, n) for n in NAMES]
        if None in rows:
            return False
        leaders = [r for r in rows if r[1] == "*"]
        if len(leaders) != 1 or " leader " not in leaders[0]:
            return False
        name = leaders[0][3:].split()[0]
        return re.search(r"leader %s \([0-9a-f]+\) term \d+" % name, screen) is not None and \
            "Nodes 3/3 up" in screen and "quorum ok" in screen

    def check_whole_mesh(self, width, height):
        self.start_mesh(width, height)
        for i in range(3):
            s = self.wait(i, self.whole_mesh_shown, 60)
            for line in s.split("\n"):
                self.assertLessEqual(len(line), width, line)
            self.assertEqual(len(s.rstrip("\n").split("\n")), height)
            self.assertIn("q Quit", s.rstrip("\n").split("\n")[-1])
        # all three agree on who leads
        leaders = {re.search(r"leader (\S+) \(", p.capture()).group(1) for p in self.panes}
        self.assertEqual(len(leaders), 1, leaders)

    def test_whole_mesh_at_100x30(self):
        self.check_whole_mesh(100, 30)

    def test_whole_mesh_at_80x24(self):
        self.check_whole_mesh(80, 24)

    def test_submit_range_from_form_seen_everywhere(self):
        self.start_mesh()
        for i in range(3):
            self.wait(i, self.whole_mesh_shown, 60)
        p = self.panes[1]
        p.keys("s")
        self.wait(1, "Submit a batch")
        p.keys("2", "Tab")                 # a range: start, count
        p.keys("-l", "1000000")
        p.keys("Tab")
        p.keys("-l", "400")
        p.keys("Enter")
        self.wait(1, "submitting range 1000000 x400")
        running = re.compile(r"^ *>?\d+ (running|done)\s+\[\|* *\]\s+\d+%\s+\d+/400 .*"
                             r"range 1000000 x400", re.M)
        done = re.compile(r"^ *>?\d+ done\s+\[\|+\] 100%\s+400/400 .*range 1000000 x400", re.M)
        for i in range(3):
            self.wait(i, running, 60)
        for i in range(3):
            self.wait(i, done, 90)
        self.assertEqual([b["done"] for b in self.status(0)["batches"]], [400])
        # and the mesh's event log says so, on every node
        for i in range(3):
            wait_for(lambda: re.search(r"batch \d+( \([^)]*\))? (submitted|done)", self.events(i)), 30,
                     what="batch event on %s" % NAMES[i])

    def events(self, i):
        return subprocess.run([MESH, "--data-dir", self.dirs[i], "events", "--no-follow"],
                              capture_output=True, text=True, timeout=20).stdout

    def test_drain_remote_node_everywhere(self):
        self.start_mesh()
        for i in range(3):
            self.wait(i, self.whole_mesh_shown, 60)
        p = self.panes[0]
        # rows are sorted by name: n0, n1, n2; select n2 on n0's dashboard
        p.keys("Down", "Down")
        self.wait(0, re.compile(r"^>[* ] n2 ", re.M))
        p.keys("d")
        self.wait(0, "draining n2")
        state = re.compile(r"^[> ][* ] n2 .*\s(draining|drained)\s", re.M)
        for i in range(3):
            self.wait(i, state, 40)
        drained = re.compile(r"^[> ][* ] n2 .*\sdrained\s", re.M)
        for i in range(3):
            self.wait(i, drained, 40)
            self.wait(i, re.compile(r"drain +n\d: node n2 drained"), 40)
        for i in range(3):
            st = {n["name"]: n["state"] for n in self.status(i)["nodes"]}
            self.assertEqual(st["n2"], "drained", (i, st))
            self.assertEqual(st["n0"], "active", (i, st))
        p.keys("u")
        for i in range(3):
            self.wait(i, re.compile(r"^[> ][* ] n2 .*\sactive\s", re.M), 40)

    def test_resize_redraws_and_quit_leaves_terminal_usable(self):
        self.start_mesh()
        for i in range(3):
            self.wait(i, self.whole_mesh_shown, 60)
        p = self.panes[2]
        for w, h in ((80, 24), (140, 45), (100, 30)):
            p.resize(w, h)
            s = self.wait(2, lambda t, w=w, h=h: len(t.rstrip("\n").split("\n")) == h and
                          self.whole_mesh_shown(t) and "q Quit" in t.split("\n")[h - 1])
            for line in s.split("\n"):
                self.assertLessEqual(len(line), w)
        p.keys("q")
        self.wait(2, "Quit this node?")
        p.keys("y")
        self.assertEqual(p.wait_exit(30), 0, self.log(2))
        self.assertEqual(p.display("#{alternate_on}"), "0")
        # the other two carry on and see it gone
        self.wait(0, re.compile(r"^[> ][* ] n2 .*\sdown\s", re.M), 40)

    def test_hostile_peer_name_is_harmless_text(self):
        evil_port = free_port()
        self.start_mesh(extra_peer_ports=[evil_port])
        for i in range(3):    # formed first: the newcomer joins a led mesh
            self.wait(i, self.whole_mesh_shown, 60)
        evil = Node(MESH, authkey=KEY, name="ev\x1b[2J\x1b]2;pwned\x07il", port=evil_port,
                    peers=["127.0.0.1:%d" % port for port in self.ports])
        self.extra_nodes.append(evil)
        # the name column shows its first characters, as text
        s = self.wait(0, re.compile(r"^[> ][* ] ev\?\[2J\?\]2;", re.M), 60)
        self.assertTrue(s.startswith("mesh \u2014 n0"), s)     # nothing cleared
        self.assertNotEqual(self.panes[0].display("#{pane_title}"), "pwned")
        self.assertNotIn("\x1b", s)
        # its details show the whole name, harmless
        self.panes[0].keys("Home", "Enter")
        self.wait(0, "Node     ev?[2J?]2;pwned?il")
        self.panes[0].keys("Escape")
        # the leader tells of the newcomer: its name is text in every event log
        for i in range(3):
            wait_for(lambda: "join" in self.events(i) and
                     "node ev?[2J?]2;pwned?il" in self.events(i), 40,
                     what="join event on %s" % NAMES[i])
        # drained from the CLI: the leader's event names it as text everywhere
        evil_id = evil.status()["id"]
        subprocess.run([MESH, "--data-dir", self.dirs[1], "drain", evil_id], check=True,
                       capture_output=True, timeout=20)
        for i in range(3):
            self.wait(i, re.compile(r"drain +n\d: node ev\?\[2J\?\]2;pwned\?il drain"), 60)
            self.assertNotIn("\x1b", self.events(i))


if __name__ == "__main__":
    require_tmux()
    MESH = os.path.abspath(sys.argv.pop(1))
    unittest.main()
