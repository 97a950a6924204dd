"""meshnode.py - start and drive real `mesh` nodes from Python tests.

Each node gets its own temporary data dir and a free loopback port; it is
stopped by its PID (SIGTERM, then SIGKILL) and its dir deleted. Used by the
node, net and mdns tests; python3 is a test-only dependency."""
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time


# Node ports: three binds to port 0 in a row once gave one port twice, so
# two nodes of a mesh had the same port and the third failed "address
# already in use" (a cluster test). Ports are now drawn from below the
# kernel's ephemeral range (where no outgoing connection takes one either),
# checked free, and each handed out once per test process.
NODE_PORTS = range(20000, 32768)
_handed_out = set()


def free_port():
    """A port nothing listens on now, outside the ephemeral range, never
    given before by this process."""
    for _ in range(200):
        port = random.choice(NODE_PORTS)
        if port in _handed_out:
            continue
        _handed_out.add(port)
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in %d..%d" % (NODE_PORTS.start, NODE_PORTS.stop - 1))


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


class Node:
    def __init__(self, mesh, authkey="test-key", name=None, workers=2, port=None,
                 peers=(), extra=(), data_dir=None, env=None, mdns=False):
        self.mesh = mesh
        self.own_dir = data_dir is None
        self.dir = data_dir or tempfile.mkdtemp(prefix="mesh-test-")
        self.port = port if port is not None else free_port()
        self.name = name or os.path.basename(self.dir)
        # authkey=None: the key comes from extra (--authkey-file) or env.
        args = [mesh] + (["--authkey", authkey] if authkey is not None else []) + [
                "--data-dir", self.dir, "--headless",
                "--name", self.name, "--workers", str(workers), "--port", str(self.port),
                "--log-file", os.path.join(self.dir, "node.log")]
        if not mdns:
            args.append("--no-mdns")
        for p in peers:
            args += ["--peer", p]
        args += list(extra)
        self.env = dict(os.environ if env is None else env)
        # stderr to a file, never a pipe nobody reads (a full pipe would
        # block the node and its workers).
        self.errf = open(os.path.join(self.dir, "stderr.txt"), "ab")
        self.args = args
        # A port this class chose can be taken by another test process
        # between its check and the node's bind: such a node is started
        # again on a new port (wait_ready). A port the caller chose (a
        # Mesh, whose peers name it) is the caller's to retry.
        self.port_retries = 3 if port is None else 0
        self._spawn()

    def _spawn(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.errf,
                                     env=self.env)
        self.pid = self.proc.pid

    def _respawn_on_new_port(self):
        old = self.port
        self.port = free_port()
        self.args[self.args.index("--port") + 1] = str(self.port)
        self.port_retries -= 1
        for name in ("stderr.txt", "node.log"):  # the next start's log only
            with contextlib.suppress(OSError):
                os.rename(os.path.join(self.dir, name),
                          os.path.join(self.dir, name + ".port%d" % old))
        self.errf.close()
        self.errf = open(os.path.join(self.dir, "stderr.txt"), "ab")
        self._spawn()

    def wait_ready(self, timeout=15):
        def ready():
            if self.proc.poll() is not None:
                log = self.log()
                if self.port_retries > 0 and "address already in use" in log:
                    self._respawn_on_new_port()
                    return False
                raise AssertionError("node exited early (%s): %s" %
                                     (self.proc.returncode, log))
            return self.cli("status", "--json", check=False).returncode == 0
        wait_for(ready, timeout, what="node %s control socket" % self.name)
        return self

    def log(self):
        text = ""
        for name in ("stderr.txt", "node.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def cli(self, *args, check=True, input=None, timeout=60):
        r = subprocess.run([self.mesh, "--data-dir", self.dir] + list(args),
                           input=input, capture_output=True, text=True,
                           timeout=timeout, env=self.env)
        if check and r.returncode != 0:
            raise AssertionError("mesh %s failed (%d): %s" % (" ".join(args),
                                                             r.returncode, r.stderr))
        return r

    @contextlib.contextmanager
    def cli_running(self, *args):
        """A CLI run left going while the test acts (its Popen, stdout and
        stderr piped as text); killed and reaped if still running at exit."""
        p = subprocess.Popen([self.mesh, "--data-dir", self.dir] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=self.env)
        try:
            yield p
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()

    def status(self):
        return json.loads(self.cli("status", "--json").stdout)

    def children(self):
        """PIDs of the node's worker processes."""
        kids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.pid:
                    kids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
        return kids

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.errf.close()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
