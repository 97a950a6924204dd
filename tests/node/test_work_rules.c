/* test_work_rules.c - a node's decisions on its leases
 * (src/node/work_rules.c) on a real queue and outbox: whom a lease is
 * taken from, when a waiting lease starts, which it can serve, and what a
 * leader change does (issue 18's failover bug: a new leader's leases
 * dropped silently left it counting phantom leases on an idle node). The
 * simulator runs the same code (tests/sim/work.c). */
#include <stdlib.h>

#include "../core/queue_helpers.h"
#include "check.h"
#include "node/work_rules.h"
#include "worker.h"

enum { SELF = 1, OLD = 2, NEW = 3, STRANGER = 9 };

static struct msg_lease lease(uint64_t id, uint64_t batch, uint64_t lo, uint64_t hi,
                              uint64_t needs)
{
    return (struct msg_lease){id, batch, lo, hi, needs, 0};
}

/* A lease is taken from this node, the known leader, or any member (a
 * new leader's first leases come before the news of it); not from a
 * stranger. */
static void test_whom_leases_come_from(void)
{
    CHECK(work_rules_takes_from(SELF, SELF, OLD, false));
    CHECK(work_rules_takes_from(OLD, SELF, OLD, false));
    CHECK(work_rules_takes_from(NEW, SELF, OLD, true));     /* not yet known as leader */
    CHECK(work_rules_takes_from(NEW, SELF, 0, true));
    CHECK(!work_rules_takes_from(STRANGER, SELF, OLD, false));
}

/* Leases start in arrival order, each once this replica applied the
 * entry it names; one that lags holds back those behind it. */
static void test_wait_for_the_entry(void)
{
    struct work_leases *w = work_leases_new();
    struct msg_lease a = lease(1, 1, 0, 10, 5), b = lease(2, 1, 10, 20, 3);
    CHECK(work_leases_add(w, OLD, &a));
    CHECK(work_leases_add(w, OLD, &b));
    CHECK_INT_EQ(work_leases_count(w), 2);
    CHECK(work_leases_holds(w, OLD, 2));
    CHECK(!work_leases_holds(w, NEW, 2));   /* lease ids are per granter */
    CHECK(!work_leases_holds(w, OLD, 3));
    struct waiting_lease t;
    CHECK(!work_leases_next(w, 4, &t));
    CHECK(work_leases_next(w, 5, &t));
    CHECK(t.granter == OLD && t.l.lease == 1 && t.l.lo == 0);
    CHECK(work_leases_next(w, 5, &t));
    CHECK_INT_EQ(t.l.lease, 2);
    CHECK(!work_leases_holds(w, OLD, 2));
    CHECK(!work_leases_next(w, 100, &t));
    CHECK_INT_EQ(work_leases_count(w), 0);
    /* emptied and filled again: the tail was reset */
    CHECK(work_leases_add(w, NEW, &a));
    CHECK(work_leases_next(w, 5, &t) && t.granter == NEW);
    work_leases_free(w);
}

/* Served only when the batch runs here and the range fits it. */
static void test_which_can_be_served(void)
{
    struct queue *q = queue_new();
    uint64_t id = apply_submit_chunked(q, 20, 10);
    struct msg_lease in = lease(1, id, 10, 20, 0), past = lease(2, id, 10, 21, 0);
    struct msg_lease unknown = lease(3, id + 1, 0, 10, 0);
    CHECK(work_rules_can_serve(q, &in));
    CHECK(!work_rules_can_serve(q, &past));
    CHECK(!work_rules_can_serve(q, &unknown));
    struct qcmd c = make_cancel(id);
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    qcmd_free(&c);
    CHECK(!work_rules_can_serve(q, &in));
    struct msg_lease_end e = work_rules_hand_back(&in);
    CHECK(e.lease == 1 && e.next == 10 && e.why == WORKER_JOB_ABORTED && e.crashes == 0);
    queue_free(q);
}

struct handed {
    unsigned n;
    uint64_t granter[4], lease[4];
};

static void note(void *ud, const struct waiting_lease *t)
{
    struct handed *h = ud;
    h->granter[h->n] = t->granter;
    h->lease[h->n++] = t->l.lease;
}

/* A leader change: with no leader known nothing waiting is dropped (the
 * new leader's leases may be among them); a known leader keeps its own,
 * every other granter's go back to it, in order; every kept result is
 * unsent again. */
static void test_leader_change(void)
{
    struct work_leases *w = work_leases_new();
    struct outbox *o = outbox_new();
    struct msg_lease a = lease(1, 1, 0, 10, 0), b = lease(2, 1, 10, 20, 0);
    struct msg_lease c = lease(3, 1, 20, 30, 0), d = lease(4, 1, 30, 40, 0);
    CHECK(work_leases_add(w, OLD, &a) && work_leases_add(w, NEW, &b) &&
          work_leases_add(w, OLD, &c) && work_leases_add(w, NEW, &d));
    CHECK(outbox_add(o, 1, 5, "5", 1));
    uint64_t batch;
    struct msg_result items[4];
    size_t which[4];
    CHECK_INT_EQ(outbox_next(o, &batch, items, which, 4), 1);
    outbox_sent(o, which, 1, 10);
    CHECK_INT_EQ(outbox_unsent(o), 0);
    struct handed h = {0};
    CHECK_INT_EQ(work_rules_on_leader_change(w, o, 0, note, &h), 0);
    CHECK_INT_EQ(work_leases_count(w), 4);
    CHECK_INT_EQ(outbox_unsent(o), 1);
    outbox_sent(o, which, 1, 20);
    CHECK_INT_EQ(work_rules_on_leader_change(w, o, NEW, note, &h), 2);
    CHECK(h.granter[0] == OLD && h.lease[0] == 1 && h.granter[1] == OLD && h.lease[1] == 3);
    CHECK_INT_EQ(work_leases_count(w), 2);
    CHECK_INT_EQ(outbox_unsent(o), 1);
    /* the new leader's stay, in order, and the list still appends */
    struct msg_lease e = lease(5, 1, 40, 50, 0);
    CHECK(work_leases_add(w, NEW, &e));
    struct waiting_lease t;
    CHECK(work_leases_next(w, 0, &t) && t.l.lease == 2);
    CHECK(work_leases_next(w, 0, &t) && t.l.lease == 4);
    CHECK(work_leases_next(w, 0, &t) && t.l.lease == 5);
    CHECK(!work_leases_next(w, 0, &t));
    outbox_free(o);
    work_leases_free(w);
}

int main(void)
{
    test_whom_leases_come_from();
    test_wait_for_the_entry();
    test_which_can_be_served();
    test_leader_change();
    return 0;
}
