"""primes.py - a Miller-Rabin primality test for test oracles and corpus
generation (many fixed bases: exact far beyond the sizes the tests use)."""
import functools
import random

BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
# Below each bound the first k bases of BASES decide exactly (the known
# deterministic Miller-Rabin sets: Jaeschke 1993, Jiang and Deng 2014).
# The cluster tests check every factor of up to 200000 results: with all
# 13 bases for every factor, the oracle took most of such a test's time.
EXACT_BELOW = ((2047, 1), (1373653, 2), (25326001, 3), (3215031751, 4),
               (2152302898747, 5), (3474749660383, 6), (341550071728321, 7),
               (3825123056546413051, 9), (318665857834031151167461, 12))


# Cached: results repeat their small factors (2, 3, 5, ... in most lines).
@functools.lru_cache(maxsize=1 << 16)
def is_prime(m):
    if m < 2:
        return False
    for p in BASES[:12]:
        if m % p == 0:
            return m == p
    if m < 41 * 41:
        return True   # a composite this small has a factor of at most 37
    bases = next((BASES[:k] for bound, k in EXACT_BELOW if m < bound), BASES)
    d, s = m - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in bases:
        if a % m == 0:
            continue  # m itself is a base (41): nothing to witness
        x = pow(a, d, m)
        if x in (1, m - 1):
            continue
        for _ in range(s - 1):
            x = x * x % m
            if x == m - 1:
                break
        else:
            return False
    return True


def nextprime(n):
    """The smallest prime >= n."""
    while not is_prime(n):
        n += 1
    return n


def semiprime(bits, seed):
    """A balanced semiprime of exactly `bits` bits, the same for the same
    seed (cluster tests and benchmarks of one hard number)."""
    rng = random.Random(seed)
    while True:
        p = nextprime(rng.getrandbits(bits // 2) | 1 << (bits // 2 - 1))
        q = nextprime(rng.getrandbits(bits - bits // 2) | 1 << (bits - bits // 2 - 1))
        if (p * q).bit_length() == bits:
            return p * q
