/* siqs_rel.c - SIQS relations: storing them, pairing partials that share
 * their large prime, and turning dependencies of the exponent matrix into
 * X^2 == Z^2 (mod N) and a factor gcd(X - Z, N). */
#include <stdlib.h>
#include <string.h>

#include "gf2.h"
#include "siqs_internal.h"

bool siqs_reserve(void **items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t grown = *cap ? *cap : 256;
    while (grown < need)
        grown *= 2;
    void *p = realloc(*items, grown * size);
    if (p == NULL)
        return false;
    *items = p;
    *cap = grown;
    return true;
}

/* Counts the primes of relation index that no set had before. */
static void note_primes(struct siqs_relations *r, uint32_t index)
{
    const struct siqs_relation *rel = &r->rel[index];
    for (uint32_t i = 0; i < rel->nfactors; i++) {
        uint32_t f = r->factors[rel->first + i];
        r->distinct_primes += r->prime_seen[f] == 0;
        r->prime_seen[f] = 1;
    }
}

static bool add_set(struct siqs_relations *r, uint32_t a, uint32_t b)
{
    if (!siqs_reserve((void **)&r->sets, &r->sets_cap, r->nsets + 1, sizeof *r->sets))
        return false;
    r->sets[r->nsets++] = (struct siqs_set){{a, b}};
    note_primes(r, a);
    note_primes(r, b);
    return true;
}

