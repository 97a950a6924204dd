#!/usr/bin/env python3
"""`mesh factor` through the real binary on numbers past the built-in SIQS
(340 bits), where ECM (libecm) is the method: an unbalanced 397-bit number
(a 20-digit prime that curve (level 1, index 0) of the schedule finds,
times a 334-bit prime) comes out complete and verified; a balanced 400-bit
semiprime under --number-timeout 1s is reported unfactored within a few
seconds, exit status 1, like any number whose budget ran out.
usage: test_cli_ecm.py MESH"""
import subprocess
import sys
import time

P20 = 13291217507092950973  # found by curve (1, 0) at B1 = 11e3
P334 = int("17498005798264095394980017816940970922825355447145699491406164851"
           "279623993595007385788105416184432931")  # nextprime(2^333 + 2026)
C200 = 803469022129495137770981046170581301261101496891396417650789  # nextprime(2^199 + 1)
D201 = 1606938044258990275541962092341162602522202993782792835301611  # nextprime(2^200 + 3)


def mesh_factor(mesh, *args):
    start = time.monotonic()
    proc = subprocess.run([mesh, "factor", *args], capture_output=True,
                          text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    mesh = sys.argv[1]
    n = P20 * P334
    rc, out, err, took = mesh_factor(mesh, "--number-timeout", "60s", str(n))
    want = "%d: %d %d\n" % (n, P20, P334)
    if rc != 0 or out != want:
        fail("unbalanced %d bits: rc %d, %r (stderr %r)" % (n.bit_length(), rc, out, err))
    print("unbalanced %d bits: %.2f s" % (n.bit_length(), took))

    n = C200 * D201
    rc, out, err, took = mesh_factor(mesh, "--number-timeout", "1s", str(n))
    if rc != 1 or out != "%d: unfactored:%d\n" % (n, n):
        fail("balanced 400 bits under 1 s: rc %d, %r (stderr %r)" % (rc, out, err))
    if took > 10:
        fail("balanced 400 bits: the 1 s budget took %.1f s" % took)
    print("balanced 400 bits, 1 s budget: unfactored after %.2f s" % took)


if __name__ == "__main__":
    main()
