/* siqs.c - self-initialising quadratic sieve: the driver.
 *
 * Hand-written rather than taken from PARI (whose MPQS was the path for
 * these sizes) because this is the product's hot path: balanced 65..140-bit
 * composites, which trial division and rho cannot split, spent nearly all
 * of `mesh factor`'s time in PARI. A sieve sized for these inputs (a few
 * hundred primes, an interval of 8 KB to two 32 KB blocks, single large
 * primes, Gray-code polynomial switching, 128-bit arithmetic instead of
 * GMP in the inner loops, divisions replaced by products) takes well under
 * half PARI's time (tests/bench/kernel.sh).
 * Ideas from Contini's thesis (SIQS), msieve and yafu (their small-input
 * sieves); the code is our own. Files: siqs_base.c (parameters, multiplier,
 * factor base), siqs_poly.c (polynomials), siqs_sieve.c (sieving and trial
 * division), siqs_rel.c (relations, square root), gf2.c (linear algebra). */
#include <math.h>
#include <stdlib.h>

#include "siqs.h"
#include "siqs_internal.h"

enum {
    SCRATCH_FACTORS = 512, /* prime powers of one A g: < 300 bits' worth */
    COMBINE_TRIES = 4,     /* more relations after all dependencies failed */
    MORE_SETS = 16,
};

static bool alloc_arrays(struct siqs_ctx *ctx)
{
    size_t n = siqs_padded(ctx->fb.count);
    struct siqs_poly *poly = &ctx->poly;
    poly->bainv = calloc(n * SIQS_MAX_A_PRIMES, sizeof *poly->bainv);
    poly->root1 = calloc(n, sizeof *poly->root1);
    poly->root2 = calloc(n, sizeof *poly->root2);
    ctx->next1 = calloc(n, sizeof *ctx->next1);
    ctx->next2 = calloc(n, sizeof *ctx->next2);
    ctx->sieve = malloc(SIQS_BLOCK);
    ctx->scratch = malloc(SCRATCH_FACTORS * sizeof *ctx->scratch);
    ctx->rels.prime_seen = calloc(n, sizeof *ctx->rels.prime_seen);
    ctx->hit_slots = malloc(n * sizeof *ctx->hit_slots);
    if (!(poly->bainv && poly->root1 && poly->root2 &&
          ctx->next1 && ctx->next2 && ctx->sieve && ctx->scratch && ctx->hit_slots &&
          ctx->rels.prime_seen))
        return false;
    for (size_t j = 0; j < n; j++) /* slots without roots: -1, 2, padding */
        poly->root1[j] = poly->root2[j] = SIQS_NO_ROOT;
    return true;
}

static void free_ctx(struct siqs_ctx *ctx)
{
    free(ctx->fb.p);
    free(ctx->fb.sqrt_kn);
    free(ctx->fb.logp);
    free(ctx->fb.recip);
    free(ctx->fb.magic);
    free(ctx->fb.p16);
    free(ctx->fb.recip16);
    free(ctx->fb.inv);
    free(ctx->fb.lim);
    free(ctx->hit_slots);
    free(ctx->poly.bainv);
    free(ctx->poly.root1);
    free(ctx->poly.root2);
    free(ctx->next1);
    free(ctx->next2);
    free(ctx->sieve);
    free(ctx->scratch);
    free(ctx->used_a);
    siqs_relations_free(&ctx->rels);
    mpz_clears(ctx->n, ctx->kn, ctx->tmp, NULL);
}

/* Sieve threshold and large-prime bound from the parameters: a value
 * counts when its logs sum to within `slack` bits of max |g| ~ M
 * sqrt(kN/2); a leftover below the bound (< pmax^2, so prime) is kept. */
static void set_bounds(struct siqs_ctx *ctx)
{
    uint32_t interval = ctx->prm.interval_kb * 1024u;
    if (interval > SIQS_MAX_INTERVAL)
        interval = SIQS_MAX_INTERVAL;
    ctx->block_len = interval < SIQS_BLOCK ? interval : SIQS_BLOCK;
    ctx->blocks = interval / ctx->block_len;
    ctx->m = ctx->blocks * ctx->block_len / 2;
    double log2_g = log2((double)ctx->m) + (log2(mpz_get_d(ctx->kn)) - 1) / 2;
    int threshold = (int)lround(log2_g) - ctx->prm.slack;
    ctx->threshold = (uint8_t)(threshold < 1 ? 1 : threshold > 100 ? 100 : threshold);
    uint64_t pmax = ctx->fb.p[ctx->fb.count - 1];
    uint64_t bound = pmax * ctx->prm.lp_mult;
    if (bound > pmax * pmax)
        bound = pmax * pmax;
    ctx->large_bound = (uint32_t)(bound < UINT32_MAX ? bound : UINT32_MAX);
    ctx->target_sets = ctx->fb.count + SIQS_EXTRA_RELATIONS;
    ctx->min_excess = SIQS_MIN_EXCESS;
}

/* Some factor-base primes never occur (about one in ten here) and the
 * matrix has a row only for those that do: sets beyond them give null
 * vectors, often well before target_sets. */
static bool enough_sets(const struct siqs_ctx *ctx)
{
    const struct siqs_relations *r = &ctx->rels;
    return r->nsets >= ctx->target_sets ||
           r->nsets >= r->distinct_primes + ctx->min_excess;
}

/* Sieves polynomials until there are enough relation sets: the B values
 * of each A in turn, then a new A. */
static bool collect(struct siqs_ctx *ctx)
{
    uint32_t b = 0, polys = 0;
    while (!enough_sets(ctx)) {
        if (b == polys) {
            if (!siqs_next_a(ctx))
                return false;
            polys = siqs_polys_per_a(ctx);
            b = 0;
        } else {
            siqs_next_b(ctx);
        }
        b++;
        if (!siqs_sieve_poly(ctx))
            return false;
    }
    return true;
}

static bool run(struct siqs_ctx *ctx, mpz_t factor)
{
    if (!siqs_choose_params(ctx))
        return false;
    int fb = siqs_build_factor_base(ctx, factor);
    if (fb != 0)
        return fb == 1;
    if (!alloc_arrays(ctx))
        return false;
    set_bounds(ctx);
    for (int t = 0; t < COMBINE_TRIES; t++) {
        if (!collect(ctx))
            return false;
        if (siqs_combine(ctx, factor))
            return true;
        ctx->target_sets += MORE_SETS;
        ctx->min_excess += MORE_SETS;
    }
    return false;
}

bool siqs_factor(const mpz_t n, mpz_t factor)
{
    size_t bits = mpz_sizeinbase(n, 2);
    if (bits < SIQS_MIN_BITS || bits > SIQS_MAX_BITS || mpz_even_p(n))
        return false;
    if (mpz_perfect_square_p(n)) {
        mpz_sqrt(factor, n);
        return true;
    }
    if (mpz_perfect_power_p(n))
        return false;
    struct siqs_ctx ctx = {.rng = 0x5149535f73656564ULL};
    mpz_inits(ctx.n, ctx.kn, ctx.tmp, NULL);
    mpz_set(ctx.n, n);
    bool found = run(&ctx, factor);
    free_ctx(&ctx);
    return found;
}
