/* gf2_sparse.c - structured Gaussian elimination, then block Lanczos or
 * dense elimination of what is left (gf2_sparse.h says why). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gf2.h"
#include "gf2_lanczos.h"
#include "gf2_sparse.h"

/* A column of the working matrix: its rows (sorted) and the original
 * columns it is the sum of. */
struct column {
    uint32_t *rows, nrows;
    uint32_t *orig, norig;
    bool alive;
};

struct matrix {
    struct column *col;
    size_t ncols;
    uint32_t nrows;
};

static void matrix_free(struct matrix *m)
{
    for (size_t c = 0; m->col && c < m->ncols; c++) {
        free(m->col[c].rows);
        free(m->col[c].orig);
    }
    free(m->col);
}

static bool matrix_init(struct matrix *m, uint32_t nrows, size_t ncols, const uint32_t *start,
                        const uint32_t *rows)
{
    m->nrows = nrows;
    m->col = calloc(ncols ? ncols : 1, sizeof *m->col);
    if (m->col == NULL)
        return false;
    m->ncols = ncols;
    for (size_t c = 0; c < ncols; c++) {
        struct column *col = &m->col[c];
        uint32_t n = start[c + 1] - start[c];
        col->rows = malloc((n ? n : 1) * sizeof *col->rows);
        col->orig = malloc(sizeof *col->orig);
        if (col->rows == NULL || col->orig == NULL)
            return false;
        memcpy(col->rows, rows + start[c], n * sizeof *rows);
        col->nrows = n;
        col->orig[0] = (uint32_t)c;
        col->norig = 1;
        col->alive = true;
    }
    return true;
}

/* a += b (mod 2): rows by merging the sorted lists, originals appended. */
static bool add_column(struct column *a, const struct column *b)
{
    uint32_t *r = malloc((a->nrows + b->nrows + 1) * sizeof *r);
    uint32_t *o = realloc(a->orig, (a->norig + b->norig) * sizeof *o);
    if (o != NULL)
        a->orig = o;
    if (r == NULL || o == NULL) {
        free(r);
        return false;
    }
    uint32_t i = 0, j = 0, n = 0;
    while (i < a->nrows || j < b->nrows) {
        if (j == b->nrows || (i < a->nrows && a->rows[i] < b->rows[j]))
            r[n++] = a->rows[i++];
        else if (i == a->nrows || b->rows[j] < a->rows[i])
            r[n++] = b->rows[j++];
        else
            i++, j++;
    }
    free(a->rows);
    a->rows = r;
    a->nrows = n;
    memcpy(a->orig + a->norig, b->orig, b->norig * sizeof *b->orig);
    a->norig += b->norig;
    return true;
}

/* Per row: its live columns, in CSR form (where[at[r] .. at[r + 1])). */
struct inverse {
    uint32_t *at, *where;
};

static bool build_inverse(const struct matrix *m, struct inverse *inv)
{
    inv->at = calloc((size_t)m->nrows + 2, sizeof *inv->at);
    size_t total = 0;
    for (size_t c = 0; c < m->ncols; c++)
        if (m->col[c].alive)
            total += m->col[c].nrows;
    inv->where = malloc((total + 1) * sizeof *inv->where);
    if (inv->at == NULL || inv->where == NULL)
        return false;
    for (size_t c = 0; c < m->ncols; c++)
        for (uint32_t i = 0; m->col[c].alive && i < m->col[c].nrows; i++)
            inv->at[m->col[c].rows[i] + 2]++;
    for (uint32_t r = 0; r < m->nrows; r++)
        inv->at[r + 2] += inv->at[r + 1];
    for (size_t c = 0; c < m->ncols; c++)
        for (uint32_t i = 0; m->col[c].alive && i < m->col[c].nrows; i++)
            inv->where[inv->at[m->col[c].rows[i] + 1]++] = (uint32_t)c;
    return true;
}

/* Lanczos's random start: any value, the same every time (the same matrix
 * gives the same vectors). */
#define LANCZOS_SEED 0x6c616e637a6f73ULL

enum {
    MAX_PASSES = 40,
    MAX_PIVOT_WEIGHT = 24, /* rows in more columns than this stay for the dense step */
    /* Lanczos costs the columns times their entries: a pivot of weight w
     * takes one column off and adds its ~20 entries w - 1 times, which
     * pays only for light rows (gf2_bench: 5 beat 2, 9 and 24). */
    LANCZOS_PIVOT_WEIGHT = 5,
    MERGED_ROWS_MAX = 400, /* nor do pivots that would make a column heavier */
};

