/* test_spread_ecm.c - the leader's watch over a spread batch's curve jobs
 * (src/node/spread_ecm.c) on a real queue: the curves a job's deadline cut
 * short are counted as such (not leased again), a factor ends the phase,
 * a phase without one is spent. */
#include <gmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "batch.h"
#include "node/spread_ecm.h"
#include "queue.h"

#define P "314159265359279"

static void apply(struct queue *q, struct qcmd *c)
{
    struct queue_outcome out;
    char err[256];
    if (queue_apply(q, c, &out, err, sizeof err) != 0) {
        fprintf(stderr, "apply: %s\n", err);
        exit(1);
    }
    qcmd_free(c);
}

/* A 228-bit N = P * nextprime(2^179): level 0 whole (job 0, 25 curves),
 * 19 curves of level 1 (job 1), 5 SIQS ranges. Its id. */
static uint64_t submit(struct queue *q, mpz_t n)
{
    mpz_t r;
    mpz_init(r);
    mpz_ui_pow_ui(r, 2, 179);
    mpz_nextprime(r, r);
    mpz_set_str(n, P, 10);
    mpz_mul(n, n, r);
    char *num = mpz_get_str(NULL, 10, n);
    struct qcmd c = {.type = QCMD_SUBMIT};
    struct ecm_plan plan = {2, 19};
    char err[128];
    CHECK(batch_spread_ecm_init(&c.spec, num, &plan, 1, 5, err, sizeof err) == 0);
    uint64_t id = queue_next_batch_id(q);
    apply(q, &c);
    free(num);
    mpz_clear(r);
    return id;
}

static void complete(struct queue *q, uint64_t id, uint64_t index, const char *text)
{
    struct qcmd c = {.type = QCMD_COMPLETE, .batch_id = id, .n_results = 1};
    c.results = calloc(1, sizeof *c.results);
    c.results[0] = (struct qresult){index, strdup(text)};
    apply(q, &c);
}

static void test_cut_then_found(void)
{
    struct queue *q = queue_new();
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    uint64_t id = submit(q, n);
    struct batch_info info;
    CHECK(queue_batch_get(q, id, &info) == 0);
    struct spread_ecm e;
    CHECK(spread_ecm_open(&e, info.spec));
    CHECK(e.jobs == 2 && e.planned[0] == 25 && e.planned[1] == 19);
    CHECK(!spread_ecm_scan(&e, q, id, n, f) && e.done == 0);
    complete(q, id, 0, "ecm:20"); /* its deadline came after 20 of 25 */
    CHECK(!spread_ecm_scan(&e, q, id, n, f));
    CHECK(e.done == 1 && e.curves == 20 && e.cut == 5 && !spread_ecm_spent(&e));
    complete(q, id, 1, "ecm:3:" P); /* curve 3 found P */
    CHECK(spread_ecm_scan(&e, q, id, n, f));
    CHECK(mpz_cmp_ui(f, 314159265359279ul) == 0);
    CHECK(e.curves == 23 && e.cut == 5 && e.done == 2 && e.bad == 0);
    spread_ecm_close(&e);
    mpz_clears(n, f, NULL);
    queue_free(q);
}

static void test_spent_and_bad(void)
{
    struct queue *q = queue_new();
    mpz_t n, f;
    mpz_inits(n, f, NULL);
    uint64_t id = submit(q, n);
    struct batch_info info;
    CHECK(queue_batch_get(q, id, &info) == 0);
    struct spread_ecm e;
    CHECK(spread_ecm_open(&e, info.spec));
    complete(q, id, 1, "ecm:2:7"); /* 7 does not divide N: counted, ignored */
    complete(q, id, 0, "ecm:25");  /* every curve run */
    CHECK(!spread_ecm_scan(&e, q, id, n, f));
    CHECK(spread_ecm_spent(&e) && e.bad == 1 && e.curves == 27 && e.cut == 0);
    spread_ecm_close(&e);
    mpz_clears(n, f, NULL);
    queue_free(q);
}

int main(void)
{
    test_cut_then_found();
    test_spent_and_bad();
    return 0;
}
