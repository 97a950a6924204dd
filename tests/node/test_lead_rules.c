/* test_lead_rules.c - the leader's work-plane decisions
 * (src/node/lead_rules.c) on a real queue, scheduler and verifier, with
 * the time made up: which results are taken, what a wrong one costs its
 * sender, who is read at all, lease ends, filling a node, the tick. The
 * simulator runs the same code (tests/sim/lead.c). */
#include <stdlib.h>

#include "../core/queue_helpers.h"
#include "check.h"
#include "node/lead_rules.h"

enum { A = 0xa, B = 0xb, BUDGET_MS = 1000 };

/* The factors of 1000 + i, i < 6 (a range batch starting at 1000). */
static const char *right[] = {"2 2 2 5 5 5", "7 11 13", "2 3 167", "17 59", "2 2 251",
                              "3 5 67"};

struct seen {
    unsigned taken, refused, wrong;
    uint64_t last_taken, last_refused;
    size_t skipped;
    const char *why;
    bool stop_at_taken;             /* accept() says out of memory */
    unsigned with_words;            /* taken with the parts the check read */
    size_t words_seen;              /* how many, the last time */
};

static bool take(void *ud, uint64_t batch, const struct msg_result *r, const uint64_t *words,
                 size_t n_words)
{
    struct seen *s = ud;
    (void)batch;
    s->with_words += words != NULL;
    s->words_seen = n_words;
    if (s->stop_at_taken)
        return false;
    s->taken++;
    s->last_taken = r->index;
    return true;
}

static void refuse(void *ud, uint64_t batch, uint64_t index, const char *why, bool wrong,
                   size_t skipped)
{
    struct seen *s = ud;
    (void)batch;
    s->refused++;
    s->wrong += wrong;
    s->last_refused = index;
    s->why = why;
    s->skipped = skipped;
}

static struct msg_result res(uint64_t index, const char *text)
{
    return (struct msg_result){index, text, strlen(text)};
}

static void read_msg(struct queue *q, struct lease_table *t, struct seen *s, uint64_t from,
                     bool member, uint64_t batch, const struct msg_result *r, size_t n,
                     uint64_t now)
{
    struct taken *held = taken_new();
    CHECK(held != NULL);
    struct lead_results ctx = {q, t, NULL, held, now, take, refuse, s};
    lead_rules_on_results(&ctx, from, member, batch, r, n);
    taken_free(held);
}

/* Right results are taken, inside a lease or not (one computed for an
 * earlier leader), done ones skipped; the sender's deadlines move on. */
static void test_right_results_taken(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 6, 3);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *x = lease_table_grant(t, A, BUDGET_MS, 0);  /* [0, 3) */
    struct qcmd c = make_complete(id, 1, 0, right[0]);
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    qcmd_free(&c);
    struct msg_result r[] = {res(0, right[0]), res(1, right[1]), res(4, right[4])};
    struct seen s = {0};
    read_msg(q, t, &s, A, true, id, r, 3, 500);
    CHECK_INT_EQ(s.taken, 2);       /* 0 was done */
    CHECK_INT_EQ(s.last_taken, 4);  /* outside A's lease, right: taken */
    CHECK_INT_EQ(s.with_words, 2);  /* with the parts the check read: */
    CHECK_INT_EQ(s.words_seen, 3);  /* "2 2 251" */
    CHECK_INT_EQ(s.refused, 0);
    CHECK_INT_EQ(x->deadline_ms, 500 + BUDGET_MS + LEASE_GRACE_MS);
    /* accept() out of memory: the rest is not read, nothing renewed */
    s = (struct seen){.stop_at_taken = true};
    read_msg(q, t, &s, A, true, id, r, 3, 900);
    CHECK_INT_EQ(x->deadline_ms, 500 + BUDGET_MS + LEASE_GRACE_MS);
    /* a batch not running here: nothing read */
    s = (struct seen){0};
    read_msg(q, t, &s, A, true, id + 1, r, 3, 900);
    CHECK_INT_EQ(s.taken + s.refused, 0);
    lease_table_free(t);
    queue_free(q);
}

