"""make_old_release_datadir.py MESH DIR - the fixture tests/node/old_release_datadir.tar.xz,
made with the previous release's binary (commit f0b6207, queue command format 3,
snapshot format 3, unsealed snapshots) so test_old_release.py can check that a data dir of
that release replays. Run by hand: python3 make_old_release_datadir.py OLD_MESH DIR, then
rm DIR/lock DIR/node.log; tar -C DIR -cJf old_release_datadir.tar.xz .
"""
import json, os, socket, subprocess, sys, time
mesh, d = sys.argv[1], sys.argv[2]
p = subprocess.Popen([mesh, "--authkey", "old-release-fixture-key", "--data-dir", d, "--headless",
                      "--no-mdns", "--voters", "1", "--workers", "1", "--port", "0", "--name", "old",
                      "--log-file", d + "/node.log"], stdin=subprocess.DEVNULL)
def ctl(req):
    s = socket.socket(socket.AF_UNIX); s.connect(d + "/control.sock")
    f = s.makefile("rw"); f.write(json.dumps(req) + "\n"); f.flush()
    r = json.loads(f.readline()); s.close(); return r
for _ in range(200):
    try:
        if ctl({"cmd": "status"})["leader"]: break
    except Exception: pass
    time.sleep(0.1)
ids = []
ids.append(ctl({"cmd": "submit", "kind": "range", "start": "1000000000000", "count": 3000, "name": "old range"})["batch"])
ids.append(ctl({"cmd": "submit", "kind": "semiprimes", "bits": 64, "count": 500, "seed": 5, "name": "old semis"})["batch"])
ids.append(ctl({"cmd": "submit", "kind": "list", "numbers": ["12", "97", "1000000007", "18446744073709551617"], "name": "old list"})["batch"])
for b in ids:
    while ctl({"cmd": "results", "batch": b, "wait": True})["state"] == "running": time.sleep(0.2)
# entries past the snapshot threshold (16384): refused cancels are entries too
s = socket.socket(socket.AF_UNIX); s.connect(d + "/control.sock"); f = s.makefile("rw")
for i in range(17000):
    f.write(json.dumps({"cmd": "cancel", "batch": 1}) + "\n"); f.flush(); f.readline()
s.close()
ids.append(ctl({"cmd": "submit", "kind": "range", "start": "7", "count": 100, "name": "after snapshot"})["batch"])
while ctl({"cmd": "results", "batch": ids[-1], "wait": True})["state"] == "running": time.sleep(0.2)
print(ids, ctl({"cmd": "status"})["applied_index"])
p.terminate(); p.wait()
