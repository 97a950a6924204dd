#!/usr/bin/env python3
"""Key holders that lie, against real `mesh` nodes on loopback (issue 17):

  forged_results  a key holder links (never joins, holds no lease) and sends
                  RESULTS for a running 100-number batch with three kinds of
                  lie: none is committed, the 100 refusals show on the
                  forger's row in `status --json`, in /metrics and in the
                  log; the batch then finishes right.
  lying_member    a member whose workers answer wrongly: its results are
                  refused, it is drained automatically with an event, and
                  the batch finishes right on the honest node.
  lying_ecm_member  the same liar in a mesh working a --spread of a
                  150-digit number by ECM: its curve results name a factor
                  (7) that does not divide N; each is refused and counted,
                  and the honest node finds the real 30-digit factor.
  gossip_flood    1,100 minted identities each link once and gossip once
                  (more than the node's 1,024 peer-info entries): a genuine
                  node then still joins the cluster and does work.
  slowloris       24 connections from 4 source addresses trickle request
                  heads to --metrics (a byte every 0.2 s, reopened when
                  cut): all of 80 scrapes still succeed.
  control_flood   150 connections to the control socket that never finish
                  a request, and two that send large ones at once: the
                  node keeps at most 64 (its descriptors stay for links),
                  one large request at a time, and the CLI still works.
  authkey_mode    an authkey file others can read is warned about at
                  start (as ssh does with a private key); a 0600 one is not.

Every committed result is checked by arithmetic (product and primality).
Every process is stopped by PID; data dirs are deleted.
Usage: trust_test.py MESH FORGE LIAR SCENARIO"""
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from meshnode import Node, free_port, wait_for  # noqa: E402
from primes import is_prime  # noqa: E402

MESH, FORGE, LIAR, SCENARIO = sys.argv[1:5]
KEY = "trust-test-key"


def check_results(node, bid, expect, count=None):
    """Every line of `mesh results` is N's right and complete factorisation
    (N as expected, when the test knows the numbers)."""
    out = node.cli("results", str(bid), "--wait", timeout=120).stdout
    lines = out.splitlines()
    assert len(lines) == (count if expect is None else len(expect)), len(lines)
    for i, line in enumerate(lines):
        num, _, rest = line.partition(":")
        n = int(num)
        assert expect is None or n == expect[i], line
        assert "unfactored" not in rest, line
        prod = 1
        for f in rest.split():
            assert is_prime(int(f)), "committed a non-prime factor: " + line
            prod *= int(f)
        assert prod == n, "committed a wrong product: " + line


def self_row(node):
    return [r for r in node.status()["nodes"] if r["self"]][0]


def row_of(node, node_id):
    rows = [r for r in node.status()["nodes"] if r["id"] == node_id]
    return rows[0] if rows else None


def leader_ready(node):
    wait_for(lambda: node.status()["leader"] == self_row(node)["id"], timeout=20,
             what="the node leading its own cluster")


def batch(node, bid):
    return [b for b in node.status()["batches"] if b["id"] == bid][0]


