/* test_siqs_mp.c - the multi-precision SIQS (siqs_mp_factor) on its own:
 * seeded balanced semiprimes across its range, products of three primes
 * (the factor returned may be composite), unbalanced ones, squares, the
 * inputs it must refuse, and its deadline. Every answer is checked by
 * arithmetic: the factor divides n properly, and for semiprimes both it
 * and its cofactor are prime and multiply back to n.
 * usage: test_siqs_mp [large]  (large: 180..230 bits, suite 'slow') */
#include <stdio.h> /* before gmp.h: it declares gmp_fprintf only then */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#include <gmp.h>

#include "check.h"
#include "gf2_sparse.h"
#include "siqs.h"
#include "siqs_mp_internal.h"

static gmp_randstate_t rng;

static void random_prime(mpz_t p, unsigned bits)
{
    do {
        mpz_urandomb(p, rng, bits);
        mpz_setbit(p, bits - 1);
        mpz_nextprime(p, p);
    } while (mpz_sizeinbase(p, 2) != bits);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* p q with p of pbits, n of `bits`: the factor is p or q, both prime. */
static void check_semiprime(unsigned bits, unsigned pbits)
{
    mpz_t p, q, n, f;
    mpz_inits(p, q, n, f, NULL);
    do {
        random_prime(p, pbits);
        random_prime(q, bits - pbits);
        mpz_mul(n, p, q);
    } while (mpz_sizeinbase(n, 2) != bits || mpz_cmp(p, q) == 0);
    uint64_t t0 = now_ms();
    int r = siqs_mp_factor(n, f, 0);
    fprintf(stderr, "%u bits (%u-bit factor): %d in %llu ms\n", bits, pbits, r,
            (unsigned long long)(now_ms() - t0));
    if (r != 1)
        gmp_fprintf(stderr, "siqs_mp gave up on %Zd = %Zd * %Zd\n", n, p, q);
    CHECK(r == 1);
    CHECK(mpz_cmp(f, p) == 0 || mpz_cmp(f, q) == 0);
    CHECK(mpz_probab_prime_p(f, 25) > 0);
    mpz_divexact(q, n, f);
    CHECK(mpz_probab_prime_p(q, 25) > 0);
    mpz_mul(q, q, f);
    CHECK(mpz_cmp(q, n) == 0);
    mpz_clears(p, q, n, f, NULL);
}

static void test_balanced(void)
{
    for (unsigned bits = SIQS_MP_MIN_BITS; bits <= 140; bits += 10)
        check_semiprime(bits, bits / 2);
    for (unsigned bits = 141; bits <= 165; bits += 6)
        check_semiprime(bits, bits / 2);
}

static void test_unbalanced(void)
{
    check_semiprime(150, 40);
    check_semiprime(145, 60);
}

/* Three primes of pbits: the factor may be composite, but divides n
 * properly. */
static void check_three_primes(unsigned pbits)
{
    mpz_t n, p, f;
    mpz_inits(n, p, f, NULL);
    mpz_set_ui(n, 1);
    for (int i = 0; i < 3; i++) {
        random_prime(p, pbits);
        mpz_mul(n, n, p);
    }
    CHECK(siqs_mp_factor(n, f, 0) == 1);
    CHECK(mpz_cmp_ui(f, 1) > 0 && mpz_cmp(f, n) < 0 && mpz_divisible_p(n, f));
    mpz_clears(n, p, f, NULL);
}

static void test_refusals(void)
{
    mpz_t p, n, f;
    mpz_inits(p, n, f, NULL);
    random_prime(p, 80);
    mpz_mul(n, p, p);
    CHECK(siqs_mp_factor(n, f, 0) == 1); /* a square: its root */
    CHECK(mpz_cmp(f, p) == 0);
    mpz_mul(n, n, p); /* a cube: left to the caller's fallback */
    CHECK(siqs_mp_factor(n, f, 0) == 0);
    random_prime(p, 40);
    mpz_mul_ui(n, p, 1000003); /* below SIQS_MP_MIN_BITS */
    CHECK(siqs_mp_factor(n, f, 0) == 0);
    mpz_ui_pow_ui(n, 3, 215); /* 341 bits: past SIQS_MP_MAX_BITS */
    mpz_add_ui(n, n, 2);
    CHECK(mpz_sizeinbase(n, 2) > SIQS_MP_MAX_BITS);
    CHECK(siqs_mp_factor(n, f, 0) == 0);
    mpz_mul_2exp(n, p, 100); /* even */
    CHECK(siqs_mp_factor(n, f, 0) == 0);
    /* A factor-base prime dividing n is found from the factor base. */
    random_prime(p, 140);
    mpz_mul_ui(n, p, 10007);
    CHECK(siqs_mp_factor(n, f, 0) == 1);
    CHECK(mpz_cmp_ui(f, 10007) == 0);
    mpz_clears(p, n, f, NULL);
}

/* A 200-bit semiprime takes seconds: a deadline 20 ms away stops it. */
static void test_deadline(void)
{
    mpz_t p, q, n, f;
    mpz_inits(p, q, n, f, NULL);
    random_prime(p, 100);
    random_prime(q, 100);
    mpz_mul(n, p, q);
    uint64_t t0 = now_ms();
    CHECK(siqs_mp_factor(n, f, t0 + 20) == -1);
    fprintf(stderr, "deadline: stopped after %llu ms\n", (unsigned long long)(now_ms() - t0));
    CHECK(now_ms() - t0 < 2000); /* generous: sanitizers, a loaded machine */
    mpz_clears(p, q, n, f, NULL);
}

/* A random matrix shaped like SIQS's: ncols columns of ~20 rows each,
 * row r drawn with weight ~ 1/(r + 8) (small primes divide most values,
 * large ones few). Every null vector found is nonzero and sums the
 * columns to zero in every row. */
static void check_sparse_null_space(uint32_t nrows, size_t ncols)
{
    uint32_t *start = malloc((ncols + 1) * sizeof *start);
    uint32_t *rows = malloc(ncols * 24 * sizeof *rows);
    uint64_t *deps = malloc(ncols * sizeof *deps);
    uint8_t *mark = calloc(nrows, 1);
    CHECK(start && rows && deps && mark);
    double span = log((nrows + 8) / 8.0);
    uint32_t n = 0;
    for (size_t c = 0; c < ncols; c++) {
        start[c] = n;
        uint32_t first = n;
        for (int k = 0; k < 20; k++) { /* inverse-CDF draw of a row */
            double u = (double)gmp_urandomm_ui(rng, 1u << 30) / (1u << 30);
            uint32_t r = (uint32_t)(8 * exp(u * span) - 8);
            r = r < nrows ? r : nrows - 1;
            if (!mark[r])
                mark[r] = 1, rows[n++] = r;
        }
        for (uint32_t i = first; i < n; i++) /* sort (insertion: ~20 rows) */
            for (uint32_t j = i; j > first && rows[j - 1] > rows[j]; j--) {
                uint32_t t = rows[j];
                rows[j] = rows[j - 1];
                rows[j - 1] = t;
            }
        for (uint32_t i = first; i < n; i++)
            mark[rows[i]] = 0;
    }
    start[ncols] = n;
    uint64_t t0 = now_ms();
    int found = gf2_sparse_null_space(nrows, ncols, start, rows, deps);
    fprintf(stderr, "sparse null space %u x %zu: %d vectors in %llu ms\n", nrows, ncols, found,
            (unsigned long long)(now_ms() - t0));
    CHECK(found >= 32);
    uint8_t *sum = calloc(nrows, 1);
    CHECK(sum != NULL);
    for (int k = 0; k < found; k++) {
        memset(sum, 0, nrows);
        size_t used = 0;
        for (size_t c = 0; c < ncols; c++) {
            if (!((deps[c] >> k) & 1))
                continue;
            used++;
            for (uint32_t i = start[c]; i < start[c + 1]; i++)
                sum[rows[i]] ^= 1;
        }
        CHECK(used > 0);
        for (uint32_t r = 0; r < nrows; r++)
            CHECK(sum[r] == 0);
    }
    free(sum);
    free(start);
    free(rows);
    free(deps);
    free(mark);
}

/* Hits of the block-sieved primes at offset off: d = MP_BLOCK + next - off
 * a multiple of p, plainly. */
static uint32_t plain_hits(const struct mp_ctx *ctx, uint32_t off, uint32_t *out)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < ctx->fb.first_bucket - ctx->fb.first_sieved; k++) {
        uint32_t p = ctx->small_p[k];
        if ((MP_BLOCK + ctx->small_next1[k] - off) % p == 0 ||
            (MP_BLOCK + ctx->small_next2[k] - off) % p == 0)
            out[n++] = k;
    }
    return n;
}

