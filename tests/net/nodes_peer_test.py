#!/usr/bin/env python3
"""Node-level peer links: three `mesh` processes on loopback linked by
--peer see each other in `mesh status --json`; a fourth with another
authkey sees nobody; a stopped node is shown down and keeps its id when
restarted. mDNS is off (--no-mdns): nothing leaves loopback.
Usage: nodes_peer_test.py PATH_TO_MESH"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MESH = sys.argv[1]
KEY = "node-peer-test-key"


def status(data_dir):
    out = subprocess.run([MESH, "--data-dir", data_dir, "status", "--json"],
                         capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)


def wait_for(what, cond, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


class Node:
    def __init__(self, root, name, authkey=KEY):
        self.name, self.authkey = name, authkey
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    def start(self, peers=()):
        args = [MESH, "--authkey", self.authkey, "--data-dir", self.dir,
                "--port", "0", "--headless", "--no-mdns", "--workers", "1",
                "--name", self.name]
        for p in peers:
            args += ["--peer", "127.0.0.1:%d" % p]
        self.log = open(os.path.join(self.dir, "log.txt"), "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        st = wait_for(self.name + " status", lambda: status(self.dir))
        self.port = st["port"]
        self.id = [n for n in st["nodes"] if n["self"]][0]["id"]
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()

    def peers(self):
        st = status(self.dir)
        return {} if st is None else {
            n["name"]: n for n in st["nodes"] if not n["self"]}

    def connected(self):
        return sorted(name for name, n in self.peers().items() if n["connected"])


def main():
    root = tempfile.mkdtemp(prefix="mesh-nodes-peer-")
    nodes = []
    try:
        a = Node(root, "alpha").start()
        nodes.append(a)
        b = Node(root, "beta").start([a.port])
        nodes.append(b)
        c = Node(root, "gamma").start([a.port, b.port])
        nodes.append(c)
        for n, others in ((a, ["beta", "gamma"]), (b, ["alpha", "gamma"]),
                          (c, ["alpha", "beta"])):
            wait_for(n.name + " linked", lambda n=n, o=others: n.connected() == o)
        assert a.peers()["gamma"]["id"] == c.id
        assert a.peers()["beta"]["workers"] == 1

        d = Node(root, "delta", authkey="another-key").start([a.port, b.port, c.port])
        nodes.append(d)
        time.sleep(2.0)
        assert d.connected() == [], d.peers()
        assert "delta" not in a.peers() and a.connected() == ["beta", "gamma"]
        d.stop()

        gamma_id = c.id
        c.stop()
        wait_for("gamma down", lambda: a.connected() == ["beta"] and b.connected() == ["alpha"],
                 timeout=6.0)
        assert "gamma" in a.peers()  # down peers stay listed
        c.start([a.port, b.port])
        assert c.id == gamma_id, "restart changed the node id"
        wait_for("gamma back", lambda: a.connected() == ["beta", "gamma"]
                 and c.connected() == ["alpha", "beta"])
        print("nodes peer test: ok")
    finally:
        for n in nodes:
            if n.proc is not None:
                n.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
