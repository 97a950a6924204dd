/* gf2_bench.c - the matrix step (gf2_sparse.h) on one random SIQS-shaped
 * matrix with dense elimination or block Lanczos after the structured
 * elimination, or Lanczos on the whole matrix; prints the columns left for
 * the last step, the vectors found and CPU and wall seconds. Not a test:
 * tests/bench/gf2_lanczos.sh runs it over sizes.
 * usage: gf2_bench dense|lanczos|raw NCOLS [SEED]  (NCOLS - 100 rows) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gf2_lanczos.h"
#include "gf2_sparse.h"

static uint64_t rand64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* As test_siqs_mp.c's: ~20 rows a column, row r drawn ~ 1/(r + 8). */
static void random_siqs(uint32_t nrows, size_t ncols, uint64_t seed, uint32_t *start,
                        uint32_t *rows)
{
    uint8_t *mark = calloc(nrows, 1);
    double span = log((nrows + 8) / 8.0);
    uint32_t n = 0;
    for (size_t c = 0; mark != NULL && c < ncols; c++) {
        uint32_t first = start[c] = n;
        for (int k = 0; k < 20; k++) {
            double u = (double)(rand64(&seed) >> 11) / 9007199254740992.0;
            uint32_t r = (uint32_t)(8 * exp(u * span) - 8);
            r = r < nrows ? r : nrows - 1;
            if (!mark[r])
                mark[r] = 1, rows[n++] = r;
        }
        qsort(rows + first, n - first, sizeof *rows, cmp_u32);
        for (uint32_t i = first; i < n; i++)
            mark[rows[i]] = 0;
    }
    start[ncols] = n;
    free(mark);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "dense") && strcmp(argv[1], "lanczos") &&
                     strcmp(argv[1], "raw"))) {
        fprintf(stderr, "usage: gf2_bench dense|lanczos|raw NCOLS [SEED]\n");
        return 2;
    }
    size_t ncols = strtoul(argv[2], NULL, 10);
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    uint32_t nrows = ncols > 200 ? (uint32_t)(ncols - 100) : (uint32_t)ncols;
    uint32_t *start = malloc((ncols + 1) * sizeof *start);
    uint32_t *rows = malloc((ncols * 20 + 1) * sizeof *rows);
    uint64_t *deps = malloc((ncols + 1) * sizeof *deps);
    if (start == NULL || rows == NULL || deps == NULL)
        return 1;
    random_siqs(nrows, ncols, seed, start, rows);
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID), wall = seconds(CLOCK_MONOTONIC);
    size_t left = ncols;
    int found;
    if (strcmp(argv[1], "raw") == 0)
        found = gf2_lanczos_null_space(nrows, ncols, start, rows, seed, deps);
    else
        found = gf2_sparse_null_space_with(nrows, ncols, start, rows,
                                           argv[1][0] == 'd' ? SIZE_MAX : 0, &left, deps);
    printf("%s cols %zu left %zu vectors %d cpu %.3f wall %.3f\n", argv[1], ncols, left, found,
           seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu, seconds(CLOCK_MONOTONIC) - wall);
    free(start);
    free(rows);
    free(deps);
    return found > 0 ? 0 : 1;
}