/* A result taken and not yet committed is not taken again, from its
 * sender or another node (an outbox resending, a range leased again while
 * its results wait in the log: mesh-sim seed 135757244343110 committed
 * one result in 14 blocks); once the set forgets it, it is taken again. */
static void test_taken_once(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 6, 3);
    struct lease_table *t = lease_table_new(q, 1);
    struct taken *held = taken_new();
    CHECK(held != NULL);
    struct seen s = {0};
    struct lead_results ctx = {q, t, NULL, held, 500, take, refuse, &s};
    struct msg_result r[] = {res(1, right[1]), res(2, right[2])};
    lead_rules_on_results(&ctx, A, true, id, r, 2);
    CHECK_INT_EQ(s.taken, 2);
    lead_rules_on_results(&ctx, A, true, id, r, 2);
    lead_rules_on_results(&ctx, B, true, id, r + 1, 1);
    CHECK_INT_EQ(s.taken, 2);
    struct msg_result more[] = {res(2, right[2]), res(3, right[3])};
    lead_rules_on_results(&ctx, B, true, id, more, 2);
    CHECK_INT_EQ(s.taken, 3);
    CHECK_INT_EQ(s.last_taken, 3);
    taken_clear(held); /* a proposal failed: taken again */
    lead_rules_on_results(&ctx, B, true, id, r, 2);
    CHECK_INT_EQ(s.taken, 5);
    CHECK_INT_EQ(s.refused, 0);
    taken_free(held);
    lease_table_free(t);
    queue_free(q);
}

/* A wrong result: refused as wrong, the rest of the message unread, every
 * lease of the sender in that batch given back (not only the covering
 * one), none renewed; its leases of another batch and others' stay. */
static void test_wrong_result_costs_the_batch(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 6, 2);
    uint64_t other = apply_submit_chunked(q, 6, 6);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *a1 = lease_table_grant(t, A, BUDGET_MS, 0);  /* [0, 2) */
    struct lease *a2 = lease_table_grant(t, A, BUDGET_MS, 0);  /* [2, 4) */
    struct lease *b1 = lease_table_grant(t, B, BUDGET_MS, 0);  /* [4, 6) */
    struct lease *a3 = lease_table_grant(t, A, BUDGET_MS, 0);  /* the other batch */
    CHECK(a1->job.batch_id == id && a2->job.lo == 2 && b1->job.lo == 4);
    CHECK(a3->job.batch_id == other);
    struct msg_result r[] = {res(0, right[0]), res(2, "2 3 7"), res(3, right[3])};
    struct seen s = {0};
    read_msg(q, t, &s, A, true, id, r, 3, 700);
    CHECK_INT_EQ(s.taken, 1);
    CHECK_INT_EQ(s.refused, 1);
    CHECK_INT_EQ(s.wrong, 1);
    CHECK_INT_EQ(s.last_refused, 2);
    CHECK_INT_EQ(s.skipped, 1);
    CHECK_INT_EQ(lease_table_count_of(t, A), 1);   /* only the other batch's */
    CHECK_INT_EQ(a3->deadline_ms, BUDGET_MS + LEASE_GRACE_MS);  /* not renewed */
    CHECK_INT_EQ(b1->deadline_ms, BUDGET_MS + LEASE_GRACE_MS);
    /* [0, 4) is leased again */
    struct lease *again = lease_table_grant(t, B, BUDGET_MS, 800);
    CHECK(again != NULL && again->job.batch_id == id && !again->duplicate);
    lease_table_free(t);
    queue_free(q);
}

/* A non-member's results are all refused, not as wrong (and cost no
 * arithmetic); a drained node's outside its leases likewise, inside its
 * leases taken. */
