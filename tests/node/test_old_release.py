"""A data dir of the previous release replays: old_release_datadir.tar.xz
was made by the release before retention (commit f0b6207: queue commands
and snapshots of format 3, snapshots unsealed; see
make_old_release_datadir.py). This release starts on it, serves every old
result (checked by arithmetic), takes new work, forgets an old batch, and
starts again on what it wrote itself.

Usage: test_old_release.py MESH_BINARY [unittest args...]"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshcluster import check_factored, parse_results  # noqa: E402
from meshnode import Node, wait_for  # noqa: E402

MESH = None
FIXTURE = os.path.join(os.path.dirname(__file__), "old_release_datadir.tar.xz")
OLD_IDS = [51210354689, 51210354690, 51210354691, 51210354692]
KEY = "old-release-fixture-key"


class OldReleaseTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mesh-old-")
        subprocess.run(["tar", "-C", self.dir, "-xJf", FIXTURE], check=True)
        self.node = None

    def tearDown(self):
        if self.node is not None:
            self.node.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        self.node = Node(MESH, authkey=KEY, name="old", workers=1, data_dir=self.dir,
                         extra=["--voters", "1"])
        self.node.wait_ready()
        wait_for(lambda: self.node.status()["leader"] != "", 15, what="the old mesh's leader")
        return self.node

    def old_results_all_there(self, n):
        ids = [b["id"] for b in n.status()["batches"]]
        for bid in OLD_IDS[1:]:
            self.assertIn(bid, ids)
        rows = parse_results(n.cli("results", str(OLD_IDS[1])).stdout)
        self.assertEqual(len(rows), 500)
        check_factored(self, rows, [r[0] for r in rows])
        for _, f in rows:
            self.assertEqual(len(f), 2)  # 64-bit semiprimes
        rows = parse_results(n.cli("results", str(OLD_IDS[2])).stdout)
        check_factored(self, rows, [12, 97, 1000000007, 18446744073709551617])
        rows = parse_results(n.cli("results", str(OLD_IDS[3])).stdout)
        check_factored(self, rows, list(range(7, 107)))

    def test_previous_release_data_dir_replays(self):
        n = self.start()
        self.old_results_all_there(n)
        rows = parse_results(n.cli("results", str(OLD_IDS[0])).stdout)
        check_factored(self, rows, list(range(10 ** 12, 10 ** 12 + 3000)))
        # new work on the old mesh: a new id, after the old ones
        out = n.cli("submit", "--start", "500", "--count", "50").stdout
        new = int(re.search(r"(\d+)\s*$", out.strip()).group(1))
        self.assertGreater(new, OLD_IDS[-1])
        check_factored(self, parse_results(n.cli("results", str(new), "--wait").stdout),
                       list(range(500, 550)))
        # an old batch (no times in its entries) can be forgotten
        n.cli("forget", str(OLD_IDS[0]))
        r = n.cli("results", str(OLD_IDS[0]), check=False)
        self.assertIn("batch %d was forgotten" % OLD_IDS[0], r.stderr)
        # and this release starts again on what it wrote over the old state
        n.stop()
        n = self.start()
        self.old_results_all_there(n)
        r = n.cli("results", str(OLD_IDS[0]), check=False)
        self.assertIn("batch %d was forgotten" % OLD_IDS[0], r.stderr)
        check_factored(self, parse_results(n.cli("results", str(new)).stdout),
                       list(range(500, 550)))


if __name__ == "__main__":
    MESH = sys.argv.pop(1)
    unittest.main()
