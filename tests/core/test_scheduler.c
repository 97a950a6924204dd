/* test_scheduler.c - leasing index ranges: order, hand-backs, skipping done
 * work, adaptive chunks, rescans and cancelled batches. */
#include <stdlib.h>

#include "check.h"
#include "queue_helpers.h"
#include "scheduler.h"

static void complete(struct queue *q, uint64_t id, uint64_t index)
{
    struct qcmd c = make_complete(id, 1, index, "2 2");
    char err[128];
    queue_apply(q, &c, NULL, err, sizeof err);
    qcmd_free(&c);
}

static void test_fixed_chunks_in_order(void)
{
    struct queue *q = queue_new();
    struct sched *s = sched_new(q);
    uint64_t id = apply_submit_chunked(q, 25, 10);
    struct sched_job j;
    uint64_t expect[][2] = {{0, 10}, {10, 20}, {20, 25}};
    for (int i = 0; i < 3; i++) {
        CHECK(sched_next_job(s, &j));
        CHECK_INT_EQ(j.batch_id, id);
        CHECK_INT_EQ(j.lo, expect[i][0]);
        CHECK_INT_EQ(j.hi, expect[i][1]);
    }
    CHECK(!sched_next_job(s, &j));
    sched_free(s);
    queue_free(q);
}

static void test_older_batch_first_and_give_back_first(void)
{
    struct queue *q = queue_new();
    struct sched *s = sched_new(q);
    uint64_t a = apply_submit_chunked(q, 20, 10), b = apply_submit_chunked(q, 20, 10);
    struct sched_job j1, j2, j;
    CHECK(sched_next_job(s, &j1) && j1.batch_id == a);
    CHECK(sched_next_job(s, &j2) && j2.batch_id == a && j2.lo == 10);
    sched_give_back(s, &j1, 4, 1);  /* a worker died on index 4 */
    CHECK(sched_next_job(s, &j));
    CHECK_INT_EQ(j.batch_id, a);
    CHECK_INT_EQ(j.lo, 4);
    CHECK_INT_EQ(j.hi, 10);
    CHECK_INT_EQ(j.crashes, 1);
    CHECK(sched_next_job(s, &j) && j.batch_id == b && j.lo == 0);
    sched_free(s);
    queue_free(q);
}

static void test_done_indexes_are_skipped(void)
{
    struct queue *q = queue_new();
    struct sched *s = sched_new(q);
    uint64_t id = apply_submit_chunked(q, 10, 5);
    struct sched_job j;
    CHECK(sched_next_job(s, &j) && j.lo == 0 && j.hi == 5);
    complete(q, id, 0);
    complete(q, id, 1);
    sched_give_back(s, &j, 0, 0);
    CHECK(sched_next_job(s, &j));
    CHECK_INT_EQ(j.lo, 2);   /* 0 and 1 are done: not handed out again */
    CHECK_INT_EQ(j.crashes, 0);  /* the crash count belonged to index 0 */
    sched_free(s);
    queue_free(q);
}

static void test_adaptive_chunk_follows_cost(void)
{
    struct queue *q = queue_new();
    struct sched *s = sched_new(q);
    uint64_t id = apply_submit_chunked(q, 100000, 0);
    struct sched_job j;
    CHECK(sched_next_job(s, &j));
    CHECK_INT_EQ(j.hi - j.lo, SCHED_FIRST_CHUNK);
    sched_observe(s, id, 10, 1.0);  /* 0.1 ms per number -> 1000 per 100 ms */
    CHECK(sched_next_job(s, &j));
    CHECK_INT_EQ(j.hi - j.lo, SCHED_TARGET_JOB_MS * 10);
    sched_observe(s, id, 1, 5000.0);  /* a hard number: the estimate jumps up */
    CHECK(sched_next_job(s, &j));
    CHECK(j.hi - j.lo < 10);
    CHECK(j.hi - j.lo >= SCHED_MIN_CHUNK);
    sched_free(s);
    queue_free(q);
}