static void test_who_is_read(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 6, 3);
    struct lease_table *t = lease_table_new(q, 1);
    lease_table_grant(t, A, BUDGET_MS, 0);  /* [0, 3) */
    struct msg_result r[] = {res(1, right[1]), res(4, "not even a number")};
    struct seen s = {0};
    read_msg(q, t, &s, B, false, id, r, 2, 1);
    CHECK_INT_EQ(s.taken, 0);
    CHECK_INT_EQ(s.refused, 2);
    CHECK_INT_EQ(s.wrong, 0);
    CHECK_STR_EQ(s.why, "no lease: not a member");
    struct qcmd c = make_drain(A, true);
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    qcmd_free(&c);
    struct msg_result r2[] = {res(1, right[1]), res(4, right[4])};
    s = (struct seen){0};
    read_msg(q, t, &s, A, true, id, r2, 2, 1);
    CHECK_INT_EQ(s.taken, 1);
    CHECK_INT_EQ(s.last_taken, 1);
    CHECK_INT_EQ(s.refused, 1);
    CHECK_INT_EQ(s.wrong, 0);
    CHECK_STR_EQ(s.why, "no lease: drained");
    CHECK(!lead_rules_takes_work(false, true, true));
    CHECK(!lead_rules_takes_work(true, false, true));
    CHECK(!lead_rules_takes_work(false, false, false));
    CHECK(lead_rules_takes_work(false, false, true));
    lease_table_free(t);
    queue_free(q);
}

/* An unfactored result outside a lease is refused but not wrong (a node
 * resends it to a new leader); inside one before the budget ran out it is
 * wrong. */
static void test_unfactored(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 6, 3);
    struct lease_table *t = lease_table_new(q, 1);
    lease_table_grant(t, A, BUDGET_MS, 0);  /* [0, 3) */
    struct msg_result out[] = {res(4, "2 2 unfactored:251")};
    struct seen s = {0};
    read_msg(q, t, &s, A, true, id, out, 1, 10);
    CHECK_INT_EQ(s.refused, 1);
    CHECK_INT_EQ(s.wrong, 0);
    CHECK_INT_EQ(lease_table_count_of(t, A), 1);
    struct msg_result in[] = {res(1, "7 unfactored:143")};
    s = (struct seen){0};
    read_msg(q, t, &s, A, true, id, in, 1, 10);
    CHECK_INT_EQ(s.wrong, 1);
    CHECK_STR_EQ(s.why, "unfactored before the number's budget ran out");
    CHECK_INT_EQ(lease_table_count_of(t, A), 0);
    /* Once the budget ran out it is taken, as its text (a rest is never
     * made a factor of the item). */
    lease_table_grant(t, A, BUDGET_MS, 20);  /* [0, 3) again */
    s = (struct seen){0};
    read_msg(q, t, &s, A, true, id, in, 1, 20 + BUDGET_MS);
    CHECK_INT_EQ(s.taken, 1);
    CHECK_INT_EQ(s.with_words, 0);
    lease_table_free(t);
    queue_free(q);
}

/* A lease end: done settles the range (not leased again at once), not
 * done gives back from `next`; an unknown lease changes nothing. */
static void test_lease_end(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 6, 3);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *a1 = lease_table_grant(t, A, BUDGET_MS, 0);  /* [0, 3) */
    struct lease *a2 = lease_table_grant(t, A, BUDGET_MS, 0);  /* [3, 6) */
    uint64_t id1 = a1->id, id2 = a2->id;
    CHECK(!lead_rules_on_lease_end(t, B, id1, true, 3, 0, 5));   /* not B's */
    CHECK(!lead_rules_on_lease_end(t, A, id2 + 100, true, 3, 0, 5));
    CHECK(lead_rules_on_lease_end(t, A, id1, true, 3, 0, 5));
    CHECK(!lead_rules_on_lease_end(t, A, id1, true, 3, 0, 5));   /* ended already */
    CHECK(lead_rules_on_lease_end(t, A, id2, false, 5, 1, 5));
    struct lease *x = lease_table_grant(t, B, BUDGET_MS, 6);
    CHECK(x != NULL && x->job.batch_id == id && x->job.lo == 5 && x->job.hi == 6 &&
          x->job.crashes == 1);
    CHECK(lease_table_grant(t, B, BUDGET_MS, 6) == NULL);   /* [0, 3) settles */
    lease_table_free(t);
    queue_free(q);
}

struct sends {
    unsigned ok, tried;
    unsigned fail_at;               /* the send that fails (1-based; 0: none) */
};

