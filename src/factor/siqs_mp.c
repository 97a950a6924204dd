/* siqs_mp.c - the multi-precision SIQS: the driver.
 *
 * What the 128-bit engine (siqs.c) cannot take: 141..SIQS_MP_MAX_BITS
 * bits, which went to PARI's MPQS before (0.11 s at 150 bits, 2.1 s at
 * 190, minutes past 230). Our own code; ideas from Contini's thesis,
 * msieve and yafu (bucket sieve, large-prime cycles). Files:
 * siqs_mp_base.c (parameters, factor base), siqs_mp_poly.c (A by index,
 * B by Gray code), siqs_mp_sieve.c (block and bucket sieve, trial
 * division), siqs_mp_rel.c (relations, large-prime graph),
 * siqs_mp_combine.c (matrix, square root). */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "cpus.h"
#include "siqs.h"
#include "siqs_mp_internal.h"
#include "siqs_mp_wire.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void siqs_mp_ctx_free(struct mp_ctx *ctx)
{
    free(ctx->fb.p);
    free(ctx->fb.sqrt_kn);
    free(ctx->fb.magic);
    free(ctx->fb.logp);
    siqs_mp_poly_free(&ctx->poly);
    siqs_mp_sieve_free(ctx);
    siqs_mp_relations_free(&ctx->rels);
    mpz_clears(ctx->n, ctx->kn, ctx->tmp, ctx->q, ctx->y, NULL);
}

/* Interval, large-prime bounds and the sieve threshold. A value is a
 * candidate when its logs reach log2 max|Q| minus the slack; logs are
 * scaled so that the byte never passes 255 (128 + slack). */
static void set_bounds(struct mp_ctx *ctx)
{
    ctx->interval = (uint32_t)ctx->prm.blocks * MP_BLOCK;
    ctx->m = ctx->interval / 2;
    uint64_t pmax = ctx->fb.p[ctx->fb.count - 1];
    ctx->large_bound = pmax * ctx->prm.lp_mult;
    if (ctx->large_bound > UINT32_MAX)
        ctx->large_bound = UINT32_MAX;
    ctx->dlp_bound = (uint64_t)((double)ctx->large_bound * (double)ctx->large_bound / 16);
    double log2_q = log2((double)ctx->m) + (log2(mpz_get_d(ctx->kn)) - 1) / 2;
    double need = log2_q - ctx->prm.slack_tenths / 10.0 * log2((double)pmax);
    ctx->log_scale = need > 100 ? 100 / need : 1.0;
    ctx->init_byte = (uint8_t)(128 - lround(need * ctx->log_scale));
    for (uint32_t j = MP_FB_ODD; j < ctx->fb.count; j++)
        ctx->fb.logp[j] = (uint8_t)lround(log2((double)ctx->fb.p[j]) * ctx->log_scale);
    ctx->want_sets = ctx->fb.count * 15 / 16 + 32;
}

bool siqs_mp_sieve_range(struct mp_ctx *ctx, uint32_t a_lo, uint32_t a_hi,
                         uint64_t deadline_ms, bool *timed_out)
{
    for (uint32_t a = a_lo; a < a_hi; a++) {
        if (!siqs_mp_first_b(ctx, a))
            return false;
        uint32_t polys = siqs_mp_polys_per_a(ctx);
        for (uint32_t b = 0; b < polys; b++) {
            if (b > 0)
                siqs_mp_next_b(ctx);
            if (!siqs_mp_sieve_poly(ctx))
                return false;
            if (deadline_ms != 0 && b % 16 == 0 && now_ms() >= deadline_ms) {
                *timed_out = true;
                return false;
            }
        }
    }
    return true;
}

/* About one prime in ten never occurs and singletons drop more rows, so
 * the first try comes before there are as many sets as primes; each
 * failed one asks for a few percent more. */
bool siqs_mp_enough(const struct mp_ctx *ctx)
{
    return siqs_mp_sets(&ctx->rels) >= ctx->want_sets;
}

