"""primes.py - a Miller-Rabin primality test for test oracles and corpus
generation (many fixed bases: exact far beyond the sizes the tests use)."""


def is_prime(m):
    if m < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if m % p == 0:
            return m == p
    d, s = m - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41):
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
