/* prime64.c - see prime64.h. Written here rather than taken from the
 * factoring kernel: the state machine is a library of its own, and this is
 * twenty lines. */
#include "prime64.h"

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1;
    for (b %= m; e != 0; e >>= 1) {
        if (e & 1)
            r = mulmod(r, b, m);
        b = mulmod(b, b, m);
    }
    return r;
}

/* n odd, n > 2: a strong probable-prime test to base a. */
static bool sprp(uint64_t n, uint64_t a)
{
    uint64_t d = n - 1;
    unsigned s = 0;
    while ((d & 1) == 0) {
        d >>= 1;
        s++;
    }
    uint64_t x = powmod(a, d, n);
    if (x == 0 || x == 1 || x == n - 1)
        return true;   /* x == 0: a is a multiple of n, which says nothing */
    for (unsigned i = 1; i < s; i++) {
        x = mulmod(x, x, n);
        if (x == n - 1)
            return true;
    }
    return false;
}

bool prime64_is_prime(uint64_t n)
{
    static const uint8_t small[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47};
    if (n < 2)
        return false;
    for (unsigned i = 0; i < sizeof small; i++) {
        if (n == small[i])
            return true;
        if (n % small[i] == 0)
            return false;
    }
    if (n < 53 * 53)
        return true;
    /* Deterministic below 4,759,123,141 (2, 7, 61) and below 2^64 with
     * these seven bases (Jim Sinclair's set). */
    if (n < 4759123141u)
        return sprp(n, 2) && sprp(n, 7) && sprp(n, 61);
    static const uint64_t bases[] = {2, 325, 9375, 28178, 450775, 9780504, 1795265022};
    for (unsigned i = 0; i < sizeof bases / sizeof bases[0]; i++)
        if (!sprp(n, bases[i]))
            return false;
    return true;
}

uint64_t prime64_next(uint64_t n)
{
    if (n < 2)
        return 2;
    for (uint64_t c = (n + 1) | 1; c > n; c += 2)
        if (prime64_is_prime(c))
            return c;
    return 0;
}
