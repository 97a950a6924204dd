"""failover.py MESH ROUNDS - leader SIGKILL to the next committed result,
on a 3-node loopback mesh (1 worker each), ROUNDS times; prints the median.

The clock starts at the SIGKILL and stops when a survivor's replica shows a
result committed under a new leader (its `status --json` polled in a tight
loop, ~5 ms a poll). The killed node is restarted from its data dir and
rejoins before the next round. Every node is stopped by its PID."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from meshnode import Node, free_port, wait_for  # noqa: E402


def main():
    mesh, rounds = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    ports = [free_port() for _ in range(3)]
    nodes = []

    def start(i, data_dir=None):
        peers = ["127.0.0.1:%d" % p for j, p in enumerate(ports) if j != i]
        n = Node(mesh, name="n%d" % i, workers=1, port=ports[i], peers=peers,
                 data_dir=data_dir)
        if data_dir is not None:
            n.own_dir = True
        return n.wait_ready()

    def leader():
        def agreed():
            sts = [(n, n.status()) for n in nodes if n.proc.poll() is None]
            ids = {s["leader"] for _, s in sts}
            if len(ids) == 1 and "" not in ids and all(s["quorum"]["voters"] == 3 for _, s in sts):
                return next(n for n, s in sts if s["id"] in ids)
            return None
        return wait_for(agreed, 30, what="a leader of three voters")

    try:
        nodes = [start(i) for i in range(3)]
        lead = leader()
        bid = int(lead.cli("submit", "--semiprimes", "64", "--count", "5000000").stdout.split()[-1])
        totals, elections = [], []
        for _ in range(rounds):
            time.sleep(1.5)
            lead = leader()
            old = lead.status()["id"]
            survivor = next(n for n in nodes if n is not lead)
            t0 = time.monotonic()
            lead.kill(signal.SIGKILL)
            t_new = None
            while True:
                st = survivor.status()
                done = next(b["done"] for b in st["batches"] if b["id"] == bid)
                if t_new is None and st["leader"] not in ("", old):
                    t_new, base = time.monotonic(), done
                elif t_new is not None and done > base:
                    break
            t1 = time.monotonic()
            totals.append((t1 - t0) * 1000)
            elections.append((t_new - t0) * 1000)
            i = nodes.index(lead)
            nodes[i] = start(i, data_dir=lead.dir)
        totals.sort()
        elections.sort()
        m = len(totals) // 2
        print("%-40s %8.0f ms (min %.0f, max %.0f; new leader seen after %.0f ms)" %
              ("leader SIGKILL -> next committed result", totals[m], totals[0], totals[-1],
               elections[m]))
    finally:
        for n in nodes:
            n.stop()


if __name__ == "__main__":
    main()
