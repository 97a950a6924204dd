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
from tmuxpane import require_tmux, TmuxPane, LEFT_BEHIND, colour_codes  # noqa: E402

DEMO = None
HEADER = "mesh \u2014 alpha (a1b2c3d4e5f60718)"


def row_of(screen, name):
    """The node table's row of a node: marks, then its name."""
    m = re.search(r"^[> ][* ] %s .*$" % re.escape(name), screen, re.M)
    if m is None:
        raise AssertionError("no row of %r in:\n%s" % (name, screen))
    return m.group(0)


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
        self.pane.wait_for("Quit this node?")
        self.pane.keys("y")
        self.assertEqual(self.pane.wait_exit(), 0)
        self.assertEqual(self.recorded()[-3:], ["quit", "closed", "exit 0"])

    def assert_fits(self, screen, width, height):
        lines = screen.split("\n")
        self.assertLessEqual(len(lines), height + 1)   # trailing newline
        for line in lines:
            self.assertLessEqual(len(line), width, line)

    def form_submit(self, kind_steps, *fields):
        """s, the kind (0 classic, 1 range, 2 semiprimes, 3 file), then each
        field (Tab first), then Enter."""
        p = self.pane
        p.keys("s")
        p.wait_for("Submit a batch")
        p.keys(str(kind_steps + 1))      # on the kind row: 1-4 pick the kind
        for f in fields:
            p.keys("Tab")
            if f:
                p.keys("-l", f)
        p.keys("Enter")

    # ---- tests ----------------------------------------------------------

    def test_header_nodes_meters_batches(self):
        p = self.start()
        s = p.wait_for(re.compile(r"running .* \d+%"))
        s = p.wait_for("19:20:05")
        self.assertIn(HEADER, s)
        self.assertIn("leader alpha (a1b2c3d4e5f60718) term 7", s)
        self.assertIn("mDNS: on", s)
        self.assertIn("1 other mesh", s)
        self.assertRegex(s, r"Nodes 2/3 up\s+voters 2/3 quorum ok\s+2\.0k/s\s+Numbers: \d+ pending"
                            r"\s+\d+ in flight\s+\d+ done")
        self.assertIn("Nodes (3)", s)
        for col in ("NAME", "ADDRESS", "ROLE", "STATE", "WORKERS", "RATE", "LAST 60s", "DONE",
                    "LINK", "HEARD"):
            self.assertIn(col, line_with(s, "WORKERS"))
        alpha, beta, gamma = (row_of(s, n) for n in ("alpha", "beta", "gamma"))
        # the selection (>) and the leader (*) marks
        self.assertRegex(alpha, r"^>\* alpha\s+-\s+leader\s+active\s+\[\|+ +\] 3/4\s+1\.2k/s")
        self.assertRegex(alpha, r"12345 self\s+-$")
        self.assertRegex(beta, r"^   beta .*voter\s+active\s+\[\|+\] 2/2\s+812/s.*8120 up\s+0\.3s$")
        self.assertRegex(gamma, r"\[ +\] 0/8\s+-\s+0 down\s+42s$")
        # totals count the reachable nodes only
        self.assertRegex(s, r"Mesh: 3 nodes, 1 down\s+rate 2\.0k/s.*\[\|+ +\] 5/6")
        # batches: the done one at 100%, the running one moving with a rate
        self.assertIn("Batches (2)", s)
        classic = line_with(s, "classic")
        self.assertRegex(classic, r"1 done\s+\[\|+\] 100%\s+999/999\s+-\s+-\s+0 classic")
        running = line_with(s, "running")
        pct = int(re.search(r"(\d+)%", running).group(1))
        self.assertRegex(running, r"2 running\s+\[\|+ *\]\s+\d+%\s+\d+/1000\s+")
        s = p.wait_for(lambda t: re.search(r"running.*?(\d+)%", t) is None or
                       int(re.search(r"running.*?(\d+)%", t).group(1)) > pct)
        s = p.wait_for(re.compile(r"running .*/1000\s+\d+/s\s+\d+s\s+2 1000 x 64-bit"))
        # the event log and the help bar
        self.assertIn("19:20:01 join     alpha: node alpha (a1b2c3d4) started, 4 workers", s)
        self.assertIn("19:20:05 leave    alpha: node gamma (c3d4e5f6) is down", s)
        for key in ("s Submit", "Tab Batches", "d Drain", "u Undrain", "c Cancel",
                    "Enter Info", "? Help", "q Quit"):
            self.assertIn(key, s)
        # a sparkline of each node's last minute
        self.assertRegex(alpha, "[\u2581-\u2588]")
        self.assert_fits(s, 100, 30)
        self.quit_ok()

    def test_keys_call_actions(self):
        p = self.start()
        p.wait_for("19:20:05")
        self.form_submit(0)
        self.wait_recorded("submit classic")
        p.wait_for(re.compile(r"batch 3 (submitted \(classic\)|\(classic\) done)"))
        p.wait_for(re.compile(r"3 (running|done) .*classic"))
        self.form_submit(1, "1000", "50")
        self.wait_recorded("submit range 1000 50 1")
        p.wait_for(re.compile(r"batch 4 (submitted \(range 1000 x50\)|\(range 1000 x50\) done)"))
        self.form_submit(2, "80", "10", "42")
        self.wait_recorded("submit semiprimes 80 10 42")
        self.form_submit(3, "/tmp/numbers.txt")
        self.wait_recorded("submit file /tmp/numbers.txt")
        # drain and undrain another node of the mesh: the selected one
        p.keys("Down")
        p.wait_for(re.compile(r"^> +beta", re.M))
        p.keys("d")
        self.wait_recorded("drain beta 1")
        p.wait_for(re.compile(r"beta .*(draining|drained)"))
        s = p.wait_for("draining beta")
        self.assertRegex(row_of(s, "alpha"), r"active")
        p.keys("u")
        self.wait_recorded("drain beta 0")
        p.wait_for(re.compile(r"beta .*voter\s+active"))
        self.assertEqual([a for a in self.recorded() if a != "started"][:6],
                         ["submit classic", "submit range 1000 50 1",
                          "submit semiprimes 80 10 42", "submit file /tmp/numbers.txt",
                          "drain beta 1", "drain beta 0"])
        self.quit_ok()

    def test_submit_form_errors(self):
        p = self.start()
        p.wait_for("19:20:05")
        self.form_submit(1, "12x", "5")             # bad start: shown, not submitted
        s = p.wait_for("start must be a whole number below 2^1024")
        self.assertIn("Submit a batch", s)
        p.keys("BSpace", "BSpace", "BSpace", "BSpace", "BSpace")   # still in the form
        p.keys("Up")
        p.keys("C-u")
        p.keys("-l", "77")
        p.keys("Tab", "C-u", "0", "Enter")          # count 0: refused by the form
        p.wait_for("count must be a whole number from 1 to 10000000")
        p.keys("Escape")
        p.wait_for("submit cancelled")
        self.assertNotIn("Submit a batch", p.capture())
        self.assertEqual([a for a in self.recorded() if a.startswith("submit")], [])
        # an error from the node is shown in the form too
        self.form_submit(2, "100", "5")
        self.wait_recorded("submit semiprimes 100 5 0")
        s = p.wait_for("no leader (demo)")
        self.assertIn("Submit a batch", s)
        p.keys("Escape")
        self.assertIn("Batches (2)", p.wait_for("submit cancelled"))
        self.quit_ok()

    def test_selection_and_cancel(self):
        p = self.start()
        p.wait_for("19:20:05")
        p.keys("Tab")
        s = p.wait_for("Batches (2)  [selected panel]")
        self.assertIn(">2 running", s)     # running batches first
        p.keys("Down")
        s = p.wait_for(">1 done")
        p.keys("c")                       # batch 1 is done: nothing to ask
        p.wait_for("batch 1 is done already")
        p.keys("Down")                    # already the last row
        p.keys("Up")
        s = p.wait_for(">2 ")
        self.assertNotIn(">1", s)
        p.keys("c")
        p.wait_for("Cancel batch 2?")
        p.keys("n")                       # declined: nothing happens
        p.wait_for("batch 2 not cancelled")
        self.assertNotIn("cancel 2", self.recorded())
        p.keys("c")
        p.wait_for("Cancel batch 2?")
        p.keys("y")
        self.wait_recorded("cancel 2")
        p.wait_for("cancelling batch 2")
        s = p.wait_for(re.compile(r">2 cancelled"))
        # finished ones newest first: 2 above 1
        self.assertLess(s.index(">2 cancelled"), s.index(" 1 done"))
        p.keys("Down")
        p.wait_for(">1 done")
        # a new batch: listed first, and the selection follows it
        self.form_submit(0)
        p.wait_for(re.compile(r">3 (running|done)"))
        self.quit_ok()

    def test_batches_running_first_and_follow_new(self):
        # 19 batches at 80x24: oldest first put the running one off-screen
        p = self.start(80, 24, ["--done-batches", "17", "--async", "1"])
        s = p.wait_for("Batches (19)")
        self.assert_fits(s, 80, 24)
        rows = re.findall(r"^ +>?(\d+) (running|done)", s, re.M)
        self.assertEqual(rows[0], ("2", "running"))          # running first
        self.assertEqual([int(r[0]) for r in rows[1:4]], [19, 18, 17])  # newest first
        # a submit the leader answers later: "submitting" until it is seen,
        # then the selection follows the new batch, then its end is told
        self.form_submit(0)
        p.wait_for("submitting classic...")
        s = p.wait_for(re.compile(r"batch 20 (submitted \(classic\)|\(classic\) done)"))
        p.keys("Tab")
        s = p.wait_for(re.compile(r">20 (running|done)"))
        s = p.wait_for("batch 20 (classic) done: 999/999 numbers, 0 unfactored")
        self.assertNotIn("submitting", s)
        self.quit_ok()

    def test_forget_key_asks_then_forgets(self):
        p = self.start()
        p.wait_for("19:20:05")
        p.keys("Tab")
        p.wait_for(">2 running")
        p.keys("f")                       # running: not forgotten, told why
        p.wait_for("batch 2 is running: cancel it first (c)")
        p.keys("Down")
        p.wait_for(">1 done")
        p.keys("f")
        s = p.wait_for("Forget batch 1?")
        self.assertIn("every node of the mesh", s)
        p.keys("n")                       # declined
        p.wait_for("batch 1 kept")
        self.assertNotIn("forget 1", self.recorded())
        p.keys("f")
        p.wait_for("Forget batch 1?")
        p.keys("y")
        self.wait_recorded("forget 1")
        p.wait_for("forgetting batch 1 and its results")
        s = p.wait_for("Batches (1)")
        self.assertNotRegex(s, r" 1 done .*classic")
        p.keys("?")                       # the key is in the help
        s = p.wait_for("Keys")
        self.assertIn("forget the selected finished or cancelled batch", s)
        p.keys("x")
        self.quit_ok()

    def test_retained_results_in_header(self):
        p = self.start(140, 30, ["--retained", "1"])
        s = p.wait_for("results 12MiB/512MiB")
        self.assertNotIn("RESULTS FULL", s)
        self.quit_ok()
        self.pane.close()
        os.remove(self.actions)
        p = self.start(80, 24, ["--retained", "full"])
        s = p.wait_for("RESULTS FULL: submits refused")
        self.assert_fits(s, 80, 24)
        self.assertIn("RESULTS FULL", s.split("\n")[0])   # on the header line
        self.quit_ok()

    def test_form_typing_replaces_old_text(self):
        p = self.start()
        p.wait_for("19:20:05")
        self.form_submit(2, "100", "5")          # refused by the demo: form stays
        p.wait_for("no leader (demo)")
        s = p.capture()
        self.assertIn("^U clear", s)             # the form's own help line
        p.keys("Up")                             # back on Bits (the form kept 100)
        p.keys("-l", "120")
        p.keys("Enter")
        self.wait_recorded("submit semiprimes 120 5 0")   # not 100120
        p.keys("s")
        p.wait_for("Submit a batch")
        p.keys("Tab", "BSpace")                  # an edit key keeps the text
        p.keys("-l", "8")
        p.keys("Enter")
        self.wait_recorded("submit semiprimes 128 5 0")
        self.assertNotIn("submit semiprimes 100120 5 0", self.recorded())
        p.keys("?")
        self.assertIn("^U clears", p.wait_for("Keys"))
        p.keys("x")
        self.quit_ok()

    def test_events_folded_and_shown_in_full(self):
        p = self.start(80, 30, ["--events", "1"])
        s = p.wait_for("(x16) lease of batch 2")
        long_line = line_with(s, "warning")
        self.assertTrue(long_line.endswith("~"), long_line)   # cut: says so
        self.assertNotIn("THE-END-OF-THE-LINE", s)
        p.keys("e")
        s = p.wait_for("THE-END-OF-THE-LINE")
        self.assertIn("requeued (16 times since 19:20:06)", s)
        self.assert_fits(s, 80, 30)
        p.keys("x")
        p.wait_for(lambda t: "THE-END-OF-THE-LINE" not in t)
        self.quit_ok()

    def test_help_details_and_quit_confirmation(self):
        p = self.start()
        p.wait_for("19:20:05")
        p.keys("?")
        s = p.wait_for("Keys")
        for key in ("submit a batch", "drain / undrain the selected node", "asks y/n"):
            self.assertIn(key, s)
        p.keys("x")                        # any key closes it
        p.wait_for(lambda t: "drain / undrain" not in t)
        p.keys("Down", "Enter")            # the selected node's details
        s = p.wait_for("Node     beta")
        self.assertIn("Workers  2 busy of 2", s)
        self.assertIn("Leases   0", s)
        p.keys("Escape")
        p.keys("Tab", "End", "Enter")      # a batch's details and first results
        s = p.wait_for("demo result of batch 1")
        self.assertIn("Done     999 of 999", s)
        p.keys("Escape")
        p.keys("q")
        p.wait_for("Quit this node?")
        p.keys("n")                        # declined: still running
        p.wait_for("not quitting")
        self.assertIsNone(p.dead())
        self.quit_ok()

    def test_batch_details_show_long_numbers(self):
        # Batch 2 has a number sieving on beta and one in ECM on alpha: its
        # details say where each is, and the open box follows the counts; a
        # third is sieved by the whole mesh (its counts, the nodes by name).
        p = self.start(extra=["--hard", "1"])
        p.wait_for("19:20:05")
        p.keys("Tab", "Home", "Enter")
        s = p.wait_for("Long numbers:")
        self.assertIn("Batch    2", s)
        self.assertIn("#18 400 bits  ecm B1=50000 3/214 curves  1.5/s  ETA -  on alpha worker 0",
                      s)
        line = line_with(s, "#17 206 bits  sieving")
        self.assertIn("/5901 sets  566/s  ETA", line)
        self.assertIn("on beta worker 1", line)
        self.assertIn("Whole mesh:", s)
        self.assertIn("#40 196 bits  sieving 300/1200 sets  150/s  ETA 6s  spread batch 9 on "
                      "alpha beta", s)
        first = int(line.split("sieving ")[1].split("/")[0])
        later = p.wait_for(lambda t: "sieving" in t and
                           int(line_with(t, "sieving").split("sieving ")[1].split("/")[0])
                           > first)
        self.assertIn("on beta worker 1", line_with(later, "sieving"))
        p.wait_for("#17 206 bits  matrix  on beta", timeout=30)  # the box followed
        p.keys("Escape")
        p.wait_for(lambda t: "Long numbers:" not in t)
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
            for name in ("alpha", "beta", "gamma") if h >= 24 else ("alpha",):
                self.assertIn(name, s)
            self.assertRegex(s, r"\n>\* alpha ")
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
        self.quit_ok()                     # keys still work

    def test_many_nodes_and_batches(self):
        p = self.start(80, 24, ["--nodes", "40", "--batches", "30"])
        s = p.wait_for("Nodes (43)")
        self.assert_fits(s, 80, 24)
        self.assertIn("Batches (32)", s)
        self.assertRegex(s, r"\.\.\. 0 more above, \d+ below")
        p.keys("End")                      # the last node scrolled into view
        s = p.wait_for(re.compile(r"^> +gamma", re.M))
        self.assertNotRegex(s, r"\n>\* alpha")
        p.keys("Tab")                      # running batches first, newest first
        s = p.wait_for(">129 running")
        p.keys("End")
        s = p.wait_for(">1 done")          # the last batch scrolled into view
        self.assertNotIn(">129 ", s)
        p.keys("Home")
        p.wait_for(">129 running")
        self.quit_ok()

    def test_hostile_names_sanitized(self):
        p = self.start(extra=["--hostile", "1"])
        s = p.wait_for("bye")
        # nothing was cleared or moved: the header is still on top and the
        # escapes are shown as '?' rather than obeyed
        self.assertTrue(s.startswith(HEADER), s)
        self.assertRegex(s, r"\n   evil\?\[2J\?\[\S* .*voter")
        self.assertIn("peer says ?[31mred?[0m ?]2;pwned? ?( bye", s)
        self.assertIn("evil?[2J: ", s)
        self.assertNotEqual(p.display("#{pane_title}"), "pwned")
        self.assertNotIn("\x1b", s)
        self.quit_ok()

    def test_no_color(self):
        # NO_COLOR (https://no-color.org) and the --no-color option
        # (DEMO_NO_COLOR here): attributes such as bold and reverse stay,
        # but no colour at all
        for env in ({"NO_COLOR": "1"}, {"DEMO_NO_COLOR": "1"}):
            self.pane = TmuxPane([DEMO, self.actions], 100, 30, env=env)
            self.pane.wait_for("19:20:05")
            esc = self.pane.capture_escapes()
            self.assertIn("\x1b[", esc, "no attributes at all?")
            self.assertEqual(colour_codes(esc), [])
            self.quit_ok()
            self.pane.close()
            self.pane = None
        # and with colours, there are some
        p = self.start()
        p.wait_for("19:20:05")
        self.assertNotEqual(colour_codes(p.capture_escapes()), [])
        self.quit_ok()

    def test_ascii_when_not_utf8(self):
        p = self.pane = TmuxPane([DEMO, self.actions], 100, 30,
                                 env={"LANG": "C", "LC_ALL": "C"})
        s = p.wait_for("19:20:05")
        self.assertTrue(s.startswith("mesh - alpha"), s)
        p.keys("?")
        s = p.wait_for("Keys")
        p.keys("x")
        p.keys("s")
        s2 = p.wait_for("Submit a batch")
        for screen in (s, s2):
            self.assertEqual([c for c in screen if ord(c) > 126], [], screen)
        self.assertIn("+- Submit a batch --", s2)
        p.keys("Escape")
        self.quit_ok()

    def assert_terminal_usable(self, pane):
        alternate, cursor, modes = pane.terminal_left()
        self.assertFalse(alternate)                            # back from the dashboard
        self.assertTrue(cursor)                                # cursor shown
        for mode in ("icanon", "echo", "icrnl", "opost"):     # a shell works again
            self.assertIn(mode, modes)

    def test_quit_restores_terminal(self):
        p = self.pane = TmuxPane([DEMO, self.actions], 80, 24, after=LEFT_BEHIND)
        p.wait_for("19:20:05")
        self.assertEqual(p.display("#{alternate_on}"), "1")
        p.keys("q")
        p.wait_for("Quit this node?")
        p.keys("y")
        self.assert_terminal_usable(p)
        self.assertEqual(p.wait_exit(), 0)

    def test_fatal_signal_restores_terminal(self):
        p = self.pane = TmuxPane([DEMO, self.actions], 80, 24, after=LEFT_BEHIND)
        p.wait_for("19:20:05")
        self.form_submit(3, "/crash")          # the demo aborts there
        self.assert_terminal_usable(p)
        self.assertEqual(p.wait_exit(), 128 + 6)   # died of SIGABRT all the same

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
