/* test_siqs.c - the self-initialising quadratic sieve on its own: seeded
 * semiprimes of 60..140 bits (balanced and unbalanced), products of three
 * primes, squares, and inputs it must refuse. Every factor it returns is
 * checked to divide n properly, and for semiprimes to be one of the two
 * primes. The GF(2) null space on its own: every vector it returns is
 * nonzero and sums the columns to zero. */
#include <stdio.h> /* before gmp.h: it declares gmp_fprintf only then */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "check.h"
#include "gf2.h"
#include "siqs.h"

static gmp_randstate_t rng;

static void random_prime(mpz_t p, unsigned bits)
{
    do {
        mpz_urandomb(p, rng, bits);
        mpz_setbit(p, bits - 1);
        mpz_nextprime(p, p);
    } while (mpz_sizeinbase(p, 2) != bits);
}

/* siqs_factor splits n into a proper factor. */
static void check_splits(const mpz_t n)
{
    mpz_t f, q;
    mpz_inits(f, q, NULL);
    bool ok = siqs_factor(n, f);
    if (!ok)
        gmp_fprintf(stderr, "siqs gave up on %Zd\n", n);
    CHECK(ok);
    CHECK(mpz_cmp_ui(f, 1) > 0 && mpz_cmp(f, n) < 0);
    CHECK(mpz_divisible_p(n, f));
    mpz_clears(f, q, NULL);
}

/* p*q with p of pbits and q making up `bits`: the factor returned is p
 * or q, and prime. */
static void check_semiprime(unsigned bits, unsigned pbits)
{
    mpz_t p, q, n, f;
    mpz_inits(p, q, n, f, NULL);
    do {
        random_prime(p, pbits);
        random_prime(q, bits - pbits);
        mpz_mul(n, p, q);
    } while (mpz_sizeinbase(n, 2) != bits || mpz_cmp(p, q) == 0);
    bool ok = siqs_factor(n, f);
    if (!ok)
        gmp_fprintf(stderr, "siqs gave up on %Zd = %Zd * %Zd\n", n, p, q);
    CHECK(ok);
    CHECK(mpz_cmp(f, p) == 0 || mpz_cmp(f, q) == 0);
    CHECK(mpz_probab_prime_p(f, 25) > 0);
    mpz_divexact(f, n, f);
    CHECK(mpz_probab_prime_p(f, 25) > 0);
    mpz_mul(f, f, mpz_cmp(f, p) == 0 ? q : p);
    CHECK(mpz_cmp(f, n) == 0);
    mpz_clears(p, q, n, f, NULL);
}

static void test_balanced_semiprimes(void)
{
    for (unsigned bits = SIQS_MIN_BITS; bits <= 120; bits += 2)
        for (int i = 0; i < 3; i++)
            check_semiprime(bits, bits / 2);
    for (unsigned bits = 121; bits <= SIQS_MAX_BITS; bits++)
        check_semiprime(bits, bits / 2);
}

static void test_unbalanced_semiprimes(void)
{
    for (unsigned bits = 65; bits <= 128; bits += 9)
        check_semiprime(bits, 22 + bits % 7);
}

static void test_three_primes(void)
{
    mpz_t n, p;
    mpz_inits(n, p, NULL);
    for (unsigned bits = 66; bits <= 126; bits += 12) {
        mpz_set_ui(n, 1);
        for (int i = 0; i < 3; i++) {
            random_prime(p, bits / 3);
            mpz_mul(n, n, p);
        }
        check_splits(n);
    }
    mpz_clears(n, p, NULL);
}

static void test_squares_and_refusals(void)
{
    mpz_t p, n, f;
    mpz_inits(p, n, f, NULL);
    random_prime(p, 50);
    mpz_mul(n, p, p);
    CHECK(siqs_factor(n, f));
    CHECK(mpz_cmp(f, p) == 0);
    mpz_mul(n, n, p); /* a cube: left to the caller's fallback */
    CHECK(!siqs_factor(n, f));
    mpz_set_ui(n, 1000003);
    CHECK(!siqs_factor(n, f)); /* too small */
    mpz_ui_pow_ui(n, 2, 140);
    mpz_add_ui(n, n, 1);
    CHECK(!siqs_factor(n, f)); /* too large */
    mpz_mul_2exp(n, p, 40);
    CHECK(!siqs_factor(n, f)); /* even */
    /* A small prime factor (trial division's job) is still found. */
    random_prime(p, 90);
    mpz_mul_ui(n, p, 101);
    CHECK(siqs_factor(n, f));
    CHECK(mpz_cmp_ui(f, 101) == 0);
    mpz_clears(p, n, f, NULL);
}

/* A sparse random nrows x ncols matrix (ncols > nrows: null vectors
 * must exist), checked against a copy after elimination. */
static void check_null_space(size_t nrows, size_t ncols)
{
    size_t words = gf2_words(ncols);
    uint64_t *rows = calloc(nrows * words, sizeof *rows);
    uint64_t *copy = calloc(nrows * words, sizeof *copy);
    uint64_t *deps = calloc(ncols, sizeof *deps);
    CHECK(rows && copy && deps);
    for (size_t c = 0; c < ncols; c++)
        for (int k = 0; k < 6; k++) {
            size_t r = gmp_urandomm_ui(rng, nrows);
            rows[r * words + c / 64] ^= 1ULL << (c % 64);
        }
    memcpy(copy, rows, nrows * words * sizeof *rows);
    int found = gf2_null_space(rows, nrows, ncols, deps);
    CHECK(found >= (int)(ncols - nrows) || found == 64);
    for (int k = 0; k < found; k++) {
        uint64_t sum[64] = {0}, any = 0;
        for (size_t c = 0; c < ncols; c++) {
            if (!((deps[c] >> k) & 1))
                continue;
            any = 1;
            for (size_t r = 0; r < nrows; r++)
                sum[r / 64] ^= ((copy[r * words + c / 64] >> (c % 64)) & 1) << (r % 64);
        }
        CHECK(any);
        for (size_t w = 0; w < (nrows + 63) / 64; w++)
            CHECK(sum[w] == 0);
    }
    free(rows);
    free(copy);
    free(deps);
}

static void test_null_space(void)
{
    check_null_space(10, 12);
    check_null_space(63, 64);
    check_null_space(64, 65);
    check_null_space(200, 216);
    check_null_space(500, 530);
    check_null_space(300, 400); /* more than 64 free columns */
}

int main(void)
{
    gmp_randinit_mt(rng);
    gmp_randseed_ui(rng, 20250611);
    test_null_space();
    test_squares_and_refusals();
    test_balanced_semiprimes();
    test_unbalanced_semiprimes();
    test_three_primes();
    gmp_randclear(rng);
    return 0;
}
