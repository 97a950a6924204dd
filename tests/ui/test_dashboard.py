#!/usr/bin/env python3
"""Dashboard layout and keys, driven by the ui_demo fixture (fake node,
canned snapshots) inside a private tmux server.

    test_dashboard.py UI_DEMO [DashboardTest.test_name ...]
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tmuxpane import require_tmux, TmuxPane  # noqa: E402

DEMO = None
HEADER = "mesh \u2014 alpha (a1b2c3d4e5f60718)"


def line_with(screen, word):
    """The first line starting with word, else the first line containing it
    as a word."""
    lines = screen.split("\n")
    for line in lines:
        if re.match(r"%s(\s|$)" % re.escape(word), line):
            return line
    for line in lines:
        if re.search(r"(^|\s)%s(\s|$)" % re.escape(word), line):
            return line
    raise AssertionError("no line with %r in:\n%s" % (word, screen))


class DashboardTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="mesh-ui-test-")
        self.actions = os.path.join(self.tmp.name, "actions.txt")
        self.pane = None

    def tearDown(self):
        if self.pane:
            self.pane.close()
        self.tmp.cleanup()

    def start(self, width=100, height=30, extra=()):
        self.pane = TmuxPane([DEMO, self.actions, *extra], width, height)
        return self.pane

    def recorded(self):
        try:
            with open(self.actions) as f:
                return f.read().split("\n")[:-1]
        except FileNotFoundError:
            return []

    def wait_recorded(self, line, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if line in self.recorded():
                return
            time.sleep(0.05)
        self.fail("action %r not recorded; got %r" % (line, self.recorded()))

    def quit_ok(self):
        self.pane.keys("q")
        self.assertEqual(self.pane.wait_exit(), 0)
        self.assertEqual(self.recorded()[-3:], ["quit", "closed", "exit 0"])

    def assert_fits(self, screen, width, height):
        lines = screen.split("\n")
        self.assertLessEqual(len(lines), height + 1)   # trailing newline
        for line in lines:
            self.assertLessEqual(len(line), width, line)

    # ---- tests ----------------------------------------------------------

    def test_header_nodes_meters_batches(self):
        p = self.start()
        s = p.wait_for(re.compile(r"running .* \d+%"))
        s = p.wait_for("19:20:05")
        self.assertIn(HEADER, s)
        self.assertIn("leader a1b2c3d4e5f60718", s)
        self.assertIn("mDNS: on", s)
        self.assertIn("1 other mesh", s)
        self.assertIn("Nodes (3)", s)
        for col in ("NAME", "ID", "ROLE", "STATE", "LINK", "WORKERS", "RATE", "HEARD"):
            self.assertIn(col, line_with(s, "WORKERS"))
        alpha, beta, gamma = (line_with(s, n) for n in ("alpha", "beta", "gamma"))
        self.assertRegex(alpha, r"leader\s+active\s+self\s+\[\|+ +\] 3/4\s+1\.2k/s\s+-$")
        self.assertRegex(beta, r"connected\s+\[\|+\] 2/2\s+812/s\s+0\.3s$")
        self.assertRegex(gamma, r"\sdown\s+\[ +\] 0/8\s+-\s+42s$")
        # totals count the reachable nodes only
        self.assertRegex(s, r"Mesh: 3 nodes, 1 down\s+rate 2\.0k/s.*\[\|+ +\] 5/6")
        # batches: the done one at 100%, the running one moving
        self.assertIn("Batches (2)", s)
        classic = line_with(s, "classic")
        self.assertRegex(classic, r">1 done\s+\[\|+\] 100%\s+999/999\s+0 classic")
        running = line_with(s, "running")
        pct = int(re.search(r"(\d+)%", running).group(1))
        self.assertRegex(running, r"2 running\s+\[\|+ *\]\s+\d+%\s+\d+/1000\s+2 1000 x 64-bit")
        s = p.wait_for(lambda t: re.search(r"running.*?(\d+)%", t) is None or
                       int(re.search(r"running.*?(\d+)%", t).group(1)) > pct)
        # log and footer
        self.assertIn("19:20:01 I node a1b2c3d4 (alpha) started, 4 workers", s)
        self.assertIn("W link down: gamma (timeout)", s)
        for key in ("s Classic", "b 64-bit", "B 100-bit", "c Cancel", "d Drain", "q Quit"):
            self.assertIn(key, s)
        self.assert_fits(s, 100, 30)
        self.quit_ok()

    def test_keys_call_actions(self):
        p = self.start()
        p.wait_for("19:20:05")
        p.keys("s")
        self.wait_recorded("submit classic")
        s = p.wait_for("submitted batch 3 (classic, 999 numbers)")
        p.wait_for(re.compile(r"3 (running|done) .*classic"))
        p.keys("b")
        self.wait_recorded("submit semiprimes64")
        p.wait_for("submitted batch 4 (1000 64-bit semiprimes)")
        p.keys("d")
        self.wait_recorded("drain 1")
        s = p.wait_for(re.compile(r"alpha .*(draining|drained)"))
        self.assertIn("d Undrain", s)
        p.keys("d")
        self.wait_recorded("drain 0")
        s = p.wait_for(re.compile(r"alpha .*leader\s+active"))
        self.assertIn("d Drain", s)
        self.assertEqual([a for a in self.recorded() if a != "started"][:4],
                         ["submit classic", "submit semiprimes64", "drain 1", "drain 0"])
        self.quit_ok()

    def test_submit_error_shown(self):
        p = self.start()
        p.wait_for("19:20:05")
        p.keys("B")
        self.wait_recorded("submit semiprimes100")
        p.wait_for("submit semiprimes100 failed: no leader (demo)")
        self.assertIn("Batches (2)", p.capture())
        self.quit_ok()

    def test_selection_and_cancel(self):
        p = self.start()
        p.wait_for("19:20:05")
        self.assertIn(">1 done", p.capture())
        p.keys("c")                       # batch 1 is done: the node says no
        self.wait_recorded("cancel 1")
        p.wait_for("cancel batch 1 failed: batch 1 is done")
        p.keys("Down")
        s = p.wait_for(">2 ")
        self.assertNotIn(">1", s)
        p.keys("Down")                    # already the last row
        p.keys("c")
        self.wait_recorded("cancel 2")
        s = p.wait_for("cancelling batch 2")
        p.wait_for(re.compile(r">2 cancelled"))
        p.keys("Up")
        p.wait_for(">1 done")
        # the selection follows its batch when new ones arrive
        p.keys("Down")
        p.wait_for(">2 cancelled")
        p.keys("s")
        p.wait_for(re.compile(r" 3 (running|done)"))
        self.assertIn(">2 cancelled", p.capture())
        self.quit_ok()

    def test_resize_80x24_and_back(self):
        p = self.start()
        p.wait_for("19:20:05")
        for w, h in ((80, 24), (120, 40), (60, 16), (80, 24)):
            p.resize(w, h)
            self.assertEqual(p.size(), (w, h))
            s = p.wait_for(lambda t, h=h: len(t.rstrip("\n").split("\n")) == h and
                           "q Quit" in t.split("\n")[h - 1] and "alpha" in t)
            self.assert_fits(s, w, h)
            self.assertTrue(s.startswith("mesh \u2014 alpha"), s)
            self.assertIn("gamma", s)
            self.assertRegex(s, r"\] 3/4")
            self.assertRegex(s, r"\] 100%")
        s = p.capture()
        self.assertIn("(a1b2c3d4)", s)     # short ids when narrow
        p.resize(30, 8)
        p.wait_for("terminal too small (30x8)")
        p.resize(100, 30)
        s = p.wait_for(HEADER)
        self.assertIn("19:20:05", s)
        self.quit_ok()

    def test_tiny_terminal(self):
        p = self.start(30, 8)
        p.wait_for("terminal too small (30x8)")
        p.keys("s")                        # keys still work
        self.wait_recorded("submit classic")
        self.quit_ok()

    def test_many_nodes_and_batches(self):
        p = self.start(80, 24, ["--nodes", "40", "--batches", "30"])
        s = p.wait_for("Nodes (43)")
        self.assert_fits(s, 80, 24)
        self.assertIn("Batches (32)", s)
        self.assertRegex(s, r"\.\.\. \d+ more nodes")
        p.keys("End")
        s = p.wait_for(">129 ")            # the last batch scrolled into view
        self.assertNotIn(">1 ", s)
        p.keys("Home")
        p.wait_for(">1 done")
        self.quit_ok()

    def test_hostile_names_sanitized(self):
        p = self.start(extra=["--hostile", "1"])
        s = p.wait_for("bye")
        # nothing was cleared or moved: the header is still on top and the
        # escapes are shown as '?' rather than obeyed
        self.assertTrue(s.startswith(HEADER), s)
        self.assertRegex(s, r"\nevil\?\[2J\?\[\S* b2c3d4e5f6071829 follower")
        self.assertIn("peer says ?[31mred?[0m ?]2;pwned? ?( bye", s)
        self.assertNotEqual(p.display("#{pane_title}"), "pwned")
        self.assertNotIn("\x1b", s)
        self.quit_ok()

    def test_no_terminal(self):
        # no tty: ui_start refuses and writes nothing to stdout
        r = subprocess.run([DEMO, self.actions], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"ui_start:", r.stderr)
        # a tty but a terminal type nobody knows: refused too
        self.pane = TmuxPane([DEMO, self.actions], 80, 24, env={"TERM": "no-such-term"})
        self.assertEqual(self.pane.wait_exit(), 1)


if __name__ == "__main__":
    require_tmux()
    DEMO = os.path.abspath(sys.argv.pop(1))
    unittest.main()
