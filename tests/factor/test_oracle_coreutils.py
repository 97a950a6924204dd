#!/usr/bin/env python3
"""Oracle: `DRIVER factor` against coreutils `factor` on a corpus generated
from a fixed seed: random numbers of every size up to 64 bits, balanced
semiprimes, squares and cubes, and random numbers up to ~100 bits."""
import random
import subprocess
import sys

from test_child import nextprime


def corpus():
    rng = random.Random(1234567)
    nums = list(range(0, 300))
    for bits in range(2, 65):
        nums += [rng.getrandbits(bits) | (1 << (bits - 1)) for _ in range(25)]
    for bits in range(8, 33, 2):  # balanced semiprimes up to 64 bits
        for _ in range(8):
            p = nextprime(rng.getrandbits(bits) | (1 << (bits - 1)))
            q = nextprime(rng.getrandbits(bits) | (1 << (bits - 1)))
            nums.append(p * q)
    for bits in (10, 16, 20, 21, 31, 32):  # squares and cubes of primes
        p = nextprime(rng.getrandbits(bits) | (1 << (bits - 1)))
        nums += [p * p, p * p * p] if p ** 3 < 2 ** 64 else [p * p]
    nums += [2 ** 64 - k for k in range(1, 60)] + [2 ** 64 + k for k in range(0, 60)]
    # The ECM and primality hot paths: thousands of random 64-bit numbers
    # and semiprimes of every size from 40 to 64 bits.
    nums += [rng.getrandbits(64) for _ in range(4000)]
    for bits in range(40, 65):
        for _ in range(40):
            p = nextprime(rng.getrandbits(bits // 2) | (1 << (bits // 2 - 1)))
            q = nextprime(rng.getrandbits(bits - bits // 2) |
                          (1 << (bits - bits // 2 - 1)))
            if p * q < 2 ** 64:
                nums.append(p * q)
    for bits in range(65, 101, 5):
        nums += [rng.getrandbits(bits) | (1 << (bits - 1)) for _ in range(10)]
    return nums


def factor_output(cmd, text):
    proc = subprocess.run(cmd, input=text.encode(), capture_output=True,
                          timeout=170)
    if proc.returncode != 0:
        print("FAIL: %r exited %d: %r" % (cmd, proc.returncode, proc.stderr[:500]))
        sys.exit(1)
    return proc.stdout.decode().splitlines()


def main():
    driver = sys.argv[1]
    nums = corpus()
    text = "\n".join(map(str, nums)) + "\n"
    want = factor_output(["factor"], text)
    got = factor_output([driver, "factor"], text)
    bad = [(g, w) for g, w in zip(got, want) if g != w]
    if len(got) != len(want) or bad:
        print("FAIL: %d lines vs %d, %d differ, first: %r" %
              (len(got), len(want), len(bad), bad[:3]))
        sys.exit(1)
    print("oracle coreutils: %d numbers ok" % len(nums))


if __name__ == "__main__":
    main()
