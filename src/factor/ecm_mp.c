/* ecm_mp.c - ECM curves through libecm, and the schedule of levels (ecm_mp.h). */
#include <stdio.h> /* before ecm.h: libecm's parameters hold FILE pointers */
#include <time.h>

#include <ecm.h>

#include "ecm_mp.h"

/* libecm 7.0.5 (Debian 12) leaks four small mpz per curve: ell_curve_clear
 * frees only a4 of the curve ecm() sets up with ell_curve_set_z (fixed
 * upstream after 7.0.5, GMP-ECM commit 1ae54031; ~0.3 KB a curve, ~1 MB
 * an hour of curves at B1 = 1e6). Not ours to free, and the allocation
 * runs through libgmp, whose frames LeakSanitizer's fast unwinder cannot
 * see past, so no suppression pattern matches it: under the sanitizers,
 * what libecm allocates during a curve is not leak-checked. */
#if defined(__SANITIZE_ADDRESS__)
#define MESH_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MESH_LSAN 1
#endif
#endif
#ifdef MESH_LSAN
#include <sanitizer/lsan_interface.h>
#define LIBECM_LEAKS_BEGIN() __lsan_disable()
#define LIBECM_LEAKS_END() __lsan_enable()
#else
#define LIBECM_LEAKS_BEGIN() ((void)0)
#define LIBECM_LEAKS_END() ((void)0)
#endif

enum {
    SIGMA_BASE = 1000,           /* Suyama's sigma must avoid 0, 1, 3, 5 */
    SIGMA_LEVEL_SHIFT = 20,      /* curves per level before sigmas overlap */
};

/* Stage 2's memory: libecm picks its blocks to stay below this (one
 * worker per core, so per process). */
static const double STAGE2_MAX_BYTES = 256e6;

