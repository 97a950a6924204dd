/* prime_u64.c - deterministic primality for 64-bit integers.
 *
 * A strong probable-prime test is one modular exponentiation: a chain of
 * dependent Montgomery products, so a single one runs at the multiplier's
 * latency, not its throughput. Below 4759123141 bases 2, 7 and 61 run in
 * lockstep so their independent products overlap (nearly every number
 * tested there is a prime, a factor being checked, which passes base 2
 * anyway: 0.34 against 0.42 us per 32-bit prime with base 2 first and the
 * other two after it). Above, base 2 goes first on its own (it rejects
 * almost every composite, and doubling is an addition) and a strong Lucas
 * test makes it Baillie-PSW (see is_prime_odd).
 * Measured on 64-bit primes (best of 7): 1.17 us per test against 1.48
 * with the six further Miller-Rabin bases it replaced. */
#include "factor_u64.h"
#include "mont64.h"
#include "small_primes.h"

enum { MR_LANES_MAX = 3 };

/* The end of a strong probable-prime test: x = a^d, n - 1 = d * 2^s. */
static bool sprp_finish(const struct mont64 *m, uint64_t x, int s)
{
    uint64_t minus_one = m->n - m->one;
    if (x == m->one || x == minus_one)
        return true;
    for (int i = 1; i < s; i++) {
        x = mont_sqr_chained(m, x);
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
        x = mont_sqr_chained(m, x);
        if ((d >> b) & 1)
            x = mont_add(m, x, x);
    }
    return sprp_finish(m, x, s);
}

/* Strong probable-prime tests to count bases at once (count is a constant
 * at the call site, and the lane loops are unrolled so the lanes stay in
 * registers: rolled, each product went through the stack on the chain).
 * A base that is a multiple of n says nothing and passes. */
static inline __attribute__((always_inline)) bool
sprp_lanes(const struct mont64 *m, const uint64_t *bases, int count,
           uint64_t d, int s)
{
    uint64_t a[MR_LANES_MAX], x[MR_LANES_MAX];
    bool skip[MR_LANES_MAX];
    for (int i = 0; i < count; i++) {
        uint64_t a_mod = bases[i] < m->n ? bases[i] : bases[i] % m->n;
        skip[i] = a_mod == 0;
        a[i] = mont_small(m, a_mod);
        x[i] = a[i];
    }
    for (int b = 62 - __builtin_clzll(d); b >= 0; b--) {
#pragma GCC unroll 4
        for (int i = 0; i < count; i++)
            x[i] = mont_sqr_chained(m, x[i]);
        if ((d >> b) & 1)
#pragma GCC unroll 4
            for (int i = 0; i < count; i++)
                x[i] = mont_mul_chained(m, x[i], a[i]);
    }
    for (int i = 0; i < count; i++)
        if (!skip[i] && !sprp_finish(m, x[i], s))
            return false;
    return true;
}

/* Jacobi symbol (a/n) for odd n, a < n (binary algorithm). */
static int jacobi(uint64_t a, uint64_t n)
{
    int t = 1;
    while (a != 0) {
        int z = __builtin_ctzll(a);
        a >>= z;
        if ((z & 1) && (n % 8 == 3 || n % 8 == 5))
            t = -t;
        if (a % 4 == 3 && n % 4 == 3)
            t = -t;
        uint64_t r = n % a;
        n = a;
        a = r;
    }
    return n == 1 ? t : 0;
}

static bool is_square(uint64_t n)
{
    uint64_t r = (uint64_t)__builtin_sqrt((double)n);
    while (r > UINT32_MAX || r * r > n)
        r--;
    while (r < UINT32_MAX && (r + 1) * (r + 1) <= n)
        r++;
    return r * r == n;
}

/* Selfridge's method A: the first D of 5, -7, 9, -11, ... with (D/n) = -1.
 * Returns 0 when some |D| shares a factor with n, or n is a square (no
 * such D exists then); n > 2^32 is odd. */
static int64_t selfridge_d(uint64_t n)
{
    for (int64_t d = 5;; d = d > 0 ? -(d + 2) : -d + 2) {
        uint64_t a = (uint64_t)(d > 0 ? d : -d);
        int j = jacobi(a, n);
        if (j == 0)
            return 0; /* |D| < n shares a factor with n */
        if (d < 0 && n % 4 == 3)
            j = -j; /* (-1/n) */
        if (j == -1)
            return d;
        if (d == 61 && is_square(n)) /* squares never give -1 */
            return 0;
    }
}

