#!/usr/bin/env python3
"""test_factor_jobs.py - `mesh factor --jobs K`: one number past 140 bits on
K cores (forked SIQS workers, src/factor/siqs_mp_par.c) prints the same line
as on one; bad values of --jobs are refused like coreutils refuses options;
a deadline stops the workers; and no worker outlives the command (this test
process is made a child subreaper, so an orphaned worker would become our
child and show up in waitpid).

usage: test_factor_jobs.py MESH"""
import ctypes
import os
import random
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from primes import nextprime  # noqa: E402

MESH = None
PR_SET_CHILD_SUBREAPER = 36


def prime(bits, rng):
    return nextprime(rng.getrandbits(bits) | (1 << (bits - 1)))


class FactorJobsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise unittest.SkipTest("cannot become a child subreaper")
        rng = random.Random(180)
        cls.p, cls.q = sorted((prime(90, rng), prime(90, rng)))
        cls.n = cls.p * cls.q

    def factor(self, *args):
        r = subprocess.run([MESH, "factor", *args], capture_output=True, text=True,
                           timeout=300)
        self.assert_no_orphans()
        return r

    def assert_no_orphans(self):
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        self.fail("a worker outlived mesh factor (pid %d, status %d)" % (pid, status))

    def test_same_line_on_one_and_two_cores(self):
        want = "%d: %d %d\n" % (self.n, self.p, self.q)
        for args in (["--jobs", "2"], ["--jobs=3"], ["--jobs", "1"], []):
            r = self.factor(*args, str(self.n))
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, want, ""), args)
        # Several numbers (default one core each) and --jobs on a list.
        r = self.factor("--jobs", "2", "91", str(self.n), "97")
        self.assertEqual(r.stdout, "91: 7 13\n%s97: 97\n" % want)

    def test_bad_jobs_are_refused(self):
        for bad in ("0", "65", "-1", "2x", ""):
            r = self.factor("--jobs", bad, "91")
            self.assertEqual(r.returncode, 1, bad)
            self.assertEqual(r.stdout, "")
            self.assertIn("factor: invalid --jobs '%s'" % bad, r.stderr)
        r = self.factor("91", "--jobs")
        self.assertEqual(r.returncode, 1)
        self.assertIn("requires an argument", r.stderr)

    def test_deadline_stops_the_workers(self):
        rng = random.Random(230)
        hard = prime(115, rng) * prime(115, rng)
        r = self.factor("--jobs", "2", "--number-timeout", "300ms", str(hard))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "%d: unfactored:%d\n" % (hard, hard))


if __name__ == "__main__":
    MESH = sys.argv.pop(1)
    unittest.main()
