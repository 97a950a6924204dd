/* test_gf2_lanczos.c - block Lanczos over GF(2) (gf2_lanczos.h) and its
 * place after the structured elimination (gf2_sparse.h): on random
 * SIQS-shaped matrices of several sizes every returned vector is nonzero
 * and sums its columns to zero in every row, the vectors are independent,
 * and there are as many as dense elimination finds (up to 64) on the
 * sizes where it can be afforded; degenerate matrices (empty columns,
 * repeated rows and columns, empty rows, fewer columns than rows); the
 * same seed gives the same vectors; and the multi-precision SIQS still
 * factors when its matrix goes through Lanczos.
 * usage: test_gf2_lanczos [large]  (large: 30,000 and 50,000 columns) */
#include <stdio.h> /* before gmp.h: it declares gmp_fprintf only then */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>

#include "check.h"
#include "gf2.h"
#include "gf2_lanczos.h"
#include "gf2_sparse.h"
#include "siqs.h"

struct mat {
    uint32_t nrows;
    size_t ncols;
    uint32_t *start, *rows;
};

static uint64_t rand64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sort_u32(uint32_t *a, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && a[j - 1] > a[j]; j--) {
            uint32_t t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
}

/* Shaped like SIQS's (as test_siqs_mp.c's): ncols columns of ~20 rows,
 * row r drawn with weight ~ 1/(r + 8). */
static struct mat random_siqs(uint32_t nrows, size_t ncols, uint64_t seed)
{
    struct mat m = {nrows, ncols, malloc((ncols + 1) * sizeof(uint32_t)),
                    malloc((ncols * 20 + 1) * sizeof(uint32_t))};
    uint8_t *mark = calloc(nrows, 1);
    CHECK(m.start && m.rows && mark);
    double span = log((nrows + 8) / 8.0);
    uint32_t n = 0;
    for (size_t c = 0; c < ncols; c++) {
        uint32_t first = m.start[c] = n;
        for (int k = 0; k < 20; k++) {
            double u = (double)(rand64(&seed) >> 11) / 9007199254740992.0;
            uint32_t r = (uint32_t)(8 * exp(u * span) - 8);
            r = r < nrows ? r : nrows - 1;
            if (!mark[r])
                mark[r] = 1, m.rows[n++] = r;
        }
        sort_u32(m.rows + first, n - first);
        for (uint32_t i = first; i < n; i++)
            mark[m.rows[i]] = 0;
    }
    m.start[ncols] = n;
    free(mark);
    return m;
}

static void mat_free(struct mat *m)
{
    free(m->start);
    free(m->rows);
}

/* Every one of the found vectors is nonzero and B v = 0; returns their
 * rank (a basis by leading bit of the words deps[c]: the rank of the
 * ncols x found matrix they form). */
static int check_vectors(const struct mat *m, const uint64_t *deps, int found)
{
    CHECK(found >= 0 && found <= 64);
    uint64_t *sum = calloc((size_t)m->nrows + 1, sizeof *sum), used = 0;
    CHECK(sum != NULL);
    for (size_t c = 0; c < m->ncols; c++) {
        used |= deps[c];
        for (uint32_t i = m->start[c]; i < m->start[c + 1]; i++)
            sum[m->rows[i]] ^= deps[c];
    }
    uint64_t all = found == 64 ? ~0ULL : (1ULL << found) - 1;
    CHECK(used == all);
    for (uint32_t r = 0; r < m->nrows; r++)
        CHECK(sum[r] == 0);
    free(sum);
    uint64_t basis[64] = {0};
    int rank = 0;
    for (size_t c = 0; c < m->ncols && rank < found; c++) {
        uint64_t w = deps[c];
        while (w != 0 && basis[63 - __builtin_clzll(w)] != 0)
            w ^= basis[63 - __builtin_clzll(w)];
        if (w != 0)
            basis[63 - __builtin_clzll(w)] = w, rank++;
    }
    return rank;
}