void siqs_mp_report(const struct mp_ctx *ctx, enum factor_phase phase)
{
    bool counts = phase == FACTOR_PHASE_SIEVE;
    struct factor_progress p = {.phase = phase, .bits = (uint32_t)mpz_sizeinbase(ctx->n, 2),
                                .found = counts ? siqs_mp_sets(&ctx->rels) : 0,
                                .needed = counts ? ctx->want_sets : 0};
    factor_progress_report(ctx->progress, &p);
}

int siqs_mp_setup(struct mp_ctx *ctx, mpz_t factor)
{
    if (!siqs_mp_params(ctx))
        return -1;
    int fb = siqs_mp_factor_base(ctx, factor);
    if (fb != 0)
        return fb == 1 ? 1 : -1;
    set_bounds(ctx); /* the interval and logs the sieve's plan follows */
    if (!siqs_mp_poly_alloc(ctx) || !siqs_mp_sieve_alloc(ctx))
        return -1;
    return 0;
}

static int run(struct mp_ctx *ctx, mpz_t factor, uint64_t deadline_ms)
{
    int ready = siqs_mp_setup(ctx, factor);
    if (ready != 0)
        return ready == 1;
    uint32_t a = 0;
    for (int t = 0; t < SIQS_MP_COMBINE_TRIES;) {
        while (!siqs_mp_enough(ctx)) {
            siqs_mp_report(ctx, FACTOR_PHASE_SIEVE);
            bool timed_out = false;
            if (!siqs_mp_sieve_range(ctx, a, a + 1, deadline_ms, &timed_out))
                return timed_out ? -1 : 0;
            a++;
        }
        siqs_mp_report(ctx, FACTOR_PHASE_MATRIX);
        enum mp_combined r = siqs_mp_combine(ctx, factor);
        if (r == MP_COMBINE_SPLIT)
            return 1;
        t += r == MP_COMBINE_FAILED; /* a short check ran no matrix */
    }
    return 0;
}

void siqs_mp_ctx_init(struct mp_ctx *ctx, const mpz_t n)
{
    *ctx = (struct mp_ctx){.seed = 0x53495153206d70ULL ^ mpz_getlimbn(n, 0)};
    mpz_inits(ctx->n, ctx->kn, ctx->tmp, ctx->q, ctx->y, NULL);
    siqs_mp_poly_init(&ctx->poly);
    mpz_set(ctx->n, n);
}

unsigned siqs_mp_usable_jobs(unsigned jobs)
{
    unsigned cpus = usable_cpus();
    return cpus < jobs ? cpus : jobs;
}

int siqs_mp_factor(const mpz_t n, mpz_t factor, uint64_t deadline_ms)
{
    return siqs_mp_factor_jobs(n, factor, deadline_ms, 1);
}

int siqs_mp_factor_jobs(const mpz_t n, mpz_t factor, uint64_t deadline_ms, unsigned jobs)
{
    return siqs_mp_factor_watched(n, factor, deadline_ms, jobs, NULL);
}

int siqs_mp_factor_watched(const mpz_t n, mpz_t factor, uint64_t deadline_ms, unsigned jobs,
                           const struct factor_progress_sink *progress)
{
    size_t bits = mpz_sizeinbase(n, 2);
    if (bits < SIQS_MP_MIN_BITS || bits > SIQS_MP_MAX_BITS || mpz_even_p(n))
        return 0;
    if (mpz_perfect_square_p(n)) {
        mpz_sqrt(factor, n);
        return 1;
    }
    if (mpz_perfect_power_p(n))
        return 0;
    struct mp_ctx ctx;
    siqs_mp_ctx_init(&ctx, n);
    ctx.progress = progress;
    struct siqs_wire_stats stats = {0};
    jobs = siqs_mp_usable_jobs(jobs);
    int found = jobs > 1 ? siqs_mp_run_parallel(&ctx, factor, deadline_ms, jobs, &stats)
                         : run(&ctx, factor, deadline_ms);
    siqs_mp_ctx_free(&ctx);
    return found;
}
