/* siqs_merge_bench.c - the leader's cost of merging one hard number's
 * range results (siqs_coord_take: base 32, the wire decoder, each
 * relation's check, the relation store). Not a test: run by hand with a
 * file of result texts, one a line (what `mesh __worker` answers to range
 * jobs of N, "ID done " cut off), e.g.
 *   build/tests/factor/siqs_merge_bench N ranges.txt
 * Prints the letters, relations, and CPU time a relation (best of 25
 * rounds, each into a fresh coordinator; CPU time, as the host is
 * shared); then, when the results are enough for a combine, the CPU time
 * of each combine until one splits N (best of 5, a fresh merge each). */
#include <stdio.h> /* before gmp.h */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>

#include "siqs_coord.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void combine_all(const mpz_t n, char **texts, size_t count)
{
    mpz_t f;
    mpz_init(f);
    double best = 0;
    int tries = 0, split = 0;
    for (int round = 0; round < 5; round++) {
        struct siqs_coord *c;
        if (siqs_coord_open(&c, n, f) != SIQS_COORD_OPENED)
            break;
        for (size_t i = 0; i < count; i++)
            siqs_coord_take(c, texts[i], strlen(texts[i]));
        double t0 = now_ns();
        for (tries = 0, split = 0; split == 0 && siqs_coord_ready(c); tries++)
            split = siqs_coord_combine(c, f);
        double t = now_ns() - t0;
        best = round == 0 || t < best ? t : best;
        siqs_coord_free(c);
        if (tries == 0)
            break;
    }
    if (tries == 0)
        printf("too few relation sets for a combine\n");
    else
        printf("combine: %d tries, %s, %.2f ms\n", tries, split == 1 ? "split" : "no split",
               best / 1e6);
    mpz_clear(f);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: siqs_merge_bench N FILE\n");
        return 2;
    }
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    FILE *in = fopen(argv[2], "r");
    if (mpz_set_str(n, argv[1], 10) != 0 || in == NULL) {
        fprintf(stderr, "bad N or file\n");
        return 2;
    }
    char **texts = NULL, *line = NULL;
    size_t count = 0, cap = 0, letters = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, in)) > 0) {
        line[strcspn(line, "\n")] = '\0';
        texts = realloc(texts, (count + 1) * sizeof *texts);
        texts[count++] = strdup(line);
        letters += strlen(line);
    }
    free(line);
    fclose(in);
    double best = 0;
    struct siqs_coord_stats st = {0};
    for (int round = 0; round < 25; round++) {
        struct siqs_coord *c;
        if (siqs_coord_open(&c, n, f) != SIQS_COORD_OPENED) {
            fprintf(stderr, "cannot open a coordinator for N\n");
            return 1;
        }
        double t0 = now_ns();
        for (size_t i = 0; i < count; i++)
            siqs_coord_take(c, texts[i], strlen(texts[i]));
        double t = now_ns() - t0;
        best = round == 0 || t < best ? t : best;
        siqs_coord_stats(c, &st);
        siqs_coord_free(c);
    }
    printf("%zu results, %zu letters, %zu relations (%zu dropped, %zu malformed): "
           "%.0f letters a relation, %.2f ms in all, %.0f ns a relation\n",
           count, letters, st.wire.added, st.wire.dropped, st.wire.malformed,
           (double)letters / (double)st.wire.added, best / 1e6, best / (double)st.wire.added);
    combine_all(n, texts, count);
    for (size_t i = 0; i < count; i++)
        free(texts[i]);
    free(texts);
    mpz_clears(n, f, NULL);
    return 0;
}