static bool send(void *ud, const struct lease *x)
{
    struct sends *s = ud;
    (void)x;
    s->tried++;
    if (s->tried == s->fail_at)
        return false;
    s->ok++;
    return true;
}

/* A node is filled up to what it has room for; a lease that cannot be
 * sent goes back and ends the filling. */
static void test_fill(void)
{
    struct queue *q = queue_new();
    apply_submit_chunked(q, 100000, 1000);
    struct lease_table *t = lease_table_new(q, 1);
    struct sends s = {0};
    lead_rules_fill(t, A, 2, BUDGET_MS, 1, send, &s);
    CHECK_INT_EQ(s.ok, 2 + LEASE_PREFETCH);
    CHECK_INT_EQ(lease_table_count_of(t, A), 2 + LEASE_PREFETCH);
    s = (struct sends){.fail_at = 2};
    lead_rules_fill(t, B, 2, BUDGET_MS, 1, send, &s);
    CHECK_INT_EQ(s.tried, 2);
    CHECK_INT_EQ(lease_table_count_of(t, B), 1);
    /* the range that could not be sent is the next one leased */
    struct lease *x = lease_table_grant(t, B, BUDGET_MS, 2);
    CHECK(x != NULL && x->job.lo == 4000);
    lease_table_free(t);
    queue_free(q);
}

static unsigned told;
static void tell(void *ud, const struct lease_told *w)
{
    (void)ud, (void)w;
    told++;
}

/* The tick: an expired lease goes back, a settled range past due goes back
 * only when idle. */
static void test_tick(void)
{
    struct queue *q = queue_new();
    apply_submit_chunked(q, 6, 3);
    struct lease_table *t = lease_table_new(q, 1);
    struct lease *a1 = lease_table_grant(t, A, BUDGET_MS, 0);
    lease_table_grant(t, A, BUDGET_MS, 0);
    lease_table_done(t, a1, 100);
    told = 0;
    lead_rules_tick(t, BUDGET_MS + LEASE_GRACE_MS + 1, false, tell, tell, NULL);
    CHECK_INT_EQ(told, 1);          /* the second lease expired */
    CHECK_INT_EQ(lease_table_count_of(t, A), 0);
    lead_rules_tick(t, 100 + SETTLE_MS + 1, false, tell, tell, NULL);
    CHECK_INT_EQ(told, 1);          /* not idle: the settled range waits */
    lead_rules_tick(t, 100 + SETTLE_MS + 1, true, tell, tell, NULL);
    CHECK_INT_EQ(told, 2);
    lease_table_free(t);
    queue_free(q);
}

/* What a lease asks its node to have applied: the index at the batch's
 * first lease, however far the log has gone since, for each of the last
 * LEASE_NEEDS_KEPT batches; a batch no longer remembered asks the current
 * index (later than needed, never earlier). */
static void test_lease_needs(void)
{
    struct lease_needs n = {0};
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 7, 40), 40);
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 7, 41), 40);
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 7, 500), 40);
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 8, 510), 510); /* another batch: its own */
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 7, 520), 40);
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 8, 530), 510);
    for (uint64_t b = 100; b < 100 + LEASE_NEEDS_KEPT - 2; b++)
        CHECK_INT_EQ(lead_rules_lease_needs(&n, b, 600 + b), 600 + b);
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 7, 900), 40); /* still one of the last 8 */
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 9, 910), 910);  /* pushes batch 7 out */
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 7, 920), 920);  /* forgotten: the current */
    CHECK_INT_EQ(lead_rules_lease_needs(&n, 7, 990), 920);
    /* index 0 (nothing applied) is not remembered as a batch's: asked again */
    struct lease_needs z = {0};
    CHECK_INT_EQ(lead_rules_lease_needs(&z, 0, 0), 0);
    CHECK_INT_EQ(lead_rules_lease_needs(&z, 0, 5), 5);
}

int main(void)
{
    test_lease_needs();
    test_right_results_taken();
    test_taken_once();
    test_wrong_result_costs_the_batch();
    test_who_is_read();
    test_unfactored();
    test_lease_end();
    test_fill();
    test_tick();
    return 0;
}
