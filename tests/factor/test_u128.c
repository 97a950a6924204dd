/* test_u128.c - 128-bit Montgomery arithmetic against GMP on random and
 * edge moduli (near 2^64, 2^127, 2^128), and the bounded rho pre-pass
 * splitting products with a known medium factor. */
#include <stdint.h>

#include <gmp.h>

#include "check.h"
#include "factor_u128.h"
#include "mont128.h"

/* splitmix64: a fixed, reproducible stream. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static u128 next_u128(uint64_t *s)
{
    u128 hi = next_u64(s);
    return hi << 64 | next_u64(s);
}

static void to_mpz(mpz_t x, u128 v)
{
    uint64_t limbs[2] = {(uint64_t)v, (uint64_t)(v >> 64)};
    mpz_import(x, 2, -1, sizeof limbs[0], 0, 0, limbs);
}

static u128 from_mpz(const mpz_t x)
{
    uint64_t limbs[2] = {0, 0};
    mpz_export(limbs, NULL, -1, sizeof limbs[0], 0, 0, x);
    return (u128)limbs[1] << 64 | limbs[0];
}

/* mul, add, sub, to and from on random residues modulo n, against GMP. */
static void check_modulus(u128 n, uint64_t *seed, int rounds)
{
    struct mont128 m;
    m128_init(&m, n);
    mpz_t N, A, B, want;
    mpz_inits(N, A, B, want, NULL);
    to_mpz(N, n);
    for (int i = 0; i < rounds; i++) {
        u128 a = next_u128(seed) % n, b = next_u128(seed) % n;
        if (i == 0)
            a = n - 1, b = n - 1; /* the largest residues */
        to_mpz(A, a);
        to_mpz(B, b);
        u128 am = m128_to(&m, a), bm = m128_to(&m, b);
        mpz_mul_2exp(want, A, 128);
        mpz_mod(want, want, N);
        CHECK(from_mpz(want) == am);
        CHECK(m128_from(&m, am) == a);
        mpz_mul(want, A, B);
        mpz_mod(want, want, N);
        CHECK(m128_from(&m, m128_mul(&m, am, bm)) == from_mpz(want));
        mpz_add(want, A, B);
        mpz_mod(want, want, N);
        CHECK(m128_add(&m, a, b) == from_mpz(want));
        mpz_sub(want, A, B);
        mpz_mod(want, want, N);
        CHECK(m128_sub(&m, a, b) == from_mpz(want));
    }
    CHECK(m128_from(&m, m.one) == 1);
    mpz_clears(N, A, B, want, NULL);
}

static void test_mont128_edges(void)
{
    uint64_t seed = 1;
    const u128 top = ~(u128)0, two64 = (u128)1 << 64, two127 = (u128)1 << 127;
    const u128 edges[] = {3, 0xffffffffffffffc5ULL, two64 - 1, two64 + 1,
                          two64 + 3, two127 - 1, two127 + 1, top, top - 2,
                          top - 0xfeULL, (two64 - 1) * (two64 - 1)};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        check_modulus(edges[i], &seed, 2000);
}

static void test_mont128_random(void)
{
    uint64_t seed = 2;
    for (int bits = 2; bits <= 128; bits++) {
        for (int k = 0; k < 20; k++) {
            u128 n = next_u128(&seed);
            if (bits < 128)
                n &= ((u128)1 << bits) - 1;
            n |= (u128)1 << (bits - 1) | 1;
            check_modulus(n, &seed, 50);
        }
    }
}

/* A random prime of `bits` bits into p. */
static void random_prime(mpz_t p, int bits, uint64_t *seed)
{
    to_mpz(p, next_u128(seed));
    mpz_fdiv_r_2exp(p, p, (mp_bitcnt_t)bits);
    mpz_setbit(p, (mp_bitcnt_t)bits - 1);
    mpz_nextprime(p, p);
}

/* p (16..28 bits) times q completing 66..128 bits: rho must return a
 * proper divisor within its budget. */
static void test_rho_known_factors(void)
{
    uint64_t seed = 3;
    mpz_t p, q, n, g;
    mpz_inits(p, q, n, g, NULL);
    for (int i = 0; i < 300; i++) {
        int small = 16 + i % 13, total = 66 + i % 62;
        random_prime(p, small, &seed);
        random_prime(q, total - small, &seed);
        mpz_mul(n, p, q);
        CHECK(mpz_sizeinbase(n, 2) <= 128);
        u128 f = u128_rho(from_mpz(n), 1u << 17);
        CHECK(f > 1);
        to_mpz(g, f);
        CHECK(mpz_cmp(g, n) < 0);
        CHECK(mpz_divisible_p(n, g));
    }
    /* A balanced 120-bit semiprime is out of reach of a small budget:
     * rho must give up (0), not answer wrongly. */
    random_prime(p, 60, &seed);
    random_prime(q, 60, &seed);
    mpz_mul(n, p, q);
    u128 f = u128_rho(from_mpz(n), 1000);
    CHECK(f == 0 || (f > 1 && from_mpz(n) % f == 0 && f != from_mpz(n)));
    mpz_clears(p, q, n, g, NULL);
}

int main(void)
{
    test_mont128_edges();
    test_mont128_random();
    test_rho_known_factors();
    printf("u128: ok\n");
    return 0;
}
