/* siqs_mp_combine.c - from the multi-precision SIQS's relation sets to a
 * factor: each set's primes of odd exponent are a column of the matrix
 * mod 2 (gf2_sparse.c finds its null vectors), and each null vector gives
 * X^2 == Z^2 (mod N) and the factor gcd(X - Z, N) half the time. */
#include <limits.h>
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

/* The matrix in CSR form: column k (a set) holds rows[start[k] ..
 * start[k + 1]), its slots of odd exponent. */
struct columns {
    uint32_t *start, *rows;
};

/* Columns minus rows once every column with a row no other column has is
 * dropped (again until none is left): a lower bound on the null vectors
 * the matrix has, for the cost of a few passes over its entries.
 * LONG_MIN when out of memory. */
static long excess(const struct columns *c, size_t ncols, uint32_t nslots)
{
    uint32_t *weight = calloc(nslots, sizeof *weight);
    uint8_t *dropped = calloc(ncols + 1, 1);
    if (weight == NULL || dropped == NULL) {
        free(weight);
        free(dropped);
        return LONG_MIN;
    }
    for (uint32_t i = 0; i < c->start[ncols]; i++)
        weight[c->rows[i]]++;
    long cols = (long)ncols;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t k = 0; k < ncols; k++) {
            bool single = false;
            for (uint32_t i = c->start[k]; !dropped[k] && i < c->start[k + 1]; i++)
                single |= weight[c->rows[i]] == 1;
            if (!single)
                continue;
            for (uint32_t i = c->start[k]; i < c->start[k + 1]; i++)
                weight[c->rows[i]]--;
            dropped[k] = 1, changed = true, cols--;
        }
    }
    long rows = 0;
    for (uint32_t r = 0; r < nslots; r++)
        rows += weight[r] != 0;
    free(weight);
    free(dropped);
    return cols - rows;
}

static bool build_columns(const struct mp_ctx *ctx, const uint32_t *set_start,
                          const uint32_t *members, size_t nsets, struct columns *c)
{
    const struct mp_relations *r = &ctx->rels;
    size_t total = 0;
    for (size_t k = 0; k < nsets; k++)
        for (uint32_t i = set_start[k]; i < set_start[k + 1]; i++)
            total += r->rel[members[i]].nfactors;
    c->start = malloc((nsets + 1) * sizeof *c->start);
    c->rows = malloc((total + 1) * sizeof *c->rows);
    uint8_t *odd = calloc(ctx->fb.count, 1);
    bool ok = c->start != NULL && c->rows != NULL && odd != NULL;
    if (ok) {
        uint32_t n = 0;
        for (size_t k = 0; k < nsets; k++) {
            c->start[k] = n;
            n += odd_slots(r, members, set_start[k], set_start[k + 1], odd, c->rows + n);
        }
        c->start[nsets] = n;
    }
    free(odd);
    return ok;
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

/* Null vectors the matrix must have before it is run: each splits n with
 * odds 1/2, and the matrix finds about two more than this bound. Before
 * this check the first matrix came at 15/16 of the factor base's size in
 * sets and had none for 6 of 10 numbers at 170 and 190 bits (97-98% of
 * the primes occur; the bound was -73..-4 for those six and 10..14 for
 * three of the four others), a matrix for nothing each. */
enum { MIN_EXCESS = 8 };

enum mp_combined siqs_mp_combine(struct mp_ctx *ctx, mpz_t factor)
{
    uint32_t *start = NULL, *members = NULL;
    struct columns cols = {0};
    uint64_t *deps = NULL;
    long nsets = siqs_mp_build_sets(&ctx->rels, &start, &members);
    bool ok = nsets >= 0 && build_columns(ctx, start, members, (size_t)nsets, &cols);
    long spare = ok ? excess(&cols, (size_t)nsets, ctx->fb.count) : LONG_MIN;
    enum mp_combined result = MP_COMBINE_FAILED;
    if (spare != LONG_MIN && spare < MIN_EXCESS) {
        /* Short: no matrix. Each set to come is about one more spare. */
        size_t want = siqs_mp_sets(&ctx->rels) + (size_t)(MIN_EXCESS - spare);
        ctx->want_sets = want > ctx->want_sets ? want : ctx->want_sets + 1;
        result = MP_COMBINE_SHORT;
    } else if (ok && (deps = malloc(((size_t)nsets + 1) * sizeof *deps)) != NULL) {
        int ndeps = gf2_sparse_null_space(ctx->fb.count, (size_t)nsets, cols.start, cols.rows,
                                          deps);
        if (ndeps > 0)
            siqs_mp_report(ctx, FACTOR_PHASE_SQRT);
        if (ndeps > 0 && try_all(ctx, deps, ndeps, (size_t)nsets, start, members, factor))
            result = MP_COMBINE_SPLIT;
    }
    if (result == MP_COMBINE_FAILED)
        ctx->want_sets += ctx->fb.count / 32;
    free(deps);
    free(cols.start);
    free(cols.rows);
    free(start);
    free(members);
    return result;
}