/* min(64, dimension of the null space), by dense elimination. */
static int dense_nullity(const struct mat *m)
{
    size_t words = gf2_words(m->ncols);
    uint64_t *rows = calloc((size_t)m->nrows * words + 1, sizeof *rows);
    uint64_t *deps = malloc((m->ncols + 1) * sizeof *deps);
    CHECK(rows && deps);
    for (size_t c = 0; c < m->ncols; c++)
        for (uint32_t i = m->start[c]; i < m->start[c + 1]; i++)
            rows[m->rows[i] * words + c / 64] ^= 1ULL << (c % 64);
    int found = gf2_null_space(rows, m->nrows, m->ncols, deps);
    free(rows);
    free(deps);
    return found;
}

/* Below 64 Lanczos finds the whole null space; past it a full block of
 * 64 is not promised, most of one is. */
static int expect(int nullity) { return nullity < 64 ? nullity : 48; }

/* Lanczos alone on m: the vectors check, are independent, and number
 * at least `want`. Returns how many. */
static int check_lanczos(const struct mat *m, int want, const char *what)
{
    uint64_t *deps = malloc((m->ncols + 1) * sizeof *deps);
    CHECK(deps != NULL);
    uint64_t t0 = now_ms();
    int found = gf2_lanczos_null_space(m->nrows, m->ncols, m->start, m->rows, 42, deps);
    fprintf(stderr, "lanczos %s %u x %zu: %d vectors (want >= %d) in %llu ms\n", what, m->nrows,
            m->ncols, found, want, (unsigned long long)(now_ms() - t0));
    CHECK(check_vectors(m, deps, found) == found);
    CHECK(found >= want);
    free(deps);
    return found;
}

/* Random SIQS-shaped matrices: with dense elimination's count where it is
 * cheap, else the excess of columns over rows (a lower bound of the null
 * space's dimension; Lanczos's last step loses a few of 64 at most). */
static void test_random(void)
{
    static const struct {
        uint32_t nrows;
        size_t ncols;
    } sizes[] = {{200, 230}, {1000, 1020}, {1000, 1100}, {2000, 2040}, {10000, 10100}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct mat m = random_siqs(sizes[i].nrows, sizes[i].ncols, 1000 + i);
        int want = m.ncols <= 2100 ? dense_nullity(&m) : 64;
        int excess = (int)(m.ncols - m.nrows);
        CHECK(want >= (excess < 64 ? excess : 64));
        check_lanczos(&m, expect(want), "random");
        mat_free(&m);
    }
}

/* The same seed, the same vectors; another seed still valid ones. */
static void test_seeded(void)
{
    struct mat m = random_siqs(1500, 1600, 7);
    uint64_t *a = malloc(1600 * sizeof *a), *b = malloc(1600 * sizeof *b);
    CHECK(a && b);
    int fa = gf2_lanczos_null_space(m.nrows, m.ncols, m.start, m.rows, 5, a);
    int fb = gf2_lanczos_null_space(m.nrows, m.ncols, m.start, m.rows, 5, b);
    CHECK(fa > 0 && fa == fb && memcmp(a, b, 1600 * sizeof *a) == 0);
    fb = gf2_lanczos_null_space(m.nrows, m.ncols, m.start, m.rows, 6, b);
    CHECK(check_vectors(&m, b, fb) == fb && fb > 0);
    free(a);
    free(b);
    mat_free(&m);
}

/* m with extra columns: `zero` empty ones, `dup` repeats of earlier
 * columns; and every row r < nrows/4 repeated as row r + nrows/2 (its
 * entries copied: rows r + nrows/2 are otherwise unused, so the rows
 * from nrows/2 + nrows/4 on are empty). */
