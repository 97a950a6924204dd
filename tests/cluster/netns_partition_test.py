"""netns_partition_test.py MESH - five hosts in network namespaces on one
bridge, five voters, partitioned 2|3 in the middle of a batch.

The minority side (the leader and one other) must commit nothing and refuse
submits; the majority side elects a leader and finishes the batch; healed,
all five agree on every result. Hosts are network namespaces joined by veth
pairs to a bridge in a hub namespace (10.214.0.0/24 exists only there); the
partition moves two hosts' ports to a second bridge. Nodes use --peer and
--no-mdns. Every process is killed by its PID and every namespace deleted.
Skipped (exit 77) when not root."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HOSTS = 5
PORT = 47110
PREFIX = "mpart%d" % os.getpid()
HUB = PREFIX + "-hub"


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def ns(i):
    return "%s-%d" % (PREFIX, i)


def addr(i):
    return "10.214.0.%d" % i


def create_network():
    sh("ip", "netns", "add", HUB)
    sh("ip", "-n", HUB, "link", "set", "lo", "up")
    for br in ("br0", "br1"):
        sh("ip", "-n", HUB, "link", "add", br, "type", "bridge")
        sh("ip", "-n", HUB, "link", "set", br, "up")
    for i in range(1, HOSTS + 1):
        sh("ip", "netns", "add", ns(i))
        sh("ip", "-n", ns(i), "link", "set", "lo", "up")
        sh("ip", "-n", ns(i), "link", "add", "mesh0", "type", "veth", "peer", "name",
           "port%d" % i, "netns", HUB)
        sh("ip", "-n", HUB, "link", "set", "port%d" % i, "master", "br0")
        sh("ip", "-n", HUB, "link", "set", "port%d" % i, "up")
        sh("ip", "-n", ns(i), "addr", "add", addr(i) + "/24", "dev", "mesh0")
        sh("ip", "-n", ns(i), "link", "set", "mesh0", "up")


def move_ports(hosts, bridge):
    for i in hosts:
        sh("ip", "-n", HUB, "link", "set", "port%d" % i, "master", bridge)


def delete_network():
    for i in range(1, HOSTS + 1):
        sh("ip", "netns", "del", ns(i), check=False)
    sh("ip", "netns", "del", HUB, check=False)


class Host:
    def __init__(self, mesh, i, top):
        self.i, self.mesh = i, mesh
        self.dir = os.path.join(top, "host%d" % i)
        os.makedirs(self.dir)
        peers = []
        for j in range(1, HOSTS + 1):
            if j != i:
                peers += ["--peer", "%s:%d" % (addr(j), PORT)]
        self.log = open(os.path.join(self.dir, "node.log"), "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns(i), mesh, "--authkey", "partition-test-key",
             "--data-dir", self.dir, "--name", "host%d" % i, "--port", str(PORT),
             "--headless", "--workers", "1", "--no-mdns", "--voters", "5"] + peers,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def cli(self, *args, timeout=60):
        # the control socket is a unix socket: no namespace needed
        return subprocess.run([self.mesh, "--data-dir", self.dir] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def status(self):
        r = self.cli("status", "--json")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def fail(msg, hosts):
    print("FAIL:", msg)
    for h in hosts:
        with open(os.path.join(h.dir, "node.log")) as f:
            print("---- host%d\n%s" % (h.i, "".join(f.readlines()[-30:])))
    return 1


def main():
    if os.geteuid() != 0:
        print("skipped: needs root for network namespaces")
        return 77
    mesh = os.path.abspath(sys.argv[1])
    top = tempfile.mkdtemp(prefix="mesh-partition-")
    hosts = []
    try:
        create_network()
        hosts = [Host(mesh, i, top) for i in range(1, HOSTS + 1)]
        return run(hosts)
    except AssertionError as e:
        return fail(str(e), hosts)
    finally:
        for h in hosts:
            h.stop()
        delete_network()
        shutil.rmtree(top, ignore_errors=True)


def leader_of(hosts):
    sts = [h.status() for h in hosts]
    ids = {s["leader"] for s in sts if s}
    if len(ids) != 1 or "" in ids or None in sts:
        return None
    lid = ids.pop()
    return next((h for h, s in zip(hosts, sts) if s["id"] == lid), None)


def results_digest(h, bid):
    r = h.cli("results", bid, timeout=120)
    return hashlib.sha256(r.stdout.encode()).hexdigest(), len(r.stdout.splitlines())


def run(hosts):
    wait(lambda: all((h.status() or {}).get("quorum", {}).get("voters") == 5 for h in hosts),
         60, "five voters")
    lead = wait(lambda: leader_of(hosts), 30, "one leader")
    count = 20000
    r = lead.cli("submit", "--semiprimes", "64", "--count", str(count), "--seed", "21")
    if r.returncode != 0:
        return fail("submit: " + r.stderr, hosts)
    bid = r.stdout.split()[-1]
    wait(lambda: lead.status()["batches"][0]["done"] > 500, 60, "progress")

    minority = [lead] + [h for h in hosts if h is not lead][:1]
    majority = [h for h in hosts if h not in minority]
    move_ports([h.i for h in minority], "br1")
    print("partitioned: minority %s, majority %s" %
          ([h.i for h in minority], [h.i for h in majority]))

    # the majority elects one of its own and finishes the batch
    new = wait(lambda: leader_of(majority), 30, "a majority leader")
    if new in minority:
        return fail("leader on the minority side", hosts)
    r = new.cli("results", bid, "--wait", timeout=300)
    lines = r.stdout.splitlines()
    if r.returncode != 0 or len(lines) != count:
        return fail("majority did not finish: %d lines, %s" % (len(lines), r.stderr), hosts)

    # the minority commits nothing and refuses writes
    commit = [h.status()["commit_index"] for h in minority]
    for h in minority:
        r = h.cli("submit", "--count", "10", timeout=30)
        if r.returncode != 1 or "no quorum" not in r.stderr:
            return fail("minority host%d accepted a write: %d %s %s" %
                        (h.i, r.returncode, r.stdout, r.stderr), hosts)
    time.sleep(2)
    if [h.status()["commit_index"] for h in minority] != commit:
        return fail("the minority committed entries while cut off", hosts)

    # healed: everyone agrees on every result
    move_ports([h.i for h in minority], "br0")
    want = results_digest(new, bid)
    wait(lambda: all(results_digest(h, bid) == want for h in hosts), 60,
         "every host serving the same results")
    print("ok: minority refused, majority finished %d numbers, healed hosts agree" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