static uint32_t hash_slot(uint32_t large, uint32_t mask)
{
    return (uint32_t)((large * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

/* The partial table: large prime -> first relation with it (index + 1;
 * 0 is empty). Kept at most half full. */
static bool grow_partials(struct siqs_relations *r)
{
    uint32_t size = r->partial_mask ? 2 * (r->partial_mask + 1) : 1024;
    uint32_t *slots = calloc(size, sizeof *slots);
    if (slots == NULL)
        return false;
    for (uint32_t i = 0; r->partial_mask && i <= r->partial_mask; i++) {
        uint32_t e = r->partial_slot[i];
        if (e == 0)
            continue;
        uint32_t h = hash_slot(r->rel[e - 1].large, size - 1);
        while (slots[h] != 0)
            h = (h + 1) & (size - 1);
        slots[h] = e;
    }
    free(r->partial_slot);
    r->partial_slot = slots;
    r->partial_mask = size - 1;
    return true;
}

/* A partial pairs with the first one seen with the same large prime; the
 * first is remembered otherwise. */
static bool add_partial(struct siqs_relations *r, uint32_t index)
{
    uint32_t large = r->rel[index].large;
    if (2 * (r->npartials + 1) > (size_t)r->partial_mask + 1 && !grow_partials(r))
        return false;
    uint32_t h = hash_slot(large, r->partial_mask);
    for (; r->partial_slot[h] != 0; h = (h + 1) & r->partial_mask) {
        uint32_t first = r->partial_slot[h] - 1;
        if (r->rel[first].large == large)
            return add_set(r, first, index);
    }
    r->partial_slot[h] = index + 1;
    r->npartials++;
    return true;
}

bool siqs_add_relation(struct siqs_ctx *ctx, i128 y, const uint32_t *factors,
                       uint32_t nfactors, uint32_t large)
{
    struct siqs_relations *r = &ctx->rels;
    if (!siqs_reserve((void **)&r->rel, &r->rel_cap, r->nrel + 1, sizeof *r->rel) ||
        !siqs_reserve((void **)&r->factors, &r->factors_cap, r->nfactors + nfactors,
                 sizeof *r->factors))
        return false;
    memcpy(r->factors + r->nfactors, factors, nfactors * sizeof *factors);
    uint32_t index = (uint32_t)r->nrel++;
    r->rel[index] = (struct siqs_relation){
        .y = y, .large = large, .first = (uint32_t)r->nfactors, .nfactors = nfactors};
    r->nfactors += nfactors;
    return large == 1 ? add_set(r, index, index) : add_partial(r, index);
}

void siqs_relations_free(struct siqs_relations *r)
{
    free(r->rel);
    free(r->factors);
    free(r->sets);
    free(r->partial_slot);
    free(r->prime_seen);
    memset(r, 0, sizeof *r);
}

static uint32_t set_size(const struct siqs_set *set)
{
    return set->rel[1] == set->rel[0] ? 1 : 2;
}

/* The primes with an odd exponent in each set (what the matrix sees):
 * set s's are primes[start[s] .. start[s + 1]). */
struct set_parity {
    uint32_t *start, *primes, *count; /* count: active sets per prime */
    bool *active;                     /* sets kept for the matrix */
};

static void parity_free(struct set_parity *par)
{
    free(par->start);
    free(par->primes);
    free(par->count);
    free(par->active);
}

static bool odd_primes(const struct siqs_ctx *ctx, struct set_parity *par)
{
    const struct siqs_relations *r = &ctx->rels;
    uint32_t nfb = ctx->fb.count;
    par->start = malloc((r->nsets + 1) * sizeof *par->start);
    par->primes = malloc((2 * r->nfactors + 1) * sizeof *par->primes);
    par->count = calloc(nfb, sizeof *par->count);
    par->active = malloc((r->nsets + 1) * sizeof *par->active);
    uint8_t *odd = calloc(nfb, 1);
    bool ok = par->start && par->primes && par->count && par->active && odd;
    uint32_t n = 0;
    for (size_t s = 0; ok && s < r->nsets; s++) {
        par->start[s] = n;
        par->active[s] = true;
        uint32_t first = n;
        for (uint32_t k = 0; k < set_size(&r->sets[s]); k++) {
            const struct siqs_relation *rel = &r->rel[r->sets[s].rel[k]];
            for (uint32_t i = 0; i < rel->nfactors; i++) {
                uint32_t f = r->factors[rel->first + i];
                if (odd[f] ^= 1)
                    par->primes[n++] = f;
            }
        }
        /* Keep those still odd (a prime can be listed, then cancelled). */
        uint32_t kept = first;
        for (uint32_t i = first; i < n; i++) {
            uint32_t f = par->primes[i];
            if (odd[f]) {
                par->primes[kept++] = f;
                par->count[f]++;
                odd[f] = 0;
            }
        }
        n = kept;
    }
    if (ok)
        par->start[r->nsets] = n;
    free(odd);
    return ok;
}

/* A set holding a prime no other set has cannot be in a dependency:
 * drop it, and repeat (each drop can make new singletons). The excess of
 * sets over primes never shrinks. */
static void drop_singletons(size_t nsets, struct set_parity *par)
{
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t s = 0; s < nsets; s++) {
            if (!par->active[s])
                continue;
            bool single = false;
            for (uint32_t i = par->start[s]; i < par->start[s + 1]; i++)
                single |= par->count[par->primes[i]] == 1;
            if (!single)
                continue;
            par->active[s] = false;
            for (uint32_t i = par->start[s]; i < par->start[s + 1]; i++)
                par->count[par->primes[i]]--;
            changed = true;
        }
    }
}

/* Matrix over the surviving sets (columns) and the primes they contain
 * (rows); null vectors come back in deps indexed by set. Returns how
 * many, or -1. */
static int dependencies(const struct siqs_ctx *ctx, struct set_parity *par,
                        uint64_t *deps)
{
    size_t nsets = ctx->rels.nsets, ncols = 0, nrows = 0;
    uint32_t *col_set = malloc((nsets + 1) * sizeof *col_set);
    uint32_t *row_of = malloc(ctx->fb.count * sizeof *row_of);
    uint64_t *col_deps = malloc((nsets + 1) * sizeof *col_deps);
    uint64_t *rows = NULL;
    int found = -1;
    if (col_set && row_of && col_deps) {
        for (size_t s = 0; s < nsets; s++)
            if (par->active[s])
                col_set[ncols++] = (uint32_t)s;
        for (uint32_t f = 0; f < ctx->fb.count; f++)
            row_of[f] = par->count[f] ? (uint32_t)nrows++ : UINT32_MAX;
        size_t words = gf2_words(ncols);
        rows = calloc(nrows * words + 1, sizeof *rows);
    }
    if (rows != NULL) {
        size_t words = gf2_words(ncols);
        for (size_t c = 0; c < ncols; c++)
            for (uint32_t i = par->start[col_set[c]]; i < par->start[col_set[c] + 1]; i++)
                rows[row_of[par->primes[i]] * words + c / 64] ^= 1ULL << (c % 64);
        found = gf2_null_space(rows, nrows, ncols, col_deps);
        memset(deps, 0, nsets * sizeof *deps);
        for (size_t c = 0; found > 0 && c < ncols; c++)
            deps[col_set[c]] = col_deps[c];
    }
    free(col_set);
    free(row_of);
    free(col_deps);
    free(rows);
    return found;
}

static void set_i128(mpz_t z, i128 v)
{
    u128 a = v < 0 ? -(u128)v : (u128)v;
    uint64_t limbs[2] = {(uint64_t)a, (uint64_t)(a >> 64)};
    mpz_import(z, 2, -1, sizeof limbs[0], 0, 0, limbs);
    if (v < 0)
        mpz_neg(z, z);
}

/* X = product of the Y, and the exponents (and large primes) of the
 * product of the A g, over the sets in dependency `mask`. */
static void multiply_dependency(struct siqs_ctx *ctx, const uint64_t *deps,
                                uint64_t mask, uint32_t *exps, mpz_t x,
                                mpz_t z)
{
    const struct siqs_relations *r = &ctx->rels;
    memset(exps, 0, ctx->fb.count * sizeof *exps);
    mpz_set_ui(x, 1);
    mpz_set_ui(z, 1);
    for (size_t s = 0; s < r->nsets; s++) {
        if ((deps[s] & mask) == 0)
            continue;
        for (uint32_t k = 0; k < set_size(&r->sets[s]); k++) {
            const struct siqs_relation *rel = &r->rel[r->sets[s].rel[k]];
            set_i128(ctx->tmp, rel->y);
            mpz_mul(x, x, ctx->tmp);
            mpz_mod(x, x, ctx->n);
            for (uint32_t i = 0; i < rel->nfactors; i++)
                exps[r->factors[rel->first + i]]++;
        }
        if (set_size(&r->sets[s]) == 2) { /* large prime squared */
            mpz_mul_ui(z, z, r->rel[r->sets[s].rel[0]].large);
            mpz_mod(z, z, ctx->n);
        }
    }
}

/* Z = sqrt of the product of the A g (mod N), times what z holds; false
 * if an exponent is odd (a wrong dependency: never expected). Primes are
 * gathered in a word and multiplied in when it is full: most exponents
 * are 2 or 4, and a modular power per prime cost more than the rest of
 * the square root. */
static bool square_root(struct siqs_ctx *ctx, const uint32_t *exps, mpz_t z)
{
    uint64_t word = 1;
    for (uint32_t f = SIQS_FB_TWO; f < ctx->fb.count; f++) {
        if (exps[f] % 2 != 0)
            return false;
        uint64_t p = ctx->fb.p[f];
        for (uint32_t e = 0; e < exps[f] / 2; e++) {
            if (word > UINT64_MAX / p) {
                mpz_mul_ui(z, z, word);
                mpz_mod(z, z, ctx->n);
                word = 1;
            }
            word *= p;
        }
    }
    mpz_mul_ui(z, z, word);
    mpz_mod(z, z, ctx->n);
    return exps[SIQS_FB_SIGN] % 2 == 0;
}

static bool try_dependencies(struct siqs_ctx *ctx, const uint64_t *deps,
                             int ndeps, mpz_t factor)
{
    uint32_t *exps = malloc(ctx->fb.count * sizeof *exps);
    if (exps == NULL)
        return false;
    mpz_t x, z;
    mpz_inits(x, z, NULL);
    bool found = false;
    for (int k = 0; k < ndeps && !found; k++) {
        multiply_dependency(ctx, deps, 1ULL << k, exps, x, z);
        if (!square_root(ctx, exps, z))
            continue;
        mpz_sub(x, x, z);
        mpz_gcd(factor, x, ctx->n);
        found = mpz_cmp_ui(factor, 1) > 0 && mpz_cmp(factor, ctx->n) < 0;
    }
    mpz_clears(x, z, NULL);
    free(exps);
    return found;
}

bool siqs_combine(struct siqs_ctx *ctx, mpz_t factor)
{
    struct set_parity par = {0};
    uint64_t *deps = malloc((ctx->rels.nsets + 1) * sizeof *deps);
    bool found = false;
    if (deps != NULL && odd_primes(ctx, &par)) {
        drop_singletons(ctx->rels.nsets, &par);
        int ndeps = dependencies(ctx, &par, deps);
        found = ndeps > 0 && try_dependencies(ctx, deps, ndeps, factor);
    }
    parity_free(&par);
    free(deps);
    return found;
}
