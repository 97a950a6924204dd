/* test_ecm_mp.c - ECM through libecm (ecm_mp.h) and its place in the
 * factoring ladder (factor_decimal).
 *
 * The numbers are built from fixed primes. Each medium factor was chosen
 * (by running the curves with libecm on p * (2^127 - 1)) so that a known
 * curve of the schedule finds it: ECM is probabilistic, and a test that
 * waited for a random 30-digit factor would run for minutes. What the
 * tests check is the real work: libecm runs that curve at that bound on
 * the whole number and the factor comes out; every answer is checked by
 * arithmetic (divides N, primes, product == N). */
#include <stdbool.h>
#include <stdio.h> /* before gmp.h: it declares gmp_fprintf only then */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>

#include "check.h"
#include "ecm_mp.h"
#include "factor.h"

/* Found by curve (level 3, index 0): B1 = 25e4, in stage 2. */
#define P30 "446632239130391832721431511639"
/* Found by curve (level 0, index 0): B1 = 2000. */
#define P15A "682700199899717"
#define P15B "725528694836201"
/* Found by curve (level 1, index 0): B1 = 11e3 (and not by level 0). */
#define P20 "86928496376297855141"
#define P20B "13291217507092950973"
/* nextprime(2^234 + 9), nextprime(2^235 + 21) */
#define T234 "27606985387162255149739023449108101809804435888681546220650096895197227"
#define T235 "55213970774324510299478046898216203619608871777363092441300193790394449"
/* nextprime(2^400 + 77) */
#define Q401 "2582249878086908589655919172003011874329705792829223512830659356540647622016841194629645353280137831435903171972747493557"
/* nextprime(2^193 + 5) */
#define R194 "12554203470773361527671578846415332832204710888928069025857"
/* nextprime(2^199 + 1), nextprime(2^200 + 3): balanced 400 bits */
#define C200 "803469022129495137770981046170581301261101496891396417650789"
#define D201 "1606938044258990275541962092341162602522202993782792835301611"
/* nextprime(2^99 + 3), nextprime(2^100 + 11): balanced 200 bits */
#define A100 "633825300114114700748351602943"
#define B101 "1267650600228229401496703205653"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool equals(const mpz_t x, const char *decimal)
{
    mpz_t y;
    mpz_init_set_str(y, decimal, 10);
    bool same = mpz_cmp(x, y) == 0;
    mpz_clear(y);
    return same;
}

/* n = the product of the decimal primes given, NULL-terminated. */
static void product(mpz_t n, const char *const *primes)
{
    mpz_t p;
    mpz_init(p);
    mpz_set_ui(n, 1);
    for (; *primes != NULL; primes++) {
        CHECK(mpz_set_str(p, *primes, 10) == 0);
        mpz_mul(n, n, p);
    }
    mpz_clear(p);
}

/* The 30-digit factor of a 568-bit number, by the one curve that finds
 * it; the curve before it in the table's order at a small bound does not. */
static void test_curve_finds_30_digits(void)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    product(n, (const char *const[]){P30, T234, T235, NULL});
    CHECK(mpz_sizeinbase(n, 2) == 568);
    CHECK_INT_EQ(ecm_mp_run_curves(n, 2e3, ecm_mp_sigma(3, 0), 1, 0, f, NULL), 0);
    CHECK_INT_EQ(ecm_mp_run_curves(n, ecm_mp_levels[3].b1, ecm_mp_sigma(3, 0), 1, 0, f, NULL), 1);
    CHECK(equals(f, P30));
    mpz_clears(n, f, NULL);
}

/* A balanced 400-bit semiprime ECM cannot split: the deadline stops a
 * long run (1000 curves at B1 = 1e6, hours) within its curve, and the
 * schedule with repeat_last stops there too. */
static void test_deadline_stops(void)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    product(n, (const char *const[]){C200, D201, NULL});
    uint64_t start = now_ms();
    unsigned ran = 1000;
    CHECK_INT_EQ(ecm_mp_run_curves(n, 1e6, ecm_mp_sigma(4, 0), 1000, start + 300, f, &ran), -1);
    CHECK(ran < 1000);
    uint64_t took = now_ms() - start;
    fprintf(stderr, "deadline 300 ms: stopped after %llu ms\n", (unsigned long long)took);
    CHECK(took < 3000); /* one check per prime of stage 1: loose for a loaded host */

    start = now_ms();
    struct ecm_mp_budget budget = {.max_level = ECM_MP_LEVEL_COUNT - 1,
                                   .repeat_last = true, .deadline_ms = start + 400};
    struct ecm_mp_curve at = {0, 0};
    CHECK_INT_EQ(ecm_mp_find_factor(n, &budget, &at, f), -1);
    CHECK(now_ms() - start < 3000);
    mpz_clears(n, f, NULL);
}

/* A work bound below one curve's estimated cost runs nothing; where a
 * factor was found is where the schedule stands after it. */