static struct mat degenerate(uint32_t nrows, size_t ncols, size_t zero, size_t dup)
{
    struct mat base = random_siqs(nrows / 2, ncols, 77);
    size_t total = ncols + zero + dup;
    struct mat m = {nrows, total, malloc((total + 1) * sizeof(uint32_t)),
                    malloc((2 * base.start[ncols] + 2 * 40 * dup + 1) * sizeof(uint32_t))};
    CHECK(m.start && m.rows);
    uint32_t n = 0;
    for (size_t c = 0; c < total; c++) {
        m.start[c] = n;
        size_t src = c < ncols ? c : c < ncols + zero ? SIZE_MAX : (c - ncols - zero) * 7 % ncols;
        if (src == SIZE_MAX)
            continue;
        uint32_t first = n;
        for (uint32_t i = base.start[src]; i < base.start[src + 1]; i++) {
            m.rows[n++] = base.rows[i];
            if (base.rows[i] < nrows / 4)
                m.rows[n++] = base.rows[i] + nrows / 2;
        }
        sort_u32(m.rows + first, n - first);
    }
    m.start[total] = n;
    mat_free(&base);
    return m;
}

static void test_degenerate(void)
{
    /* empty columns and repeats: each is a null vector on its own */
    struct mat m = degenerate(3000, 1400, 5, 10);
    int want = dense_nullity(&m);
    CHECK(want >= 15);
    check_lanczos(&m, want, "degenerate");
    mat_free(&m);
    /* more columns than the (distinct, nonempty) rows */
    m = degenerate(3000, 1600, 3, 3);
    check_lanczos(&m, expect(dense_nullity(&m)), "degenerate");
    mat_free(&m);
    /* few columns, many rows: independent, no null vector */
    m = random_siqs(3000, 500, 3);
    CHECK(dense_nullity(&m) == 0);
    check_lanczos(&m, 0, "tall");
    mat_free(&m);
    /* tiny and empty shapes */
    m = random_siqs(5, 9, 4);
    check_lanczos(&m, dense_nullity(&m), "tiny");
    mat_free(&m);
    uint32_t start0[1] = {0}, rows0[1] = {0};
    uint64_t deps[1] = {0};
    CHECK(gf2_lanczos_null_space(10, 0, start0, rows0, 1, deps) == 0);
    uint32_t start1[4] = {0, 0, 0, 0};
    struct mat empty = {0, 3, start1, rows0};
    CHECK(check_lanczos(&empty, 3, "no rows") == 3);
}

/* The whole matrix step with Lanczos forced (threshold 0) and with it
 * never (SIZE_MAX): both give valid vectors, at least 32. */
static void test_sparse_paths(void)
{
    struct mat m = random_siqs(3000, 3100, 11);
    uint64_t *deps = malloc(3100 * sizeof *deps);
    CHECK(deps != NULL);
    size_t from[2] = {0, SIZE_MAX};
    for (int i = 0; i < 2; i++) {
        uint64_t t0 = now_ms();
        size_t left = 0;
        int found =
            gf2_sparse_null_space_with(m.nrows, m.ncols, m.start, m.rows, from[i], &left, deps);
        fprintf(stderr, "sparse %s 3000 x 3100 (%zu left): %d vectors in %llu ms\n",
                i == 0 ? "lanczos" : "dense", left, found, (unsigned long long)(now_ms() - t0));
        CHECK(left > 1000 && left < 3100);
        CHECK(found >= 32);
        CHECK(check_vectors(&m, deps, found) == found);
    }
    free(deps);
    mat_free(&m);
}

/* Too few columns for a null vector (SIQS asks before it has enough
 * relations): Lanczos's finished runs say 0 and the dense step is not run
 * to agree (the columns left are the light pass's, more than the full
 * one leaves). */
