/* gf2_lanczos.c - Montgomery's block Lanczos over GF(2) ("A Block
 * Lanczos Algorithm for Finding Dependencies over GF(2)", EUROCRYPT
 * 1995), 64 vectors to a block (gf2_lanczos.h says why).
 *
 * With A = B^T B (symmetric) and a random block Y, it solves A X = A Y:
 * V_0 = A Y, and each V_{i+1} is A V_i with the parts along V_i, V_{i-1}
 * and V_{i-2} taken out (three terms suffice: the V_i are A-orthogonal),
 * restricted to the columns S_i where V_i^T A V_i is invertible. X is the
 * sum of the V_i Winv_i V_i^T A Y. It stops at the first V_m with
 * V_m^T A V_m = 0; then A (X - Y) and A V_m are (almost always) in a
 * small space, and the combinations of the 128 columns of [X - Y | V_m]
 * that B sends to zero are null vectors of B. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gf2_block.h"
#include "gf2_lanczos.h"

struct sparse {
    uint32_t nrows;
    size_t ncols;
    const uint32_t *start, *rows;
};

/* out[0..nrows) = B v (v has ncols rows). */
static void mul_b(const struct sparse *b, const uint64_t *v, uint64_t *out)
{
    memset(out, 0, (size_t)b->nrows * sizeof *out);
    for (size_t c = 0; c < b->ncols; c++) {
        uint64_t w = v[c];
        for (uint32_t i = b->start[c]; i < b->start[c + 1]; i++)
            out[b->rows[i]] ^= w;
    }
}

/* out[0..ncols) = B^T w (w has nrows rows). */
static void mul_bt(const struct sparse *b, const uint64_t *w, uint64_t *out)
{
    for (size_t c = 0; c < b->ncols; c++) {
        uint64_t sum = 0;
        for (uint32_t i = b->start[c]; i < b->start[c + 1]; i++)
            sum ^= w[b->rows[i]];
        out[c] = sum;
    }
}

/* The iteration's state: V_i, V_{i-1}, V_{i-2} (v[0..2]) and their
 * Winv, V^T A V, V^T A^2 V and S (as a mask of the 64 columns). */
struct lanczos {
    const struct sparse *b;
    uint64_t *v[3], *av, *x, *rhs, *tmp, *tmp2; /* tmp, tmp2: nrows */
    uint64_t winv[3][64], vtav[2][64], vta2v[2][64], mask[2];
};

static void mul_a(const struct lanczos *l, const uint64_t *v, uint64_t *out)
{
    mul_b(l->b, v, l->tmp);
    mul_bt(l->b, l->tmp, out);
}

static void swap_rows(uint64_t m[64][2], int a, int b)
{
    uint64_t t0 = m[a][0], t1 = m[a][1];
    m[a][0] = m[b][0], m[a][1] = m[b][1];
    m[b][0] = t0, m[b][1] = t1;
}

/* Montgomery's choice of S_i and Winv_i from T = V_i^T A V_i: Gauss-
 * Jordan on [T | I] taking the columns not in S_{i-1} first (each of them
 * must be in S_i); a column without a pivot in T is left out of S_i and
 * cleared with the identity half. Returns |S_i| (its columns in *chosen),
 * 0 when [T | I] has no pivot either (a breakdown). */
static int select_block(const uint64_t t[64], uint64_t last, uint64_t winv[64], uint64_t *chosen)
{
    uint64_t m[64][2];
    int order[64], k = 0, dim = 0;
    for (int j = 0; j < 64; j++) {
        m[j][0] = t[j];
        m[j][1] = 1ULL << j;
    }
    for (int pass = 0; pass < 2; pass++)
        for (int j = 0; j < 64; j++)
            if (((last >> j) & 1) == (uint64_t)pass)
                order[k++] = j;
    *chosen = 0;
    for (int i = 0; i < 64; i++) {
        int c = order[i], half = 0, p = i;
        uint64_t bit = 1ULL << c;
        while (p < 64 && !(m[order[p]][0] & bit))
            p++;
        if (p == 64)
            for (half = 1, p = i; p < 64 && !(m[order[p]][1] & bit);)
                p++;
        if (p == 64)
            return 0;
        swap_rows(m, c, order[p]);
        for (int j = 0; j < 64; j++)
            if (j != c && (m[j][half] & bit))
                m[j][0] ^= m[c][0], m[j][1] ^= m[c][1];
        if (half == 0)
            *chosen |= bit, dim++;
        else
            m[c][0] = m[c][1] = 0;
    }
    for (int i = 0; i < 64; i++)
        winv[i] = m[i][1];
    return dim;
}

