"""manynodes.py - many `mesh` nodes on one host finding each other by mDNS.

For the 30-node test and benchmark, which run inside
tests/mdns/run_avahi_test.sh with-avahi (own network namespace with only
lo, a private avahi-daemon): nodes get no --peer, so every link comes from
discovery or peer exchange. Every node is stopped by its PID and the temp
dir deleted (Fleet.stop)."""
import json
import os
import shutil
import signal
import subprocess
import tempfile

KEY = "many-nodes-test-key"


class Fleet:
    def __init__(self, mesh, count, extra=()):
        self.mesh = mesh
        self.root = tempfile.mkdtemp(prefix="mesh-fleet-")
        self.procs, self.dirs = [], []
        for i in range(count):
            d = os.path.join(self.root, "n%02d" % i)
            os.makedirs(d)
            with open(os.path.join(d, "out.log"), "w") as log:
                p = subprocess.Popen(
                    [mesh, "--authkey", KEY, "--data-dir", d, "--name", "n%02d" % i,
                     "--port", "0", "--headless", "--workers", "1",
                     "--log-file", os.path.join(d, "node.log")] + list(extra),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            self.procs.append(p)
            self.dirs.append(d)

    def cli(self, i, *args, timeout=60):
        return subprocess.run([self.mesh, "--data-dir", self.dirs[i]] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def status(self, i):
        try:
            r = self.cli(i, "status", "--json", timeout=20)
            return json.loads(r.stdout) if r.returncode == 0 else None
        except (subprocess.TimeoutExpired, ValueError):
            return None

    def alive(self):
        return [i for i, p in enumerate(self.procs) if p.poll() is None]

    def one_mesh(self, voters=3):
        """The live nodes' statuses when they form one mesh with `voters`
        healthy voters and every live node a member; else None."""
        live = self.alive()
        sts = [self.status(i) for i in live]
        if any(s is None for s in sts):
            return None
        ids = {s["cluster_id"] for s in sts}
        leaders = {s["leader"] for s in sts}
        if len(ids) != 1 or "" in ids or len(leaders) != 1 or "" in leaders:
            return None
        names = {"n%02d" % i for i in live}
        rows = [x for x in sts[0]["nodes"] if x["name"] in names]
        members = [x for x in rows if x["role"] in ("leader", "voter", "standby")]
        q = sts[0]["quorum"]
        if len(members) != len(live) or q != {"voters": voters, "reachable": voters, "ok": True}:
            return None
        return sts

    def leader_index(self, sts):
        lid = sts[0]["leader"]
        for i in self.alive():
            s = self.status(i)
            if s is not None and s["id"] == lid:
                return i
        return None

    def log(self, i):
        try:
            with open(os.path.join(self.dirs[i], "node.log")) as f:
                return f.read()
        except OSError:
            return ""

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs[i]
        if p.poll() is None:
            os.kill(p.pid, sig)
            p.wait(timeout=15)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(self.root, ignore_errors=True)
