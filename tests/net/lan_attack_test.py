#!/usr/bin/env python3
"""Attacks from a LAN full of strangers, against real `mesh` nodes on
loopback (--no-mdns; sources 127.0.0.2-254 stand for distinct hosts):

  starve   1,000 idle connections a second from 250 source addresses, held
           3 s each: a genuine node still links within 2 s.
  emfile   the node runs out of file descriptors under a connection flood:
           its existing link stays up, and once the flood is gone it
           accepts a new genuine peer.
  reflect  a --peer address that leads back to the node itself is spotted
           at the first handshake message and only backed off; when the
           same address later leads to a real peer, that peer links.

Every process is stopped by PID; sockets are closed in teardown.
Usage: lan_attack_test.py PATH_TO_MESH SCENARIO"""
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from meshnode import Node, free_port, wait_for  # noqa: E402

MESH = sys.argv[1]
KEY = "lan-attack-test-key"


class Flood:
    """Opens `rate` idle TCP connections a second to 127.0.0.1:port from
    127.0.0.2..254 (never sending a byte) and holds each for hold_s."""

    def __init__(self, port, rate=1000, hold_s=3.0):
        self.port, self.rate, self.hold_s = port, rate, hold_s
        self.held = []            # (opened_at, socket)
        self.opened = 0
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def open_one(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind(("127.0.0.%d" % (2 + self.opened % 253), 0))
        s.connect_ex(("127.0.0.1", self.port))
        self.opened += 1
        self.held.append((time.monotonic(), s))

    def run(self):
        start = time.monotonic()
        while not self.stop_flag.is_set():
            due = int((time.monotonic() - start) * self.rate)
            while self.opened < due:
                self.open_one()
            cutoff = time.monotonic() - self.hold_s
            while self.held and self.held[0][0] < cutoff:
                self.held.pop(0)[1].close()
            time.sleep(0.002)

    def stop(self):
        self.stop_flag.set()
        self.thread.join(timeout=10)
        for _, s in self.held:
            s.close()
        self.held = []


def linked(node, other_id=None):
    st = node.status()
    peers = [n for n in st["nodes"] if not n["self"] and n["connected"]]
    if other_id is not None:
        peers = [n for n in peers if n["id"] == other_id]
    return bool(peers)


def node_id(node):
    return [n for n in node.status()["nodes"] if n["self"]][0]["id"]


def starve(nodes):
    a = Node(MESH, authkey=KEY, workers=1).wait_ready()
    nodes.append(a)
    flood = Flood(a.port).start()
    try:
        time.sleep(1.0)           # the flood is in full swing
        # port 0: the flood's own sockets may hold any fixed port by now
        b = Node(MESH, authkey=KEY, workers=1, port=0, peers=["127.0.0.1:%d" % a.port])
        nodes.append(b)
        b.wait_ready()
        t0 = time.monotonic()
        wait_for(lambda: linked(b), timeout=2.0, interval=0.02,
                 what="genuine node linking during the flood")
        took = time.monotonic() - t0
        print("starve: linked in %.3f s after %d flood connections" % (took, flood.opened))
        assert flood.opened >= 1000, flood.opened
    finally:
        flood.stop()
    assert "evicted for a newer handshake" in a.log() or "dropped a pending" in a.log()


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def emfile(nodes):
    a = Node(MESH, authkey=KEY, workers=1).wait_ready()
    b = Node(MESH, authkey=KEY, workers=1, peers=["127.0.0.1:%d" % a.port]).wait_ready()
    nodes += [a, b]
    wait_for(lambda: linked(b), timeout=10, what="first link")
    a_id = node_id(a)
    limit = open_fds(a.pid) + 12
    resource.prlimit(a.pid, resource.RLIMIT_NOFILE, (limit, limit))
    flood = Flood(a.port, rate=500, hold_s=5.0).start()
    try:
        # libuv meets EMFILE with its reserve descriptor (accept, close) and
        # does not report it: watch the node sit at its limit instead.
        wait_for(lambda: open_fds(a.pid) >= limit - 1, timeout=10, interval=0.01,
                 what="the node reaching its descriptor limit")
        time.sleep(2.0)       # well past the 3 s keepalive: the link must live
        assert linked(b, a_id), "existing link lost under EMFILE"
    finally:
        flood.stop()
    c = Node(MESH, authkey=KEY, workers=1, port=0,
             peers=["127.0.0.1:%d" % a.port]).wait_ready()
    nodes.append(c)
    wait_for(lambda: linked(c, a_id), timeout=10, what="a new peer after EMFILE")
    assert linked(b, a_id)
    print("emfile: survived (limit %d fds), link kept, new peer accepted" % limit)


class Splice:
    """A TCP forwarder on 127.0.0.1:port to whatever `target` is now."""

    def __init__(self, target):
        self.target = target
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.socks = []
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                c, _ = self.server.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                c.close()
                continue
            self.socks += [c, u]
            for x, y in ((c, u), (u, c)):
                threading.Thread(target=self.pump, args=(x, y), daemon=True).start()

    @staticmethod
    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.server.close()
        for s in self.socks:
            s.close()


def reflect(nodes):
    b = Node(MESH, authkey=KEY, workers=1).wait_ready()
    nodes.append(b)
    a_port = free_port()
    splice = Splice(a_port)           # first leads back to a itself
    try:
        a = Node(MESH, authkey=KEY, workers=1, port=a_port,
                 peers=["127.0.0.1:%d" % a_port, "127.0.0.1:%d" % splice.port])
        nodes.append(a)
        a.wait_ready()
        wait_for(lambda: a.log().count("leads back to this node") >= 1, timeout=10,
                 what="the reflection to be recognised")
        assert "authentication failed" not in a.log()
        time.sleep(1.0)
        # Reflected dials are backed off, not retried 4 times a second.
        assert a.log().count("connected to ourselves") <= 4, a.log()
        splice.target = b.port        # the address now leads to a real peer
        t0 = time.monotonic()
        wait_for(lambda: linked(a, node_id(b)), timeout=15,
                 what="the real peer behind a once-reflected address")
        print("reflect: real peer linked %.1f s after the splice moved" %
              (time.monotonic() - t0))
    finally:
        splice.close()


def main():
    scenario = sys.argv[2]
    nodes = []
    try:
        {"starve": starve, "emfile": emfile, "reflect": reflect}[scenario](nodes)
    finally:
        for n in nodes:
            n.stop()
    print("lan_attack %s: ok" % scenario)


if __name__ == "__main__":
    main()