def submit(node, *args):
    out = node.cli("submit", *args).stdout
    return int(re.search(r"\d+", out).group(0))


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def forged_results(nodes):
    mport = free_port()
    a = Node(MESH, authkey=KEY, workers=1, extra=["--metrics", "127.0.0.1:%d" % mport])
    nodes.append(a)
    a.wait_ready()
    leader_ready(a)
    a.cli("drain")               # nothing is factored while the forger lies
    start = 10 ** 12 + 1
    bid = submit(a, "--start", str(start), "--count", "100")
    r = subprocess.run([FORGE, str(a.port), KEY, "results", str(bid), "0", "100"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    forger = re.search(r"as ([0-9a-f]{16})", r.stdout).group(1)
    # The forger stayed linked a second after it sent: time to commit them.
    assert batch(a, bid)["done"] == 0, "forged results committed: %s" % batch(a, bid)
    wait_for(lambda: (row_of(a, forger) or {}).get("refused_results", 0) >= 100,
             timeout=10, what="the forger's 100 refusals in status --json")
    assert row_of(a, forger)["refused_results"] == 100
    text = metrics(mport)
    assert re.search(r'mesh_node_results_refused_total\{[^}]*id="%s"[^}]*\} 100\b' % forger,
                     text), [l for l in text.splitlines() if "refused" in l]
    assert "refused a result of batch %d" % bid in a.log()
    assert "not a member" in a.log()
    a.cli("undrain")
    check_results(a, bid, list(range(start, start + 100)))
    assert self_row(a)["refused_results"] == 0
    print("forged_results: 100 lies refused and counted, batch right")


def lying_member(nodes):
    a = Node(MESH, authkey=KEY, workers=1)
    nodes.append(a)
    a.wait_ready()
    leader_ready(a)
    liar = Node(LIAR, authkey=KEY, workers=1, peers=["127.0.0.1:%d" % a.port])
    liar.mesh = MESH             # its CLI is mesh's
    nodes.append(liar)
    liar.wait_ready()
    liar_id = self_row(liar)["id"]
    wait_for(lambda: (row_of(a, liar_id) or {}).get("role") in ("voter", "standby"),
             timeout=20, what="the liar joining as a member")
    time.sleep(1.0)              # its gossip says so too: the leader leases to it
    # 96-bit semiprimes: a second of work for the honest node alone, so
    # the liar is leased some at once.
    bid = submit(a, "--semiprimes", "96", "--count", "600", "--seed", "5", "--chunk", "5")
    wait_for(lambda: row_of(a, liar_id)["state"] in ("drained", "draining"), timeout=30,
             what="the liar drained automatically")
    check_results(a, bid, None, 600)
    refused = row_of(a, liar_id)["refused_results"]
    assert refused >= 16, refused
    events = a.cli("events", "--json", "--no-follow").stdout
    assert "wrong results" in events and "draining it" in events, events
    assert "a factor is not prime" in a.log() or "do not multiply" in a.log()
    print("lying_member: %d wrong results refused, liar drained, batch right" % refused)


def lying_ecm_member(nodes):
    # tests/cluster/test_spread_ecm.py's N: curve 2 of level 2 finds P.
    p = 437978765085889961639949130369
    q = int("7" + "0" * 117 + "87")
    n = p * q
    assert is_prime(q) and n % 7 != 0 and len(str(n)) == 150
    a = Node(MESH, authkey=KEY, workers=1)
    nodes.append(a)
    a.wait_ready()
    leader_ready(a)
    liar = Node(LIAR, authkey=KEY, workers=1, peers=["127.0.0.1:%d" % a.port])
    liar.mesh = MESH
    nodes.append(liar)
    liar.wait_ready()
    liar_id = self_row(liar)["id"]
    wait_for(lambda: (row_of(a, liar_id) or {}).get("role") in ("voter", "standby"),
             timeout=20, what="the liar joining as a member")
    time.sleep(1.0)              # its gossip says so too: the leader leases to it
    bid = submit(a, "--spread", str(n))
    wait_for(lambda: row_of(a, liar_id)["refused_results"] >= 1, timeout=60,
             what="the liar's curve results refused")
    wait_for(lambda: batch(a, bid)["state"] == "done", timeout=240, what="the batch done")
    out = a.cli("results", str(bid)).stdout.split()
    assert out == ["%d:" % n, str(p), str(q)], out
    assert "the curves' factor does not divide the number" in a.log()
    refused = row_of(a, liar_id)["refused_results"]
    print("lying_ecm_member: %d wrong curve results refused, factor right" % refused)


def gossip_flood(nodes):
    a = Node(MESH, authkey=KEY, workers=1)
    nodes.append(a)
    a.wait_ready()
    leader_ready(a)
    t0 = time.monotonic()
    r = subprocess.run([FORGE, str(a.port), KEY, "gossip", "1100"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    print("gossip_flood: %s in %.1f s" % (r.stdout.strip(), time.monotonic() - t0))
    assert int(re.search(r"(\d+) identities", r.stdout).group(1)) > 1024, r.stdout
    b = Node(MESH, authkey=KEY, workers=1, peers=["127.0.0.1:%d" % a.port])
    nodes.append(b)
    b.wait_ready()
    # b's own view: the leader's status lists at most its first 1,024 peers.
    wait_for(lambda: self_row(b)["role"] in ("voter", "standby"), timeout=20,
             what="a genuine node joining after the flood")
    b_id = self_row(b)["id"]
    wait_for(lambda: "membership: %s joined" % b_id in a.log(), timeout=10,
             what="the leader adding the new node")
    time.sleep(1.0)              # its gossip says so too: the leader leases to it
    bid = submit(b, "--semiprimes", "96", "--count", "400", "--seed", "9", "--chunk", "5")
    check_results(b, bid, None, 400)
    wait_for(lambda: self_row(b)["done"] > 0, timeout=10, what="the new node doing work")
    print("gossip_flood: new node joined and factored %d numbers" % self_row(b)["done"])


class Slowloris:
    """`count` connections from 127.0.0.2..(1+sources) to port, each sending
    a request head one byte every `every` s; a connection the server cuts
    is opened again."""

    def __init__(self, port, count=24, sources=4, every=0.2):
        self.port, self.count, self.sources, self.every = port, count, sources, every
        self.stop_flag = threading.Event()
        self.opened = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def open_one(self):
        s = socket.socket()
        s.bind(("127.0.0.%d" % (2 + self.opened % self.sources), 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", self.port))
        self.opened += 1
        return s

    def run(self):
        socks = [self.open_one() for _ in range(self.count)]
        head = b"GET /metrics HTTP/1.0\r\nX-Slow: " + b"a" * 4000
        sent = [0] * self.count
        while not self.stop_flag.wait(self.every):
            for i, s in enumerate(socks):
                try:
                    s.send(head[sent[i] % len(head):][:1])
                    sent[i] += 1
                except OSError:
                    s.close()
                    socks[i], sent[i] = self.open_one(), 0
        for s in socks:
            s.close()

    def stop(self):
        self.stop_flag.set()
        self.thread.join(timeout=10)


def slowloris(nodes):
    mport = free_port()
    a = Node(MESH, authkey=KEY, workers=1, extra=["--metrics", "127.0.0.1:%d" % mport])
    nodes.append(a)
    a.wait_ready()
    attack = Slowloris(mport)
    try:
        time.sleep(1.5)          # every slot taken, connections being cut and reopened
        ok, t0 = 0, time.monotonic()
        for _ in range(80):
            try:
                ok += "mesh_node_up" in metrics(mport)
            except OSError:
                pass
        took = time.monotonic() - t0
    finally:
        attack.stop()
    print("slowloris: %d of 80 scrapes served in %.1f s, %d slow connections opened" %
          (ok, took, attack.opened))
    assert attack.opened > 24, attack.opened  # the server did cut them
    assert ok == 80, ok


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def control_flood(nodes):
    a = Node(MESH, authkey=KEY, workers=1)
    nodes.append(a)
    a.wait_ready()
    base_fds = open_fds(a.pid)
    path = os.path.join(a.dir, "control.sock")
    socks = []
    try:
        for _ in range(150):
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.sendall(b'{"cmd": "sta')        # never finished
            socks.append(s)
        wait_for(lambda: open_fds(a.pid) <= base_fds + 64, timeout=10,
                 what="the node keeping at most 64 control connections")
        assert a.cli("status", "--json", timeout=10).returncode == 0
        # Two large requests at once: the second is turned away.
        big = [socket.socket(socket.AF_UNIX) for _ in range(2)]
        socks += big
        for s in big:
            s.connect(path)
        chunk = b'{"cmd": "submit", "kind": "list", "numbers": [' + b'"7",' * 65536
        big[0].sendall(chunk)
        big[1].settimeout(10)
        try:
            big[1].sendall(chunk)
        except OSError:
            pass                                 # cut while sending: also refused
        answer = big[1].recv(4096)
        assert b"another large request" in answer or answer == b"", answer
        assert a.cli("status", "--json", timeout=10).returncode == 0
        closed = 0
        for s in socks[:150]:
            s.settimeout(0.01)
            try:
                closed += s.recv(1) == b""
            except socket.timeout:
                pass
            except OSError:
                closed += 1
        print("control_flood: %d of 150 idle connections closed, fds %d (base %d)" %
              (closed, open_fds(a.pid), base_fds))
        assert closed >= 150 - 64, closed
        assert open_fds(a.pid) <= base_fds + 64
    finally:
        for s in socks:
            s.close()


def authkey_mode(nodes):
    import tempfile
    keydir = tempfile.mkdtemp(prefix="mesh-key-")
    try:
        for mode, warned in ((0o644, True), (0o640, True), (0o600, False)):
            path = os.path.join(keydir, "mesh.key")
            with open(path, "w") as f:
                f.write(KEY + "\n")
            os.chmod(path, mode)
            n = Node(MESH, authkey=None, workers=1, extra=["--authkey-file", path])
            nodes.append(n)
            n.wait_ready()
            wait_for(lambda: "up: 1 workers" in n.log(), timeout=10, what="the node up")
            said = "authkey file %s has mode %04o" % (path, mode) in n.log()
            assert said == warned, (oct(mode), n.log())
            assert not warned or "chmod 600" in n.log()
            n.stop()
        print("authkey_mode: 0644 and 0640 warned, 0600 not")
    finally:
        for name in os.listdir(keydir):
            os.unlink(os.path.join(keydir, name))
        os.rmdir(keydir)


def main():
    nodes = []
    try:
        {"forged_results": forged_results, "lying_member": lying_member,
         "lying_ecm_member": lying_ecm_member,
         "gossip_flood": gossip_flood, "slowloris": slowloris,
         "control_flood": control_flood, "authkey_mode": authkey_mode}[SCENARIO](nodes)
    except BaseException:
        for n in nodes:
            sys.stderr.write("---- log of %s (last 40 lines)\n%s\n" %
                             (n.name, "\n".join(n.log().splitlines()[-40:])))
        raise
    finally:
        for n in nodes:
            n.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
