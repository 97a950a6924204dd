/* prime_u64.c - deterministic primality for 64-bit integers. */
#include "factor_u64.h"
#include "mont64.h"
#include "small_primes.h"

/* Strong probable-prime test of n (odd, > 2) to base a, in Montgomery form. */
static bool strong_probable_prime(const struct mont64 *m, uint64_t a,
                                  uint64_t d, int s)
{
    uint64_t a_mod = a % m->n;
    if (a_mod == 0)
        return true; /* the base is a multiple of n: it says nothing */
    uint64_t minus_one = m->n - m->one;
    uint64_t x = mont_pow(m, mont_to(m, a_mod), d);
    if (x == m->one || x == minus_one)
        return true;
    for (int i = 1; i < s; i++) {
        x = mont_sqr(m, x);
        if (x == minus_one)
            return true;
        if (x == m->one)
            return false;
    }
    return false;
}

/* Odd n > 4095 without small factors: Miller-Rabin with a base set proven
 * to have no counterexample below the stated bound. */
static bool miller_rabin(uint64_t n)
{
    static const uint64_t bases32[] = {2, 7, 61}; /* n < 4759123141 */
    static const uint64_t bases64[] = {2, 325, 9375, 28178, 450775,
                                       9780504, 1795265022};
    const uint64_t *bases = n < 4759123141ULL ? bases32 : bases64;
    int count = n < 4759123141ULL ? 3 : 7;
    struct mont64 m;
    mont_init(&m, n);
    uint64_t d = n - 1;
    int s = __builtin_ctzll(d);
    d >>= s;
    for (int i = 0; i < count; i++)
        if (!strong_probable_prime(&m, bases[i], d, s))
            return false;
    return true;
}

bool u64_is_prime(uint64_t n)
{
    if (n < 2)
        return false;
    if (n % 2 == 0)
        return n == 2;
    /* A few trial divisions reject most composites before any modexp. */
    for (int i = 0; i < 16; i++) {
        const struct small_prime *sp = &small_primes[i];
        if (n * sp->inv <= sp->lim)
            return n == sp->p;
    }
    if (n < 59 * 59)
        return true; /* 3..53 were tried above */
    return miller_rabin(n);
}
