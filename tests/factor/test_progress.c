/* test_progress.c - the worker child's progress record (progress.h): what
 * the child writes the node reads back field for field, and the node's
 * decoder refuses every malformed variant (a broken child is restarted on
 * it, worker.c). Also the sink reaches the kernel: a 200-bit semiprime
 * reports ECM, then sieving with found growing to needed, then the matrix. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "factor.h"
#include "progress.h"

static void round_trip(const struct factor_progress_record *r, const char *want)
{
    char line[FACTOR_PROGRESS_LINE_MAX];
    size_t len = factor_progress_format(line, r);
    CHECK(len > 0 && line[len - 1] == '\n');
    line[len - 1] = '\0';
    CHECK_STR_EQ(line, want);
    CHECK(factor_progress_is_record(line, len - 1));
    struct factor_progress_record back;
    CHECK_INT_EQ(factor_progress_parse(line, len - 1, &back), 0);
    CHECK(back.id == r->id && back.p.phase == r->p.phase && back.p.bits == r->p.bits);
    CHECK(back.p.b1 == r->p.b1 && back.p.found == r->p.found && back.p.needed == r->p.needed);
    CHECK(back.rate_milli == r->rate_milli && back.eta_known == r->eta_known);
    CHECK(!r->eta_known || back.eta_s == r->eta_s);
}

static void test_round_trips(void)
{
    struct factor_progress_record r = {
        .id = 17, .p = {FACTOR_PHASE_SIEVE, 206, 0, 1234, 5901}, .rate_milli = 566161,
        .eta_known = true, .eta_s = 8};
    round_trip(&r, "17 progress sieving 206 0 1234 5901 566161 8");
    r = (struct factor_progress_record){.id = 0, .p = {FACTOR_PHASE_ECM, 400, 50000, 3, 214}};
    round_trip(&r, "0 progress ecm 400 50000 3 214 0 -");
    r = (struct factor_progress_record){.id = UINT64_MAX,
                                        .p = {.phase = FACTOR_PHASE_PARI, .bits = 1024}};
    round_trip(&r, "18446744073709551615 progress pari 1024 0 0 0 0 -");
    r.p.phase = FACTOR_PHASE_MATRIX;
    round_trip(&r, "18446744073709551615 progress matrix 1024 0 0 0 0 -");
    r.p.phase = FACTOR_PHASE_SQRT;
    r.p.found = r.p.needed = r.rate_milli = r.eta_s = UINT64_MAX;
    r.eta_known = true;
    round_trip(&r, "18446744073709551615 progress sqrt 1024 0 18446744073709551615 "
                   "18446744073709551615 18446744073709551615 18446744073709551615");
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "progress",
        "1 progress",
        "1 progress sieving 206 0 1 2 3",            /* eta missing */
        "1 progress sieving 206 0 1 2 3 4 5",        /* one field too many */
        "1 progress sieving 206 0 1 2 3 4 ",         /* trailing blank */
        " 1 progress sieving 206 0 1 2 3 4",         /* leading blank */
        "1  progress sieving 206 0 1 2 3 4",         /* two blanks */
        "1 progress\tsieving 206 0 1 2 3 4",         /* a tab */
        "1 progress sieve 206 0 1 2 3 4",            /* no such phase */
        "1 progress SIEVING 206 0 1 2 3 4",
        "1 progres sieving 206 0 1 2 3 4",
        "1 progresss sieving 206 0 1 2 3 4",
        "1 done sieving 206 0 1 2 3 4",
        "1 progress sieving 0 0 1 2 3 4",            /* bits 0 */
        "1 progress sieving 1025 0 1 2 3 4",         /* past 1024 bits */
        "1 progress sieving 206 0 01 2 3 4",         /* leading zero */
        "1 progress sieving 206 0 +1 2 3 4",         /* sign */
        "1 progress sieving 206 0 -1 2 3 4",
        "1 progress sieving 206 0 1 2 3 --",
        "1 progress sieving 206 0 1 2 3 -1",
        "1 progress sieving 206 0 18446744073709551616 2 3 4", /* past u64 */
        "18446744073709551616 progress sieving 206 0 1 2 3 4",
        "x progress sieving 206 0 1 2 3 4",
        "1 progress sieving 206 0 1x 2 3 4",
    };
    struct factor_progress_record r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (factor_progress_parse(bad[i], strlen(bad[i]), &r) == 0) {
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
            CHECK(0);
        }
    }
    /* A NUL inside the given length is not a field's end. */
    const char nul[] = "1 progress sieving 206 0 1 2 3 4\0" "5";
    CHECK(factor_progress_parse(nul, sizeof nul - 1, &r) != 0);
    const char ok[] = "1 progress sieving 206 0 1 2 3 4";
    CHECK_INT_EQ(factor_progress_parse(ok, sizeof ok - 1, &r), 0);
    CHECK(factor_progress_parse(ok, sizeof ok - 2, &r) != 0); /* "... 3 ": cut short */
    /* Answers are not records; records are told from answers by word two. */
    CHECK(!factor_progress_is_record("1 done 3 5", 10));
    CHECK(!factor_progress_is_record("1 progressive", 13));
    CHECK(!factor_progress_is_record("progress", 8));
    CHECK(factor_progress_is_record("1 progress", 10));
}

