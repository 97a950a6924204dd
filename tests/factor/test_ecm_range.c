/* test_ecm_range.c - ECM curves as mesh work (ecm_range.h) and a spread
 * batch's curve jobs (batch.h, ecm_plan.h): job and result texts
 * round-trip and every other spelling is refused; the leader's check
 * takes a factor that divides N and refuses one that does not (counted as
 * wrong, not malformed); a worker runs real curves and finds the 30-digit
 * factor of the cluster test's 150-digit N at the curve named; the curve
 * jobs of a spread batch are the plan's, in order, covering each level's
 * curves once, and its spec survives the byte codec. */
#include <stdio.h> /* before gmp.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>

#include "batch.h"
#include "check.h"
#include "ecm_mp.h"
#include "ecm_range.h"
#include "factor.h"
#include "progress.h"
#include "queue.h"
#include "queue_codec.h"
#include "verify.h"

/* tests/cluster/test_spread_ecm.py's number: P (30 digits) times
 * nextprime(7 * 10^119). P was searched for offline: random 30-digit
 * primes run against the schedule's named curves (level 1 whole, level 2's
 * first 8) until one was found; curve 2 of level 2 (B1 = 5e4) finds it in
 * stage 2, and no curve of levels 0 and 1 does (checked on N itself). */
#define P30 "437978765085889961639949130369"
#define N150 "306585135560122973147964391258300000000000000000000000000000" \
             "000000000000000000000000000000000000000000000000000000000038" \
             "104152562472426662675574342103"

static bool job_parses(const char *text)
{
    mpz_t n;
    mpz_init(n);
    struct ecm_range_job j;
    bool ok = ecm_range_job_parse(text, strlen(text), n, &j);
    mpz_clear(n);
    return ok;
}

static void test_job_texts(void)
{
    mpz_t n, back;
    mpz_inits(n, back, NULL);
    mpz_set_str(n, N150, 10);
    char buf[512];
    struct ecm_range_job j = {2, 10, 20}, k;
    size_t len = ecm_range_job_format(buf, sizeof buf, n, &j);
    CHECK(len == strlen(buf) && ecm_range_job_is(buf, len));
    CHECK_STR_EQ(buf, "ecm:" N150 ":2:10:20");
    CHECK(ecm_range_job_parse(buf, len, back, &k));
    CHECK(mpz_cmp(n, back) == 0 && k.level == 2 && k.lo == 10 && k.hi == 20);
    const char *bad[] = {
        "ecm:" N150 ":2:10:20:", "ecm:" N150 ":2:10", "ecm:" N150 ":9:0:1",
        "ecm:" N150 ":2:10:10", "ecm:" N150 ":2:20:10", "ecm:" N150 ":2:0:1001",
        "ecm:" N150 ":02:10:20", "ecm:" N150 ":2:010:20", "ecm:0" N150 ":2:10:20",
        "ecm:+" N150 ":2:10:20", "ecm: " N150 ":2:10:20", "ecm:" N150 ":2:1048575:1048577",
        "ecm:1000000000000000000001:0:0:1",                 /* below 100 bits */
        "ecm:1267650600228229401496703205654:0:0:1",        /* even */
        "ecm:" N150 "::2:10:20", "ecm:", "ecm", "siqs:" N150 ":0:1", "",
        "ecm:" N150 ":2:10:4294967296",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (job_parses(bad[i]))
            fprintf(stderr, "parsed: %s\n", bad[i]);
        CHECK(!job_parses(bad[i]));
    }
    struct ecm_range_job out = {0, 0, 1001};
    CHECK(ecm_range_job_format(buf, sizeof buf, n, &out) == 0);
    CHECK(ecm_range_job_format(buf, 20, n, &j) == 0); /* short buffer */
    mpz_clears(n, back, NULL);
}

static bool result_parses(const char *text)
{
    mpz_t f;
    mpz_init(f);
    struct ecm_range_result r;
    bool ok = ecm_range_result_parse(text, strlen(text), &r, f);
    mpz_clear(f);
    return ok;
}

static void test_result_texts(void)
{
    const char *good[] = {"ecm:0", "ecm:10", "ecm:3:7", ("ecm:0:" P30)};
    mpz_t f;
    mpz_init(f);
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct ecm_range_result r;
        CHECK(ecm_range_result_parse(good[i], strlen(good[i]), &r, f));
        char *text = NULL;
        CHECK(ecm_range_result_format(&r, f, &text));
        CHECK_STR_EQ(text, good[i]);
        free(text);
        CHECK(qresult_text_well_formed(good[i], strlen(good[i])));
    }
    const char *bad[] = {"ecm:", "ecm:05", "ecm:5:", "ecm:5:1", "ecm:5:0", "ecm:5:012",
                         "ecm:5:12:3", "ecm:-1", "ecm:5 7", "ecm::7", "ecm:4294967296", "7",
                         "rels:a80g0", "ecm:a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!result_parses(bad[i]));
    /* What replicas take: the form, not the size of K or P (the leader's
     * check does that); never a text outside it. */
    const char *not_form[] = {"ecm:", "ecm:05", "ecm:5:", "ecm:5:0", "ecm:5:012",
                              "ecm:5:12:3", "ecm:-1", "ecm:5 7", "ecm::7", "ecm:a"};
    for (size_t i = 0; i < sizeof not_form / sizeof *not_form; i++)
        CHECK(!qresult_text_well_formed(not_form[i], strlen(not_form[i])));
    mpz_clear(f);
}

