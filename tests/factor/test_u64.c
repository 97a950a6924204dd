/* test_u64.c - the 64-bit fast path: edge cases with known answers, and
 * generated products of known primes (every factor must come back, sorted). */
#include <stdint.h>

#include "check.h"
#include "factor_u64.h"

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
    test_primality_against_trial_division();
    test_generated_semiprimes();
    test_random_products();
    printf("u64: ok\n");
    return 0;
}