static void test_rescan_finds_lost_ranges(void)
{
    struct queue *q = queue_new();
    struct sched *s = sched_new(q);
    apply_submit_chunked(q, 10, 10);
    struct sched_job j;
    CHECK(sched_next_job(s, &j));   /* leased, then lost: never given back */
    CHECK(!sched_next_job(s, &j));
    sched_rescan(s);
    CHECK(sched_next_job(s, &j) && j.lo == 0 && j.hi == 10);
    sched_free(s);
    queue_free(q);
}

static void test_cancelled_batch_is_not_leased(void)
{
    struct queue *q = queue_new();
    struct sched *s = sched_new(q);
    uint64_t id = apply_submit_chunked(q, 10, 5);
    struct sched_job j;
    CHECK(sched_next_job(s, &j));
    struct qcmd c = make_cancel(id);
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    sched_give_back(s, &j, 0, 0);
    sched_prune(s);
    CHECK(!sched_next_job(s, &j));
    sched_free(s);
    queue_free(q);
}

/* Each job carries its batch's budget, new ranges and handed-back ones
 * alike: the leader times the lease by it. */
static void test_jobs_carry_their_batchs_budget(void)
{
    struct queue *q = queue_new();
    struct sched *s = sched_new(q);
    struct qcmd c = make_submit("1000", 10, "timed");
    c.spec.chunk = 5;
    c.spec.budget_ms = 300;
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    qcmd_free(&c);
    uint64_t plain = apply_submit_chunked(q, 5, 5);
    struct sched_job j = {.budget_ms = 12345}, k;
    CHECK(sched_next_job(s, &j) && j.budget_ms == 300);
    sched_give_back(s, &j, j.lo, 0);
    CHECK(sched_next_job(s, &k) && k.lo == j.lo && k.budget_ms == 300);
    CHECK(sched_next_job(s, &k) && k.lo == 5 && k.budget_ms == 300);
    k.budget_ms = 12345;
    CHECK(sched_next_job(s, &k) && k.batch_id == plain && k.budget_ms == BATCH_BUDGET_DEFAULT);
    sched_free(s);
    queue_free(q);
}

/* Held indexes (a routed hard number's): 3 and 4 of a batch of 12. */
static uint64_t held_3_4(void *ud, uint64_t batch_id, uint64_t from)
{
    (void)batch_id;
    *(int *)ud += 1;
    return from <= 3 ? 3 : from == 4 ? 4 : UINT64_MAX;
}

static void test_held_indexes_are_never_leased(void)
{
    struct queue *q = queue_new();
    struct sched *s = sched_new(q);
    int asked = 0;
    sched_set_hold(s, held_3_4, &asked);
    uint64_t id = apply_submit_chunked(q, 12, 10);
    struct sched_job j;
    /* A job stops before a held index and the next begins after it. */
    CHECK(sched_next_job(s, &j) && j.lo == 0 && j.hi == 3);
    CHECK(sched_next_job(s, &j));
    CHECK_INT_EQ(j.lo, 5);
    CHECK_INT_EQ(j.hi, 12);
    CHECK(!sched_next_job(s, &j));
    CHECK(asked > 0);
    /* A range handed back across the held ones comes back cut at them; its
     * rest stays handed back. */
    struct sched_job back = {.batch_id = id, .lo = 0, .hi = 12};
    sched_give_back(s, &back, 1, 0);
    CHECK(sched_next_job(s, &j) && j.lo == 1 && j.hi == 3);
    CHECK(sched_next_job(s, &j) && j.lo == 5 && j.hi == 12);
    CHECK_INT_EQ(sched_next_free(s, id, 3), 5);
    CHECK_INT_EQ(sched_next_free(s, id, 0), 0);
    complete(q, id, 0);
    CHECK_INT_EQ(sched_next_free(s, id, 0), 1);
    sched_free(s);
    queue_free(q);
}

int main(void)
{
    test_held_indexes_are_never_leased();
    test_jobs_carry_their_batchs_budget();
    test_fixed_chunks_in_order();
    test_older_batch_first_and_give_back_first();
    test_done_indexes_are_skipped();
    test_adaptive_chunk_follows_cost();
    test_rescan_finds_lost_ranges();
    test_cancelled_batch_is_not_leased();
    return 0;
}
