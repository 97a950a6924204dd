#!/usr/bin/env python3
"""mesh30.py MESH [ROUNDS] [COUNT] - the 30-node benchmark (issue: membership).

Run through tests/bench/mesh30.sh (inside its own network namespace with a
private avahi-daemon on lo). Each round starts COUNT (30) nodes at once, one
worker each, no --peer, and measures:
  formed    seconds from the last start until one mesh: one cluster, one
            leader, 3 healthy voters, every node a member (polled each 0.5 s)
  after key the same, from the moment the last node had derived its key
            (its "up" log line): thirty Argon2id derivations (0.5 s of one
            core each, by design) share this machine's cores first
  idle      over 10 s with nothing submitted and nobody polling: the
            leader's CPU (utime+stime, % of one core) and the bytes every
            node sends per second (lo's tx counter / COUNT / 10 s; all the
            test's traffic is on lo: links, raft, gossip, mDNS)
  replaced  seconds from SIGKILL of a non-leader voter until 3 healthy
            voters again (default --voter-grace 10 s)
Prints each round, then the median and range of each figure."""
import datetime
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from manynodes import Fleet  # noqa: E402
from meshnode import wait_for  # noqa: E402

IDLE_S = 10


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def lo_tx_bytes():
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                return int(rest.split()[8])
    raise RuntimeError("no lo in /proc/net/dev")


def last_up(fleet):
    """Unix time of the latest 'up' log line (key derived, node running)."""
    latest = 0.0
    for i in range(len(fleet.dirs)):
        m = re.search(r"^(\S+)Z info  node \S+ \(\w+\) up:", fleet.log(i), re.M)
        if m:
            t = datetime.datetime.fromisoformat(m.group(1)).replace(
                tzinfo=datetime.timezone.utc).timestamp()
            latest = max(latest, t)
    return latest


def one_round(mesh, count):
    fleet = Fleet(mesh, count)
    try:
        t_last = time.monotonic()
        sts = wait_for(fleet.one_mesh, 120, interval=0.5, what="one mesh")
        formed = time.monotonic() - t_last
        after_key = time.time() - last_up(fleet)
        lead = fleet.leader_index(sts)
        time.sleep(3)  # joins settle (snapshots, catch-up)
        hz = os.sysconf("SC_CLK_TCK")
        c0, b0, t0 = cpu_ticks(fleet.procs[lead].pid), lo_tx_bytes(), time.monotonic()
        time.sleep(IDLE_S)
        c1, b1, t1 = cpu_ticks(fleet.procs[lead].pid), lo_tx_bytes(), time.monotonic()
        cpu = 100.0 * (c1 - c0) / hz / (t1 - t0)
        per_node = (b1 - b0) / (t1 - t0) / count
        st = fleet.status(lead)
        voters = [x["name"] for x in st["nodes"] if x["role"] == "voter"]
        victim = int(voters[0][1:])
        t_kill = time.monotonic()
        fleet.kill(victim)
        wait_for(fleet.one_mesh, 60, interval=0.5, what="3 healthy voters again")
        replaced = time.monotonic() - t_kill
        return formed, after_key, cpu, per_node, replaced
    finally:
        fleet.stop()


def main():
    mesh = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    rows = []
    for r in range(rounds):
        row = one_round(mesh, count)
        rows.append(row)
        print("round %d: formed %.1f s (%.1f s after the last key), leader idle CPU %.1f%%, "
              "%.0f B/s sent per node, voter replaced %.1f s" % ((r + 1,) + row), flush=True)
    names = ["formed after the last start (s)", "formed after the last key derived (s)",
             "leader CPU at idle (% of a core)",
             "bytes sent per node per second at idle", "SIGKILLed voter replaced (s)"]
    for k, name in enumerate(names):
        col = [row[k] for row in rows]
        print("%-42s median %.1f (%.1f-%.1f)" % (name, statistics.median(col), min(col),
                                                  max(col)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