/* The leader's check (factor_verify on the job's text): a factor must
 * divide N properly, and K fit the job. */
static void test_verify(void)
{
    const char *job = "ecm:" N150 ":2:0:10";
    bool unfactored;
    struct { const char *text; enum factor_verdict want; } cases[] = {
        {"ecm:10", FACTOR_VERDICT_OK},
        {"ecm:0", FACTOR_VERDICT_OK},
        {"ecm:2:" P30, FACTOR_VERDICT_OK},
        {"ecm:11", FACTOR_VERDICT_MALFORMED},          /* more curves than the job's */
        {"ecm:10:" P30, FACTOR_VERDICT_MALFORMED},     /* found after its last curve */
        {"ecm:2:7", FACTOR_VERDICT_NOT_A_DIVISOR},
        {"ecm:2:437978765085889961639949130371", FACTOR_VERDICT_NOT_A_DIVISOR},
        {"ecm:2:" N150, FACTOR_VERDICT_NOT_A_DIVISOR}, /* N itself is not proper */
        {P30 " 7", FACTOR_VERDICT_MALFORMED},
        {"rels:a80g0", FACTOR_VERDICT_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        enum factor_verdict v =
            factor_verify(NULL, job, cases[i].text, strlen(cases[i].text), &unfactored);
        if (v != cases[i].want)
            fprintf(stderr, "%s: verdict %d\n", cases[i].text, (int)v);
        CHECK(v == cases[i].want);
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct seen {
    unsigned reports;
    struct factor_progress last;
};

static void on_report(void *ud, const struct factor_progress *p)
{
    struct seen *s = ud;
    /* Before every curve, in order, as the ladder's ECM reports. */
    CHECK(p->phase == FACTOR_PHASE_ECM && p->b1 == 50000 && p->needed == 214 &&
          p->bits == 497 && p->found == 5 + s->reports);
    s->reports++;
    s->last = *p;
}

/* Real curves through the worker's path. */
static void test_run(void)
{
    struct seen seen = {0};
    struct factor_progress_sink sink = {on_report, &seen};
    char err0[64], *found = NULL;
    /* Curves 5..9 of level 2 find nothing; watched, each is told. */
    CHECK(ecm_range_run("ecm:" N150 ":2:5:10", strlen("ecm:" N150 ":2:5:10"), 0, &sink, &found,
                        err0, sizeof err0));
    CHECK_STR_EQ(found, "ecm:5");
    CHECK(seen.reports == 5 && seen.last.found == 9);
    free(found);
    char err[64], *text = NULL;
    CHECK(ecm_range_run("ecm:" N150 ":2:0:10", strlen("ecm:" N150 ":2:0:10"), 0, NULL, &text, err,
                        sizeof err));
    CHECK_STR_EQ(text, "ecm:2:" P30);
    free(text);
    CHECK(ecm_range_run("ecm:" N150 ":0:0:25", strlen("ecm:" N150 ":0:0:25"), 0, NULL, &text, err,
                        sizeof err));
    CHECK_STR_EQ(text, "ecm:25");
    free(text);
    /* A deadline already past: no curve run, still an answer. */
    CHECK(ecm_range_run("ecm:" N150 ":3:0:8", strlen("ecm:" N150 ":3:0:8"), now_ms() - 1,
                        NULL, &text, err, sizeof err));
    CHECK_STR_EQ(text, "ecm:0");
    free(text);
    CHECK(!ecm_range_run("ecm:" N150 ":9:0:8", strlen("ecm:" N150 ":9:0:8"), 0, NULL, &text, err,
                         sizeof err));
}

/* A spread batch with curve jobs: job j is ecm_plan_job's, in order; each
 * level's curves are covered once; then SIQS ranges, then N. */
static void check_layout(const struct batch_spec *spec, const char *n_text, uint64_t ranges)
{
    uint64_t e, r;
    batch_spread_layout(spec, &e, &r);
    CHECK(e == ecm_plan_jobs(&spec->ecm) && r == ranges && spec->count == e + r + 1);
    char num[MESH_MAX_DIGITS + 64];
    mpz_t n, want;
    mpz_inits(n, want, NULL);
    mpz_set_str(want, n_text, 10);
    unsigned level = 0;
    uint32_t next = 0;
    for (uint64_t i = 0; i < e; i++) {
        struct ecm_range_job j;
        CHECK(batch_number(spec, i, num, sizeof num) == 0);
        CHECK(ecm_range_job_parse(num, strlen(num), n, &j));
        CHECK(mpz_cmp(n, want) == 0);
        if (j.level != level) { /* the previous level whole, then the next */
            CHECK(next == ecm_plan_level_curves(&spec->ecm, level) && j.level == level + 1);
            level = j.level, next = 0;
        }
        CHECK(j.lo == next && j.hi - j.lo <= ecm_plan_per_job(level));
        next = j.hi;
    }
    CHECK(level + 1 == spec->ecm.levels && next == spec->ecm.last_curves);
    if (r > 0) {
        CHECK(batch_number(spec, e, num, sizeof num) == 0);
        CHECK(strncmp(num, "siqs:", 5) == 0);
    }
    CHECK(batch_number(spec, e + r, num, sizeof num) == 0);
    CHECK_STR_EQ(num, n_text);
    /* The codec: kind 5 on the wire, the same spec back. */
    struct qbuf b;
    qbuf_init(&b);
    CHECK(batch_spec_encode(spec, &b) == 0 && b.data[0] == BATCH_SPREAD_ECM_WIRE);
    struct qreader rd;
    qreader_init(&rd, b.data, b.len);
    struct batch_spec back;
    CHECK(batch_spec_decode(&rd, &back) == 0 && !rd.failed);
    CHECK(back.kind == BATCH_SPREAD && back.count == spec->count &&
          back.ecm.levels == spec->ecm.levels && back.ecm.last_curves == spec->ecm.last_curves &&
          strcmp(back.start, spec->start) == 0 && back.step == spec->step);
    batch_spec_free(&back);
    qbuf_free(&b);
    mpz_clears(n, want, NULL);
}

static void test_spread_batch(void)
{
    char err[128];
    struct batch_spec spec;
    /* 150 digits, no budget: ECM only, the levels up to 30 digits. */
    mpz_t n;
    mpz_init_set_str(n, N150, 10);
    struct ecm_plan plan;
    factor_spread_ecm_plan(n, 0, &plan);
    CHECK(plan.levels == 4 && plan.last_curves == 430);
    CHECK(batch_spread_ecm_init(&spec, N150, &plan, 1, 0, err, sizeof err) == 0);
    CHECK(spec.count == 1 + 2 + 22 + 215 + 1);
    check_layout(&spec, N150, 0);
    batch_spec_free(&spec);
    /* A budget sizes it: 5 s of estimated curves at 497 bits. */
    factor_spread_ecm_plan(n, 5000, &plan);
    CHECK(plan.levels == 2 && plan.last_curves < 74 && plan.last_curves > 20);
    /* Inside SIQS's range: the ladder's pass, then ranges. */
    const char *n230 = "1725436586697640946858688965569256363112777243042596638790631055949823";
    mpz_set_str(n, n230, 10);
    factor_spread_ecm_plan(n, 0, &plan);
    CHECK(plan.levels >= 2);
    CHECK(batch_spread_ecm_init(&spec, n230, &plan, 1, 40, err, sizeof err) == 0);
    check_layout(&spec, n230, 40);
    batch_spec_free(&spec);
    /* The longest curve job of the largest ECM-only number fits the buffer
     * every reader of batch_number gives (MESH_MAX_DIGITS + 2); past it the
     * spec is refused. */
    mpz_t big;
    mpz_init(big);
    mpz_ui_pow_ui(big, 2, BATCH_SPREAD_ECM_MAX_BITS);
    mpz_sub_ui(big, big, 1);
    char *big_text = mpz_get_str(NULL, 10, big);
    struct ecm_plan all = {ECM_MP_LEVEL_COUNT, ecm_mp_levels[ECM_MP_LEVEL_COUNT - 1].curves};
    CHECK(batch_spread_ecm_init(&spec, big_text, &all, 1, 0, err, sizeof err) == 0);
    char buf[MESH_MAX_DIGITS + 2];
    CHECK(batch_number(&spec, spec.count - 2, buf, sizeof buf) == 0);
    /* and the longest any job could be (LO and HI of 7 digits): */
    CHECK(strlen(big_text) + strlen("ecm:") + strlen(":8:1048575:1048576") <= MESH_MAX_DIGITS + 1);
    batch_spec_free(&spec);
    mpz_add_ui(big, big, 2); /* 951 bits */
    free(big_text);
    big_text = mpz_get_str(NULL, 10, big);
    CHECK(batch_spread_ecm_init(&spec, big_text, &all, 1, 0, err, sizeof err) != 0);
    free(big_text);
    mpz_clear(big);
    /* Refused: no ranges without ECM; past 340 bits with ranges; a bad plan. */
    struct ecm_plan none = {0, 0}, over = {4, 431}, zero = {2, 0};
    CHECK(batch_spread_ecm_init(&spec, N150, &none, 1, 0, err, sizeof err) != 0);
    CHECK(batch_spread_ecm_init(&spec, N150, &plan, 1, 10, err, sizeof err) != 0);
    CHECK(batch_spread_ecm_init(&spec, N150, &over, 1, 0, err, sizeof err) != 0);
    CHECK(batch_spread_ecm_init(&spec, N150, &zero, 1, 0, err, sizeof err) != 0);
    CHECK(spec.start == NULL);
    mpz_clear(n);
}

int main(void)
{
    test_job_texts();
    test_result_texts();
    test_verify();
    test_spread_batch();
    test_run();
    return 0;
}