static void add_identity(uint64_t m[64])
{
    for (int i = 0; i < 64; i++)
        m[i] ^= 1ULL << i;
}

/* The recurrence's coefficients of V_i, V_{i-1}, V_{i-2} (Montgomery's
 * D_{i+1}, E_{i+1}, F_{i+1}; signs vanish mod 2). */
static void coefficients(const struct lanczos *l, uint64_t d[64], uint64_t e[64], uint64_t f[64])
{
    uint64_t m0 = l->mask[0], m1 = l->mask[1], f2[64];
    for (int i = 0; i < 64; i++)
        d[i] = (l->vta2v[0][i] & m0) ^ l->vtav[0][i];
    gf2_mul_64x64(l->winv[0], d, d);
    add_identity(d);
    gf2_mul_64x64(l->winv[1], l->vtav[0], e);
    for (int i = 0; i < 64; i++)
        e[i] &= m0;
    gf2_mul_64x64(l->vtav[1], l->winv[1], f);
    add_identity(f);
    gf2_mul_64x64(l->winv[2], f, f);
    for (int i = 0; i < 64; i++)
        f2[i] = ((l->vta2v[1][i] & m1) ^ l->vtav[1][i]) & m0;
    gf2_mul_64x64(f, f2, f);
}

static bool is_zero(const uint64_t m[64])
{
    uint64_t any = 0;
    for (int i = 0; i < 64; i++)
        any |= m[i];
    return any == 0;
}

/* One step: V_{i+1} into v[0] (the others shift down), X updated.
 * Returns 1 when V_i^T A V_i = 0 (done), 0 to go on, -1 on a breakdown. */
