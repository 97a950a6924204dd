/* verify_bench.c - the leader's cost per result of checking it (issue 17):
 * deriving N from the batch spec (batch_number, as node/lead.c does) and
 * factor_verify on the text the kernel produced, per batch shape. Not a
 * test: run by hand, e.g. `build/tests/factor/verify_bench 200000`.
 * Prints nanoseconds of CPU time per result (best of 7 rounds; CPU time, as
 * the host is shared): derive, verify, both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "factor.h"
#include "verify.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The texts a worker would send (the formatted line minus "N: "). */
static char **answers(struct factor_ctx *ctx, const struct batch_spec *s, size_t count)
{
    char **texts = calloc(count, sizeof *texts);
    for (size_t i = 0; texts != NULL && i < count; i++) {
        char num[MESH_MAX_DIGITS + 2];
        struct factor_result res;
        if (batch_number(s, i, num, sizeof num) != 0 ||
            factor_decimal(ctx, num, 0, &res) != FACTOR_DONE)
            exit(1);
        char *line = factor_format_line(num, &res);
        const char *text = strchr(line, ':') + 1;
        texts[i] = strdup(text + (*text == ' '));
        free(line);
        factor_result_free(&res);
    }
    return texts;
}

enum { ROUNDS = 7 };

/* Best of ROUNDS: this host is shared, and a neighbour's burst would
 * otherwise be measured. */
static double best_ns_per(double (*round)(const struct batch_spec *, char **, char **),
                          const struct batch_spec *s, char **nums, char **texts)
{
    double best = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double t = round(s, nums, texts);
        if (r == 0 || t < best)
            best = t;
    }
    return best / (double)s->count;
}

static double derive_round(const struct batch_spec *s, char **nums, char **texts)
{
    (void)nums;
    (void)texts;
    char num[MESH_MAX_DIGITS + 2];
    double t0 = now_ns();
    for (uint64_t i = 0; i < s->count; i++)
        if (batch_number(s, i, num, sizeof num) != 0)
            exit(1);
    return now_ns() - t0;
}

static double check_round(const struct factor_verifier *v, const struct batch_spec *s,
                          char **nums, char **texts)
{
    double t0 = now_ns();
    for (uint64_t i = 0; i < s->count; i++) {
        bool unf;
        if (factor_verify(v, nums[i], texts[i], strlen(texts[i]), &unf) != FACTOR_VERDICT_OK)
            exit(1);
    }
    return now_ns() - t0;
}

/* The leader's way (node/lead.c), with the sieve; and without it. */
static const struct factor_verifier *bench_sieve;

static double verify_round(const struct batch_spec *s, char **nums, char **texts)
{
    return check_round(bench_sieve, s, nums, texts);
}

static double unsieved_round(const struct batch_spec *s, char **nums, char **texts)
{
    return check_round(NULL, s, nums, texts);
}

static void run(const char *name, struct factor_ctx *ctx, const struct batch_spec *s)
{
    char **texts = answers(ctx, s, s->count);
    char **nums = calloc(s->count, sizeof *nums);
    for (uint64_t i = 0; i < s->count; i++) {
        char num[MESH_MAX_DIGITS + 2];
        batch_number(s, i, num, sizeof num);
        nums[i] = strdup(num);
    }
    double derive = best_ns_per(derive_round, s, nums, texts);
    double verify = best_ns_per(verify_round, s, nums, texts);
    double unsieved = best_ns_per(unsieved_round, s, nums, texts);
    printf("%-34s %8.0f ns derive %8.0f ns verify %8.0f ns both (%.0f ns verify "
           "without the sieve)\n", name, derive, verify, derive + verify, unsieved);
    for (uint64_t i = 0; i < s->count; i++) {
        free(texts[i]);
        free(nums[i]);
    }
    free(texts);
    free(nums);
}

int main(int argc, char **argv)
{
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    struct factor_ctx ctx;
    struct batch_spec s;
    char err[128];
    struct factor_verifier *v = factor_verifier_new();
    if (v == NULL || factor_ctx_init(&ctx) != 0)
        return 1;
    bench_sieve = v;
    batch_range_init(&s, "1", 1, count, err, sizeof err);
    run("trivial numbers 1..count", &ctx, &s);
    batch_spec_free(&s);
    batch_range_init(&s, "999999999999", 2, count, err, sizeof err);
    run("odd numbers from 999999999999", &ctx, &s);
    batch_spec_free(&s);
    batch_range_init(&s, "9223372036854775807", 2, count / 10, err, sizeof err);
    run("odd numbers from 2^63 (count/10)", &ctx, &s);
    batch_spec_free(&s);
    batch_semiprimes_init(&s, 64, count / 10, 7, err, sizeof err);
    run("64-bit semiprimes (count/10)", &ctx, &s);
    batch_spec_free(&s);
    batch_semiprimes_init(&s, 100, count / 100, 7, err, sizeof err);
    run("100-bit semiprimes (count/100)", &ctx, &s);
    batch_spec_free(&s);
    factor_ctx_free(&ctx);
    factor_verifier_free(v);
    return 0;
}
