/* kernel_bench.c - times the kernel in-process over a corpus file (one
 * decimal number per line) and prints microseconds per number. Not a test:
 * tests/bench/kernel.sh runs it next to coreutils factor and PARI/GP.
 * usage: kernel_bench u64|decimal FILE */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "factor.h"
#include "factor_u64.h"

enum { MAX_NUMBERS = 1 << 20 };

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char **read_corpus(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    char **lines = calloc(MAX_NUMBERS, sizeof *lines);
    char buf[1024];
    *count = 0;
    while (f != NULL && lines != NULL && *count < MAX_NUMBERS &&
           fgets(buf, sizeof buf, f) != NULL) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0] != '\0')
            lines[(*count)++] = strdup(buf);
    }
    if (f != NULL)
        fclose(f);
    return lines;
}

static double bench_u64(char **lines, size_t count, uint64_t *checksum)
{
    uint64_t *values = malloc(count * sizeof *values);
    for (size_t i = 0; i < count; i++)
        values[i] = strtoull(lines[i], NULL, 10);
    uint64_t f[FACTOR_U64_MAX];
    double start = now_seconds();
    for (size_t i = 0; i < count; i++) {
        int k = factor_u64(values[i], f);
        *checksum += k > 0 ? f[0] : 0;
    }
    double elapsed = now_seconds() - start;
    free(values);
    return elapsed;
}

static double bench_decimal(char **lines, size_t count, uint64_t *checksum)
{
    struct factor_ctx ctx;
    if (factor_ctx_init(&ctx) != 0)
        return -1;
    double start = now_seconds();
    for (size_t i = 0; i < count; i++) {
        struct factor_result res;
        if (factor_decimal(&ctx, lines[i], 0, &res) != FACTOR_DONE)
            fprintf(stderr, "not factored: %s\n", lines[i]);
        *checksum += res.count;
        factor_result_free(&res);
    }
    double elapsed = now_seconds() - start;
    factor_ctx_free(&ctx);
    return elapsed;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: kernel_bench u64|decimal FILE\n");
        return 2;
    }
    size_t count;
    char **lines = read_corpus(argv[2], &count);
    if (lines == NULL || count == 0) {
        fprintf(stderr, "kernel_bench: empty corpus %s\n", argv[2]);
        return 1;
    }
    uint64_t checksum = 0;
    double elapsed = strcmp(argv[1], "u64") == 0
                         ? bench_u64(lines, count, &checksum)
                         : bench_decimal(lines, count, &checksum);
    printf("%zu numbers %.6f s %.3f us/number (checksum %" PRIu64 ")\n", count,
           elapsed, elapsed * 1e6 / (double)count, checksum);
    for (size_t i = 0; i < count; i++)
        free(lines[i]);
    free(lines);
    return 0;
}
