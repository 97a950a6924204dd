/* factor.c - factor_decimal: dispatch by size, verify, report. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecm_mp.h"
#include "factor.h"
#include "factor_u128.h"
#include "factor_u64.h"
#include "pari_path.h"
#include "prime_list.h"
#include "siqs.h"
#include "small_primes.h"

/* 64 MB: MPQS on 1024-bit inputs needs tens of MB; the default 8 MB is
 * too small beyond ~200 bits. Virtual memory, touched only when used. */
enum { PARI_STACK_BYTES = 64u << 20 };

/* PARI is opened and set up by the first number that needs it (pari_of):
 * its initialisation (prime table, stack, defaults) costs ~8 ms, more than
 * `mesh factor` spends on a thousand 64-bit numbers. */
int factor_ctx_init(struct factor_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->pari_stack_bytes = PARI_STACK_BYTES;
    ctx->siqs_jobs = 1;
    return 0;
}

void factor_ctx_free(struct factor_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

/* The PARI path, or NULL when it cannot be had (the module is missing, or
 * pari_init failed): then the number is reported with what is left
 * unfactored, as when its budget runs out. */
static const struct pari_module *pari_of(struct factor_ctx *ctx)
{
    if (ctx->pari == NULL && !ctx->pari_unavailable) {
        ctx->pari = pari_module_open();
        if (ctx->pari != NULL && ctx->pari->init(ctx->pari_stack_bytes) != 0) {
            fprintf(stderr, "mesh: PARI could not be initialised\n");
            ctx->pari = NULL;
        }
        ctx->pari_unavailable = ctx->pari == NULL;
    }
    return ctx->pari;
}

void factor_result_free(struct factor_result *res)
{
    for (size_t i = 0; i < res->count; i++)
        free(res->factors[i]);
    free(res->factors);
    free(res->unfactored);
    memset(res, 0, sizeof *res);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool fits_u64(const mpz_t x)
{
    return mpz_sgn(x) >= 0 && mpz_sizeinbase(x, 2) <= 64;
}

static uint64_t get_u64(const mpz_t x)
{
    uint64_t v = 0;
    mpz_export(&v, NULL, -1, sizeof v, 0, 0, x);
    return v;
}

static int push_u64_factors(struct prime_list *primes, uint64_t n)
{
    uint64_t f[FACTOR_U64_MAX];
    int count = factor_u64(n, f);
    for (int i = 0; i < count; i++)
        if (prime_list_push_u64(primes, f[i]) != 0)
            return -1;
    return 0;
}

/* Divides 2 and the table primes out of rest. Primes are tested in groups
 * whose product fits a word: one multi-limb remainder per group, then
 * cheap single-word remainders. */
static void strip_small_primes(mpz_t rest, struct prime_list *primes)
{
    mp_bitcnt_t twos = mpz_scan1(rest, 0);
    mpz_tdiv_q_2exp(rest, rest, twos);
    for (mp_bitcnt_t i = 0; i < twos; i++)
        prime_list_push_u64(primes, 2);
    int i = 0;
    while (i < TRIAL_PRIMES_COUNT && mpz_cmp_ui(rest, 1) > 0) {
        uint64_t group = 1;
        int end = i;
        while (end < TRIAL_PRIMES_COUNT &&
               group <= UINT64_MAX / small_primes[end].p)
            group *= small_primes[end++].p;
        uint64_t r = mpz_fdiv_ui(rest, group);
        for (; i < end; i++) {
            unsigned long p = small_primes[i].p;
            if (r % p != 0)
                continue;
            while (mpz_divisible_ui_p(rest, p)) {
                mpz_divexact_ui(rest, rest, p);
                prime_list_push_u64(primes, p);
            }
        }
    }
}

/* Rho steps before SIQS takes over a 65..128-bit composite, doubling every
 * 12 bits as SIQS's own cost roughly does (~0.33, 0.47, 0.81, 1.6 and 8.4 ms
 * on balanced 72, 80, 90, 100 and 124-bit semiprimes, measured). A step
 * costs ~20 ns, so a balanced semiprime, which rho cannot split, loses
 * ~12% at 72 bits, ~5% at 100 and ~1% at 124; in exchange the 16..28-bit
 * factors that random numbers usually have come out in microseconds
 * instead of a full SIQS run. */
enum { RHO_BASE_STEPS = 2048, RHO_BASE_BITS = 72, RHO_BITS_PER_DOUBLING = 12,
       RHO_MAX_BITS = 128,
       /* Enough for factors up to ~26 bits (rho needs ~sqrt(p) steps); more
        * only delays SIQS on balanced numbers, the case the targets name. */
       RHO_MAX_STEPS = 4096 };

static uint64_t rho_steps_for(size_t bits)
{
    if (bits <= RHO_BASE_BITS)
        return RHO_BASE_STEPS;
    uint64_t steps = (uint64_t)RHO_BASE_STEPS
                     << ((bits - RHO_BASE_BITS) / RHO_BITS_PER_DOUBLING);
    return steps < RHO_MAX_STEPS ? steps : RHO_MAX_STEPS;
}

static u128 get_u128(const mpz_t x)
{
    uint64_t limbs[2] = {0, 0};
    mpz_export(limbs, NULL, -1, sizeof limbs[0], 0, 0, x);
    return (u128)limbs[1] << 64 | limbs[0];
}

static void set_u128(mpz_t x, u128 v)
{
    uint64_t limbs[2] = {(uint64_t)v, (uint64_t)(v >> 64)};
    mpz_import(x, 2, -1, sizeof limbs[0], 0, 0, limbs);
}

/* Splits rest (odd, 65..128 bits) by bounded rho while that works: each
 * split leaves a part that fits 64 bits (the u64 path factors it at once)
 * and continues on the other. Stops when rest fits 64 bits, is prime, or
 * rho gives up; split_rest takes it from there. */
static void rho_prepass(mpz_t rest, struct prime_list *primes)
{
    mpz_t g;
    mpz_init(g);
    while (!fits_u64(rest) && mpz_sizeinbase(rest, 2) <= RHO_MAX_BITS &&
           mpz_probab_prime_p(rest, 25) == 0) {
        u128 f = u128_rho(get_u128(rest),
                          rho_steps_for(mpz_sizeinbase(rest, 2)));
        if (f == 0)
            break;
        set_u128(g, f);
        mpz_divexact(rest, rest, g);
        if (!fits_u64(g))
            mpz_swap(rest, g); /* then rest / g, now in g, fits 64 bits */
        push_u64_factors(primes, get_u64(g));
    }
    mpz_clear(g);
}

/* Inside SIQS's range past 140 bits, a short ECM pass runs first: its
 * planned cost is ECM_PASS_SHARE of what SIQS is expected to take on a
 * balanced number of that size, so a balanced semiprime loses about that
 * much, while a number with a factor the pass reaches (15 digits from ~190
 * bits, 20 from ~230, 25 from ~290) skips SIQS's whole cost. SIQS's cost:
 * ~69 ms at 150 bits, x4 every 20 bits (doc/DESIGN.md, SIQS past 140
 * bits). Below ~185 bits the share buys less than one curve: no pass. */
#ifndef MESH_ECM_PASS_SHARE /* 0 turns the pass off: tests/bench/ecm_vs_gp.py pass */
#define MESH_ECM_PASS_SHARE 0.1
#endif
static const double ECM_PASS_SHARE = MESH_ECM_PASS_SHARE;

static double siqs_mp_expected_ms(size_t bits)
{
    return 69.0 * exp2(2.0 * ((double)bits - 150.0) / 20.0);
}

/* Past SIQS's range ECM is the method: until the deadline (more curves at
 * the last level's bound once the table is done), or, without one, up to
 * 30-digit factors (~20 min at 500 bits) before PARI gets the rest. */
enum { ECM_UNTIMED_LAST_LEVEL = 3 };

void factor_spread_ecm_plan(const mpz_t n, uint64_t budget_ms, struct ecm_plan *plan)
{
    size_t bits = mpz_sizeinbase(n, 2);
    if (bits <= SIQS_MP_MAX_BITS)
        ecm_mp_plan(bits, ECM_PASS_SHARE * siqs_mp_expected_ms(bits), ECM_MP_LEVEL_COUNT - 1,
                    plan);
    else if (budget_ms > 0)
        ecm_mp_plan(bits, (double)budget_ms, ECM_MP_LEVEL_COUNT - 1, plan);
    else
        *plan = (struct ecm_plan){ECM_UNTIMED_LAST_LEVEL + 1,
                                  ecm_mp_levels[ECM_UNTIMED_LAST_LEVEL].curves};
}

/* One split of the odd composite m by the engine for its size: 1 (a
 * factor in f), 0 (not split: too large, a perfect power past SIQS, or
 * the methods gave up) or -1 (deadline_ms passed). */
/* What every split of one number shares. */
struct split_plan {
    uint64_t deadline_ms;                        /* 0: none */
    unsigned jobs;                               /* cores for SIQS */
    const struct factor_progress_sink *progress; /* NULL: nobody watches */
};

static int split_once(const mpz_t m, mpz_t f, const struct split_plan *plan,
                      struct ecm_mp_curve *at)
{
    size_t bits = mpz_sizeinbase(m, 2);
    uint64_t deadline_ms = plan->deadline_ms;
    if (bits <= SIQS_MAX_BITS)
        return siqs_factor(m, f) ? 1 : 0;
    if (bits <= SIQS_MP_MAX_BITS) {
        struct ecm_mp_budget pass = {
            .work_ms = ECM_PASS_SHARE * siqs_mp_expected_ms(bits),
            .max_level = ECM_MP_LEVEL_COUNT - 1, .deadline_ms = deadline_ms,
            .progress = plan->progress};
        int found = ECM_PASS_SHARE > 0 ? ecm_mp_find_factor(m, &pass, at, f) : 0;
        return found != 0 ? found
                          : siqs_mp_factor_watched(m, f, deadline_ms, plan->jobs, plan->progress);
    }
    if (mpz_perfect_power_p(m))
        return 0; /* ECM cannot use the power; PARI takes the root at once */
    struct ecm_mp_budget past = {
        .max_level = deadline_ms ? ECM_MP_LEVEL_COUNT - 1 : ECM_UNTIMED_LAST_LEVEL,
        .repeat_last = true, .deadline_ms = deadline_ms, .progress = plan->progress};
    return ecm_mp_find_factor(m, &past, at, f);
}

/* Splits m (odd, > 1) into primes by ECM and SIQS, recursing on both
 * parts of each split (ECM going on from the curve where it split m: the
 * earlier ones found nothing in either part); parts that fit 64 bits go
 * the u64 way. What is not split (a higher power, the methods gave up,
 * ECM's untimed levels found nothing, or the deadline passed) is
 * multiplied into left for PARI. Returns false when the deadline passed
 * (left then holds what was not split). */
static bool split_composite(mpz_t m, struct prime_list *primes, mpz_t left,
                            const struct split_plan *plan, struct ecm_mp_curve at)
{
    if (fits_u64(m)) {
        push_u64_factors(primes, get_u64(m));
        return true;
    }
    if (mpz_probab_prime_p(m, 25) > 0) {
        prime_list_push(primes, m, 1);
        return true;
    }
    mpz_t f;
    mpz_init(f);
    int split = split_once(m, f, plan, &at);
    bool in_time = split >= 0;
    if (split > 0) {
        mpz_divexact(m, m, f);
        in_time = split_composite(f, primes, left, plan, at);
        in_time = split_composite(m, primes, left, plan, at) && in_time;
    } else {
        mpz_mul(left, left, m);
    }
    mpz_clear(f);
    return in_time;
}

/* rest is odd, > 2^64 or composite, and free of table primes: BPSW, the
 * 64-bit path, ECM and SIQS (split_composite), then PARI for what they
 * left. Returns FACTOR_DONE or FACTOR_PARTIAL. The 128-bit SIQS does not
 * watch the budget (at most ~30 ms, at 140 bits); ECM and the GMP SIQS do
 * (seconds to minutes past 200 bits), and what they leave at the deadline
 * is reported unfactored. */
static enum factor_status split_rest(struct factor_ctx *ctx, mpz_t rest,
                                     struct prime_list *primes, uint64_t budget_ms,
                                     uint64_t start_ms)
{
    for (int round = 0; round < 2; round++) {
        if (mpz_cmp_ui(rest, 1) == 0)
            return FACTOR_DONE;
        if (fits_u64(rest)) {
            push_u64_factors(primes, get_u64(rest));
            mpz_set_ui(rest, 1);
            return FACTOR_DONE;
        }
        if (mpz_probab_prime_p(rest, 25) > 0) {
            prime_list_push(primes, rest, 1);
            mpz_set_ui(rest, 1);
            return FACTOR_DONE;
        }
        if (round > 0)
            break; /* PARI ran out of budget: rest stays unfactored */
        mpz_t m;
        mpz_init_set(m, rest);
        mpz_set_ui(rest, 1);
        struct split_plan plan = {budget_ms ? start_ms + budget_ms : 0, ctx->siqs_jobs,
                                  ctx->progress};
        bool in_time = split_composite(m, primes, rest, &plan, (struct ecm_mp_curve){0, 0});
        mpz_clear(m);
        if (mpz_cmp_ui(rest, 1) == 0)
            return FACTOR_DONE;
        if (!in_time)
            return FACTOR_PARTIAL;
        uint64_t left = 0;
        if (budget_ms != 0) {
            uint64_t spent = now_ms() - start_ms;
            if (spent >= budget_ms)
                return FACTOR_PARTIAL;
            left = budget_ms - spent;
        }
        const struct pari_module *pari = pari_of(ctx);
        if (pari == NULL)
            return FACTOR_PARTIAL;
        struct factor_progress told = {.phase = FACTOR_PHASE_PARI,
                                       .bits = (uint32_t)mpz_sizeinbase(rest, 2)};
        factor_progress_report(ctx->progress, &told);
        mpz_t c;
        mpz_init_set(c, rest);
        int timed_out = pari->factor(c, left, primes, rest);
        mpz_clear(c);
        if (!timed_out)
            return FACTOR_DONE;
        /* PARI may have stopped one prime short: look at rest once more. */
    }
    return FACTOR_PARTIAL;
}

static bool is_proven_or_bpsw_prime(const mpz_t p)
{
    if (fits_u64(p))
        return u64_is_prime(get_u64(p));
    return mpz_probab_prime_p(p, 25) > 0;
}

/* The answer is only reported if it checks out independently of how it was
 * found: product == N, every factor prime, any rest composite. */
static bool verify(const mpz_t n, const struct prime_list *primes,
                   const mpz_t rest)
{
    mpz_t product;
    mpz_init_set(product, rest);
    bool ok = true;
    for (size_t i = 0; i < primes->count && ok; i++) {
        ok = is_proven_or_bpsw_prime(primes->items[i]);
        mpz_mul(product, product, primes->items[i]);
    }
    if (mpz_cmp_ui(rest, 1) != 0)
        ok = ok && mpz_cmp_ui(rest, 1) > 0 && !is_proven_or_bpsw_prime(rest);
    /* 0 has no factors and rest 1: its product (1) is the one exception. */
    ok = ok && (mpz_cmp(product, n) == 0 ||
                (mpz_sgn(n) == 0 && primes->count == 0));
    mpz_clear(product);
    return ok;
}

static char *mpz_to_decimal(const mpz_t x)
{
    char *s = malloc(mpz_sizeinbase(x, 10) + 2);
    if (s != NULL)
        mpz_get_str(s, 10, x);
    return s;
}

static int fill_result(struct factor_result *res, const struct prime_list *primes,
                       const mpz_t rest)
{
    res->factors = calloc(primes->count ? primes->count : 1, sizeof(char *));
    if (res->factors == NULL)
        return -1;
    for (size_t i = 0; i < primes->count; i++) {
        res->factors[i] = mpz_to_decimal(primes->items[i]);
        if (res->factors[i] == NULL)
            return -1;
        res->count = i + 1;
    }
    if (mpz_cmp_ui(rest, 1) != 0) {
        res->unfactored = mpz_to_decimal(rest);
        if (res->unfactored == NULL)
            return -1;
    }
    return 0;
}

static enum factor_status fail(struct factor_result *res, const char *message)
{
    factor_result_free(res);
    snprintf(res->error, sizeof res->error, "%s", message);
    return FACTOR_ERROR;
}

/* Past 128 bits the u128 rho cannot run, and SIQS would spend its whole
 * cost (70 ms at 150 bits, seconds past 200) on a number with a small
 * factor: a 4 x 1000003 x (2^127 - 1) went to SIQS and, under a short
 * budget, came back unfactored. So a bounded Brent rho in GMP first:
 * BIG_RHO_STEPS steps (about 2 ms at 150 bits) find the factors up to
 * ~26 bits that most numbers have; a balanced semiprime loses that much. */
enum { BIG_RHO_STEPS = 8192, BIG_RHO_BATCH = 64 };

/* A factor of the odd composite n that fits 64 bits, by Brent's rho with
 * products of BIG_RHO_BATCH differences per gcd; 0 when none came. */
static uint64_t big_rho(const mpz_t n)
{
    mpz_t x, y, ys, q, d;
    mpz_inits(x, y, ys, q, d, NULL);
    mpz_set_ui(y, 2);
    mpz_set_ui(q, 1);
    uint64_t found = 0, steps = 0;
    for (uint64_t r = 1; steps < BIG_RHO_STEPS && found == 0; r *= 2) {
        mpz_set(x, y);
        for (uint64_t k = 0; k < r && steps < BIG_RHO_STEPS && found == 0;
             k += BIG_RHO_BATCH) {
            mpz_set(ys, y);
            for (uint64_t i = 0; i < BIG_RHO_BATCH && i < r - k; i++, steps++) {
                mpz_mul(y, y, y);
                mpz_add_ui(y, y, 1);
                mpz_mod(y, y, n);
                mpz_sub(d, x, y);
                mpz_mul(q, q, d);
                mpz_mod(q, q, n);
            }
            mpz_gcd(d, q, n);
            if (mpz_cmp_ui(d, 1) > 0 && mpz_cmp(d, n) < 0 && fits_u64(d))
                found = get_u64(d);
            else if (mpz_cmp(d, n) == 0)
                steps = BIG_RHO_STEPS; /* the batch overshot: give this one up */
        }
    }
    mpz_clears(x, y, ys, q, d, NULL);
    return found;
}

static void big_rho_prepass(mpz_t rest, struct prime_list *primes)
{
    while (mpz_sizeinbase(rest, 2) > RHO_MAX_BITS && mpz_probab_prime_p(rest, 25) == 0) {
        uint64_t f = big_rho(rest);
        if (f == 0)
            return;
        mpz_divexact_ui(rest, rest, f);
        push_u64_factors(primes, f);
    }
}

/* n is 2^64 or more (factor_decimal takes smaller ones the u64 way). */
static enum factor_status factor_mpz(struct factor_ctx *ctx, const mpz_t n,
                                     uint64_t budget_ms, struct prime_list *primes,
                                     mpz_t rest)
{
    uint64_t start_ms = now_ms();
    mpz_set(rest, n);
    strip_small_primes(rest, primes);
    big_rho_prepass(rest, primes);
    rho_prepass(rest, primes);
    return split_rest(ctx, rest, primes, budget_ms, start_ms);
}

static char *u64_to_decimal(uint64_t v)
{
    char *s = malloc(21);
    if (s != NULL)
        snprintf(s, 21, "%" PRIu64, v);
    return s;
}

/* Below 2^64: factor_u64_checked, no GMP. */
static enum factor_status factor_small(uint64_t n, struct factor_result *res)
{
    uint64_t f[FACTOR_U64_FACTORS_MAX];
    int count = factor_u64_checked(n, f);
    if (count < 0)
        return fail(res, "internal error: verification failed");
    res->factors = calloc(count > 0 ? (size_t)count : 1, sizeof(char *));
    if (res->factors == NULL)
        return fail(res, "out of memory");
    for (int i = 0; i < count; i++) {
        res->factors[i] = u64_to_decimal(f[i]);
        if (res->factors[i] == NULL)
            return fail(res, "out of memory");
        res->count = (size_t)i + 1;
    }
    return FACTOR_DONE;
}

enum factor_status factor_decimal(struct factor_ctx *ctx, const char *n,
                                  uint64_t budget_ms, struct factor_result *res)
{
    memset(res, 0, sizeof *res);
    uint64_t small;
    if (factor_parse_u64(n, strlen(n), &small))
        return factor_small(small, res);
    mpz_t value, rest;
    mpz_inits(value, rest, NULL);
    mpz_set_ui(rest, 1);
    struct prime_list primes;
    prime_list_init(&primes);
    enum factor_status status;
    enum factor_parse_status parsed = factor_parse(n, strlen(n), value);
    if (parsed != FACTOR_PARSE_OK) {
        status = fail(res, factor_parse_message(parsed));
    } else {
        status = factor_mpz(ctx, value, budget_ms, &primes, rest);
        prime_list_sort(&primes);
        if (!verify(value, &primes, rest))
            status = fail(res, "internal error: verification failed");
        else if (fill_result(res, &primes, rest) != 0)
            status = fail(res, "out of memory");
    }
    prime_list_free(&primes);
    mpz_clears(value, rest, NULL);
    return status;
}
