/* test_lease_table.c - the leader's lease rules (src/node/lease_table.c)
 * on a real queue and scheduler, with the time made up: how many leases a
 * node holds, tail copies, requeues, deadlines, settling ranges and the
 * unfactored rule. A test per behaviour, no node, no sockets. */
#include <stdlib.h>

#include "../core/queue_helpers.h"
#include "check.h"
#include "node/lease_table.h"

enum { A = 0xa, B = 0xb, BUDGET_MS = 1000 };

/* Commits "1000 + i" for indexes [lo, hi) as done (any text will do). */
static void commit(struct queue *q, uint64_t id, uint64_t lo, uint64_t hi)
{
    for (uint64_t i = lo; i < hi; i++) {
        struct qcmd c = make_complete(id, 1, i, "2 2");
        char err[128];
        CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
        qcmd_free(&c);
    }
}

struct told {
    unsigned n;
    uint64_t node, from, hi;
};

static void tell(void *ud, const struct lease_told *w)
{
    struct told *t = ud;
    t->n++;
    t->node = w->node;
    t->from = w->from;
    t->hi = w->job->hi;
}

/* One lease per worker plus one when leases are big; many small ones. */
static void test_how_many_a_node_holds(void)
{
    struct queue *q = queue_new();
    apply_submit_chunked(q, 100000, 1000);
    struct lease_table *t = lease_table_new(q, 1);
    unsigned held = 0;
    while (lease_table_wants_more(t, A, 2) && lease_table_grant(t, A, BUDGET_MS, 1) != NULL)
        held++;
    CHECK_INT_EQ(held, 2 + LEASE_PREFETCH);
    CHECK_INT_EQ(lease_table_count_of(t, A), 3);
    CHECK_INT_EQ(lease_table_count_of(t, B), 0);
    lease_table_free(t);
    queue_free(q);

    q = queue_new();
    apply_submit_chunked(q, 4000, 10);   /* tiny leases: up to 8 per worker, 256 numbers */
    t = lease_table_new(q, 1);
    held = 0;
    while (lease_table_wants_more(t, A, 2) && lease_table_grant(t, A, BUDGET_MS, 1) != NULL)
        held++;
    CHECK_INT_EQ(held, 2 * SMALL_LEASE_DEPTH);
    lease_table_free(t);
    queue_free(q);

    q = queue_new();
    apply_submit_chunked(q, 4000, 100);  /* bigger small leases: 256 numbers per worker */
    t = lease_table_new(q, 1);
    held = 0;
    while (lease_table_wants_more(t, A, 2) && lease_table_grant(t, A, BUDGET_MS, 1) != NULL)
        held++;
    CHECK_INT_EQ(held, 2 * SMALL_LEASE_NUMBERS / 100 + 1); /* the one that passes 512 */
    lease_table_free(t);
    queue_free(q);
}

/* While much is left to hand out a node holds small leases deeper (up to
 * DEEP_LEASE_DEPTH per worker, DEEP_LEASE_NUMBERS), and as the batch's
 * tail comes, as many as before: a node late to run holds no large share
 * of it. */
static void test_deep_while_much_is_left(void)
{
    struct queue *q = queue_new();
    uint64_t count = DEEP_LEASE_LEFT + 2 * DEEP_LEASE_NUMBERS + 500;
    apply_submit_chunked(q, count, 10);
    struct lease_table *t = lease_table_new(q, 1);
    unsigned held = 0;
    while (lease_table_wants_more(t, A, 2) && lease_table_grant(t, A, BUDGET_MS, 1) != NULL)
        held++;
    CHECK_INT_EQ(held, 2 * DEEP_LEASE_DEPTH);  /* 32 leases of 10 */
    held = 0;
    apply_submit_chunked(q, 10, 100);          /* a second batch adds to what is left */
    while (lease_table_wants_more(t, B, 1) && lease_table_grant(t, B, BUDGET_MS, 1) != NULL)
        held++;
    CHECK_INT_EQ(held, DEEP_LEASE_DEPTH);
    /* Hand out the first batch down to DEEP_LEASE_LEFT - 2 left (with the
     * second batch's 10, DEEP_LEASE_LEFT + 8); the next node's first lease
     * (one per worker plus one, whatever is left) takes it below: small
     * again. */
    for (uint64_t left = count - 48 * 10; left >= DEEP_LEASE_LEFT; left -= 10) {
        struct lease *x = lease_table_grant(t, 0xc, BUDGET_MS, 1);
        CHECK(x != NULL && x->job.hi - x->job.lo == 10);
    }
    held = 0;
    while (lease_table_wants_more(t, 0xd, 1) && lease_table_grant(t, 0xd, BUDGET_MS, 1) != NULL)
        held++;
    CHECK_INT_EQ(held, SMALL_LEASE_DEPTH);
    CHECK(!lease_table_wants_more(t, A, 2));   /* held deep already: no more */
    lease_table_free(t);
    queue_free(q);
}