static void test_work_bound_and_position(void)
{
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    product(n, (const char *const[]){P15A, T234, NULL});
    struct ecm_mp_budget tiny = {
        .work_ms = ecm_mp_curve_ms(ecm_mp_levels[0].b1, mpz_sizeinbase(n, 2)) / 2,
        .max_level = ECM_MP_LEVEL_COUNT - 1};
    struct ecm_mp_curve at = {0, 0};
    CHECK_INT_EQ(ecm_mp_find_factor(n, &tiny, &at, f), 0);
    CHECK(at.level == 0 && at.index == 0);
    /* One curve's worth: curve (0, 0), which finds P15A. */
    tiny.work_ms *= 2.5;
    CHECK_INT_EQ(ecm_mp_find_factor(n, &tiny, &at, f), 1);
    CHECK(equals(f, P15A));
    CHECK(at.level == 0 && at.index == 0);
    CHECK(ecm_mp_sigma(0, 0) != ecm_mp_sigma(1, 0));
    CHECK(ecm_mp_sigma(0, 1) == ecm_mp_sigma(0, 0) + 1);

    /* P20: level 0's 25 curves find nothing, curve (1, 0) finds it. */
    product(n, (const char *const[]){P20, T234, NULL});
    struct ecm_mp_budget two_levels = {.max_level = 1};
    CHECK_INT_EQ(ecm_mp_find_factor(n, &two_levels, &at, f), 1);
    CHECK(equals(f, P20));
    CHECK(at.level == 1 && at.index == 0);
    /* Started past that curve, with max_level 1 and no deadline: the
     * schedule ends at level 1's table without a factor. */
    at.index = ecm_mp_levels[1].curves - 2;
    CHECK_INT_EQ(ecm_mp_find_factor(n, &two_levels, &at, f), 0);
    CHECK(at.level == 1 && at.index == ecm_mp_levels[1].curves);
    mpz_clears(n, f, NULL);
}

static struct factor_ctx ctx;

/* factor_decimal on the product of `primes` (ascending) gives exactly
 * them, complete, within budget_ms. */
static void check_ladder(const char *const *primes, uint64_t budget_ms)
{
    mpz_t n;
    mpz_init(n);
    product(n, primes);
    char *ns = mpz_get_str(NULL, 10, n);
    struct factor_result res;
    uint64_t start = now_ms();
    enum factor_status st = factor_decimal(&ctx, ns, budget_ms, &res);
    fprintf(stderr, "%zu bits: %llu ms\n", mpz_sizeinbase(n, 2),
            (unsigned long long)(now_ms() - start));
    CHECK_INT_EQ(st, FACTOR_DONE);
    CHECK(res.unfactored == NULL);
    size_t count = 0;
    while (primes[count] != NULL)
        count++;
    CHECK_INT_EQ(res.count, count);
    for (size_t i = 0; i < count; i++)
        CHECK_STR_EQ(res.factors[i], primes[i]);
    factor_result_free(&res);
    free(ns);
    mpz_clear(n);
}

/* Past SIQS's range (565 bits): curve (0, 0) finds both 15-digit primes
 * at once (a composite factor, split again by SIQS), the cofactor goes
 * back to ECM, whose level 1 finds P20; the 401-bit rest is prime. */
static void test_cofactor_recursion(void)
{
    check_ladder((const char *const[]){P15A, P15B, P20, Q401, NULL}, 60000);
}

/* 397 bits, past SIQS: a 20-digit factor by ECM, before any PARI. */
static void test_past_siqs_unbalanced(void)
{
    check_ladder((const char *const[]){P20B,
        "17498005798264095394980017816940970922825355447145699491406164851279623993595007385788105416184432931",
        NULL}, 60000);
}

/* Inside SIQS's range (257 bits): the short pass finds the 20-digit
 * factor (SIQS alone would take about a minute). */
static void test_inside_siqs_unbalanced(void)
{
    check_ladder((const char *const[]){P20B, R194, NULL}, 60000);
}

/* A balanced 200-bit semiprime: the pass finds nothing, SIQS splits it. */
static void test_balanced_goes_to_siqs(void)
{
    check_ladder((const char *const[]){A100, B101, NULL}, 0);
}

/* The balanced 400-bit one under a budget: ECM until the deadline, then
 * the whole number reported unfactored, no PARI. */
static void test_budget_leaves_unfactored(void)
{
    mpz_t n;
    mpz_init(n);
    product(n, (const char *const[]){C200, D201, NULL});
    char *ns = mpz_get_str(NULL, 10, n);
    struct factor_result res;
    uint64_t start = now_ms();
    CHECK_INT_EQ(factor_decimal(&ctx, ns, 500, &res), FACTOR_PARTIAL);
    CHECK(now_ms() - start < 3500);
    CHECK_INT_EQ(res.count, 0);
    CHECK_STR_EQ(res.unfactored, ns);
    factor_result_free(&res);
    free(ns);
    mpz_clear(n);
}

int main(void)
{
    CHECK(factor_ctx_init(&ctx) == 0);
    test_work_bound_and_position();
    test_deadline_stops();
    test_curve_finds_30_digits();
    test_cofactor_recursion();
    test_past_siqs_unbalanced();
    test_inside_siqs_unbalanced();
    test_balanced_goes_to_siqs();
    test_budget_leaves_unfactored();
    factor_ctx_free(&ctx);
    return 0;
}
