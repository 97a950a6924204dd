#!/usr/bin/env python3
"""Writes the benchmark corpora (fixed seed) into DIR:
   semi64.txt   balanced 64-bit semiprimes (two 32-bit primes)
   rand64.txt   uniformly random 64-bit numbers
   semi100.txt  balanced 100-bit semiprimes
   semi124.txt  balanced 124-bit semiprimes
   rand100.txt  uniformly random 100-bit numbers (what users submit)
   mixed100.txt 100-bit products of an 18..36-bit prime and a large prime
                (the medium factor trial division misses)
usage: kernel_corpus.py DIR [SCALE]   (SCALE multiplies the counts)"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from primes import is_prime  # noqa: E402


def prime(rng, bits):
    while True:
        p = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if is_prime(p):
            return p


def semiprimes(rng, bits, count):
    out = []
    while len(out) < count:
        n = prime(rng, bits // 2) * prime(rng, bits - bits // 2)
        if n.bit_length() == bits:
            out.append(n)
    return out


def mixed(rng, bits, count):
    """A random 18..36-bit prime times a prime completing `bits` bits."""
    out = []
    while len(out) < count:
        small = rng.randint(18, 36)
        n = prime(rng, small) * prime(rng, bits - small)
        if n.bit_length() == bits:
            out.append(n)
    return out


def main():
    outdir = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    rng = random.Random(20240601)
    sets = {
        "semi64": semiprimes(rng, 64, int(2000 * scale)),
        "rand64": [rng.getrandbits(64) | (1 << 63) for _ in range(int(20000 * scale))],
        "semi100": semiprimes(rng, 100, int(100 * scale)),
        "semi124": semiprimes(rng, 124, int(30 * scale)),
    }
    # Own generators: adding corpora must not change the existing ones.
    rng100 = random.Random(20261125)
    sets["rand100"] = [rng100.getrandbits(100) | (1 << 99) for _ in range(int(300 * scale))]
    sets["mixed100"] = mixed(rng100, 100, int(200 * scale))
    for name, nums in sets.items():
        with open(os.path.join(outdir, name + ".txt"), "w") as f:
            f.write("\n".join(map(str, nums)) + "\n")


if __name__ == "__main__":
    main()