/* Ranges in order; at the tail a node copies the oldest lease held
 * elsewhere, once; a copy gives nothing back when it ends. */
static void test_tail_copies(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 20, 10);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *a1 = lease_table_grant(t, A, BUDGET_MS, 10);
    struct lease *a2 = lease_table_grant(t, A, BUDGET_MS, 20);
    CHECK(a1 != NULL && a2 != NULL && a1->id != a2->id);
    CHECK(a1->job.batch_id == id && a1->job.lo == 0 && a1->job.hi == 10 && !a1->duplicate);
    CHECK(a2->job.lo == 10 && a2->job.hi == 20);
    CHECK(lease_table_grant(t, A, BUDGET_MS, 30) == NULL); /* no copy of its own */
    struct lease *b1 = lease_table_grant(t, B, BUDGET_MS, 30);
    CHECK(b1 != NULL && b1->duplicate && b1->job.lo == 0 && a1->copied);
    struct lease *b2 = lease_table_grant(t, B, BUDGET_MS, 30);
    CHECK(b2 != NULL && b2->duplicate && b2->job.lo == 10);
    CHECK(lease_table_grant(t, B, BUDGET_MS, 30) == NULL); /* each copied once */
    /* The copy ends early: nothing back, the original still holds it. */
    lease_table_requeue(t, b1, 0, 0);
    CHECK(lease_table_grant(t, B, BUDGET_MS, 40) == NULL);
    /* The original ends early at 4: [4, 10) is leased again. */
    lease_table_requeue(t, a1, 4, 0);
    struct lease *again = lease_table_grant(t, B, BUDGET_MS, 50);
    CHECK(again != NULL && !again->duplicate && again->job.lo == 4 && again->job.hi == 10);
    lease_table_free(t);
    queue_free(q);
}

/* Found by id and holder only; the covering lease of an index, hint first. */
static void test_find_and_cover(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 20, 10);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *a1 = lease_table_grant(t, A, BUDGET_MS, 1);
    struct lease *a2 = lease_table_grant(t, A, BUDGET_MS, 1);
    CHECK(lease_table_find(t, a1->id, A) == a1);
    CHECK(lease_table_find(t, a1->id, B) == NULL);  /* another holder's id */
    CHECK(lease_table_covering(t, NULL, A, id, 15) == a2);
    CHECK(lease_table_covering(t, a2, A, id, 3) == a1);
    CHECK(lease_table_covering(t, NULL, B, id, 3) == NULL);
    CHECK(lease_table_covering(t, NULL, A, id + 1, 3) == NULL);
    CHECK(lease_table_covering(t, NULL, A, id, 20) == NULL);
    lease_table_free(t);
    queue_free(q);
}

/* A lease not heard of past its budget and the grace is requeued whole;
 * results of its batch push the deadline on. */