struct seen {
    unsigned ecm, sieving, matrix, sqrt;
    uint64_t last_found, last_needed;
    int grew;
    int order_broken;
};

static void watch(void *ud, const struct factor_progress *p)
{
    struct seen *s = ud;
    if (p->bits != 200)
        s->order_broken = 1;
    switch (p->phase) {
    case FACTOR_PHASE_ECM:
        s->ecm++;
        if (s->sieving > 0 || p->b1 == 0 || p->needed == 0)
            s->order_broken = 1;
        break;
    case FACTOR_PHASE_SIEVE:
        s->sieving++;
        if (s->matrix == 0 && p->found < s->last_found)
            s->order_broken = 1;
        s->grew += p->found > s->last_found;
        s->last_found = p->found;
        s->last_needed = p->needed;
        break;
    case FACTOR_PHASE_MATRIX:
        s->matrix++;
        /* Told before each A is sieved: the last count is within an A of
         * what the matrix needs, never far short of it. */
        if (s->last_needed == 0 || s->last_found * 10 < s->last_needed * 9)
            s->order_broken = 1;
        break;
    case FACTOR_PHASE_SQRT:
        s->sqrt++;
        break;
    default:
        s->order_broken = 1;
    }
}

static void test_sink_reaches_the_kernel(void)
{
    /* 200 bits: 933998889788362923611756874797 * 1224034788634370058789038904713 */
    const char *n = "1143247133646835106694117877128096097802830758765472754218261";
    struct factor_ctx ctx;
    CHECK(factor_ctx_init(&ctx) == 0);
    struct seen s = {0};
    struct factor_progress_sink sink = {watch, &s};
    ctx.progress = &sink;
    struct factor_result res;
    CHECK_INT_EQ(factor_decimal(&ctx, n, 0, &res), FACTOR_DONE);
    CHECK_INT_EQ(res.count, 2);
    CHECK_STR_EQ(res.factors[0], "933998889788362923611756874797");
    factor_result_free(&res);
    factor_ctx_free(&ctx);
    fprintf(stderr, "ecm %u sieving %u (grew %d, last %" PRIu64 "/%" PRIu64 ") matrix %u sqrt %u\n",
            s.ecm, s.sieving, s.grew, s.last_found, s.last_needed, s.matrix, s.sqrt);
    CHECK(!s.order_broken);
    CHECK(s.ecm > 0);          /* the pass before SIQS, curve by curve */
    CHECK(s.grew > 10);        /* an A at a time */
    CHECK(s.matrix >= 1 && s.sqrt >= 1);
}

int main(void)
{
    test_round_trips();
    test_malformed();
    test_sink_reaches_the_kernel();
    printf("progress: ok\n");
    return 0;
}