static void check_hits_equal(struct mp_ctx *ctx, bool avx2, uint32_t off, uint32_t *want,
                             uint32_t nwant, uint32_t *got)
{
    ctx->hits_avx2 = avx2;
    uint32_t ngot = siqs_mp_small_hits(ctx, off, got);
    CHECK(ngot == nwant);
    for (uint32_t k = 0; k < ngot && k < nwant; k++)
        CHECK(got[k] == want[k]);
}

/* The candidates' vector test (siqs_mp_hits.c: AVX2 where the CPU has it,
 * SSE2, or plain C in the portable build) against the plain test, over
 * random roots of a real factor base (190 bits: primes from 150 to 2^15)
 * and every kind of offset, roots on it included. */
static void test_small_hits(void)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    random_prime(n, 95);
    random_prime(f, 95);
    mpz_mul(n, n, f);
    struct mp_ctx ctx;
    siqs_mp_ctx_init(&ctx, n);
    CHECK(siqs_mp_setup(&ctx, f) == 0);
    uint32_t nsmall = ctx.fb.first_bucket - ctx.fb.first_sieved;
    CHECK(nsmall > 1000 && ctx.small_p[nsmall - 1] < MP_BLOCK);
    bool has_avx2 = ctx.hits_avx2;
    uint32_t *want = malloc(nsmall * sizeof *want), *got = malloc((nsmall + MP_HIT_LANES) * sizeof *got);
    CHECK(want != NULL && got != NULL);
    size_t total = 0;
    for (int round = 0; round < 2000; round++) {
        for (uint32_t k = 0; k < nsmall; k++) {
            uint32_t p = ctx.small_p[k];
            uint32_t a = (uint32_t)gmp_urandomm_ui(rng, p), b = (uint32_t)gmp_urandomm_ui(rng, p);
            ctx.small_next1[k] = (uint16_t)(a < b ? a : b);
            ctx.small_next2[k] = (uint16_t)(a < b ? b : a);
        }
        /* Offsets at a root of some prime (a sure hit), anywhere, and the ends. */
        uint32_t k0 = (uint32_t)gmp_urandomm_ui(rng, nsmall);
        uint32_t off = (uint32_t)gmp_urandomm_ui(rng, MP_BLOCK);
        if (round % 4 == 1)
            off = ((uint32_t)MP_BLOCK + ctx.small_next1[k0]) % ctx.small_p[k0];
        else if (round % 4 == 2)
            off = 0;
        else if (round % 4 == 3)
            off = MP_BLOCK - 1;
        uint32_t nwant = plain_hits(&ctx, off, want);
        total += nwant;
        check_hits_equal(&ctx, false, off, want, nwant, got);
        if (has_avx2)
            check_hits_equal(&ctx, true, off, want, nwant, got);
    }
    CHECK(total > 1000); /* the test saw hits (about one an offset), not only empty sets */
    printf("small_hits: %zu hits over 2000 offsets agree (%s)\n", total,
           has_avx2 ? "avx2 and the narrower path" : "one path");
    free(want);
    free(got);
    siqs_mp_ctx_free(&ctx);
    mpz_clears(n, f, NULL);
}

