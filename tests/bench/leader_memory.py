"""leader_memory.py MESH - the leader's memory for a 10,000,000-number
batch that is pending: a 3-node loopback mesh, every node drained (so the
batch stays pending), VmRSS of the leader before and after the submit.
Then undrained for 5 s: the memory per number done so far (results are
stored compactly in pages). Every node is stopped by its PID."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshnode import Node, free_port, wait_for  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    mesh = os.path.abspath(sys.argv[1])
    ports = [free_port() for _ in range(3)]
    nodes = []
    try:
        for i in range(3):
            peers = ["127.0.0.1:%d" % p for j, p in enumerate(ports) if j != i]
            nodes.append(Node(mesh, name="n%d" % i, workers=1, port=ports[i], peers=peers))
        for n in nodes:
            n.wait_ready()
        wait_for(lambda: all(n.status()["quorum"]["voters"] == 3 and n.status()["leader"]
                             for n in nodes), 30, what="a mesh")
        lid = nodes[0].status()["leader"]
        lead = next(n for n in nodes if n.status()["id"] == lid)
        for n in nodes:
            lead.cli("drain", n.name)
        time.sleep(1)
        before = rss_kib(lead.pid)
        bid = lead.cli("submit", "--start", "1", "--count", "10000000").stdout.split()[-1]
        time.sleep(2)
        after = rss_kib(lead.pid)
        print("leader VmRSS %d KiB before, %d KiB with a pending 10,000,000-number batch: "
              "%.3f bytes per pending number" % (before, after,
                                                 (after - before) * 1024.0 / 1e7))
        for n in nodes:
            lead.cli("undrain", n.name)
        time.sleep(5)
        done = next(b["done"] for b in lead.status()["batches"] if b["id"] == int(bid))
        now = rss_kib(lead.pid)
        print("after 5 s of work: %d numbers done, VmRSS %d KiB: %.1f bytes per done number"
              % (done, now, (now - after) * 1024.0 / max(done, 1)))
    finally:
        for n in nodes:
            n.stop()


if __name__ == "__main__":
    main()