/* Eliminates row r (in columns cols[0..w)) by adding its lightest column
 * to the others and dropping it; a row in one column drops that column. */
static int eliminate_row(struct matrix *m, const uint32_t *cols, uint32_t w, uint8_t *touched)
{
    uint32_t pivot = cols[0];
    for (uint32_t k = 0; k < w; k++) {
        if (touched[cols[k]])
            return 0; /* its rows changed this pass: wait for the next */
        if (m->col[cols[k]].nrows < m->col[pivot].nrows)
            pivot = cols[k];
    }
    for (uint32_t k = 0; k < w; k++)
        if (m->col[cols[k]].nrows + m->col[pivot].nrows > MERGED_ROWS_MAX)
            return 0;
    for (uint32_t k = 0; k < w; k++) {
        touched[cols[k]] = 1;
        if (cols[k] != pivot && !add_column(&m->col[cols[k]], &m->col[pivot]))
            return -1;
    }
    m->col[pivot].alive = false;
    return 1;
}

/* One pass over the rows in at most max_weight columns. Returns how many
 * were eliminated, or -1 when out of memory. */
static long reduce_pass(struct matrix *m, uint32_t max_weight, uint8_t *touched)
{
    struct inverse inv = {0};
    long changes = build_inverse(m, &inv) ? 0 : -1;
    memset(touched, 0, m->ncols);
    for (uint32_t r = 0; changes >= 0 && r < m->nrows; r++) {
        uint32_t w = inv.at[r + 1] - inv.at[r];
        if (w == 0 || w > max_weight)
            continue;
        int done = eliminate_row(m, inv.where + inv.at[r], w, touched);
        changes = done < 0 ? -1 : changes + done;
    }
    free(inv.at);
    free(inv.where);
    return changes;
}

/* Passes at one pivot weight until a pass eliminates less than 1% of the
 * columns left, then at a larger one up to cap (each pass costs a scan of
 * the whole matrix; light rows first keep fill-in low). *weight is the
 * pivot weight to start at, left at the last one used. */
static bool reduce_sparse(struct matrix *m, uint32_t *weight, uint32_t cap)
{
    uint8_t *touched = malloc(m->ncols + 1);
    bool ok = touched != NULL;
    size_t live = 0;
    for (size_t c = 0; c < m->ncols; c++)
        live += m->col[c].alive;
    for (int pass = 0; ok && pass < MAX_PASSES; pass++) {
        long changes = reduce_pass(m, *weight, touched);
        ok = changes >= 0;
        live -= changes > 0 ? (size_t)changes : 0;
        if ((size_t)changes * 100 >= live)
            continue;
        if (*weight >= cap)
            break;
        *weight += 2 + *weight / 2;
        *weight = *weight < cap ? *weight : cap;
    }
    free(touched);
    return ok;
}

enum { EXCESS_KEPT = 64 };

/* The live columns as a matrix of their own: cols[k] is the working
 * column k stands for, rows renumbered to those the live columns hold,
 * at most EXCESS_KEPT more columns than rows (rows only dropped columns
 * held stay: harmless). */
struct compact {
    uint32_t *cols, *row_of, nrows;
    size_t ncols;
};

static bool compact_live(const struct matrix *m, struct compact *k)
{
    free(k->row_of);
    free(k->cols);
    k->row_of = malloc(((size_t)m->nrows + 1) * sizeof *k->row_of);
    k->cols = malloc((m->ncols + 1) * sizeof *k->cols);
    k->ncols = k->nrows = 0;
    if (k->row_of == NULL || k->cols == NULL)
        return false;
    memset(k->row_of, 0xff, ((size_t)m->nrows + 1) * sizeof *k->row_of);
    for (size_t c = 0; c < m->ncols; c++)
        if (m->col[c].alive)
            k->cols[k->ncols++] = (uint32_t)c;
    for (size_t j = 0; j < k->ncols; j++)
        for (uint32_t i = 0; i < m->col[k->cols[j]].nrows; i++)
            if (k->row_of[m->col[k->cols[j]].rows[i]] == UINT32_MAX)
                k->row_of[m->col[k->cols[j]].rows[i]] = k->nrows++;
    if (k->ncols > (size_t)k->nrows + EXCESS_KEPT)
        k->ncols = (size_t)k->nrows + EXCESS_KEPT;
    return true;
}

