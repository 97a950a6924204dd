/* siqs_mp_combine.c - from the multi-precision SIQS's relation sets to a
 * factor: each set's primes of odd exponent are a column of the matrix
 * mod 2 (gf2_sparse.c finds its null vectors), and each null vector gives
 * X^2 == Z^2 (mod N) and the factor gcd(X - Z, N) half the time. */
#include <stdlib.h>
#include <string.h>

#include "gf2_sparse.h"
#include "siqs_internal.h"
#include "siqs_mp_internal.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The slots of odd exponent over the relations of one set, sorted, at
 * out; returns how many. odd is all zero before and after. */
static uint32_t odd_slots(const struct mp_relations *r, const uint32_t *members, uint32_t from,
                          uint32_t to, uint8_t *odd, uint32_t *out)
{
    uint32_t n = 0;
    for (uint32_t m = from; m < to; m++) {
        const struct mp_rel *rel = &r->rel[members[m]];
        for (uint32_t i = 0; i < rel->nfactors; i++) {
            uint32_t s = r->factors[rel->first + i];
            if (odd[s] ^= 1) /* a repeat is dropped below */
                out[n++] = s;
        }
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (odd[out[i]])
            out[kept++] = out[i];
        odd[out[i]] = 0;
    }
    qsort(out, kept, sizeof *out, cmp_u32);
    return kept;
}

/* The matrix in CSR form (column k: rows[start[k] .. start[k + 1])) and
 * its null vectors over the sets in deps. */
static int set_dependencies(const struct mp_ctx *ctx, const uint32_t *set_start,
                            const uint32_t *members, size_t nsets, uint64_t *deps)
{
    const struct mp_relations *r = &ctx->rels;
    size_t total = 0;
    for (size_t k = 0; k < nsets; k++)
        for (uint32_t i = set_start[k]; i < set_start[k + 1]; i++)
            total += r->rel[members[i]].nfactors;
    uint32_t *start = malloc((nsets + 1) * sizeof *start);
    uint32_t *rows = malloc((total + 1) * sizeof *rows);
    uint8_t *odd = calloc(ctx->fb.count, 1);
    int found = -1;
    if (start != NULL && rows != NULL && odd != NULL) {
        uint32_t n = 0;
        for (size_t k = 0; k < nsets; k++) {
            start[k] = n;
            n += odd_slots(r, members, set_start[k], set_start[k + 1], odd, rows + n);
        }
        start[nsets] = n;
        found = gf2_sparse_null_space(ctx->fb.count, nsets, start, rows, deps);
    }
    free(start);
    free(rows);
    free(odd);
    return found;
}

static void get_y(const struct mp_relations *r, const struct mp_rel *rel, mpz_t y)
{
    size_t n = (size_t)(rel->y_size < 0 ? -rel->y_size : rel->y_size);
    mpz_import(y, n, -1, sizeof(mp_limb_t), 0, 0, r->ylimbs + rel->y_first);
    if (rel->y_size < 0)
        mpz_neg(y, y);
}

/* The relations of one dependency, each as often as its sets hold it. */
struct dependency {
    uint32_t *rels;
    size_t nrels, cap;
};

static bool add_rels(struct dependency *d, const uint32_t *members, uint32_t from, uint32_t to)
{
    if (!siqs_reserve((void **)&d->rels, &d->cap, d->nrels + (to - from), sizeof *d->rels))
        return false;
    memcpy(d->rels + d->nrels, members + from, (to - from) * sizeof *members);
    d->nrels += to - from;
    return true;
}

/* X = product of y, Z = sqrt of the product of A Q (mod N): the factor
 * base's exponents halved, and each large prime once per pair. */
static bool try_dependency(struct mp_ctx *ctx, const struct dependency *d, uint32_t *exps,
                           mpz_t factor)
{
    const struct mp_relations *r = &ctx->rels;
    uint32_t *larges = malloc((2 * d->nrels + 1) * sizeof *larges);
    if (larges == NULL)
        return false;
    size_t nl = 0;
    mpz_t x, z;
    mpz_inits(x, z, NULL);
    mpz_set_ui(x, 1);
    mpz_set_ui(z, 1);
    memset(exps, 0, ctx->fb.count * sizeof *exps);
    for (size_t k = 0; k < d->nrels; k++) {
        const struct mp_rel *rel = &r->rel[d->rels[k]];
        get_y(r, rel, ctx->tmp);
        mpz_mul(x, x, ctx->tmp);
        mpz_mod(x, x, ctx->n);
        for (uint32_t i = 0; i < rel->nfactors; i++)
            exps[r->factors[rel->first + i]]++;
        for (int l = 0; l < 2; l++)
            if (rel->large[l] != 1)
                larges[nl++] = rel->large[l];
    }
    qsort(larges, nl, sizeof *larges, cmp_u32);
    bool even = nl % 2 == 0;
    for (size_t i = 0; even && i < nl; i += 2) {
        even = larges[i] == larges[i + 1];
        mpz_mul_ui(z, z, larges[i]);
        mpz_mod(z, z, ctx->n);
    }
    for (uint32_t s = 0; even && s < ctx->fb.count; s++) {
        even = exps[s] % 2 == 0;
        if (s == MP_FB_SIGN || exps[s] == 0)
            continue;
        mpz_set_ui(ctx->tmp, ctx->fb.p[s]);
        mpz_powm_ui(ctx->tmp, ctx->tmp, exps[s] / 2, ctx->n);
        mpz_mul(z, z, ctx->tmp);
        mpz_mod(z, z, ctx->n);
    }
    bool found = false;
    if (even) {
        mpz_sub(x, x, z);
        mpz_gcd(factor, x, ctx->n);
        found = mpz_cmp_ui(factor, 1) > 0 && mpz_cmp(factor, ctx->n) < 0;
    }
    mpz_clears(x, z, NULL);
    free(larges);
    return found;
}

static bool try_all(struct mp_ctx *ctx, const uint64_t *deps, int ndeps, size_t nsets,
                    const uint32_t *start, const uint32_t *members, mpz_t factor)
{
    uint32_t *exps = malloc(ctx->fb.count * sizeof *exps);
    struct dependency d = {0};
    bool found = false, ok = exps != NULL;
    for (int k = 0; ok && k < ndeps && !found; k++) {
        d.nrels = 0;
        for (size_t c = 0; ok && c < nsets; c++)
            if ((deps[c] >> k) & 1)
                ok = add_rels(&d, members, start[c], start[c + 1]);
        found = ok && try_dependency(ctx, &d, exps, factor);
    }
    free(d.rels);
    free(exps);
    return found;
}

bool siqs_mp_combine(struct mp_ctx *ctx, mpz_t factor)
{
    uint32_t *start = NULL, *members = NULL;
    long nsets = siqs_mp_build_sets(&ctx->rels, &start, &members);
    if (nsets < 0)
        return false;
    uint64_t *deps = malloc(((size_t)nsets + 1) * sizeof *deps);
    int ndeps = deps ? set_dependencies(ctx, start, members, (size_t)nsets, deps) : -1;
    if (ndeps > 0)
        siqs_mp_report(ctx, FACTOR_PHASE_SQRT);
    bool found = ndeps > 0 && try_all(ctx, deps, ndeps, (size_t)nsets, start, members, factor);
    free(deps);
    free(start);
    free(members);
    return found;
}