static void test_deadlines(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 20, 10);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *a1 = lease_table_grant(t, A, BUDGET_MS, 100);
    CHECK_INT_EQ(a1->deadline_ms, 100 + BUDGET_MS + LEASE_GRACE_MS);
    struct told told = {0};
    lease_table_expire(t, a1->deadline_ms, tell, &told);
    CHECK_INT_EQ(told.n, 0);                        /* at the deadline: kept */
    lease_table_heard_from(t, A, id, 5000);
    lease_table_expire(t, 100 + BUDGET_MS + LEASE_GRACE_MS + 1, tell, &told);
    CHECK_INT_EQ(told.n, 0);                        /* heard from: later */
    CHECK_INT_EQ(lease_table_count_of(t, A), 1);
    lease_table_expire(t, 5000 + BUDGET_MS + LEASE_GRACE_MS + 1, tell, &told);
    CHECK(told.n == 1 && told.node == A && told.from == 0 && told.hi == 10);
    CHECK_INT_EQ(lease_table_count_of(t, A), 0);
    struct lease *b1 = lease_table_grant(t, B, BUDGET_MS, 9000);
    CHECK(b1 != NULL && b1->job.lo == 0 && b1->job.hi == 10); /* leased again */
    lease_table_free(t);
    queue_free(q);
}

/* A batch's own budget counts, none stands in as a minute. */
static void test_budgets(void)
{
    struct queue *q = queue_new();
    struct qcmd c = make_submit("1000", 10, "t");
    c.spec.budget_ms = BATCH_BUDGET_NONE;
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    qcmd_free(&c);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *x = lease_table_grant(t, A, BUDGET_MS, 0);
    CHECK_INT_EQ(x->budget_ms, LEASE_NO_BUDGET_MS);
    lease_table_free(t);
    queue_free(q);

    q = queue_new();
    apply_submit_chunked(q, 10, 10);
    t = lease_table_new(q, 1);
    x = lease_table_grant(t, A, 0, 0);               /* node without a budget */
    CHECK_INT_EQ(x->budget_ms, LEASE_NO_BUDGET_MS);
    lease_table_free(t);
    queue_free(q);
}

/* Unfactored only after a budget per such number, or after the worker
 * died on the lease's first number as often as the scheduler allows. */
static void test_unfactored_due(void)
{
    struct lease x = {.job = {.lo = 5, .hi = 10}, .issued_ms = 1000, .budget_ms = 2000};
    CHECK(!lease_table_unfactored_due(&x, 6, 1000));
    CHECK(!lease_table_unfactored_due(&x, 6, 2900));
    CHECK(lease_table_unfactored_due(&x, 6, 2960));  /* the 50 ms leeway */
    x.unfactored = 1;
    CHECK(!lease_table_unfactored_due(&x, 6, 3000)); /* a second one: 2 budgets */
    CHECK(lease_table_unfactored_due(&x, 6, 5000));
    x.unfactored = 0;
    x.job.crashes = SCHED_MAX_CRASHES - 1;
    CHECK(lease_table_unfactored_due(&x, 5, 1000));  /* the crash rule: lo only */
    CHECK(!lease_table_unfactored_due(&x, 6, 1000));
}

/* A DONE lease's range waits SETTLE_MS for its results; what is still not
 * committed then is leased again, but only with the pipeline idle. */
static void test_settling(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 20, 10);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *a1 = lease_table_grant(t, A, BUDGET_MS, 0);
    struct lease *a2 = lease_table_grant(t, A, BUDGET_MS, 0);
    lease_table_done(t, a1, 100);
    lease_table_done(t, a2, 100);
    CHECK_INT_EQ(lease_table_count_of(t, A), 0);
    CHECK(lease_table_grant(t, B, BUDGET_MS, 200) == NULL); /* settling: not leased */
    commit(q, id, 0, 10);                                   /* a1's results came */
    commit(q, id, 10, 13);                                  /* a2's in part */
    struct told told = {0};
    lease_table_settle(t, 100 + SETTLE_MS - 1, true, tell, &told);
    CHECK_INT_EQ(told.n, 0);                                /* not due yet */
    lease_table_settle(t, 100 + SETTLE_MS, false, tell, &told);
    CHECK_INT_EQ(told.n, 0);                                /* due, but busy */
    lease_table_settle(t, 100 + SETTLE_MS, true, tell, &told);
    CHECK(told.n == 1 && told.node == A && told.from == 13 && told.hi == 20);
    struct lease *b = lease_table_grant(t, B, BUDGET_MS, 20000);
    CHECK(b != NULL && b->job.lo == 13 && b->job.hi == 20);
    lease_table_settle(t, 99999, true, tell, &told);
    CHECK_INT_EQ(told.n, 1);                                /* a1's left quietly */
    lease_table_free(t);
    queue_free(q);
}

