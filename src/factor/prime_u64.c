/* prime_u64.c - deterministic primality for 64-bit integers.
 *
 * A strong probable-prime test is one modular exponentiation: a chain of
 * dependent Montgomery products, so a single one runs at the multiplier's
 * latency, not its throughput. The deterministic base sets need 3 or 7
 * bases; base 2 goes first on its own (it rejects almost every composite,
 * and doubling is an addition), then the remaining bases run in lockstep so
 * their independent products overlap in the pipeline (measured: a 63-bit
 * prime went from 3.5 us to under 2 us). */
#include "factor_u64.h"
#include "mont64.h"
#include "small_primes.h"

enum { MR_LANES_MAX = 6 };

/* The end of a strong probable-prime test: x = a^d, n - 1 = d * 2^s. */
static bool sprp_finish(const struct mont64 *m, uint64_t x, int s)
{
    uint64_t minus_one = m->n - m->one;
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

/* Base 2: left-to-right powering where "multiply by the base" is a
 * doubling, i.e. a modular addition. */
static bool sprp_base2(const struct mont64 *m, uint64_t d, int s)
{
    uint64_t x = mont_add(m, m->one, m->one);
    for (int b = 62 - __builtin_clzll(d); b >= 0; b--) {
        x = mont_sqr(m, x);
        if ((d >> b) & 1)
            x = mont_add(m, x, x);
    }
    return sprp_finish(m, x, s);
}

/* Strong probable-prime tests to count bases at once (count is a constant
 * at each call site so the lane loops unroll). A base that is a multiple
 * of n says nothing and passes. */
static inline bool sprp_lanes(const struct mont64 *m, const uint64_t *bases,
                              int count, uint64_t d, int s)
{
    uint64_t a[MR_LANES_MAX], x[MR_LANES_MAX];
    bool skip[MR_LANES_MAX];
    for (int i = 0; i < count; i++) {
        uint64_t a_mod = bases[i] % m->n;
        skip[i] = a_mod == 0;
        a[i] = mont_to(m, a_mod);
        x[i] = a[i];
    }
    for (int b = 62 - __builtin_clzll(d); b >= 0; b--) {
        for (int i = 0; i < count; i++)
            x[i] = mont_sqr(m, x[i]);
        if ((d >> b) & 1)
            for (int i = 0; i < count; i++)
                x[i] = mont_mul(m, x[i], a[i]);
    }
    for (int i = 0; i < count; i++)
        if (!skip[i] && !sprp_finish(m, x[i], s))
            return false;
    return true;
}

/* Odd n > 4095 without small factors: Miller-Rabin with a base set proven
 * to have no counterexample below the stated bound (2 is in both sets). */
static bool miller_rabin(uint64_t n)
{
    static const uint64_t bases32[] = {7, 61}; /* with 2: n < 4759123141 */
    static const uint64_t bases64[] = {325, 9375, 28178, 450775, 9780504,
                                       1795265022}; /* with 2: all n */
    struct mont64 m;
    mont_init(&m, n);
    uint64_t d = n - 1;
    int s = __builtin_ctzll(d);
    d >>= s;
    if (!sprp_base2(&m, d, s))
        return false;
    if (n < 4759123141ULL)
        return sprp_lanes(&m, bases32, 2, d, s);
    return sprp_lanes(&m, bases64, 6, d, s);
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