static int step(struct lanczos *l)
{
    size_t n = l->b->ncols;
    uint64_t d[64], e[64], f[64];
    mul_a(l, l->v[0], l->av);
    gf2_mul_block_t(l->v[0], l->av, l->vtav[0], n);
    if (is_zero(l->vtav[0]))
        return 1;
    gf2_mul_block_t(l->av, l->av, l->vta2v[0], n);
    int dim = select_block(l->vtav[0], l->mask[1], l->winv[0], &l->mask[0]);
    if (dim == 0 || (~l->mask[1] & ~l->mask[0]) != 0)
        return -1;
    coefficients(l, d, e, f);
    for (size_t r = 0; r < n; r++)
        l->av[r] &= l->mask[0];
    gf2_mul_block_acc(l->v[0], d, l->av, n);
    gf2_mul_block_acc(l->v[1], e, l->av, n);
    gf2_mul_block_acc(l->v[2], f, l->av, n);
    gf2_mul_block_t(l->v[0], l->rhs, d, n); /* X += V_i Winv_i V_i^T A Y */
    gf2_mul_64x64(l->winv[0], d, d);
    gf2_mul_block_acc(l->v[0], d, l->x, n);
    uint64_t *oldest = l->v[2];
    l->v[2] = l->v[1], l->v[1] = l->v[0], l->v[0] = l->av, l->av = oldest;
    memcpy(l->winv[2], l->winv[1], sizeof l->winv[1]);
    memcpy(l->winv[1], l->winv[0], sizeof l->winv[0]);
    memcpy(l->vtav[1], l->vtav[0], sizeof l->vtav[0]);
    memcpy(l->vta2v[1], l->vta2v[0], sizeof l->vta2v[0]);
    l->mask[1] = l->mask[0];
    return 0;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The iteration from the random start Y drawn from seed: on return true,
 * x holds X - Y and v[0] the last V_m. */
static bool iterate(struct lanczos *l, uint64_t seed)
{
    size_t n = l->b->ncols;
    for (size_t c = 0; c < n; c++)
        l->x[c] = splitmix64(&seed);
    mul_a(l, l->x, l->v[0]);
    memcpy(l->rhs, l->v[0], n * sizeof *l->rhs);
    memset(l->v[1], 0, n * sizeof *l->v[1]);
    memset(l->v[2], 0, n * sizeof *l->v[2]);
    memset(l->winv, 0, sizeof l->winv);
    memset(l->vtav, 0, sizeof l->vtav);
    memset(l->vta2v, 0, sizeof l->vta2v);
    l->mask[1] = ~0ULL;
    /* Each step takes ~63.2 dimensions off; a run far past n / 64 steps
     * has lost orthogonality. */
    for (size_t i = 0; i < n / 32 + 64; i++) {
        int r = step(l);
        if (r != 0)
            return r > 0;
    }
    return false;
}

/* 128 combinations of the columns of Z = [X - Y | V_m], each as a mask
 * pair (lo over X - Y, hi over V_m), and which are still in play. */
struct combos {
    uint64_t lo[128], hi[128], alive[2];
};

static bool parity(uint64_t w) { return __builtin_parityll(w); }

/* Row (a, b) of Z or of B Z: the live combinations nonzero on it are
 * made zero there by adding one of them (the pivot, returned, no longer
 * live) to the others. -1 when none is nonzero there. */
static int eliminate(struct combos *cb, uint64_t a, uint64_t b)
{
    uint64_t hit[2] = {0, 0};
    for (int j = 0; j < 128; j++)
        if (((cb->alive[j / 64] >> (j % 64)) & 1) && parity((a & cb->lo[j]) ^ (b & cb->hi[j])))
            hit[j / 64] |= 1ULL << (j % 64);
    int p = hit[0] ? __builtin_ctzll(hit[0]) : hit[1] ? 64 + __builtin_ctzll(hit[1]) : -1;
    for (int j = p + 1; p >= 0 && j < 128; j++)
        if ((hit[j / 64] >> (j % 64)) & 1)
            cb->lo[j] ^= cb->lo[p], cb->hi[j] ^= cb->hi[p];
    if (p >= 0)
        cb->alive[p / 64] &= ~(1ULL << (p % 64));
    return p;
}

/* The null vectors of B among the combinations of Z's columns: those B Z
 * sends to zero (every row of B Z eliminated), then of them an independent
 * nonzero set (the pivots of Z's own rows). Returns how many. */
static int combine(struct lanczos *l, uint64_t *deps)
{
    const struct sparse *b = l->b;
    struct combos cb;
    uint64_t *bx = l->tmp, *bv = l->tmp2;
    for (int j = 0; j < 128; j++) {
        cb.lo[j] = j < 64 ? 1ULL << j : 0;
        cb.hi[j] = j < 64 ? 0 : 1ULL << (j - 64);
    }
    cb.alive[0] = cb.alive[1] = ~0ULL;
    mul_b(b, l->x, bx);
    mul_b(b, l->v[0], bv);
    for (uint32_t r = 0; r < b->nrows && (cb.alive[0] | cb.alive[1]); r++)
        eliminate(&cb, bx[r], bv[r]);
    uint64_t out_lo[64], out_hi[64];
    int found = 0;
    for (size_t c = 0; c < b->ncols && found < 64 && (cb.alive[0] | cb.alive[1]); c++) {
        int p = eliminate(&cb, l->x[c], l->v[0][c]);
        if (p >= 0)
            out_lo[found] = cb.lo[p], out_hi[found++] = cb.hi[p];
    }
    for (size_t c = 0; c < b->ncols; c++) {
        uint64_t w = 0;
        for (int k = 0; k < found; k++)
            w |= (uint64_t)parity((l->x[c] & out_lo[k]) ^ (l->v[0][c] & out_hi[k])) << k;
        deps[c] = w;
    }
    return found;
}

/* Keeps the vectors the original matrix sends to zero (all of them
 * unless the row hashes below collided: one product), packed to the low
 * bits. */
static int keep_checked(const struct sparse *orig, uint64_t *scratch, uint64_t *deps, int found)
{
    mul_b(orig, deps, scratch);
    uint64_t bad = 0;
    for (uint32_t r = 0; r < orig->nrows; r++)
        bad |= scratch[r];
    if (bad == 0)
        return found;
    int kept = 0;
    for (size_t c = 0; c < orig->ncols; c++) {
        uint64_t w = 0;
        kept = 0;
        for (int k = 0; k < found; k++)
            if (!((bad >> k) & 1))
                w |= ((deps[c] >> k) & 1) << kept++;
        deps[c] = w;
    }
    return kept;
}

struct row_key {
    uint64_t hash;
    uint32_t row;
};

static int cmp_key(const void *a, const void *b)
{
    const struct row_key *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* new_row[r]: row r's number in the matrix without repeated rows (the
 * first of each set of equal rows kept), UINT32_MAX when dropped. Rows are
 * compared by a 64-bit hash of their columns (a collision would only cost
 * vectors: keep_checked checks against the original). Returns how many
 * rows are kept, or -1 when out of memory. */
static long distinct_rows(const struct sparse *b, uint32_t *new_row)
{
    struct row_key *key = calloc((size_t)b->nrows + 1, sizeof *key);
    if (key == NULL)
        return -1;
    for (uint32_t r = 0; r < b->nrows; r++)
        key[r].row = r;
    for (size_t c = 0; c < b->ncols; c++) {
        uint64_t s = c, h = splitmix64(&s);
        for (uint32_t i = b->start[c]; i < b->start[c + 1]; i++)
            key[b->rows[i]].hash ^= h;
    }
    qsort(key, b->nrows, sizeof *key, cmp_key);
    for (uint32_t i = 0; i < b->nrows; i++)
        new_row[key[i].row] = i > 0 && key[i].hash == key[i - 1].hash ? UINT32_MAX : 0;
    free(key);
    long kept = 0;
    for (uint32_t r = 0; r < b->nrows; r++)
        if (new_row[r] == 0)
            new_row[r] = (uint32_t)kept++;
    return kept;
}

/* B without its repeated rows, at *out (the arrays its own, to free).
 * Two equal rows b add b b^T twice to B^T B, that is nothing: B^T B then
 * has null vectors B has not, more than the last step can sort out. */
static bool drop_repeats(const struct sparse *b, struct sparse *out, uint32_t **start,
                         uint32_t **rows)
{
    uint32_t *new_row = malloc(((size_t)b->nrows + 1) * sizeof *new_row);
    *start = malloc((b->ncols + 1) * sizeof **start);
    *rows = malloc(((size_t)b->start[b->ncols] + 1) * sizeof **rows);
    long kept = new_row && *start && *rows ? distinct_rows(b, new_row) : -1;
    uint32_t n = 0;
    for (size_t c = 0; kept >= 0 && c < b->ncols; c++) {
        (*start)[c] = n;
        for (uint32_t i = b->start[c]; i < b->start[c + 1]; i++)
            if (new_row[b->rows[i]] != UINT32_MAX)
                (*rows)[n++] = new_row[b->rows[i]];
    }
    if (kept >= 0)
        (*start)[b->ncols] = n;
    *out = (struct sparse){(uint32_t)(kept > 0 ? kept : 0), b->ncols, *start, *rows};
    free(new_row);
    return kept >= 0;
}

enum {
    MAX_STARTS = 4,
    EMPTY_RUNS = 2, /* finished runs that found nothing before that is the answer */
};

static bool lanczos_alloc(struct lanczos *l, const struct sparse *b, uint32_t scratch_rows)
{
    size_t n = b->ncols + 1, m = (size_t)scratch_rows + 1;
    memset(l, 0, sizeof *l);
    l->b = b;
    for (int i = 0; i < 3; i++)
        l->v[i] = malloc(n * sizeof(uint64_t));
    l->av = malloc(n * sizeof(uint64_t));
    l->x = malloc(n * sizeof(uint64_t));
    l->rhs = malloc(n * sizeof(uint64_t));
    l->tmp = malloc(m * sizeof(uint64_t));
    l->tmp2 = malloc(m * sizeof(uint64_t));
    return l->v[0] && l->v[1] && l->v[2] && l->av && l->x && l->rhs && l->tmp && l->tmp2;
}

static void lanczos_free(struct lanczos *l)
{
    for (int i = 0; i < 3; i++)
        free(l->v[i]);
    free(l->av);
    free(l->x);
    free(l->rhs);
    free(l->tmp);
    free(l->tmp2);
}

int gf2_lanczos_null_space(uint32_t nrows, size_t ncols, const uint32_t *start,
                           const uint32_t *rows, uint64_t seed, uint64_t *deps)
{
    struct sparse orig = {nrows, ncols, start, rows}, b;
    struct lanczos l = {0};
    uint32_t *bstart = NULL, *brows = NULL;
    int found = -1, finished = 0;
    if (drop_repeats(&orig, &b, &bstart, &brows) && lanczos_alloc(&l, &b, nrows))
        found = 0;
    /* A breakdown (no invertible part of V^T A V, or a column left out of
     * two S in a row) is bad luck in the random start: start again. So is
     * a finished run that found nothing, once: a matrix with no null
     * vector (too few relations yet) must not cost every start. */
    for (int attempt = 0; found == 0 && finished < EMPTY_RUNS && attempt < MAX_STARTS;
         attempt++) {
        uint64_t s = seed ^ (0xd1b54a32d192ed03ULL * (uint64_t)(attempt + 1));
        if (iterate(&l, s)) {
            finished++;
            found = keep_checked(&orig, l.tmp, deps, combine(&l, deps));
        }
    }
    if (found == 0 && finished == 0)
        found = GF2_LANCZOS_BROKE_DOWN;
    if (found <= 0)
        memset(deps, 0, ncols * sizeof *deps);
    lanczos_free(&l);
    free(bstart);
    free(brows);
    return found;
}
