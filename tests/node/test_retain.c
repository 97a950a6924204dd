/* test_retain.c - which batches the leader forgets (src/node/retain.c,
 * retain_pick) on a real queue, the clock made up: age first, then the
 * budget oldest first, running batches never, a batch of an earlier
 * release (its end unknown) never by age and first by budget. */
#include <stdlib.h>

#include "../core/queue_helpers.h"
#include "check.h"
#include "node/retain.h"

static void apply(struct queue *q, struct qcmd *c)
{
    char err[128];
    CHECK_INT_EQ(queue_apply(q, c, NULL, err, sizeof err), 0);
    qcmd_free(c);
}

/* A batch with three results, cancelled at ended_ms (0: no time, as the
 * commands of an earlier release), or left running when ended_ms is -1. */
static uint64_t batch(struct queue *q, int64_t ended_ms)
{
    uint64_t id = apply_submit_chunked(q, 10, 0);
    struct qcmd done = make_complete(id, 3, (uint64_t)0, "2 2 2 5 5 5", (uint64_t)1,
                                     "7 11 13 17", (uint64_t)2, "19 23 29");
    apply(q, &done);
    if (ended_ms >= 0) {
        struct qcmd cancel = make_cancel(id);
        cancel.time_ms = (uint64_t)ended_ms;
        apply(q, &cancel);
    }
    return id;
}

static uint64_t bytes_of(const struct queue *q, uint64_t id)
{
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    return info.bytes;
}

/* Past --keep-results by the log's times; at exactly the age, too. */
static void test_by_age(void)
{
    struct queue *q = queue_new();
    uint64_t a = batch(q, 1000), b = batch(q, 5000);
    batch(q, -1);
    uint64_t ids[QCMD_FORGET_MAX];
    enum forget_reason why;
    struct retain_rules rules = {.keep_ms = 10000, .budget = UINT64_MAX, .now_ms = 10999};
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 0);
    rules.now_ms = 11000;
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 1);
    CHECK(ids[0] == a && why == FORGET_BY_AGE);
    rules.now_ms = 99999;                           /* the running one stays */
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 2);
    CHECK(ids[0] == a && ids[1] == b && why == FORGET_BY_AGE);
    rules.now_ms = 500;                             /* a clock behind the log's */
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 0);
    queue_free(q);
}

/* Past the budget, the oldest finished go first until it fits; running
 * batches are never picked, even when they alone exceed it. */
static void test_by_budget(void)
{
    struct queue *q = queue_new();
    uint64_t young = batch(q, 9000), old = batch(q, 2000), running = batch(q, -1);
    struct retained_info r;
    queue_retained(q, &r);
    uint64_t ids[QCMD_FORGET_MAX];
    enum forget_reason why;
    struct retain_rules rules = {.keep_ms = UINT64_MAX / 2, .budget = r.bytes, .now_ms = 10000};
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 0); /* at the budget: fits */
    rules.budget = r.bytes - 1;
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 1);
    CHECK(ids[0] == old && why == FORGET_BY_BUDGET);
    rules.budget = r.bytes - bytes_of(q, old) - 1;      /* one more is needed */
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 2);
    CHECK(ids[0] == old && ids[1] == young);
    rules.budget = 0;
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 2);
    CHECK(ids[0] != running && ids[1] != running);
    queue_free(q);
}

/* An earlier release's batch has no end time: never forgotten by age, and
 * the first the budget takes. */
static void test_unknown_end(void)
{
    struct queue *q = queue_new();
    uint64_t dated = batch(q, 1000), undated = batch(q, 0);
    uint64_t ids[QCMD_FORGET_MAX];
    enum forget_reason why;
    struct retain_rules rules = {.keep_ms = 10, .budget = UINT64_MAX, .now_ms = 50000};
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 1);
    CHECK(ids[0] == dated && why == FORGET_BY_AGE);
    rules.keep_ms = UINT64_MAX / 2;
    rules.budget = queue_retained_bytes(q) - 1;
    CHECK_INT_EQ(retain_pick(q, &rules, ids, &why), 1);
    CHECK(ids[0] == undated && why == FORGET_BY_BUDGET);
    queue_free(q);
}

int main(void)
{
    test_by_age();
    test_by_budget();
    test_unknown_end();
    return 0;
}