/* A committed range leaves the settling list at once, and a cancelled
 * batch's too: nothing is told, nothing leased. */
static void test_settled_and_cancelled_leave_quietly(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 20, 10);
    struct lease_table *t = lease_table_new(q, 1);
    lease_table_done(t, lease_table_grant(t, A, BUDGET_MS, 0), 0);
    lease_table_done(t, lease_table_grant(t, A, BUDGET_MS, 0), 0);
    struct qcmd c = make_cancel(id);
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    struct told told = {0};
    lease_table_settle(t, SETTLE_MS * 2, true, tell, &told);
    CHECK_INT_EQ(told.n, 0);
    lease_table_prune(t);
    CHECK(lease_table_grant(t, B, BUDGET_MS, 0) == NULL);
    lease_table_free(t);
    queue_free(q);
}

/* A node whose link went down loses every lease it held. */
static void test_drop_node(void)
{
    struct queue *q = queue_new();
    apply_submit_chunked(q, 40, 10);
    struct lease_table *t = lease_table_new(q, 1);
    lease_table_grant(t, A, BUDGET_MS, 0);
    lease_table_grant(t, B, BUDGET_MS, 0);
    lease_table_grant(t, A, BUDGET_MS, 0);
    CHECK_INT_EQ(lease_table_drop_node(t, A), 2);
    CHECK_INT_EQ(lease_table_count_of(t, A), 0);
    CHECK_INT_EQ(lease_table_count_of(t, B), 1);
    struct lease *x = lease_table_grant(t, B, BUDGET_MS, 0);
    CHECK(x != NULL && x->job.lo == 0 && x->job.hi == 10);  /* A's first, again */
    lease_table_free(t);
    queue_free(q);
}

/* A node that sent a wrong result loses its leases of that batch only. */
static void test_drop_node_batch(void)
{
    struct queue *q = queue_new();
    uint64_t one = apply_submit_chunked(q, 10, 10), two = apply_submit_chunked(q, 10, 10);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *a1 = lease_table_grant(t, A, BUDGET_MS, 0);
    struct lease *a2 = lease_table_grant(t, A, BUDGET_MS, 0);
    CHECK(a1->job.batch_id == one && a2->job.batch_id == two);
    CHECK_INT_EQ(lease_table_drop_node_batch(t, A, one), 1);
    CHECK_INT_EQ(lease_table_count_of(t, A), 1);
    CHECK(lease_table_covering(t, NULL, A, two, 0) == a2);
    struct lease *b = lease_table_grant(t, B, BUDGET_MS, 0);
    CHECK(b != NULL && b->job.batch_id == one && !b->duplicate);
    lease_table_free(t);
    queue_free(q);
}

/* A lease that could not be sent gives its range back at once. */
static void test_revoke(void)
{
    struct queue *q = queue_new();
    apply_submit_chunked(q, 10, 10);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *x = lease_table_grant(t, A, BUDGET_MS, 0);
    lease_table_revoke(t, x);
    CHECK_INT_EQ(lease_table_count_of(t, A), 0);
    x = lease_table_grant(t, B, BUDGET_MS, 0);
    CHECK(x != NULL && x->job.lo == 0 && x->job.hi == 10 && !x->duplicate);
    lease_table_free(t);
    queue_free(q);
}

int main(void)
{
    test_how_many_a_node_holds();
    test_deep_while_much_is_left();
    test_tail_copies();
    test_find_and_cover();
    test_deadlines();
    test_budgets();
    test_unfactored_due();
    test_settling();
    test_settled_and_cancelled_leave_quietly();
    test_drop_node();
    test_drop_node_batch();
    test_revoke();
    return 0;
}
