/* gf2.c - Gauss-Jordan elimination over GF(2), 64 columns to a word. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gf2.h"

static inline bool bit(const uint64_t *row, size_t c)
{
    return (row[c / 64] >> (c % 64)) & 1;
}

static void swap_rows(uint64_t *a, uint64_t *b, size_t words)
{
    for (size_t w = 0; w < words; w++) {
        uint64_t t = a[w];
        a[w] = b[w];
        b[w] = t;
    }
}

/* Row echelon form by forward elimination; pivot_col[r] is the pivot
 * column of row r (increasing). Returns the rank. */
static size_t reduce(uint64_t *rows, size_t nrows, size_t ncols,
                     size_t *pivot_col)
{
    size_t words = gf2_words(ncols), rank = 0;
    for (size_t c = 0; c < ncols && rank < nrows; c++) {
        size_t r = rank;
        while (r < nrows && !bit(rows + r * words, c))
            r++;
        if (r == nrows)
            continue;
        uint64_t *pivot = rows + rank * words;
        swap_rows(pivot, rows + r * words, words);
        /* Rows from rank on are zero in every column before c (pivot
         * columns were cleared, free ones had no 1 there), so the xor
         * can start at c's word. */
        for (size_t o = r + 1; o < nrows; o++) {
            uint64_t *row = rows + o * words;
            if (bit(row, c))
                for (size_t w = c / 64; w < words; w++)
                    row[w] ^= pivot[w];
        }
        pivot_col[rank++] = c;
    }
    return rank;
}

int gf2_null_space(uint64_t *rows, size_t nrows, size_t ncols, uint64_t *deps)
{
    size_t *pivot_col = malloc((nrows ? nrows : 1) * sizeof *pivot_col);
    bool *is_pivot = calloc(ncols ? ncols : 1, sizeof *is_pivot);
    if (pivot_col == NULL || is_pivot == NULL) {
        free(pivot_col);
        free(is_pivot);
        return -1;
    }
    size_t words = gf2_words(ncols);
    size_t rank = reduce(rows, nrows, ncols, pivot_col);
    for (size_t r = 0; r < rank; r++)
        is_pivot[pivot_col[r]] = true;
    memset(deps, 0, ncols * sizeof *deps);
    /* Free column f gives vector k: f itself, no other free column, and
     * the pivot columns solved from the last row up. Bit k of deps[c]
     * holds vector k's coefficient of column c: all 64 solved at once. */
    int found = 0;
    for (size_t f = 0; f < ncols && found < 64; f++)
        if (!is_pivot[f])
            deps[f] = 1ULL << found++;
    for (size_t r = rank; r-- > 0;) {
        const uint64_t *row = rows + r * words;
        size_t pc = pivot_col[r];
        uint64_t sum = 0;
        for (size_t w = pc / 64; w < words; w++) {
            uint64_t bits = row[w];
            if (w == pc / 64)
                bits &= ~(uint64_t)0 << (pc % 64) << 1; /* past pc */
            for (; bits != 0; bits &= bits - 1)
                sum ^= deps[w * 64 + (size_t)__builtin_ctzll(bits)];
        }
        deps[pc] = sum;
    }
    free(pivot_col);
    free(is_pivot);
    return found;
}