/* Every root of the current polynomial against GMP: at sieve index r,
 * x = r - M, (A x + B)^2 - kN is a multiple of p; each Gray-code step's
 * delta times A is 2 B_l mod p; A's primes have no root. The block-sieved
 * primes' next hits are their roots in order (A's: 0, log 0). */
static size_t check_roots(struct mp_ctx *ctx)
{
    const struct mp_poly *poly = &ctx->poly;
    mpz_t y, t;
    mpz_inits(y, t, NULL);
    size_t checked = 0;
    for (uint32_t j = MP_FB_ODD; j < ctx->fb.count; j++) {
        uint32_t p = ctx->fb.p[j];
        bool small = j >= ctx->fb.first_sieved && j < ctx->fb.first_bucket;
        uint32_t k_small = j - ctx->fb.first_sieved;
        if (mpz_divisible_ui_p(poly->a, p)) {
            CHECK(poly->root1[j] == MP_NO_ROOT && poly->root2[j] == MP_NO_ROOT);
            if (small)
                CHECK(ctx->small_next1[k_small] == 0 && ctx->small_next2[k_small] == 0 &&
                      ctx->small_logp[k_small] == 0);
            continue;
        }
        uint32_t roots[2] = {poly->root1[j], poly->root2[j]};
        if (small) { /* the sieve's next hits: the roots in order */
            uint32_t lo = roots[0] < roots[1] ? roots[0] : roots[1];
            CHECK(ctx->small_next1[k_small] == lo &&
                  ctx->small_next2[k_small] == roots[0] + roots[1] - lo &&
                  ctx->small_logp[k_small] == ctx->fb.logp[j]);
        }
        for (int k = 0; k < 2; k++) {
            CHECK(roots[k] < p);
            mpz_mul_si(y, poly->a, (long)roots[k] - (long)ctx->m);
            mpz_add(y, y, poly->b);
            mpz_mul(y, y, y);
            mpz_sub(y, y, ctx->kn);
            CHECK(mpz_divisible_ui_p(y, p));
            checked++;
        }
        for (int l = 1; l < poly->s; l++) {
            mpz_mul_ui(y, poly->a, poly->bainv[(size_t)l * ctx->fb.count + j]);
            mpz_mul_2exp(t, poly->b_terms[l], 1);
            CHECK(mpz_congruent_ui_p(y, mpz_fdiv_ui(t, p), p));
        }
    }
    mpz_clears(y, t, NULL);
    return checked;
}