/* Dense elimination over the compacted columns. */
static int dense_step(const struct matrix *m, const struct compact *k, uint64_t *col_deps)
{
    size_t words = gf2_words(k->ncols);
    uint64_t *rows = calloc(k->nrows * words + 1, sizeof *rows);
    if (rows == NULL)
        return -1;
    for (size_t j = 0; j < k->ncols; j++)
        for (uint32_t i = 0; i < m->col[k->cols[j]].nrows; i++)
            rows[k->row_of[m->col[k->cols[j]].rows[i]] * words + j / 64] ^= 1ULL << (j % 64);
    int found = gf2_null_space(rows, k->nrows, k->ncols, col_deps);
    free(rows);
    return found;
}

/* Block Lanczos (gf2_lanczos.h) over the compacted columns, in the CSR
 * form it takes (rows sorted within a column: not needed there). */
static int lanczos_step(const struct matrix *m, const struct compact *k, uint64_t *col_deps)
{
    size_t total = 0;
    for (size_t j = 0; j < k->ncols; j++)
        total += m->col[k->cols[j]].nrows;
    uint32_t *start = malloc((k->ncols + 1) * sizeof *start);
    uint32_t *rows = malloc((total + 1) * sizeof *rows);
    int found = -1;
    if (start != NULL && rows != NULL && total < UINT32_MAX) {
        uint32_t n = 0;
        for (size_t j = 0; j < k->ncols; j++) {
            start[j] = n;
            for (uint32_t i = 0; i < m->col[k->cols[j]].nrows; i++)
                rows[n++] = k->row_of[m->col[k->cols[j]].rows[i]];
        }
        start[k->ncols] = n;
        found = gf2_lanczos_null_space(k->nrows, k->ncols, start, rows, LANCZOS_SEED, col_deps);
    }
    free(start);
    free(rows);
    return found;
}

/* Each compacted column's vectors spread over the original columns it is
 * the sum of. */
static void spread(const struct matrix *m, const struct compact *k, const uint64_t *col_deps,
                   uint64_t *deps, size_t ncols_orig)
{
    memset(deps, 0, ncols_orig * sizeof *deps);
    for (size_t j = 0; j < k->ncols; j++)
        for (uint32_t i = 0; i < m->col[k->cols[j]].norig; i++)
            deps[m->col[k->cols[j]].orig[i]] ^= col_deps[j];
}

int gf2_sparse_null_space_with(uint32_t nrows, size_t ncols, const uint32_t *start,
                               const uint32_t *rows, size_t lanczos_from, size_t *left,
                               uint64_t *deps)
{
    struct matrix m = {0};
    struct compact k = {0};
    uint64_t *col_deps = NULL;
    int found = -1;
    uint32_t weight = 2;
    bool ok = matrix_init(&m, nrows, ncols, start, rows) &&
              reduce_sparse(&m, &weight, LANCZOS_PIVOT_WEIGHT) && compact_live(&m, &k) &&
              (col_deps = malloc((k.ncols + 1) * sizeof *col_deps)) != NULL;
    if (ok && k.ncols >= lanczos_from) {
        if (left != NULL)
            *left = k.ncols;
        found = lanczos_step(&m, &k, col_deps);
    }
    /* small, or Lanczos broke down on every start (when it finished and
     * found none, there is none: the dense step would take long to agree) */
    if (ok && (found == -1 || found == GF2_LANCZOS_BROKE_DOWN)) {
        ok = reduce_sparse(&m, &weight, MAX_PIVOT_WEIGHT) && compact_live(&m, &k);
        if (ok && left != NULL)
            *left = k.ncols;
        found = ok ? dense_step(&m, &k, col_deps) : -1;
    }
    if (found > 0)
        spread(&m, &k, col_deps, deps, ncols);
    else if (found == 0)
        memset(deps, 0, ncols * sizeof *deps);
    free(col_deps);
    free(k.cols);
    free(k.row_of);
    matrix_free(&m);
    return found;
}

int gf2_sparse_null_space(uint32_t nrows, size_t ncols, const uint32_t *start,
                          const uint32_t *rows, uint64_t *deps)
{
    return gf2_sparse_null_space_with(nrows, ncols, start, rows, GF2_LANCZOS_FROM, NULL, deps);
}
