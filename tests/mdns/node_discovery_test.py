#!/usr/bin/env python3
"""node_discovery_test.py MESH SCENARIO - nodes find each other through mDNS.

Runs inside run_avahi_test.sh with-avahi (own network namespace, private bus
and avahi-daemon on lo; MDNS_TEST_AVAHI_STOP/START restart the daemon).
Nodes get no --peer: every link must come from discovery.

Scenarios:
  link           three nodes discover and link each other
  foreign        a node with another authkey is never linked, and is counted
  kill           a SIGKILLed node is shown "connected": false
  avahi_restart  after an avahi-daemon restart a new node is still found
  no_library     a node on a machine without the Avahi client library (it
                 is hidden in a mount namespace) runs, says so, and links
                 from --peer
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE = 20.0     # generous: discovery takes ~1 s, links a few more
KEY = "mdns-test-key"
OTHER_KEY = "some-other-mesh"


class Node:
    def __init__(self, mesh, root, name, key, port=0, extra=(), wrapper=()):
        self.mesh = mesh
        self.name = name
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.log_path = os.path.join(root, name + ".log")
        # wrapper: a command that execs the node in place (same PID).
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                list(wrapper) +
                [mesh, "--authkey", key, "--data-dir", self.dir,
                 "--name", name, "--port", str(port), "--headless",
                 "--workers", "1"] + list(extra),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def status(self):
        """The node's status JSON, or None while it is not answering."""
        try:
            r = subprocess.run(
                [self.mesh, "--data-dir", self.dir, "status", "--json"],
                capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            return None
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def peers(self):
        """{name: connected} for every other node this node lists."""
        st = self.status()
        if st is None:
            return {}
        return {n.get("name"): bool(n.get("connected"))
                for n in st.get("nodes", []) if not n.get("self")}

    def discovery(self):
        st = self.status() or {}
        return st.get("discovery", {})

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Cluster:
    """Every node a scenario starts, so teardown can kill each by PID."""

    def __init__(self, mesh, root):
        self.mesh, self.root, self.nodes = mesh, root, []

    def node(self, name, key=KEY, **options):
        n = Node(self.mesh, self.root, name, key, **options)
        self.nodes.append(n)
        return n

    def trio(self):
        return [self.node(name) for name in ("n1", "n2", "n3")]


def wait_for(what, pred, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.25)
    raise AssertionError("timed out waiting for: " + what)


def linked(node, others):
    peers = node.peers()
    return all(peers.get(o.name) for o in others)


def wait_full_mesh(nodes):
    for n in nodes:
        others = [o for o in nodes if o is not n]
        wait_for(n.name + " linked to " + ",".join(o.name for o in others),
                 lambda: linked(n, others))


def run_command(env_name):
    cmd = os.environ.get(env_name)
    if not cmd:
        raise AssertionError(env_name + " not set (run via run_avahi_test.sh)")
    subprocess.run(cmd, shell=True, check=True, timeout=30)


def scenario_link(c):
    nodes = c.trio()
    wait_full_mesh(nodes)
    for n in nodes:
        assert n.discovery().get("daemon_running") is True, n.name


def scenario_foreign(c):
    nodes = c.trio()
    stranger = c.node("stranger", OTHER_KEY)
    wait_full_mesh(nodes)
    wait_for("n1 counts the other mesh",
             lambda: nodes[0].discovery().get("foreign_meshes", 0) >= 1)
    wait_for("stranger counts the three",
             lambda: stranger.discovery().get("foreign_meshes", 0) >= 3)
    time.sleep(3)   # give a wrong link every chance to appear
    for n in nodes:
        assert not n.peers().get("stranger"), n.name + " linked the stranger"
    assert not any(stranger.peers().values()), "stranger linked someone"


def scenario_kill(c):
    nodes = c.trio()
    wait_full_mesh(nodes)
    nodes[2].kill()
    for n in nodes[:2]:
        wait_for(n.name + " shows n3 down",
                 lambda: n.peers().get("n3") is False, timeout=15)


def scenario_avahi_restart(c):
    nodes = c.trio()
    wait_full_mesh(nodes)
    run_command("MDNS_TEST_AVAHI_STOP")
    for n in nodes:
        wait_for(n.name + " notices the daemon is gone",
                 lambda: n.discovery().get("daemon_running") is False)
    run_command("MDNS_TEST_AVAHI_START")
    for n in nodes:
        wait_for(n.name + " reconnects to the daemon",
                 lambda: n.discovery().get("daemon_running") is True)
    # A newcomer can only be found if the old nodes browse again, and can
    # only find them if they published again.
    late = c.node("late")
    nodes.append(late)
    wait_full_mesh(nodes)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def avahi_client_library():
    """The file the dynamic linker loads for libavahi-client.so.3."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        if line.strip().startswith("libavahi-client.so.3 ") and "=>" in line:
            return os.path.realpath(line.split("=>")[1].strip())
    raise AssertionError("ldconfig knows no libavahi-client.so.3")


def scenario_no_library(c):
    lib = avahi_client_library()
    # A private mount namespace where the library is an empty file: what a
    # machine without libavahi-client3 looks like to this node only.
    hide = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind /dev/null "$0" && exec "$@"', lib]
    port = free_port()
    bare = c.node("bare", port=port, wrapper=hide)
    n1 = c.node("n1", extra=["--peer", "127.0.0.1:%d" % port])
    wait_full_mesh([bare, n1])
    assert "cannot load the Avahi client library" in bare.log(), bare.log()
    assert bare.discovery().get("daemon_running") is False
    wait_for("n1 uses the daemon", lambda: n1.discovery().get("daemon_running") is True)
    assert "cannot load the Avahi client library" not in n1.log()


SCENARIOS = {
    "link": scenario_link,
    "foreign": scenario_foreign,
    "kill": scenario_kill,
    "avahi_restart": scenario_avahi_restart,
    "no_library": scenario_no_library,
}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        print(__doc__, file=sys.stderr)
        return 2
    mesh, scenario = os.path.abspath(sys.argv[1]), sys.argv[2]
    root = tempfile.mkdtemp(prefix="mdns-node-")
    cluster = Cluster(mesh, root)
    started = cluster.nodes
    ok = False
    try:
        SCENARIOS[scenario](cluster)
        ok = True
    except (AssertionError, OSError, subprocess.SubprocessError) as e:
        print("FAIL:", e, file=sys.stderr)
    finally:
        for n in started:
            n.kill()
        if not ok:
            for n in started:
                print("---- log of", n.name, file=sys.stderr)
                with open(n.log_path) as f:
                    sys.stderr.write(f.read()[-4000:])
        shutil.rmtree(root, ignore_errors=True)
    print(("ok " if ok else "not ok ") + scenario)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
