"""Node lifecycle through the control socket, with real worker processes.

usage: test_node.py MESH_BINARY [unittest args, e.g. NodeTest.test_classic]
Oracles: coreutils `factor` (the text format is byte-identical to it)."""
import ctypes
import json
import os
import signal
import socket
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshnode import Node, wait_for  # noqa: E402

MESH = None


def coreutils_factor(numbers):
    r = subprocess.run(["factor"], input="\n".join(str(n) for n in numbers) + "\n",
                       capture_output=True, text=True, check=True)
    return r.stdout


def gp_factor(numbers):
    """PARI/GP as the oracle where coreutils is slow (> 64 bits), printed in
    coreutils' format."""
    script = "".join(
        'my(f=factor(%d),s="%d:");for(i=1,#f~,for(j=1,f[i,2],s=Str(s," ",f[i,1])));print(s)\n'
        % (n, n) for n in numbers)
    r = subprocess.run(["gp", "-q", "-f", "--default", "parisizemax=1000000000"],
                       input=script, capture_output=True, text=True, check=True)
    return r.stdout


def alive(pid):
    """True while pid runs (a zombie awaiting its reaper counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def batch(node, bid):
    for b in node.status()["batches"]:
        if b["id"] == bid:
            return b
    raise AssertionError("no batch %d in status" % bid)


class NodeTest(unittest.TestCase):
    def setUp(self):
        self.nodes = []

    def tearDown(self):
        for n in self.nodes:
            n.stop()

    def start(self, **kw):
        n = Node(MESH, **kw)
        self.nodes.append(n)
        return n.wait_ready()

    def submit(self, node, *args, input=None):
        r = node.cli("submit", *args, input=input)
        return int(r.stdout.strip())

    # -- the test library -----------------------------------------------------

    def test_port_taken_before_bind_starts_on_a_new_one(self):
        """Another test process can take a chosen port between free_port's
        check and the node's bind (CI met it under load): the node is
        started again on a new port, its old log kept aside."""
        import meshnode
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("0.0.0.0", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        real = meshnode.free_port
        ports = iter([taken])
        meshnode.free_port = lambda: next(ports, None) or real()
        try:
            n = Node(MESH)
            self.nodes.append(n)
            self.assertEqual(n.port, taken)
            n.wait_ready()
        finally:
            meshnode.free_port = real
            squatter.close()
        self.assertNotEqual(n.port, taken)
        self.assertIn("address already in use",
                      open(os.path.join(n.dir, "stderr.txt.port%d" % taken)).read() +
                      open(os.path.join(n.dir, "node.log.port%d" % taken)).read())
        wait_for(lambda: n.status().get("leader"), timeout=15, what="a leader")

    # -- the classic workload and the submit shapes -------------------------

    def test_classic_workload_matches_coreutils(self):
        n = self.start()
        bid = self.submit(n)
        out = n.cli("results", str(bid), "--wait").stdout
        expected = coreutils_factor(range(999999999999, 999999999999 + 2 * 999, 2))
        self.assertEqual(out, expected)
        b = batch(n, bid)
        self.assertEqual((b["total"], b["done"], b["state"]), (999, 999, "done"))

    def test_range_semiprimes_and_file(self):
        n = self.start()
        r1 = self.submit(n, "--start", "18446744073709551000", "--count", "40", "--step", "7")
        self.assertEqual(n.cli("results", str(r1), "--wait").stdout,
                         coreutils_factor(18446744073709551000 + 7 * i for i in range(40)))
        nums = [0, 1, 2, 97, 561, 4294967291 * 4294967279, 2**64 - 1, 2**64 + 1, 10**30 + 57]
        path = os.path.join(n.dir, "numbers.txt")
        with open(path, "w") as f:
            f.write("# a comment\n\n" + "\n".join("  %d " % x for x in nums) + "\n")
        r2 = self.submit(n, "--file", path)
        self.assertEqual(n.cli("results", str(r2), "--wait").stdout, coreutils_factor(nums))
        r6 = self.submit(n, "--start", "10", "--count", "5")  # step 1 unless given
        self.assertEqual(n.cli("results", str(r6), "--wait").stdout,
                         coreutils_factor(range(10, 15)))
        r3 = self.submit(n, "--file", "-", input="12\n35\n")
        self.assertEqual(n.cli("results", str(r3), "--wait").stdout, "12: 2 2 3\n35: 5 7\n")
        r4 = self.submit(n, "--semiprimes", "64", "--count", "30", "--seed", "7")
        lines = n.cli("results", str(r4), "--wait").stdout.splitlines()
        self.assertEqual(len(lines), 30)
        nums4 = [int(l.split(":")[0]) for l in lines]
        self.assertEqual("\n".join(lines) + "\n", coreutils_factor(nums4))
        for x in nums4:
            self.assertEqual(x.bit_length(), 64)
        # Reproducible from the seed: a second batch gives the same numbers.
        r5 = self.submit(n, "--semiprimes", "64", "--count", "30", "--seed", "7")
        self.assertEqual(n.cli("results", str(r5), "--wait").stdout.splitlines(), lines)

    def test_results_json_lines(self):
        n = self.start()
        bid = self.submit(n, "--file", "-", input="12\n1\n1000000000000000000000000000057\n")
        rows = [json.loads(l) for l in
                n.cli("results", str(bid), "--wait", "--json").stdout.splitlines()]
        self.assertEqual(rows[0], {"n": "12", "factors": ["2", "2", "3"]})
        self.assertEqual(rows[1], {"n": "1", "factors": []})
        self.assertEqual(rows[2]["n"], "1000000000000000000000000000057")
        prod = 1
        for f in rows[2]["factors"]:
            self.assertIsInstance(f, str)
            prod *= int(f)
        self.assertEqual(prod, 10**30 + 57)

    def test_status_json_shape(self):
        n = self.start(workers=3, name="alpha")
        self.submit(n, "--count", "10")
        st = n.status()
        self.assertEqual(len(st["nodes"]), 1)
        me = st["nodes"][0]
        for key in ("id", "name", "self", "role", "state", "connected", "workers", "rate"):
            self.assertIn(key, me)
        self.assertEqual((me["name"], me["self"], me["workers"]), ("alpha", True, 3))
        self.assertEqual(len(me["id"]), 16)
        self.assertEqual(st["leader"], me["id"])
        self.assertEqual(st["batches"][0]["total"], 10)
        for key in ("id", "total", "done", "state"):
            self.assertIn(key, st["batches"][0])
        # The text form shows the same: this node's row and the batch's row
        # (BATCH STATE DONE TOTAL % NAME) with its id and total.
        text = n.cli("status").stdout.splitlines()
        self.assertTrue(any(l.split()[:2] == ["alpha", me["id"][:8]] for l in text), text)
        rows = [l.split() for l in text if l.split()[:1] == [str(st["batches"][0]["id"])]]
        self.assertEqual(len(rows), 1, text)
        self.assertEqual(rows[0][3], "10")
        # Only the data dir's owner may talk to the node.
        self.assertEqual(os.stat(os.path.join(n.dir, "control.sock")).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.join(n.dir, "node.key")).st_mode & 0o777, 0o600)

    # -- the CLI refuses what it should, in one wording ---------------------

    def test_submit_conflicts_and_limits_exit_2(self):
        n = self.start()
        with open(os.path.join(n.dir, "x.txt"), "w") as f:
            f.write("12\n")
        x = os.path.join(n.dir, "x.txt")
        cases = [
            (["--start", "10", "--count", "3", "--file", x],
             "--file cannot be combined with --start"),
            (["--file", x, "--count", "3"], "--file cannot be combined with --count"),
            (["--semiprimes", "64", "--step", "2"],
             "--semiprimes cannot be combined with --step"),
            (["--seed", "5"], "--seed goes with --semiprimes only"),
            (["--count", "10000001"], "count must be a whole number from 1 to 10000000"),
            (["--semiprimes", "64", "--count", "100000000"],
             "count must be a whole number from 1 to 10000000"),
            (["--count", "abc"], "count must be a whole number from 1 to 10000000"),
            (["--semiprimes", "8"], "bits must be a whole number from 16 to 1024"),
            (["--step", "0"], "step must be a whole number from 1 to"),
            (["--count", "5", "--count", "6"], "--count is given twice"),
            (["--start", "1" + "0" * 400], "start must be a whole number below 2^1024"),
        ]
        for args, why in cases:
            r = n.cli("submit", *args, check=False)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertTrue(r.stderr.startswith("mesh submit: " + why), (args, r.stderr))
        self.assertEqual(n.status()["batches"], [])          # nothing was submitted
        # the largest count is accepted, by the CLI and the node alike
        bid = self.submit(n, "--count", "10000000", "--name", "big")
        self.assertEqual(batch(n, bid)["total"], 10000000)
        n.cli("cancel", str(bid))

    def test_semiprimes_defaults_are_the_forms(self):
        # --semiprimes without --count: the form's 100 (not 999), and a
        # fresh seed each time (not seed 1): two submits, other numbers
        n = self.start()
        a = self.submit(n, "--semiprimes", "24")
        b = self.submit(n, "--semiprimes", "24")
        self.assertEqual((batch(n, a)["total"], batch(n, b)["total"]), (100, 100))
        ra = n.cli("results", str(a), "--wait").stdout
        rb = n.cli("results", str(b), "--wait").stdout
        self.assertEqual(len(ra.splitlines()), 100)
        self.assertNotEqual(ra, rb)
        # a seed given is the same numbers again
        c = self.submit(n, "--semiprimes", "24", "--count", "5", "--seed", "7")
        d = self.submit(n, "--semiprimes", "24", "--count", "5", "--seed", "7")
        self.assertEqual(n.cli("results", str(c), "--wait").stdout,
                         n.cli("results", str(d), "--wait").stdout)
        # a range given only --start gets the range defaults: 999 numbers, step 1
        e = self.submit(n, "--start", "1000")
        self.assertEqual(batch(n, e)["total"], 999)
        first = n.cli("results", str(e), "--wait").stdout.splitlines()[:2]
        self.assertEqual([l.split(":")[0] for l in first], ["1000", "1001"])

    def test_help_command_and_one_error_wording(self):
        n = self.start()
        self.assertEqual(n.cli("help").stdout, subprocess.run(
            [MESH, "--help"], capture_output=True, text=True, check=True).stdout)
        self.assertEqual(n.cli("help", "submit").stdout, n.cli("submit", "--help").stdout)
        r = n.cli("help", "frobnicate", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("mesh help: no such command"), r.stderr)
        # an unknown batch reads the same for results and cancel, each
        # prefixed by its command
        for cmd in ("results", "cancel", "forget"):
            r = n.cli(cmd, "999", check=False)
            self.assertEqual(r.returncode, 1, (cmd, r.stderr))
            self.assertEqual(r.stderr.strip(), "mesh %s: no batch 999" % cmd)
        r = n.cli("status", "--bogus", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("mesh status: "), r.stderr)
        r = subprocess.run([MESH, "--data-dir", os.path.join(n.dir, "none"), "status"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 3)
        self.assertTrue(r.stderr.startswith("mesh status: no node running"), r.stderr)

    def test_factor_skips_leading_spaces_as_coreutils(self):
        for arg in (" 12", "  +0012", " 999999999999999999999999", " ", "\t12", "12 "):
            ours = subprocess.run([MESH, "factor", arg], capture_output=True, text=True,
                                  env=dict(os.environ, LC_ALL="C"))
            theirs = subprocess.run(["factor", arg], capture_output=True, text=True,
                                    env=dict(os.environ, LC_ALL="C"))
            self.assertEqual((ours.returncode, ours.stdout, ours.stderr),
                             (theirs.returncode, theirs.stdout, theirs.stderr), repr(arg))

    def test_status_text_names_and_done_kept_across_restart(self):
        n = self.start(name="alpha")
        a = self.submit(n, "--count", "50")
        n.cli("results", str(a), "--wait")
        b = self.submit(n, "--semiprimes", "110", "--count", "100000")
        text = n.cli("status").stdout
        me = n.status()["nodes"][0]
        self.assertEqual(text.splitlines()[0], "node alpha (%s), leader alpha (%s)"
                         % (me["id"][:8], me["id"][:8]))
        header = [l for l in text.splitlines() if l.startswith("NAME")][0]
        self.assertEqual(header.split()[:3], ["NAME", "ID", "ADDRESS"])
        rows = [l.split() for l in text.splitlines() if l.split()[:1] in (["%d" % a], ["%d" % b])]
        self.assertEqual([r[:2] for r in rows], [[str(b), "running"], [str(a), "done"]])
        n.cli("cancel", str(b))
        done = n.status()["nodes"][0]["done"]
        self.assertGreaterEqual(done, 50)
        # the node's DONE is its whole life's, not since it started
        d = n.dir
        n.own_dir = False
        n.stop()
        self.nodes.remove(n)
        m = Node(MESH, name="alpha", data_dir=d)
        m.own_dir = True
        self.nodes.append(m)
        m.wait_ready()
        self.assertEqual(m.status()["nodes"][0]["done"], done)

    def test_events_tell_every_batch_by_name(self):
        # a batch done within a second still gets its "submitted" line,
        # an unnamed one reads "batch N submitted: 3 numbers"
        n = self.start()
        wait_for(lambda: "is the leader" in n.cli("events", "--no-follow").stdout,
                 timeout=15, what="leader elected")
        a = self.submit(n, "--start", "5", "--count", "3")
        b = self.submit(n, "--start", "7", "--count", "2", "--name", "tiny")
        n.cli("results", str(b), "--wait")
        want = ["batch %d submitted: 3 numbers" % a, "batch %d done: 3/3 done" % a,
                "batch %d (tiny) submitted: 2 numbers" % b, "batch %d (tiny) done: 2/2" % b]
        wait_for(lambda: all(w in n.cli("events", "--no-follow").stdout for w in want),
                 timeout=10, what="the batches' events")
        out = n.cli("events", "--no-follow").stdout
        self.assertNotIn("submitted: ,", out)
        self.assertEqual(out.count("batch %d submitted" % a), 1, out)

    # -- cancel, drain --------------------------------------------------------

    def test_cancel_stops_work_promptly(self):
        n = self.start()
        bid = self.submit(n, "--semiprimes", "110", "--count", "100000")
        wait_for(lambda: n.status()["nodes"][0]["busy"] > 0, what="workers busy")
        wait_for(lambda: batch(n, bid)["done"] > 0, what="first results committed")
        n.cli("cancel", str(bid))
        self.assertEqual(batch(n, bid)["state"], "cancelled")
        wait_for(lambda: n.status()["nodes"][0]["busy"] == 0, timeout=5, what="workers idle")
        done = batch(n, bid)["done"]
        time.sleep(0.5)
        self.assertEqual(batch(n, bid)["done"], done)
        # Results so far are still served (correct ones), and a cancelled
        # batch ends --wait instead of hanging.
        out = n.cli("results", str(bid), "--wait", timeout=20).stdout
        lines = out.splitlines()
        self.assertGreater(len(lines), 0)
        self.assertEqual(len(lines), done)  # every done number, gaps skipped
        self.assertEqual(out, gp_factor(int(l.split(":")[0]) for l in lines))

    def test_drain_and_undrain(self):
        n = self.start()
        self.assertEqual(n.cli("drain").stdout.strip() in ("drained", "draining"), True)
        bid = self.submit(n, "--count", "50")
        time.sleep(0.5)
        self.assertEqual(batch(n, bid)["done"], 0)
        self.assertEqual(n.status()["nodes"][0]["state"], "drained")
        n.cli("undrain")
        out = n.cli("results", str(bid), "--wait").stdout
        self.assertEqual(len(out.splitlines()), 50)

    def test_drain_finishes_started_numbers(self):
        n = self.start()
        bid = self.submit(n, "--semiprimes", "100", "--count", "2000")
        wait_for(lambda: batch(n, bid)["done"] > 0, what="progress")
        n.cli("drain")
        wait_for(lambda: n.status()["nodes"][0]["state"] == "drained", timeout=10,
                 what="drained")
        done = batch(n, bid)["done"]
        time.sleep(0.5)
        self.assertEqual(batch(n, bid)["done"], done)
        self.assertLess(done, 2000)
        n.cli("undrain")
        out = n.cli("results", str(bid), "--wait", timeout=120).stdout
        self.assertEqual(len(out.splitlines()), 2000)

    # -- faults ------------------------------------------------------------------

    def test_number_over_budget_is_reported_unfactored(self):
        n = self.start(extra=["--number-timeout", "0.3"])
        # A balanced 256-bit semiprime (gp: nextprime(2^127+12345) *
        # nextprime(2^128+999)): far beyond 0.3 s for any method.
        hard = 57896044618658097711785492504343958335843761710880422346405267801093179272271
        big = 4 * 1000003 * (2**127 - 1)  # small factors + a prime: must complete
        bid = self.submit(n, "--file", "-", input="%d\n%d\n%d\n" % (big, hard, 35))
        lines = n.cli("results", str(bid), "--wait", timeout=60).stdout.splitlines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[0], "%d: 2 2 1000003 %d" % (big, 2**127 - 1))
        self.assertTrue(lines[1].startswith("%d:" % hard), lines[1])
        self.assertIn("unfactored:%d" % hard, lines[1])
        self.assertEqual(lines[2], "35: 5 7")
        row = json.loads(n.cli("results", str(bid), "--json").stdout.splitlines()[1])
        self.assertEqual(row["unfactored"], str(hard))

    def test_batch_number_timeout_overrides_the_nodes(self):
        # The node keeps its default budget (60 s); the batch asks for
        # 300 ms, so its 400-bit balanced semiprimes (far beyond 300 ms for
        # any method) come back unfactored in about that time per number.
        n = self.start()
        for bad in ("5parsecs", "-1", "", "1.5.2"):
            r = n.cli("submit", "--semiprimes", "24", "--number-timeout", bad, check=False)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertTrue(r.stderr.startswith(
                "mesh submit: number timeout must be a duration like 500ms, 5s or 10m"),
                (bad, r.stderr))
            self.assertIn("'%s'" % bad, r.stderr)
        self.assertEqual(n.status()["batches"], [])          # nothing was submitted
        t0 = time.monotonic()
        hard = self.submit(n, "--semiprimes", "400", "--count", "2",
                           "--number-timeout", "300ms", "--name", "hard")
        lines = n.cli("results", str(hard), "--wait", timeout=60).stdout.splitlines()
        took = time.monotonic() - t0
        self.assertEqual(len(lines), 2)
        for line in lines:
            number = line.split(":")[0]
            self.assertEqual(line, "%s: unfactored:%s" % (number, number))
        self.assertLess(took, 20, "a 300 ms budget took %.1f s" % took)
        self.assertEqual(batch(n, hard)["unfactored"], 2)
        self.assertEqual(batch(n, hard)["number_timeout_ms"], 300)
        # Numbers past 2^64 that fit the budget are factored in it.
        big = 4 * 1000003 * (2**127 - 1)
        easy = self.submit(n, "--file", "-", "--number-timeout", "2s",
                           input="%d\n35\n" % big)
        self.assertEqual(n.cli("results", str(easy), "--wait", timeout=60).stdout,
                         "%d: 2 2 1000003 %d\n35: 5 7\n" % (big, 2**127 - 1))
        self.assertEqual(batch(n, easy)["number_timeout_ms"], 2000)
        # No limit, and the node default, are told apart.
        free = self.submit(n, "--semiprimes", "40", "--count", "5", "--number-timeout", "none")
        plain = self.submit(n, "--semiprimes", "40", "--count", "5")
        self.assertEqual(len(n.cli("results", str(free), "--wait").stdout.splitlines()), 5)
        self.assertEqual(batch(n, free)["number_timeout_ms"], 0)
        self.assertEqual(batch(n, free)["unfactored"], 0)
        self.assertIsNone(batch(n, plain)["number_timeout_ms"])
        text = n.cli("status").stdout
        self.assertRegex(text, r"\bhard  \[timeout 300ms\]\n")
        self.assertIn("[no timeout]", text)
        self.assertEqual(text.count("timeout"), 3, text)

    def test_killed_worker_loses_nothing(self):
        n = self.start()
        bid = self.submit(n, "--semiprimes", "90", "--count", "400", "--seed", "3")
        wait_for(lambda: batch(n, bid)["done"] > 10, what="progress")
        kids = n.children()
        self.assertEqual(len(kids), 2)
        os.kill(kids[0], signal.SIGKILL)
        out = n.cli("results", str(bid), "--wait", timeout=120).stdout
        lines = out.splitlines()
        self.assertEqual(len(lines), 400)
        self.assertNotIn("unfactored", out)
        nums = [int(l.split(":")[0]) for l in lines]
        self.assertEqual(out, gp_factor(nums))
        wait_for(lambda: len(n.children()) == 2, what="worker respawned")
        self.assertIsNone(n.proc.poll())

    def test_bad_progress_record_restarts_its_worker(self):
        # A child's progress line (src/factor/progress.h) that does not parse,
        # or names a number the worker is not on, is a broken child: the node
        # kills and respawns it, as for any answer it cannot read, and goes
        # on factoring. The lines are written into each child's own answer
        # pipe (a socket libuv made: taken with pidfd_getfd, Linux 5.6), where
        # the node reads them as the child's.
        n = self.start()
        wait_for(lambda: len(n.children()) == 2, what="two workers")
        bad, idle = n.children()
        lines = {bad: b"7 progress sieving 206 0 1 2 3 x\n",    # eta not a number
                 idle: b"7 progress sieving 206 0 1 2 3 4\n"}   # well formed, no number 7
        libc = ctypes.CDLL(None, use_errno=True)
        for kid, line in lines.items():
            pidfd = os.pidfd_open(kid)
            fd = libc.syscall(438, pidfd, 1, 0)  # SYS_pidfd_getfd: the child's stdout
            os.close(pidfd)
            self.assertGreaterEqual(fd, 0, "pidfd_getfd: %s" % os.strerror(ctypes.get_errno()))
            os.write(fd, line)
            os.close(fd)
        wait_for(lambda: not alive(bad) and not alive(idle), what="both restarted")
        log = n.log()
        self.assertIn("malformed progress record; restarting it", log)
        self.assertIn("progress record out of order; restarting it", log)
        wait_for(lambda: len(n.children()) == 2, what="workers respawned")
        bid = self.submit(n, "--semiprimes", "90", "--count", "50", "--seed", "4")
        out = n.cli("results", str(bid), "--wait", timeout=60).stdout
        nums = [int(l.split(":")[0]) for l in out.splitlines()]
        self.assertEqual(len(nums), 50)
        self.assertEqual(out, gp_factor(nums))

    def test_hung_worker_is_killed_and_number_reported(self):
        # SIGSTOP makes a worker hang mid-number, as a kernel bug would. The
        # node kills it once the number is past its budget (plus margin),
        # reports that number unfactored, and finishes the batch.
        n = self.start(extra=["--number-timeout", "0.5"])
        bid = self.submit(n, "--semiprimes", "90", "--count", "3000", "--seed", "5")
        wait_for(lambda: batch(n, bid)["done"] > 10, what="progress")
        victim = n.children()[0]
        os.kill(victim, signal.SIGSTOP)
        out = n.cli("results", str(bid), "--wait", timeout=120).stdout.splitlines()
        self.assertEqual(len(out), 3000)
        hung = [l for l in out if "unfactored:" in l]
        self.assertEqual(len(hung), 1, hung)
        num = hung[0].split(":")[0]
        self.assertEqual(hung[0], "%s: unfactored:%s" % (num, num))
        self.assertFalse(alive(victim), "hung worker still alive")
        self.assertIn("exceeded its budget", n.log())

    # -- bad input and start-up errors ------------------------------------------

    def test_bad_file_names_the_line_and_submits_nothing(self):
        n = self.start()
        r = n.cli("submit", "--file", "-", input="12\n\n13\nabc\n14\n", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 4", r.stderr)
        self.assertIn("abc", r.stderr)
        r = n.cli("submit", "--file", "-", input="12\n-5\n", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 2", r.stderr)
        r = n.cli("submit", "--file", "-", input="1" * 400 + "\n", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("1024 bits", r.stderr)
        r = n.cli("submit", "--file", "/nonexistent/file", check=False)
        self.assertEqual(r.returncode, 1)
        r = n.cli("submit", "--file", "-", input="\n  \n# only a comment\n", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no numbers", r.stderr)
        self.assertEqual(n.status()["batches"], [])

    def test_bad_arguments(self):
        n = self.start()
        cases = [
            (["submit", "--count", "abc"], 2), (["submit", "--count"], 2),
            (["submit", "--count", "0"], 2), (["submit", "--semiprimes", "5000"], 2),
            (["results"], 2), (["results", "x"], 2), (["results", "99"], 1),
            (["cancel", "99"], 1), (["frobnicate"], 2), (["status", "--bogus"], 2),
        ]
        for args, code in cases:
            r = n.cli(*args, check=False)
            self.assertEqual(r.returncode, code, (args, r.stderr))
            self.assertTrue(r.stderr.strip(), args)
        self.assertIsNone(n.proc.poll())
        self.assertEqual(n.status()["batches"], [])
        # Garbage on the control socket: the node answers and keeps running.
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(n.dir, "control.sock"))
        s.sendall(b"this is not json\n{\"cmd\": 5}\n")
        reply = s.makefile().readline()
        self.assertFalse(json.loads(reply)["ok"])
        s.close()
        self.assertEqual(n.status()["batches"], [])

    def test_pipelined_requests_all_answered(self):
        # Several requests in one write: each gets its answer, in order,
        # including a results wait that a later request in the same write
        # (a cancel from another connection) releases.
        import socket
        n = self.start()
        a = self.submit(n, "--semiprimes", "110", "--count", "100000")
        c1 = socket.socket(socket.AF_UNIX)
        c1.connect(os.path.join(n.dir, "control.sock"))
        c1.sendall(b'{"cmd":"results","batch":%d,"from":99999,"wait":true}\n'
                   b'{"cmd":"status"}\n{"cmd":"bogus"}\n' % a)
        n.cli("cancel", str(a))
        f = c1.makefile()
        answers = [json.loads(f.readline()) for _ in range(3)]
        c1.close()
        self.assertEqual(answers[0]["state"], "cancelled")
        self.assertIn("nodes", answers[1])
        self.assertFalse(answers[2]["ok"])
        self.assertIsNone(n.proc.poll())

    def test_client_hanging_up_during_wait_is_forgotten(self):
        n = self.start()
        n.cli("drain")
        bid = self.submit(n, "--count", "10")
        fds = len(os.listdir("/proc/%d/fd" % n.pid))
        for _ in range(30):
            p = subprocess.Popen([MESH, "--data-dir", n.dir, "results", str(bid), "--wait"],
                                 stdout=subprocess.DEVNULL)
            time.sleep(0.05)
            p.kill()
            p.wait()
        wait_for(lambda: len(os.listdir("/proc/%d/fd" % n.pid)) <= fds + 2,
                 what="control connections closed")
        n.cli("undrain")
        self.assertEqual(len(n.cli("results", str(bid), "--wait").stdout.splitlines()), 10)

    def test_bad_json_values_rejected(self):
        import socket
        n = self.start()
        bad = [
            {"cmd": "submit", "step": "18446744073709551616"},
            {"cmd": "submit", "kind": 7},
            {"cmd": "submit", "start": [1]},
            {"cmd": "submit", "count": -5},
            {"cmd": "submit", "number_timeout_ms": -5},
            {"cmd": "submit", "number_timeout_ms": "5s"},
            {"cmd": "submit", "number_timeout_ms": 86400000 * 365 + 1},
            {"cmd": "submit", "name": "é" * 40},
            {"cmd": "results", "batch": "x"},
            {"cmd": "x" + "é" * 600},
        ]
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(n.dir, "control.sock"))
        f = s.makefile()
        for req in bad:
            s.sendall(json.dumps(req).encode() + b"\n")
            answer = json.loads(f.readline())
            self.assertFalse(answer["ok"], req)
            self.assertTrue(answer["error"], req)
        s.sendall(b'{"cmd":"submit","start":10,"count":3}\n')
        self.assertTrue(json.loads(f.readline())["ok"])
        # No shape at all: the classic batch, as `mesh submit` sends it.
        s.sendall(b'{"cmd":"submit"}\n')
        self.assertTrue(json.loads(f.readline())["ok"])
        s.close()
        bid, classic = (b["id"] for b in n.status()["batches"][:2])
        self.assertEqual(n.cli("results", str(bid), "--wait").stdout, "10: 2 5\n11: 11\n12: 2 2 3\n")
        lines = n.cli("results", str(classic), "--wait").stdout.splitlines()
        self.assertEqual((len(lines), lines[1].split(":")[0], lines[-1].split(":")[0]),
                         (999, "1000000000001", "1000000001995"))
        self.assertEqual(batch(n, classic)["chunk"], 43)

    def test_data_dir_too_long_for_socket(self):
        d = tempfile.mkdtemp()
        long_dir = os.path.join(d, "x" * 100)
        try:
            r = subprocess.run([MESH, "--authkey", "k", "--data-dir", long_dir, "--headless",
                                "--no-mdns", "--port", "0"], capture_output=True, text=True,
                               timeout=20)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("longer than", r.stderr)
        finally:
            subprocess.run(["rm", "-rf", d])

    def test_help_and_version(self):
        for cmd in ("submit", "results", "status", "cancel", "drain", "undrain", "factor"):
            r = subprocess.run([MESH, cmd, "--help"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn("usage", r.stdout.lower())
        r = subprocess.run([MESH, "--version"], capture_output=True, text=True)
        self.assertTrue(r.stdout.startswith("mesh "))

    def test_no_node_running(self):
        d = tempfile.mkdtemp()
        try:
            r = subprocess.run([MESH, "--data-dir", d, "status"], capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 3)
            self.assertIn("no node", r.stderr)
        finally:
            os.rmdir(d)

    def test_no_authkey_exits_2(self):
        env = dict(os.environ)
        env.pop("MESH_AUTHKEY", None)
        d = tempfile.mkdtemp()
        try:
            r = subprocess.run([MESH, "--data-dir", d, "--headless"], capture_output=True,
                               text=True, env=env, timeout=10)
            self.assertEqual(r.returncode, 2)
            self.assertIn("authkey", r.stderr)
        finally:
            os.rmdir(d)

    def test_authkey_sources_and_scrubbing(self):
        n = self.start(authkey="s3cret-k3y-on-argv")
        with open("/proc/%d/cmdline" % n.pid, "rb") as f:
            self.assertNotIn(b"s3cret-k3y-on-argv", f.read())
        # A key from a file and one from the environment are the same key as
        # on argv: nodes using them link to the argv node (and a wrong one
        # would not: see the net tests).
        keyfile = os.path.join(n.dir, "keyfile")
        with open(keyfile, "w") as f:
            f.write("s3cret-k3y-on-argv\n")
        env = dict(os.environ)
        env.pop("MESH_AUTHKEY", None)
        peer = ["--peer", "127.0.0.1:%d" % n.port]
        from_file = Node(MESH, authkey=None, extra=["--authkey-file", keyfile] + peer, env=env)
        self.nodes.append(from_file)
        from_env = Node(MESH, authkey=None, extra=peer,
                        env=dict(env, MESH_AUTHKEY="s3cret-k3y-on-argv"))
        self.nodes.append(from_env)
        for other in (from_file, from_env):
            other.wait_ready()
            wait_for(lambda: any(p["id"] == n.status()["id"] and p["connected"]
                                 for p in other.status()["nodes"] if not p["self"]),
                     what="link with the same key from another source")

    def test_second_node_on_same_data_dir_refused(self):
        n = self.start()
        r = subprocess.run([MESH, "--authkey", "k", "--data-dir", n.dir, "--headless",
                            "--no-mdns", "--port", "0"], capture_output=True, text=True,
                           timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("another node (pid %d)" % n.pid, r.stderr + n.log())
        self.assertIsNone(n.proc.poll())
        self.assertEqual(n.status()["nodes"][0]["self"], True)

    def test_damaged_raft_state_refused_clearly(self):
        # A data dir whose Raft metadata is garbage: a clear error naming the
        # directory, exit 1, no crash; the dir is left as it was.
        d = tempfile.mkdtemp(prefix="mesh-test-")
        try:
            raft = os.path.join(d, "raft")
            os.makedirs(raft)
            with open(os.path.join(raft, "member"), "w") as f:
                f.write("member 0000000000000001 cluster 0000000000000001\n")
            for name in ("metadata1", "metadata2"):
                with open(os.path.join(raft, name), "wb") as f:
                    f.write(b"\xab" * 100)
            r = subprocess.run([MESH, "--authkey", "k", "--data-dir", d, "--headless",
                                "--no-mdns", "--port", "0", "--workers", "1"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("cannot open the raft state in %s" % raft, r.stderr)
            with open(os.path.join(raft, "metadata1"), "rb") as f:
                self.assertEqual(f.read(), b"\xab" * 100)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_sigterm_stops_node_and_workers(self):
        n = self.start()
        kids = n.children()
        self.assertEqual(len(kids), 2)
        n.proc.send_signal(signal.SIGTERM)
        self.assertEqual(n.proc.wait(timeout=10), 0)
        for k in kids:
            wait_for(lambda: not alive(k), what="worker %d gone" % k)
        self.assertFalse(os.path.exists(os.path.join(n.dir, "control.sock")))


if __name__ == "__main__":
    MESH = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