uint32_t ecm_mp_sigma(unsigned level, uint32_t index)
{
    return SIGMA_BASE + ((uint32_t)level << SIGMA_LEVEL_SHIFT) +
           (index & ((1u << SIGMA_LEVEL_SHIFT) - 1));
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* libecm's stop_asap hook takes no argument, so the deadline it checks
 * has to live outside the call: one per thread, set for the length of
 * ecm_mp_run_curves only. The one piece of state here that is not passed. */
static _Thread_local uint64_t stop_deadline_ms;

static int past_deadline(void)
{
    return stop_deadline_ms != 0 && now_ms() >= stop_deadline_ms;
}

/* One curve; 1 with a proper factor, 0 without. */
static int run_curve(const mpz_t n, mpz_t m, double b1, uint32_t sigma,
                     ecm_params params, mpz_t factor)
{
    ecm_reset(params);
    params->param = ECM_PARAM_SUYAMA;
    params->sigma_is_A = 0;
    mpz_set_ui(params->sigma, sigma);
    mpz_set_si(params->B2, ECM_DEFAULT_B2);
    LIBECM_LEAKS_BEGIN();
    int found = ecm_factor(factor, m, b1, params);
    LIBECM_LEAKS_END();
    return found > 0 && mpz_cmp_ui(factor, 1) > 0 && mpz_cmp(factor, n) < 0 &&
           mpz_divisible_p(n, factor);
}

int ecm_mp_run_curves(const mpz_t n, double b1, uint32_t first_sigma, unsigned count,
                      uint64_t deadline_ms, mpz_t factor, unsigned *ran)
{
    ecm_params params;
    ecm_init(params);
    params->maxmem = STAGE2_MAX_BYTES;
    params->stop_asap = past_deadline;
    stop_deadline_ms = deadline_ms;
    mpz_t m; /* ecm_factor takes a non-const n */
    mpz_init_set(m, n);
    int result = 0;
    unsigned i = 0;
    for (; i < count && result == 0; i++) {
        if (past_deadline())
            result = -1;
        else if (run_curve(n, m, b1, first_sigma + i, params, factor))
            result = 1;
    }
    if (result != 0)
        i--; /* the curve that found it, or the one the deadline stopped */
    /* A curve that was interrupted reports no factor: say why. */
    if (result == 0 && past_deadline())
        result = -1;
    if (ran != NULL)
        *ran = i;
    stop_deadline_ms = 0;
    mpz_clear(m);
    ecm_clear(params);
    return result;
}

double ecm_mp_curve_ms(double b1, size_t bits)
{
    /* Measured (one curve, stage 1 + default B2, 2-core machine under
     * load): ~5 us per unit of B1 at 200 bits, ~10 at 500, ~17 at 1000. */
    return b1 * (2.0 + (double)bits / 60.0) / 1000.0;
}

/* Of `curves` at b1, how many the work left allows (all if unbounded). */
static unsigned curves_that_fit(unsigned curves, double b1, size_t bits, double *work_left)
{
    if (*work_left < 0)
        return curves;
    double each = ecm_mp_curve_ms(b1, bits);
    if (each * curves > *work_left)
        curves = (unsigned)(*work_left / each);
    *work_left -= each * curves;
    return curves;
}

void ecm_mp_plan(size_t bits, double work_ms, unsigned max_level, struct ecm_plan *plan)
{
    *plan = (struct ecm_plan){0, 0};
    double work_left = work_ms;
    for (unsigned l = 0; l <= max_level && l < ECM_MP_LEVEL_COUNT; l++) {
        unsigned curves = curves_that_fit(ecm_mp_levels[l].curves, ecm_mp_levels[l].b1, bits,
                                          &work_left);
        if (curves == 0)
            return;
        *plan = (struct ecm_plan){l + 1, curves};
        if (curves < ecm_mp_levels[l].curves)
            return;
    }
}

/* Curves of the schedule left at *at (0: move on): the rest of its level,
 * or past the last level's table, another batch of its size if allowed. */
static unsigned curves_left(const struct ecm_mp_curve *at, bool repeat)
{
    unsigned table = ecm_mp_levels[at->level].curves;
    if (at->index < table)
        return table - at->index;
    if (!repeat || at->index > (1u << SIGMA_LEVEL_SHIFT) - table)
        return 0;
    return table;
}

/* `curves` curves from *at, in one call, or one at a time when someone
 * watches (a curve at the larger bounds takes seconds). */
static int run_level(const mpz_t n, const struct ecm_mp_budget *budget, struct ecm_mp_curve *at,
                     unsigned curves, mpz_t factor)
{
    double b1 = ecm_mp_levels[at->level].b1;
    struct factor_progress p = {.phase = FACTOR_PHASE_ECM,
                                .bits = (uint32_t)mpz_sizeinbase(n, 2), .b1 = (uint64_t)b1,
                                .needed = ecm_mp_levels[at->level].curves};
    int found = 0;
    for (unsigned done = 0; done < curves && found == 0;) {
        p.found = at->index;
        factor_progress_report(budget->progress, &p);
        unsigned step = budget->progress != NULL ? 1 : curves - done, ran = 0;
        found = ecm_mp_run_curves(n, b1, ecm_mp_sigma(at->level, at->index), step,
                                  budget->deadline_ms, factor, &ran);
        at->index += ran;
        done += step;
    }
    return found;
}

int ecm_mp_find_factor(const mpz_t n, const struct ecm_mp_budget *budget,
                       struct ecm_mp_curve *at, mpz_t factor)
{
    size_t bits = mpz_sizeinbase(n, 2);
    double work_left = budget->work_ms > 0 ? budget->work_ms : -1;
    unsigned last = budget->max_level < ECM_MP_LEVEL_COUNT ? budget->max_level
                                                           : ECM_MP_LEVEL_COUNT - 1;
    while (at->level <= last) {
        bool repeat = at->level == last && budget->repeat_last && budget->deadline_ms != 0;
        unsigned curves = curves_left(at, repeat);
        if (curves == 0) {
            if (at->level == last)
                return 0;
            at->level++;
            at->index = 0;
            continue;
        }
        double b1 = ecm_mp_levels[at->level].b1;
        curves = curves_that_fit(curves, b1, bits, &work_left);
        if (curves == 0)
            return 0; /* the budget is spent */
        int found = run_level(n, budget, at, curves, factor);
        if (found != 0)
            return found;
    }
    return 0;
}
