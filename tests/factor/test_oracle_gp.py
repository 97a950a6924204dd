#!/usr/bin/env python3
"""Oracle: `DRIVER factor` against PARI/GP's factor() on 100-200-bit numbers
generated from a fixed seed (random numbers, semiprimes with factors of
mixed sizes, prime powers, Carmichael-like products), on 65..128-bit
numbers, the range of the rho pre-pass before SIQS: random ones and
products with a medium (14..40-bit) factor, and on SIQS's own range
(65..140 bits): balanced semiprimes, three balanced primes, squares and
cubes (which SIQS splits by a root, or leaves to PARI), and past it (the
multi-precision SIQS, 141..340 bits): a 151-bit semiprime and a 157-bit
product of three primes."""
import random
import subprocess
import sys

from test_child import nextprime


def corpus():
    rng = random.Random(99)
    nums = []
    for bits in range(100, 201, 10):
        nums += [rng.getrandbits(bits) | (1 << (bits - 1)) for _ in range(4)]
    for small, big in ((50, 50), (60, 40), (30, 140), (40, 160), (20, 180)):
        p = nextprime(rng.getrandbits(small) | (1 << (small - 1)))
        q = nextprime(rng.getrandbits(big) | (1 << (big - 1)))
        nums.append(p * q)
    p = nextprime(2 ** 40 + rng.getrandbits(30))
    nums += [p ** 3, p ** 4 * 3, nextprime(2 ** 33) ** 5]
    # (6k+1)(12k+1)(18k+1) Carmichael numbers with large k
    for k in (10 ** 12 + 150, 2 ** 40 + 4):
        a, b, c = 6 * k + 1, 12 * k + 1, 18 * k + 1
        nums.append(a * b * c)
    return nums + corpus_128(rng) + corpus_siqs(rng)


def corpus_128(rng):
    """Random 65..128-bit numbers, and medium prime times large prime (one
    part may fit 64 bits, the other not: both sides of the split)."""
    nums = [rng.getrandbits(bits) | (1 << (bits - 1))
            for bits in range(65, 129) for _ in range(3)]
    for i in range(120):
        small = 14 + i % 27
        big = rng.randint(max(2, 65 - small), 128 - small)
        p = nextprime(rng.getrandbits(small) | (1 << (small - 1)))
        q = nextprime(rng.getrandbits(big) | (1 << (big - 1)))
        nums.append(p * q * (1 if i % 4 else p))
    return [n for n in nums if n < 2 ** 128]


def balanced_prime(rng, bits):
    return nextprime(rng.getrandbits(bits) | (1 << (bits - 1)))


def corpus_siqs(rng):
    nums = []
    for bits in range(65, 141, 5):
        nums.append(balanced_prime(rng, bits // 2) * balanced_prime(rng, bits - bits // 2))
        nums.append(balanced_prime(rng, bits // 3) * balanced_prime(rng, bits // 3) *
                    balanced_prime(rng, bits - 2 * (bits // 3)))
    for bits in (33, 45, 60, 70):
        nums.append(balanced_prime(rng, bits) ** 2)
    for bits in (23, 30, 45):
        nums.append(balanced_prime(rng, bits) ** 3)
    # Past 140 bits: the multi-precision SIQS (siqs_mp.c), a semiprime and
    # three primes (its first split leaves a composite to split again).
    nums.append(balanced_prime(rng, 75) * balanced_prime(rng, 76))
    nums.append(balanced_prime(rng, 52) * balanced_prime(rng, 52) * balanced_prime(rng, 53))
    return nums


def gp_lines(nums):
    script = "\n".join(
        'f=factor(%d);s="%d:";for(i=1,#f~,for(j=1,f[i,2],s=Str(s," ",f[i,1])));print(s)'
        % (n, n) for n in nums) + "\nquit\n"
    proc = subprocess.run(["gp", "-q", "-f", "--default", "parisizemax=512M"],
                          input=script.encode(), capture_output=True, timeout=170)
    return proc.stdout.decode().splitlines()


def main():
    driver = sys.argv[1]
    nums = corpus()
    want = gp_lines(nums)
    proc = subprocess.run([driver, "factor"] + [str(n) for n in nums],
                          capture_output=True, timeout=170)
    got = proc.stdout.decode().splitlines()
    bad = [(g, w) for g, w in zip(got, want) if g != w]
    if proc.returncode != 0 or len(got) != len(nums) or len(want) != len(nums) or bad:
        print("FAIL: rc %d, %d/%d/%d lines, differing: %r" %
              (proc.returncode, len(got), len(want), len(nums), bad[:3]))
        sys.exit(1)
    print("oracle gp: %d numbers ok" % len(nums))


if __name__ == "__main__":
    main()
