#!/usr/bin/env python3
"""The real node's dashboard: `mesh` (no --headless) inside a private tmux
server; keys drive it exactly as a user would.

    test_node_dashboard.py MESH [NodeDashboardTest.test_name ...]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmuxpane import require_tmux, TmuxPane, _alive, LEFT_BEHIND, colour_codes  # noqa: E402

MESH = None


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class NodeDashboardTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mesh-ui-node-")
        self.pane = None

    def tearDown(self):
        if self.pane:
            self.pane.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(os.path.join(self.dir, "mesh.log")) as f:
                return f.read()
        except FileNotFoundError:
            return "(no mesh.log)"

    def wait(self, what, timeout=20.0):
        try:
            return self.pane.wait_for(what, timeout)
        except AssertionError as e:
            raise AssertionError("%s\nnode log:\n%s" % (e, self.log())) from None

    def start(self, width=100, height=30):
        self.pane = TmuxPane([MESH, "--authkey", "k", "--data-dir", self.dir,
                              "--no-mdns", "--port", "0", "--workers", "2",
                              "--name", "uinode"], width, height)
        return self.pane

    def test_submit_drain_quit(self):
        p = self.start()
        s = self.wait(re.compile(r"^mesh \u2014 uinode \([0-9a-f]{16}\)", re.M))
        s = self.wait(re.compile(r"^[> ][* ] uinode .*\] \d/2 .* self ", re.M))
        self.assertIn("mDNS: off", s)
        self.assertIn("Nodes (1)", s)
        # a lone node organises for ~2 s, then bootstraps and leads
        s = self.wait(re.compile(r"leader uinode \([0-9a-f]{16}\) term \d+"))
        self.wait(re.compile(r"election uinode: uinode is the leader"))
        workers = children(p.pid)
        self.assertGreaterEqual(len(workers), 2, workers)

        p.keys("s")
        self.wait("Submit a batch")
        p.keys("1", "Enter")             # the classic workload
        self.wait("submitting classic")
        # the write goes through the leader's log; the batch reaches the event log
        s = self.wait(re.compile(r"batch (\d+)(?: \([^)]*\))? (submitted|done)"))
        bid = re.search(r"batch (\d+)(?: \([^)]*\))? (submitted|done)", s).group(1)
        row = re.compile(r"^ *>?%s (running|done)\s+\[\|* *\]\s+\d+%%\s+\d+/999\s+.*classic"
                         % bid, re.M)
        self.wait(row)
        s = self.wait(re.compile(r"^ *>?%s done\s+\[\|+\] 100%%\s+999/999\s+-\s+-\s+0 classic"
                                 % bid, re.M), timeout=60)
        self.assertIn("Batches (1)", s)
        # the dashboard and the control socket agree
        st = subprocess.run([MESH, "--data-dir", self.dir, "status", "--json"],
                            capture_output=True, text=True, timeout=20)
        self.assertEqual(st.returncode, 0, st.stderr)
        self.assertRegex(st.stdout, r'"done":\s*999')

        p.keys("d")
        s = self.wait(re.compile(r"^>\* uinode .*(draining|drained)", re.M))
        self.wait(re.compile(r"^>\* uinode .*drained", re.M))
        self.wait(re.compile(r"drain +uinode: node uinode drained"))
        p.keys("u")
        self.wait(re.compile(r"^>\* uinode .*active", re.M))

        p.keys("q")
        self.wait("Quit this node?")
        p.keys("y")
        self.assertEqual(p.wait_exit(timeout=20), 0, self.log())
        for w in workers:                 # the node took its workers along
            self.assertFalse(_alive(w), "worker %d still running" % w)
        self.assertIn("uinode", self.log())

    def test_forget_key_and_results_budget(self):
        # f on a finished batch forgets it mesh-wide (the FORGET `mesh
        # forget` proposes); the header shows the results kept vs the budget
        p = self.start(140, 30)
        self.wait(re.compile(r"leader uinode \([0-9a-f]{16}\) term \d+"))
        self.wait(re.compile(r"results \d+(\.\d)?[KM]?i?B/256MiB"))
        p.keys("s")
        self.wait("Submit a batch")
        p.keys("1", "Enter")
        s = self.wait(re.compile(r"^ *>?(\d+) done\s+\[\|+\] 100%.*classic", re.M), timeout=60)
        bid = re.search(r"^ *>?(\d+) done\s+\[", s, re.M).group(1)
        p.keys("Tab")
        self.wait(">%s done" % bid)
        p.keys("f")
        self.wait("Forget batch %s?" % bid)
        p.keys("y")
        s = self.wait("Batches (0)")
        self.wait("batch %s forgotten" % bid)
        st = subprocess.run([MESH, "--data-dir", self.dir, "results", bid],
                            capture_output=True, text=True, timeout=20)
        self.assertEqual(st.returncode, 1)
        self.assertIn("batch %s was forgotten" % bid, st.stderr)
        p.keys("q")
        self.wait("Quit this node?")
        p.keys("y")
        self.assertEqual(p.wait_exit(timeout=20), 0, self.log())

    def test_ctrl_c_stops_gracefully(self):
        # ^C reaches the node's own SIGINT handler (not ncurses'): the node
        # stops, restores the terminal and exits 0
        p = self.start(80, 24)
        self.wait(re.compile(r"^>\* uinode .* self ", re.M))
        p.keys("C-c")
        self.assertEqual(p.wait_exit(timeout=20), 0, self.log())
        self.assertNotIn("Nodes (1)", p.capture())   # left the alternate screen

    def test_resize_keeps_running(self):
        p = self.start(80, 24)
        self.wait(re.compile(r"^>\* uinode .* self ", re.M))
        p.keys("s", "3", "Tab")
        p.keys("-l", "64")
        p.keys("Tab")
        p.keys("-l", "300")
        p.keys("Enter")
        self.wait(re.compile(r"done\s+\[\|+\] 100%\s+300/300"), timeout=60)
        for w, h in ((120, 40), (50, 14), (80, 24)):
            p.resize(w, h)
            s = self.wait(lambda t, h=h: len(t.rstrip("\n").split("\n")) == h and
                          "uinode" in t and "100%" in t)
            for line in s.split("\n"):
                self.assertLessEqual(len(line), w)
        p.keys("q", "y")
        self.assertEqual(p.wait_exit(timeout=20), 0, self.log())


    def test_no_color_ascii_and_quit_leave_terminal_usable(self):
        # a real node under NO_COLOR and LANG=C: no colour attribute, ASCII
        # only (boxes too), and q y leaves a terminal a shell can use
        p = self.pane = TmuxPane([MESH, "--authkey", "k", "--data-dir", self.dir,
                                  "--no-mdns", "--port", "0", "--workers", "1",
                                  "--name", "plain"], 80, 24,
                                 env={"NO_COLOR": "1", "LANG": "C", "LC_ALL": "C"},
                                 after=LEFT_BEHIND)
        s = self.wait(re.compile(r"election +plain: plain is the leader"))
        self.assertTrue(s.startswith("mesh - plain ("), s)
        screens = [s]
        for keys, what in ((["?"], "Keys"), (["x", "s"], "Submit a batch")):
            p.keys(*keys)
            screens.append(self.wait(what))
        for screen in screens:
            self.assertEqual([c for c in screen if ord(c) > 126], [], screen)
        self.assertEqual(colour_codes(p.capture_escapes()), [])
        p.keys("Escape", "q")
        self.wait("Quit this node?")
        p.keys("y")
        alternate, cursor, modes = p.terminal_left()
        self.assertFalse(alternate)
        self.assertTrue(cursor)
        for mode in ("icanon", "echo", "icrnl", "opost"):
            self.assertIn(mode, modes)
        self.assertEqual(p.wait_exit(timeout=20), 0, self.log())

    def test_unknown_terminal_runs_headless(self):
        # A terminal ncurses cannot drive: the node says so and runs on
        # headless, serving the CLI as usual.
        self.pane = TmuxPane([MESH, "--authkey", "k", "--data-dir", self.dir,
                              "--no-mdns", "--port", "0", "--workers", "1"],
                             80, 24, env={"TERM": "no-such-term"})

        def status_ok():
            return subprocess.run([MESH, "--data-dir", self.dir, "status"],
                                  capture_output=True, timeout=20).returncode == 0
        deadline = time.monotonic() + 20
        while not status_ok():
            self.assertLess(time.monotonic(), deadline, self.log())
            time.sleep(0.1)
        self.assertIn("running headless", self.log())
        r = subprocess.run([MESH, "--data-dir", self.dir, "submit", "--count", "5"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)

if __name__ == "__main__":
    require_tmux()
    MESH = os.path.abspath(sys.argv.pop(1))
    unittest.main()
