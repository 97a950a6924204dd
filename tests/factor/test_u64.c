/* test_u64.c - the 64-bit fast path: edge cases with known answers, and
 * generated products of known primes (every factor must come back, sorted). */
#include <stdint.h>

#include "check.h"
#include "factor_u64.h"
#include "mont64.h"
#include "pm1_plan.h"
#include "prac_chains.h"

static void check_factors(uint64_t n, const uint64_t *want, int count)
{
    uint64_t got[FACTOR_U64_MAX];
    int k = factor_u64(n, got);
    if (k != count)
        fprintf(stderr, "n=%llu: %d factors, want %d\n", (unsigned long long)n, k, count);
    CHECK_INT_EQ(k, count);
    for (int i = 0; i < k; i++) {
        if (got[i] != want[i])
            fprintf(stderr, "n=%llu factor %d: %llu want %llu\n", (unsigned long long)n,
                    i, (unsigned long long)got[i], (unsigned long long)want[i]);
        CHECK(got[i] == want[i]);
    }
}

#define FACTORS(n, ...)                                                        \
    do {                                                                       \
        const uint64_t want_[] = {__VA_ARGS__};                                \
        check_factors((n), want_, (int)(sizeof want_ / sizeof want_[0]));      \
    } while (0)

static void test_edges(void)
{
    uint64_t out[FACTOR_U64_MAX];
    CHECK_INT_EQ(factor_u64(0, out), 0);
    CHECK_INT_EQ(factor_u64(1, out), 0);
    FACTORS(2, 2);
    FACTORS(3, 3);
    FACTORS(4, 2, 2);
    FACTORS(561, 3, 11, 17);                 /* Carmichael */
    FACTORS(41041, 7, 11, 13, 41);           /* Carmichael */
    FACTORS(3215031751ULL, 151, 751, 28351); /* spsp to bases 2,3,5,7 */
    FACTORS(3825123056546413051ULL, 149491, 747451, 34233211); /* spsp 2..37 */
    FACTORS(18446744073709551557ULL, 18446744073709551557ULL); /* largest prime */
    FACTORS(18446744073709551615ULL, 3, 5, 17, 257, 641, 65537, 6700417);
    FACTORS(4294967291ULL * 4294967291ULL, 4294967291ULL, 4294967291ULL);
    FACTORS(4294967279ULL * 4294967291ULL, 4294967279ULL, 4294967291ULL);
    FACTORS(2642231ULL * 2642231ULL * 2642231ULL, 2642231, 2642231, 2642231);
    FACTORS(1ULL << 63, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
            2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
            2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2);
    FACTORS(12157665459056928801ULL, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
            3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
            3, 3, 3); /* 3^40 */
    FACTORS(4093ULL * 4093 * 4099 * 4099, 4093, 4093, 4099, 4099);
    FACTORS(16769023ULL * 16769023ULL * 65521ULL, 65521, 16769023, 16769023);
    CHECK(u64_is_prime(2) && u64_is_prime(3) && !u64_is_prime(1) && !u64_is_prime(0));
    CHECK(!u64_is_prime(3825123056546413051ULL));
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t random_prime(uint64_t *seed, int bits)
{
    for (;;) {
        uint64_t p = (splitmix(seed) >> (64 - bits)) | (1ULL << (bits - 1)) | 1;
        if (u64_is_prime(p))
            return p;
    }
}

/* Slow, obviously correct primality for cross-checking u64_is_prime. */
static int is_prime_slow(uint64_t n)
{
    if (n < 2)
        return 0;
    for (uint64_t d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

static void test_generated_semiprimes(void)
{
    uint64_t seed = 20240601;
    for (int bits = 13; bits <= 32; bits++) {
        for (int i = 0; i < 40; i++) {
            uint64_t p = random_prime(&seed, bits), q = random_prime(&seed, bits);
            uint64_t lo = p < q ? p : q, hi = p < q ? q : p;
            FACTORS(lo * hi, lo, hi);
            /* and unbalanced: a small prime times a big one */
            uint64_t r = random_prime(&seed, 64 - bits);
            FACTORS(lo * r, lo < r ? lo : r, lo < r ? r : lo);
        }
    }
}

static void test_primality_against_trial_division(void)
{
    for (uint64_t n = 0; n < 200000; n++)
        CHECK_INT_EQ(u64_is_prime(n), is_prime_slow(n));
    uint64_t seed = 7;
    for (int i = 0; i < 2000; i++) {
        uint64_t n = splitmix(&seed) >> 30; /* 34 bits: trial division is quick */
        CHECK_INT_EQ(u64_is_prime(n), is_prime_slow(n));
    }
}

/* The branch-free mont_add/mont_sub against 128-bit arithmetic, for moduli
 * where a + b overflows 64 bits and for small ones. */
/* The binary gcd against Euclid's, zeros and powers of 2 included. */
static void test_gcd(void)
{
    uint64_t seed = 12;
    for (int i = 0; i < 100000; i++) {
        uint64_t a = splitmix(&seed) >> (i % 64), b = splitmix(&seed) << (i % 7);
        if (i % 17 == 0)
            a = 0;
        if (i % 19 == 0)
            b = a * (uint64_t)(i % 5);
        uint64_t x = a, y = b;
        while (y != 0) {
            uint64_t t = x % y;
            x = y;
            y = t;
        }
        CHECK(gcd_u64(a, b) == x);
    }
    /* inverse_gcd_u64: the gcd always, the inverse when it is 1 (odd n,
     * a < n, common factors made often). */
    for (int i = 0; i < 100000; i++) {
        uint64_t n = (splitmix(&seed) >> (i % 62)) | 1;
        uint64_t a = splitmix(&seed) % n;
        if (i % 3 == 0 && n > 9)
            a = (a / 3) * 3 % n;
        uint64_t g, inv = inverse_gcd_u64(a, n, &g);
        CHECK(g == gcd_u64(a, n));
        if (g == 1)
            CHECK(n == 1 || (unsigned __int128)a * inv % n == 1);
        CHECK(inverse_mod_u64(a, n) == (g == 1 ? inv : 0));
    }
}

/* a b mod n by a plain 128-bit remainder. */
static uint64_t mulmod_slow(uint64_t a, uint64_t b, uint64_t n)
{
    return (uint64_t)((unsigned __int128)a * b % n);
}

/* mont_add, mont_sub and the Montgomery products (asm on x86-64, whose
 * final correction is the same select) against 128-bit remainders, at the
 * edges of the range and at random. */
static void test_mont_add_sub(void)
{
    static const uint64_t moduli[] = {3, 4095, 4294967291ULL,
                                      (1ULL << 63) + 29, 18446744073709551557ULL,
                                      UINT64_MAX};
    uint64_t seed = 3;
    for (size_t i = 0; i < sizeof moduli / sizeof moduli[0]; i++) {
        struct mont64 m;
        mont_init(&m, moduli[i]);
        uint64_t n = moduli[i];
        uint64_t edge[] = {0, 1, n / 2, n / 2 + 1, n - 2, n - 1};
        for (int k = 0; k < 2000; k++) {
            uint64_t a = k < 36 ? edge[k % 6] : splitmix(&seed) % n;
            uint64_t b = k < 36 ? edge[k / 6] : splitmix(&seed) % n;
            CHECK(mont_add(&m, a, b) == (uint64_t)(((unsigned __int128)a + b) % n));
            CHECK(mont_sub(&m, a, b) ==
                  (uint64_t)(((unsigned __int128)a + n - b) % n));
            uint64_t prod = mont_from(&m, mont_mul(&m, mont_to(&m, a), mont_to(&m, b)));
            CHECK(prod == mulmod_slow(a, b, n));
            /* The asm products against the C reduction, on raw values. */
            uint64_t want = mont_reduce(&m, (unsigned __int128)a * b);
            CHECK(mont_mul(&m, a, b) == want);
            CHECK(mont_mul_chained(&m, a, b) == want);
            CHECK(mont_sqr(&m, a) == mont_reduce(&m, (unsigned __int128)a * a));
            CHECK(mont_sqr_chained(&m, b) == mont_reduce(&m, (unsigned __int128)b * b));
            uint64_t c = k < 64 ? (uint64_t)k : splitmix(&seed) >> (k % 64);
            CHECK(mont_small(&m, c) == mont_to(&m, c % n));
        }
    }
}

/* Reference: Miller-Rabin to Jim Sinclair's 7 bases (no counterexample
 * below 2^64) with plain 128-bit remainders, independent of mont64.h. */
static bool is_prime_reference(uint64_t n)
{
    static const uint64_t bases[] = {2, 325, 9375, 28178, 450775, 9780504, 1795265022};
    if (n < 4)
        return n >= 2;
    if (n % 2 == 0)
        return false;
    uint64_t d = n - 1;
    int s = __builtin_ctzll(d);
    d >>= s;
    for (int i = 0; i < 7; i++) {
        uint64_t a = bases[i] % n, x = 1, e = d;
        if (a == 0)
            continue;
        for (uint64_t b = a; e != 0; e >>= 1, b = mulmod_slow(b, b, n))
            if (e & 1)
                x = mulmod_slow(x, b, n);
        bool pass = x == 1 || x == n - 1;
        for (int r = 1; r < s && !pass; r++) {
            x = mulmod_slow(x, x, n);
            pass = x == n - 1;
        }
        if (!pass)
            return false;
    }
    return true;
}

/* The Baillie-PSW path (n above 4759123141) against the reference:
 * random odd numbers of 33-64 bits, primes among them, and products
 * p (k (p - 1) + 1), the shape of most base-2 strong pseudoprimes, so the
 * Lucas half gets composites that pass base 2 too; and squares of primes
 * (no Selfridge D exists for a square). */
static void test_primality_bpsw(void)
{
    uint64_t seed = 31337;
    int primes = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t n = (splitmix(&seed) >> (splitmix(&seed) % 31)) | 1;
        bool want = is_prime_reference(n);
        primes += want;
        CHECK_INT_EQ(u64_is_prime(n), want);
    }
    CHECK(primes > 1000);
    for (int i = 0; i < 20000; i++) {
        uint64_t p = random_prime(&seed, 16 + i % 12);
        uint64_t k = 1 + splitmix(&seed) % 64;
        unsigned __int128 n = (unsigned __int128)p * (k * (p - 1) + 1);
        if (n <= UINT64_MAX)
            CHECK_INT_EQ(u64_is_prime((uint64_t)n), is_prime_reference((uint64_t)n));
        uint64_t q = random_prime(&seed, 17 + i % 16);
        CHECK(!u64_is_prime(q * q));
    }
}

/* Around the switch from Miller-Rabin to Baillie-PSW, and composites that
 * pass base 2 (strong pseudoprimes), which reach the Lucas test. */
static void test_primality_edges(void)
{
    CHECK(!u64_is_prime(4759123141ULL)); /* spsp to 2, 7, 61 */
    CHECK(!u64_is_prime(2047) && !u64_is_prime(3277) && !u64_is_prime(4033));
    CHECK(!u64_is_prime(3215031751ULL));       /* spsp to 2, 3, 5, 7 */
    CHECK(!u64_is_prime(2152302898747ULL));    /* spsp to 2..11 */
    CHECK(!u64_is_prime(3474749660383ULL));    /* spsp to 2..13 */
    CHECK(!u64_is_prime(341550071728321ULL));  /* spsp to 2..17 */
    CHECK(!u64_is_prime(3825123056546413051ULL));
    for (uint64_t n = 4759123141ULL - 3000; n < 4759123141ULL + 3000; n++)
        CHECK_INT_EQ(u64_is_prime(n), is_prime_slow(n));
}

/* The answer check's base-2 test: every prime passes, and exactly the
 * base-2 strong pseudoprimes among the composites (below 10^5 the sixteen
 * of OEIS A001262, 2047 ... 90751; at 64 bits one that u64_is_prime
 * rejects). Products of two 32-bit primes, what a wrongly unsplit part of
 * a random number looks like, fail. */
static void test_sprp2(void)
{
    static const uint64_t pseudoprimes[] = {2047,  3277,  4033,  4681,  8321,  15841,
                                            29341, 42799, 49141, 52633, 65281, 74665,
                                            80581, 85489, 88357, 90751};
    size_t next = 0;
    for (uint64_t n = 0; n < 100000; n++) {
        bool pseudo = next < sizeof pseudoprimes / sizeof pseudoprimes[0] &&
                      pseudoprimes[next] == n;
        next += pseudo;
        CHECK_INT_EQ(u64_is_sprp2(n), is_prime_slow(n) || pseudo);
    }
    CHECK(u64_is_sprp2(3825123056546413051ULL) && !u64_is_prime(3825123056546413051ULL));
    CHECK(u64_is_sprp2(18446744073709551557ULL)); /* the largest 64-bit prime */
    CHECK(!u64_is_sprp2(UINT64_MAX));
    uint64_t p = 4294967291ULL, q = 4294967279ULL; /* the two largest 32-bit primes */
    CHECK(u64_is_sprp2(p) && u64_is_sprp2(q) && !u64_is_sprp2(p * q));
}

/* The precomputed PRAC chains (prac_chains.h, generated): every register
 * index in range, no register read before it is written, no addition
 * whose destination is its difference operand (xadd reads it after writing
 * x), every addition's difference really is the difference of its operands,
 * and the whole chain multiplies by the product of the prime powers <= B1.
 * Multiples are tracked modulo the prime 2^61 - 1 (the product has ~300
 * bits); a wrong chain would have to agree with the right one modulo it by
 * chance. Also: each B1 that ecm_u64.c's params_for picks has a chain. */
static const uint64_t mersenne61 = (1ULL << 61) - 1;

static uint64_t mulmod61(uint64_t a, uint64_t b)
{
    return (uint64_t)((unsigned __int128)a * b % mersenne61);
}

static void test_prac_chains(void)
{
    const uint64_t want_b1[] = {47, 85, 125, 205};
    for (size_t w = 0; w < sizeof want_b1 / sizeof want_b1[0]; w++) {
        bool found = false;
        for (size_t i = 0; i < sizeof prac_chains / sizeof prac_chains[0]; i++)
            found = found || prac_chains[i].b1 == want_b1[w];
        CHECK(found);
    }
    for (size_t i = 0; i < sizeof prac_chains / sizeof prac_chains[0]; i++) {
        const struct prac_chain *ch = &prac_chains[i];
        uint64_t k[PRAC_REGS] = {1};
        bool written[PRAC_REGS] = {true};
        for (int o = 0; o < ch->count; o++) {
            const struct prac_op *op = &ch->ops[o];
            CHECK(op->op <= 1 && op->dst < PRAC_REGS && op->a < PRAC_REGS);
            CHECK(written[op->a]);
            if (op->op == 0) {
                k[op->dst] = mulmod61(2, k[op->a]);
            } else {
                CHECK(op->b < PRAC_REGS && op->c < PRAC_REGS);
                CHECK(written[op->b] && written[op->c]);
                CHECK(op->dst != op->c);
                uint64_t diff = (k[op->a] + mersenne61 - k[op->b]) % mersenne61;
                CHECK(k[op->c] != 0);
                CHECK(diff == k[op->c] || (diff + k[op->c]) % mersenne61 == 0);
                k[op->dst] = (k[op->a] + k[op->b]) % mersenne61;
            }
            written[op->dst] = true;
        }
        uint64_t product = 1;
        for (uint64_t p = 2; p <= ch->b1; p++) {
            bool prime = true;
            for (uint64_t d = 2; d * d <= p; d++)
                prime = prime && p % d != 0;
            if (!prime)
                continue;
            uint64_t pe = p;
            while (pe * p <= ch->b1)
                pe *= p;
            product = mulmod61(product, pe);
        }
        CHECK(ch->result < PRAC_REGS && written[ch->result]);
        CHECK(k[ch->result] == product);
    }
}

/* The stage 2 plans of prac_chains.h (generated) against a recomputation
 * from scratch: every prime in (B1, B2] has its term (p < D/2 as a baby
 * step, else the pair g*D +- j), and no term stands for no prime. Also:
 * the (B1, B2) pairs ecm_u64.c's params_for picks are all in the table. */
static void test_stage2_plans(void)
{
    const uint32_t want[][2] = {{47, 940}, {85, 1700}, {125, 2500}, {205, 5125}};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        bool found = false;
        for (size_t i = 0; i < sizeof stage2_plans / sizeof stage2_plans[0]; i++)
            found = found || (stage2_plans[i].b1 == want[w][0] &&
                              stage2_plans[i].b2 == want[w][1]);
        CHECK(found);
    }
    for (size_t i = 0; i < sizeof stage2_plans / sizeof stage2_plans[0]; i++) {
        const struct stage2_plan *pl = &stage2_plans[i];
        uint64_t low = 0, giants = 0, mask[STAGE2_MAX_GIANTS] = {0};
        for (uint64_t p = pl->b1 + 1; p <= pl->b2; p++) {
            if (!is_prime_slow(p))
                continue;
            uint64_t g = (p + 105) / 210;
            CHECK(g < STAGE2_MAX_GIANTS);
            if (g == 0) {
                low |= 1ULL << (p / 2);
                continue;
            }
            uint64_t j = p > g * 210 ? p - g * 210 : g * 210 - p;
            mask[g] |= 1ULL << (j / 2);
            giants = g;
        }
        CHECK(pl->low == low && pl->giants == giants);
        for (int g = 0; g < STAGE2_MAX_GIANTS; g++)
            CHECK(pl->mask[g] == mask[g]);
    }
}

/* ECM alone on semiprimes of 28..64 bits (both sides of its B1 steps at
 * 44, 52 and 58 bits, each with its own PRAC chain and stage 2 range): a
 * proper factor every time, checked against the known primes. */
static void test_ecm_direct(void)
{
    uint64_t seed = 4242;
    for (int bits = 28; bits <= 64; bits++) {
        for (int i = 0; i < 24; i++) {
            uint64_t p, q;
            do {
                p = random_prime(&seed, bits / 2);
                q = random_prime(&seed, bits - bits / 2);
            } while (p == q || 64 - __builtin_clzll(p * q) < bits - 1 ||
                     (unsigned __int128)p * q > UINT64_MAX);
            uint64_t d = u64_ecm(p * q);
            CHECK(d == p || d == q);
        }
    }
}

/* Largest prime factor of m < 2^64 by trial division (m - 1 of a 32-bit
 * prime here, so at most 2^16 divisions). */
static uint64_t largest_prime_factor(uint64_t m)
{
    uint64_t big = 1;
    for (uint64_t d = 2; d * d <= m; d++)
        while (m % d == 0) {
            big = d;
            m /= d;
        }
    return m > big ? m : big;
}

/* A prime p = 2 k L + 1 of about `bits` bits, k a product of distinct odd
 * primes below PM1_B1 and L = 1 or the given prime: p - 1 is smooth for
 * stage 1 (L = 1) or for stage 2. */
static uint64_t smooth_prime(uint64_t *seed, int bits, uint64_t large)
{
    static const uint64_t odd[] = {3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37,
                                   41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
                                   89, 97, 101, 103, 107, 109, 113, 127, 131};
    for (;;) {
        uint64_t k = 2 * large;
        for (int i = 0; i < 31 && 64 - __builtin_clzll(k) < bits - 7; i++)
            if (splitmix(seed) & 1)
                k *= odd[i];
        if (64 - __builtin_clzll(k) < bits - 7)
            continue;
        if (u64_is_prime(k + 1))
            return k + 1;
    }
}

/* Whether 2^((q-1)/L) == 1 mod q for a prime L | q - 1: then the order
 * of 2 lacks L and p-1 may still see q. */
static bool order_of_two_lacks(uint64_t q, uint64_t l)
{
    struct mont64 m;
    mont_init(&m, q);
    return mont_pow(&m, mont_to(&m, 2), (q - 1) / l) == m.one;
}

/* p-1 alone: finds p whose p - 1 is smooth (stage 1, and stage 2 with one
 * prime in (B1, B2]) beside a q whose q - 1 has a prime above B2; on
 * random semiprimes it returns 0 or one of the primes, never anything else. */
static void test_pm1(void)
{
    uint64_t seed = 777;
    for (int i = 0; i < 200; i++) {
        uint64_t q, l;
        do {
            q = random_prime(&seed, 32);
            l = largest_prime_factor(q - 1);
        } while (l <= PM1_B2 || order_of_two_lacks(q, l));
        uint64_t p1 = smooth_prime(&seed, 30, 1);
        CHECK(u64_pm1(p1 * q) == p1);
        uint64_t large = random_prime(&seed, 14);
        if (large > PM1_B1 && large <= PM1_B2) {
            uint64_t p2 = smooth_prime(&seed, 31, large);
            CHECK(u64_pm1(p2 * q) == p2);
        }
        uint64_t a = random_prime(&seed, 32), b = random_prime(&seed, 32);
        uint64_t d = u64_pm1(a * b);
        CHECK(d == 0 || d == a || d == b);
    }
}

/* Rho alone (two walks in lockstep): the fallback always splits, and the
 * short first try finds a 14-bit factor next to a big prime. */
static void test_rho_direct(void)
{
    uint64_t seed = 2718;
    for (int bits = 24; bits <= 48; bits++) {
        for (int i = 0; i < 8; i++) {
            uint64_t p = random_prime(&seed, bits / 2);
            uint64_t q = random_prime(&seed, bits - bits / 2);
            if (p == q)
                continue;
            uint64_t d = u64_rho_brent(p * q, UINT64_MAX);
            CHECK(d == p || d == q);
        }
    }
    int found = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t p = random_prime(&seed, 14), q = random_prime(&seed, 48);
        uint64_t d = u64_rho_once(p * q, 1024);
        CHECK(d == 0 || d == p || d == q);
        found += d == p;
    }
    CHECK(found >= 90);
    /* Both walks of the short try: the lazy one (values in [0, 2n)) up to
     * 62 bits, as close to 2^62 as products get, and the plain one above. */
    for (int top = 61; top <= 64; top++) {
        found = 0;
        for (int i = 0; i < 100; i++) {
            uint64_t p = random_prime(&seed, 14), q = random_prime(&seed, top - 14);
            uint64_t d = u64_rho_once(p * q, 1024);
            CHECK(d == 0 || d == p || d == q);
            found += d == p;
        }
        CHECK(found >= 90);
    }
}

static void test_random_products(void)
{
    uint64_t seed = 99;
    for (int i = 0; i < 20000; i++) {
        uint64_t n = splitmix(&seed) >> (splitmix(&seed) % 60);
        uint64_t f[FACTOR_U64_MAX];
        int k = factor_u64(n, f);
        unsigned __int128 product = 1;
        for (int j = 0; j < k; j++) {
            CHECK(u64_is_prime(f[j]));
            CHECK(j == 0 || f[j - 1] <= f[j]);
            product *= f[j];
        }
        CHECK(n < 2 ? k == 0 : product == n);
    }
}

int main(void)
{
    test_edges();
    test_mont_add_sub();
    test_gcd();
    test_primality_edges();
    test_primality_bpsw();
    test_sprp2();
    test_prac_chains();
    test_stage2_plans();
    test_ecm_direct();
    test_pm1();
    test_rho_direct();
    test_primality_against_trial_division();
    test_generated_semiprimes();
    test_random_products();
    printf("u64: ok\n");
    return 0;
}