/* The roots of the first B of several A (siqs_mp_poly.c's 32-bit
 * arithmetic) and of the B values the Gray code walks to, at sizes with
 * A's primes below and above the sieved range's middle. */
static void test_roots(void)
{
    size_t checked = 0;
    for (unsigned bits = 150; bits <= 230; bits += 40) {
        mpz_t n, f;
        mpz_inits(n, f, NULL);
        random_prime(n, bits / 2);
        random_prime(f, bits - bits / 2);
        mpz_mul(n, n, f);
        struct mp_ctx ctx;
        siqs_mp_ctx_init(&ctx, n);
        CHECK(siqs_mp_setup(&ctx, f) == 0);
        for (uint32_t a = 0; a < 3; a++) {
            CHECK(siqs_mp_first_b(&ctx, a));
            checked += check_roots(&ctx);
            for (uint32_t b = 1; b < 12 && b < siqs_mp_polys_per_a(&ctx); b++) {
                siqs_mp_next_b(&ctx);
                checked += check_roots(&ctx);
            }
        }
        siqs_mp_ctx_free(&ctx);
        mpz_clears(n, f, NULL);
    }
    CHECK(checked > 100000);
    printf("roots: %zu roots agree with GMP\n", checked);
}

/* The combine's check before the matrix: with a few A's worth of sets it
 * runs no matrix and asks for more; sieving to what it asks for (each
 * short answer raising want_sets) ends in a split, and no matrix runs
 * without its null vectors. */
static void test_combine_short(void)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    random_prime(n, 80);
    random_prime(f, 80);
    mpz_mul(n, n, f);
    struct mp_ctx ctx;
    siqs_mp_ctx_init(&ctx, n);
    CHECK(siqs_mp_setup(&ctx, f) == 0);
    bool timed_out = false;
    CHECK(siqs_mp_sieve_range(&ctx, 0, 2, 0, &timed_out));
    size_t want = ctx.want_sets;
    CHECK(siqs_mp_sets(&ctx.rels) < want / 4);
    CHECK(siqs_mp_combine(&ctx, f) == MP_COMBINE_SHORT);
    CHECK(ctx.want_sets > want); /* as many more as the bound is short */
    uint32_t a = 2;
    int shorts = 1, failed = 0;
    enum mp_combined r = MP_COMBINE_SHORT;
    while (r != MP_COMBINE_SPLIT && a < 1000) {
        for (; !siqs_mp_enough(&ctx); a++)
            CHECK(siqs_mp_sieve_range(&ctx, a, a + 1, 0, &timed_out));
        size_t before = ctx.want_sets;
        r = siqs_mp_combine(&ctx, f);
        shorts += r == MP_COMBINE_SHORT;
        failed += r == MP_COMBINE_FAILED;
        CHECK(r == MP_COMBINE_SPLIT || ctx.want_sets > before);
    }
    CHECK(r == MP_COMBINE_SPLIT && failed == 0);
    CHECK(mpz_cmp_ui(f, 1) > 0 && mpz_cmp(f, n) < 0 && mpz_divisible_p(n, f));
    printf("combine: %d short checks, then a split after %u A (%zu sets)\n", shorts, a,
           siqs_mp_sets(&ctx.rels));
    siqs_mp_ctx_free(&ctx);
    mpz_clears(n, f, NULL);
}

static void test_large(void)
{
    check_sparse_null_space(50000, 50100);
    for (unsigned bits = 180; bits <= 230; bits += 25)
        check_semiprime(bits, bits / 2);
    check_three_primes(62);
}

int main(int argc, char **argv)
{
    gmp_randinit_mt(rng);
    gmp_randseed_ui(rng, 20261207);
    if (argc > 1 && strcmp(argv[1], "large") == 0) {
        test_large();
    } else {
        test_roots();
        test_combine_short();
        test_small_hits();
        check_sparse_null_space(3000, 3100);
        test_refusals();
        test_deadline();
        check_three_primes(50);
        test_unbalanced();
        test_balanced();
    }
    gmp_randclear(rng);
    return 0;
}
