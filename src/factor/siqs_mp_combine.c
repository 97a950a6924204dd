/* siqs_mp_combine.c - from the multi-precision SIQS's relation sets to a
 * factor: the exponent matrix mod 2, shrunk by structured Gaussian
 * elimination (sets holding a prime no other set has are dropped, a
 * prime in exactly two sets merges them), then dense elimination
 * (gf2.c) of what is left, and for each null vector X^2 == Z^2 (mod N).
 *
 * The matrix of a 230-bit number has ~5000 primes; the sparse pass
 * leaves about a third of that to the dense one, whose cost grows with
 * the cube. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf2.h"
#include "siqs_mp_internal.h"

/* A column of the matrix: the primes of odd exponent (sorted) in the sum
 * of the sets it holds. */
struct column {
    uint32_t *primes, nprimes;
    uint32_t *sets, nsets;
    bool alive;
};

struct matrix {
    struct column *col;
    size_t ncols;
    uint32_t nslots;
};

static void matrix_free(struct matrix *m)
{
    for (size_t c = 0; c < m->ncols; c++) {
        free(m->col[c].primes);
        free(m->col[c].sets);
    }
    free(m->col);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Column k: the slots with odd exponent over the relations of set k. */
static bool fill_column(const struct mp_relations *r, const uint32_t *members, uint32_t from,
                        uint32_t to, uint8_t *odd, uint32_t *list, struct column *col)
{
    uint32_t n = 0;
    for (uint32_t m = from; m < to; m++) {
        const struct mp_rel *rel = &r->rel[members[m]];
        for (uint32_t i = 0; i < rel->nfactors; i++) {
            uint32_t s = r->factors[rel->first + i];
            if (odd[s] ^= 1) /* a repeat is dropped below */
                list[n++] = s;
        }
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (odd[list[i]])
            list[kept++] = list[i];
        odd[list[i]] = 0;
    }
    qsort(list, kept, sizeof *list, cmp_u32);
    col->primes = malloc((kept ? kept : 1) * sizeof *col->primes);
    col->sets = malloc(sizeof *col->sets);
    if (col->primes == NULL || col->sets == NULL)
        return false;
    memcpy(col->primes, list, kept * sizeof *list);
    col->nprimes = kept;
    col->alive = true;
    return true;
}

static bool build_matrix(const struct mp_ctx *ctx, const uint32_t *start,
                         const uint32_t *members, size_t nsets, struct matrix *m)
{
    const struct mp_relations *r = &ctx->rels;
    m->nslots = ctx->fb.count;
    m->col = calloc(nsets ? nsets : 1, sizeof *m->col);
    uint8_t *odd = calloc(m->nslots, 1);
    size_t longest = 0;
    for (size_t k = 0; k < nsets; k++) {
        size_t len = 0;
        for (uint32_t i = start[k]; i < start[k + 1]; i++)
            len += r->rel[members[i]].nfactors;
        longest = len > longest ? len : longest;
    }
    uint32_t *list = malloc((longest + 1) * sizeof *list);
    bool ok = m->col && odd && list;
    for (size_t k = 0; ok && k < nsets; k++) {
        m->ncols = k + 1;
        ok = fill_column(r, members, start[k], start[k + 1], odd, list, &m->col[k]);
        if (ok) {
            m->col[k].sets[0] = (uint32_t)k;
            m->col[k].nsets = 1;
        }
    }
    free(odd);
    free(list);
    return ok;
}

/* a += b (mod 2): primes by merging sorted lists, sets appended. */
static bool merge_columns(struct column *a, struct column *b)
{
    uint32_t *p = malloc((a->nprimes + b->nprimes + 1) * sizeof *p);
    uint32_t *s = realloc(a->sets, (a->nsets + b->nsets) * sizeof *s);
    if (s != NULL)
        a->sets = s;
    if (p == NULL || s == NULL) {
        free(p);
        return false;
    }
    uint32_t i = 0, j = 0, n = 0;
    while (i < a->nprimes || j < b->nprimes) {
        if (j == b->nprimes || (i < a->nprimes && a->primes[i] < b->primes[j]))
            p[n++] = a->primes[i++];
        else if (i == a->nprimes || b->primes[j] < a->primes[i])
            p[n++] = b->primes[j++];
        else
            i++, j++;
    }
    free(a->primes);
    a->primes = p;
    a->nprimes = n;
    memcpy(a->sets + a->nsets, b->sets, b->nsets * sizeof *b->sets);
    a->nsets += b->nsets;
    b->alive = false;
    return true;
}

/* Per slot: how many live columns hold it, and (for up to two) which. */
static void count_weights(const struct matrix *m, uint32_t *weight, uint32_t *where)
{
    memset(weight, 0, m->nslots * sizeof *weight);
    for (size_t c = 0; c < m->ncols; c++) {
        if (!m->col[c].alive)
            continue;
        for (uint32_t i = 0; i < m->col[c].nprimes; i++) {
            uint32_t s = m->col[c].primes[i];
            if (weight[s] < 2)
                where[2 * s + weight[s]] = (uint32_t)c;
            weight[s]++;
        }
    }
}

enum { MAX_PASSES = 30, MERGED_WEIGHT_MAX = 60 };

/* One pass of singleton removal and weight-2 merges; columns touched in
 * this pass wait for the next (their primes' counts are stale). Returns
 * how many changes, or -1 when out of memory. */
static long reduce_pass(struct matrix *m, uint32_t *weight, uint32_t *where, uint8_t *touched)
{
    count_weights(m, weight, where);
    memset(touched, 0, m->ncols);
    long changes = 0;
    for (uint32_t s = 0; s < m->nslots; s++) {
        if (weight[s] == 1 && !touched[where[2 * s]]) {
            m->col[where[2 * s]].alive = false;
            touched[where[2 * s]] = 1;
            changes++;
        } else if (weight[s] == 2) {
            uint32_t a = where[2 * s], b = where[2 * s + 1];
            if (touched[a] || touched[b] ||
                m->col[a].nprimes + m->col[b].nprimes > MERGED_WEIGHT_MAX)
                continue;
            if (!merge_columns(&m->col[a], &m->col[b]))
                return -1;
            touched[a] = touched[b] = 1;
            changes++;
        }
    }
    return changes;
}

static bool reduce_sparse(struct matrix *m)
{
    uint32_t *weight = malloc(m->nslots * sizeof *weight);
    uint32_t *where = malloc(2 * m->nslots * sizeof *where);
    uint8_t *touched = malloc(m->ncols + 1);
    bool ok = weight && where && touched;
    for (int pass = 0; ok && pass < MAX_PASSES; pass++) {
        long changes = reduce_pass(m, weight, where, touched);
        ok = changes >= 0;
        if (changes <= 0)
            break;
    }
    free(weight);
    free(where);
    free(touched);
    return ok;
}

enum { EXCESS_KEPT = 64 };

/* The dense matrix over the live columns (the lightest, at most
 * EXCESS_KEPT more than there are primes) and the primes they hold. */
static int dense_dependencies(struct matrix *m, uint32_t **col_of, size_t *ncols_out,
                              uint64_t **deps_out)
{
    uint32_t *row_of = malloc(m->nslots * sizeof *row_of);
    uint32_t *cols = malloc((m->ncols + 1) * sizeof *cols);
    if (row_of == NULL || cols == NULL) {
        free(row_of);
        free(cols);
        return -1;
    }
    memset(row_of, 0xff, m->nslots * sizeof *row_of);
    size_t ncols = 0, nrows = 0;
    for (size_t c = 0; c < m->ncols; c++)
        if (m->col[c].alive)
            cols[ncols++] = (uint32_t)c;
    for (size_t k = 0; k < ncols; k++)
        for (uint32_t i = 0; i < m->col[cols[k]].nprimes; i++)
            if (row_of[m->col[cols[k]].primes[i]] == UINT32_MAX)
                row_of[m->col[cols[k]].primes[i]] = (uint32_t)nrows++;
    if (getenv("SIQS_MP_DEBUG"))
        fprintf(stderr, "dense: %zu rows %zu cols (of %zu sets, %u slots)\n", nrows, ncols, m->ncols, m->nslots);
    if (ncols > nrows + EXCESS_KEPT)
        ncols = nrows + EXCESS_KEPT; /* rows of dropped columns stay: harmless */
    size_t words = gf2_words(ncols);
    uint64_t *rows = calloc(nrows * words + 1, sizeof *rows);
    uint64_t *deps = malloc((ncols + 1) * sizeof *deps);
    int found = -1;
    if (rows != NULL && deps != NULL) {
        for (size_t k = 0; k < ncols; k++)
            for (uint32_t i = 0; i < m->col[cols[k]].nprimes; i++)
                rows[row_of[m->col[cols[k]].primes[i]] * words + k / 64] ^= 1ULL << (k % 64);
        found = gf2_null_space(rows, nrows, ncols, deps);
    }
    free(rows);
    free(row_of);
    if (found < 0) {
        free(cols);
        free(deps);
        return -1;
    }
    *col_of = cols;
    *ncols_out = ncols;
    *deps_out = deps;
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
    if (d->nrels + (to - from) > d->cap) {
        size_t cap = 2 * (d->nrels + (to - from)) + 64;
        uint32_t *p = realloc(d->rels, cap * sizeof *p);
        if (p == NULL)
            return false;
        d->rels = p, d->cap = cap;
    }
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

static bool try_all(struct mp_ctx *ctx, const struct matrix *m, const uint32_t *cols,
                    size_t ncols, const uint64_t *deps, int ndeps, const uint32_t *start,
                    const uint32_t *members, mpz_t factor)
{
    uint32_t *exps = malloc(ctx->fb.count * sizeof *exps);
    struct dependency d = {0};
    bool found = false, ok = exps != NULL;
    for (int k = 0; ok && k < ndeps && !found; k++) {
        d.nrels = 0;
        for (size_t c = 0; ok && c < ncols; c++) {
            if (!((deps[c] >> k) & 1))
                continue;
            const struct column *col = &m->col[cols[c]];
            for (uint32_t i = 0; ok && i < col->nsets; i++)
                ok = add_rels(&d, members, start[col->sets[i]], start[col->sets[i] + 1]);
        }
        found = ok && try_dependency(ctx, &d, exps, factor);
    }
    free(d.rels);
    free(exps);
    return found;
}

bool siqs_mp_combine(struct mp_ctx *ctx, mpz_t factor)
{
    uint32_t *start = NULL, *members = NULL, *cols = NULL;
    uint64_t *deps = NULL;
    size_t ncols = 0;
    struct matrix m = {0};
    bool found = false;
    long nsets = siqs_mp_build_sets(&ctx->rels, &start, &members);
    if (nsets >= 0 && build_matrix(ctx, start, members, (size_t)nsets, &m) &&
        reduce_sparse(&m)) {
        int ndeps = dense_dependencies(&m, &cols, &ncols, &deps);
        found = ndeps > 0 &&
                try_all(ctx, &m, cols, ncols, deps, ndeps, start, members, factor);
    }
    matrix_free(&m);
    free(cols);
    free(deps);
    free(start);
    free(members);
    return found;
}