static void test_sparse_none(void)
{
    struct mat m = random_siqs(3000, 2800, 12);
    uint64_t *deps = malloc(2800 * sizeof *deps);
    size_t left_l = 0, left_d = 0;
    CHECK(deps != NULL);
    CHECK(gf2_sparse_null_space_with(m.nrows, m.ncols, m.start, m.rows, SIZE_MAX, &left_d, deps) ==
          0);
    CHECK(gf2_sparse_null_space_with(m.nrows, m.ncols, m.start, m.rows, 0, &left_l, deps) == 0);
    fprintf(stderr, "sparse 3000 x 2800: none, %zu left for Lanczos, %zu for dense\n", left_l,
            left_d);
    CHECK(left_l > left_d);
    for (size_t c = 0; c < m.ncols; c++)
        CHECK(deps[c] == 0);
    free(deps);
    mat_free(&m);
}

/* A fixed balanced semiprime of 180 bits through the multi-precision
 * SIQS: its ~3700-prime factor base gives a matrix of ~3500 relation
 * sets over the ~3400 primes that occur, which leaves more than
 * GF2_LANCZOS_FROM columns after the light elimination (checked on a
 * random matrix of that shape), so Lanczos finds the null vectors its
 * factor comes from. */
static void test_siqs_through_lanczos(void)
{
    struct mat m = random_siqs(3400, 3500, 13);
    uint64_t *deps = malloc(3500 * sizeof *deps);
    size_t left = 0;
    CHECK(deps != NULL);
    int found = gf2_sparse_null_space_with(m.nrows, m.ncols, m.start, m.rows, GF2_LANCZOS_FROM,
                                           &left, deps);
    CHECK(found > 0 && check_vectors(&m, deps, found) == found);
    CHECK(left >= GF2_LANCZOS_FROM);
    free(deps);
    mat_free(&m);
    gmp_randstate_t rng;
    gmp_randinit_mt(rng);
    gmp_randseed_ui(rng, 20261207);
    mpz_t p, q, n, f;
    mpz_inits(p, q, n, f, NULL);
    do {
        mpz_urandomb(p, rng, 90);
        mpz_setbit(p, 89);
        mpz_nextprime(p, p);
        mpz_urandomb(q, rng, 90);
        mpz_setbit(q, 89);
        mpz_nextprime(q, q);
        mpz_mul(n, p, q);
    } while (mpz_sizeinbase(n, 2) != 180 || mpz_cmp(p, q) == 0);
    uint64_t t0 = now_ms();
    int r = siqs_mp_factor(n, f, 0);
    gmp_fprintf(stderr, "siqs_mp %Zd: %d in %llu ms\n", n, r, (unsigned long long)(now_ms() - t0));
    CHECK(r == 1);
    CHECK(mpz_cmp(f, p) == 0 || mpz_cmp(f, q) == 0);
    mpz_clears(p, q, n, f, NULL);
    gmp_randclear(rng);
}

/* The sizes SIQS reaches past 300 bits, through the whole matrix step
 * (suite 'slow': seconds each, minutes under the sanitizers). */
static void test_large(void)
{
    static const size_t sizes[] = {30000, 50000};
    for (size_t i = 0; i < 2; i++) {
        struct mat m = random_siqs((uint32_t)sizes[i] - 100, sizes[i], 300 + i);
        uint64_t *deps = malloc(sizes[i] * sizeof *deps);
        size_t left = 0;
        CHECK(deps != NULL);
        uint64_t t0 = now_ms();
        int found = gf2_sparse_null_space_with(m.nrows, m.ncols, m.start, m.rows,
                                               GF2_LANCZOS_FROM, &left, deps);
        fprintf(stderr, "sparse %u x %zu (%zu left): %d vectors in %llu ms\n", m.nrows, m.ncols,
                left, found, (unsigned long long)(now_ms() - t0));
        CHECK(left >= GF2_LANCZOS_FROM);
        CHECK(found >= 48 && check_vectors(&m, deps, found) == found);
        free(deps);
        mat_free(&m);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "large") == 0) {
        test_large();
        return 0;
    }
    test_random();
    test_seeded();
    test_degenerate();
    test_sparse_paths();
    test_sparse_none();
    test_siqs_through_lanczos();
    return 0;
}
