"""meshcluster.py - several real `mesh` nodes on loopback as one mesh, for
the cluster and membership tests; and the arithmetic oracle of results.

Every node is stopped by its PID (Node.stop) and its data dir deleted."""
import re
import subprocess
import sys

from meshnode import Node, free_port, wait_for
from primes import is_prime


class Mesh:
    """N nodes, each told of the others with --peer (no mDNS)."""

    def __init__(self, mesh, count, workers=1, extra=(), envs=None):
        """envs: {index: environment} for nodes that need their own."""
        self.mesh = mesh
        self.extra = list(extra)
        self.workers = workers
        for attempt in range(3):
            if self._start_all(count, envs, last=attempt == 2):
                return

    def _start_all(self, count, envs, last):
        """Starts the nodes on fresh ports; False when a port was taken
        between its check and the node's bind (the holder is printed) and
        the mesh should be tried again. The failures CI met were two nodes
        given one port (free_port now hands each out once); this is the
        net for a port another process takes in that window."""
        self.ports = [free_port() for _ in range(count)]
        self.nodes = []
        try:
            for i in range(count):
                self.nodes.append(self._start(i, env=(envs or {}).get(i)))
            for n in self.nodes:
                n.wait_ready()
            return True
        except AssertionError as e:
            self.stop()  # the test's teardown never sees a mesh not made
            if last or "address already in use" not in str(e):
                raise
            try:
                held = subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout
            except OSError:
                held = ""  # no iproute2: the retry still happens
            taken = [line for line in held.splitlines()
                     if any(":%d " % p in line for p in self.ports)]
            print("a node port was taken (%s); trying new ports. Holders: %s" %
                  (e, taken), file=sys.stderr)
            return False
        except BaseException:
            self.stop()
            raise

    def _start(self, i, data_dir=None, extra=(), env=None):
        peers = ["127.0.0.1:%d" % p for j, p in enumerate(self.ports) if j != i]
        return Node(self.mesh, name="n%d" % i, workers=self.workers, port=self.ports[i],
                    peers=peers, extra=self.extra + list(extra), data_dir=data_dir,
                    env=env)

    def restart(self, i, extra=(), env=None):
        """Starts node i again on its own data dir and port (env: the
        whole environment of the new process, None for this one's)."""
        old = self.nodes[i]
        if not old.errf.closed:
            old.errf.close()
        node = self._start(i, data_dir=old.dir, extra=extra, env=env)
        node.own_dir = True   # the new handle deletes the dir at teardown
        self.nodes[i] = node
        node.wait_ready()
        return node

    def alive(self):
        return [n for n in self.nodes if n.proc.poll() is None]

    def statuses(self):
        return [(n, n.status()) for n in self.alive()]

    def formed(self, voters, timeout=20):
        """Waits until every live node sees `voters` voters and one leader."""
        wait_for(lambda: all(s["quorum"]["voters"] == voters for _, s in self.statuses()),
                 timeout, interval=0.1, what="%d voters everywhere" % voters)
        return self.leader(timeout)

    def working(self, lead, timeout=20):
        """Waits until the leader sees every live node active with its
        workers: it leases only to nodes it sees so, and learns that from
        each node's gossip, up to a second after the mesh is formed. A test
        that asserts every node did some of a short batch waits for this
        before it submits."""
        names = {n.name for n in self.alive()}

        def ready():
            rows = [x for x in lead.status()["nodes"] if x["name"] in names]
            return len(rows) == len(names) and all(
                x["state"] == "active" and x["workers"] > 0 for x in rows)
        wait_for(ready, timeout, interval=0.1, what="the leader seeing every node active")
        return lead

    def leader(self, timeout=20):
        """The node every live node agrees leads (a quorum of them must)."""
        def agreed():
            sts = self.statuses()
            ids = {s["leader"] for _, s in sts}
            if len(ids) != 1 or "" in ids:
                return None
            lid = ids.pop()
            return next((n for n, s in sts if s["id"] == lid), None)
        try:
            return wait_for(agreed, timeout, interval=0.1, what="one agreed leader")
        except AssertionError:
            self.dump()
            raise

    def cluster_id(self, timeout=5):
        """The one cluster id every live node reports (the founder's, which
        members learn by gossip), as an int."""
        def agreed():
            ids = {s["cluster_id"] for _, s in self.statuses()}
            return int(ids.pop(), 16) if len(ids) == 1 and "" not in ids else None
        return wait_for(agreed, timeout, what="one cluster id everywhere")

    def dump(self):
        """The nodes' logs, for a failure report."""
        for n in self.nodes:
            sys.stderr.write("--- log of %s (pid %d)\n%s\n" % (n.name, n.pid,
                             "\n".join(n.log().splitlines()[-40:])))

    def followers(self):
        lead = self.leader()
        return [n for n in self.alive() if n is not lead]

    def stop(self):
        for n in self.nodes:
            n.stop()


def submit(test, node, *args):
    """`mesh submit ARGS` on node; the new batch's id (a string)."""
    r = node.cli("submit", *args)
    m = re.search(r"(\d+)\s*$", r.stdout.strip())
    test.assertIsNotNone(m, r.stdout)
    return m.group(1)


def parse_results(text):
    """'N: p q ...' lines -> list of (N, [p, ...])."""
    out = []
    for line in text.splitlines():
        n, _, rest = line.partition(":")
        out.append((int(n), [int(f) for f in rest.split()]))
    return out


def check_factored(test, rows, expect):
    """rows are complete, in order, each correct."""
    test.assertEqual([n for n, _ in rows], expect)
    # The messages are made on a failure only: 200000 rows are checked here.
    for n, factors in rows:
        prod = 1
        for f in factors:
            prod *= f
            if not is_prime(f):
                test.fail("%d: factor %d is not prime" % (n, f))
        if prod != (n if n > 1 else 1):
            test.fail("%d: factors %s multiply to %d" % (n, factors, prod))


def done_of(status):
    return {x["name"]: x["done"] for x in status["nodes"]}