/* Strong Lucas probable-prime test with P = 1, Q = (1 - D) / 4: with n + 1
 * = d 2^s, U_d = 0 or V_{d 2^r} = 0 for some r < s. A ladder on V and on
 * the powers of Q keeps (V_k, V_k+1, Q^k, Q^k+1): V_2k = V_k^2 - 2 Q^k,
 * V_2k+1 = V_k V_k+1 - P Q^k, V_2k+2 = V_k+1^2 - 2 Q^k+1, and the Q powers
 * likewise. Each bit is four independent products; the U and V
 * recurrences it replaced had a product on the critical path of every
 * set bit (u64_is_prime on 64-bit primes, alternated runs: 1.15 against
 * 1.23-1.31 us; a branch on the bit instead of masks: 1.16-1.18). U_d is
 * never formed: D U_d = 2 V_d+1 - P V_d,
 * and D is a unit modulo n ((D/n) = -1), so U_d = 0 iff 2 V_d+1 = V_d. */
static bool strong_lucas(const struct mont64 *m, int64_t dd)
{
    int64_t q_int = (1 - dd) / 4;
    uint64_t q = mont_small(m, (uint64_t)(q_int > 0 ? q_int : -q_int));
    if (q_int < 0)
        q = mont_sub(m, 0, q);
    uint64_t d = m->n + 1; /* n < 2^64 - 1 here: n is odd and not 2^64 - 1 */
    int s = __builtin_ctzll(d);
    d >>= s;
    /* k = 0: V_0 = 2, V_1 = P = 1, Q^0 = 1, Q^1 = Q. */
    uint64_t v0 = mont_add(m, m->one, m->one), v1 = m->one;
    uint64_t q0 = m->one, q1 = q;
    for (int b = 63 - __builtin_clzll(d); b >= 0; b--) {
        /* The bit picks which of the pair is squared and where the
         * results go: by masks, since it is taken at random. */
        uint64_t mask = -((d >> b) & 1);
        uint64_t cross = mont_sub(m, mont_mul(m, v0, v1), q0); /* V_2k+1 */
        uint64_t qcross = mont_mul(m, q0, q1);                 /* Q^2k+1 */
        uint64_t vs = v0 ^ ((v0 ^ v1) & mask), qs = q0 ^ ((q0 ^ q1) & mask);
        uint64_t vsq = mont_sub(m, mont_sqr(m, vs), mont_add(m, qs, qs));
        uint64_t qsq = mont_sqr(m, qs);
        v0 = vsq ^ ((vsq ^ cross) & mask);
        v1 = cross ^ ((cross ^ vsq) & mask);
        q0 = qsq ^ ((qsq ^ qcross) & mask);
        q1 = qcross ^ ((qcross ^ qsq) & mask);
    }
    if (mont_add(m, v1, v1) == v0 || v0 == 0)
        return true;
    for (int r = 1; r < s; r++) {
        v0 = mont_sub(m, mont_sqr(m, v0), mont_add(m, q0, q0));
        if (v0 == 0)
            return true;
        q0 = mont_sqr(m, q0);
    }
    return false;
}

/* Odd n > 4095 without small factors. Below 4759123141: Miller-Rabin to
 * bases 2, 7, 61 (no counterexample there). Above: Baillie-PSW, a strong
 * probable prime to base 2 that is also a strong Lucas probable prime
 * (Selfridge's parameters); no composite below 2^64 passes both (checked
 * against Feitsma's list of base-2 strong pseudoprimes, J. Gilchrist
 * 2009). It replaced six more Miller-Rabin bases (Sinclair's set, in
 * lockstep): see the top of the file for the measured gain. */
static bool is_prime_odd(uint64_t n)
{
    static const uint64_t bases32[] = {2, 7, 61};
    struct mont64 m;
    mont_init_small(&m, n);
    uint64_t d = n - 1;
    int s = __builtin_ctzll(d);
    d >>= s;
    if (n < 4759123141ULL)
        return sprp_lanes(&m, bases32, 3, d, s);
    if (!sprp_base2(&m, d, s))
        return false;
    int64_t dd = selfridge_d(n);
    return dd != 0 && strong_lucas(&m, dd);
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
    return is_prime_odd(n);
}

bool u64_is_sprp2(uint64_t n)
{
    if (n % 2 == 0 || n < 3)
        return n == 2;
    struct mont64 m;
    mont_init_small(&m, n);
    uint64_t d = n - 1;
    int s = __builtin_ctzll(d);
    return sprp_base2(&m, d >> s, s);
}
