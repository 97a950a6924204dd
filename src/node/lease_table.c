/* lease_table.c - the leader's leases (lease_table.h says what and why).
 *
 * Leases are soft state, never in the log: a new leader starts from an
 * empty table and re-leases whatever its replica shows not done (results
 * are deterministic and the queue ignores duplicates, so re-doing work is
 * only a cost). A few leases per node and a few settling ranges: plain
 * lists, walked whole. */
#include "lease_table.h"

#include <stdlib.h>

#include "batch.h"

struct settling {                   /* a DONE lease's range, until committed */
    struct sched_job job;
    uint64_t node;                  /* who said it was done */
    uint64_t due_ms;
    struct settling *next;
};

struct lease_table {
    const struct queue *queue;
    struct sched *sched;
    struct lease *leases;
    struct settling *settling;
    uint64_t next_id;
};

struct lease_table *lease_table_new(const struct queue *q, uint64_t now_ms)
{
    struct lease_table *t = calloc(1, sizeof *t);
    if (t == NULL || (t->sched = sched_new(q)) == NULL) {
        free(t);
        return NULL;
    }
    t->queue = q;
    t->next_id = (now_ms << 20) | 1;
    return t;
}

void lease_table_free(struct lease_table *t)
{
    if (t == NULL)
        return;
    while (t->leases != NULL) {
        struct lease *x = t->leases;
        t->leases = x->next;
        free(x);
    }
    while (t->settling != NULL) {
        struct settling *s = t->settling;
        t->settling = s->next;
        free(s);
    }
    sched_free(t->sched);
    free(t);
}

void lease_table_set_hold(struct lease_table *t, sched_held_fn *held, void *ud)
{
    sched_set_hold(t->sched, held, ud);
}

const struct lease *lease_table_first(const struct lease_table *t)
{
    return t->leases;
}

size_t lease_table_count_of(const struct lease_table *t, uint64_t node)
{
    size_t count = 0;
    for (const struct lease *x = t->leases; x != NULL; x = x->next)
        count += x->node == node;
    return count;
}

static uint64_t numbers_of(const struct lease_table *t, uint64_t node)
{
    uint64_t count = 0;
    for (const struct lease *x = t->leases; x != NULL; x = x->next)
        if (x->node == node)
            count += x->job.hi - x->job.lo;
    return count;
}

bool lease_table_wants_more(const struct lease_table *t, uint64_t node, unsigned workers)
{
    size_t held = lease_table_count_of(t, node);
    if (held < workers + LEASE_PREFETCH)
        return true;
    bool deep = sched_left_at_least(t->sched, DEEP_LEASE_LEFT);
    size_t depth = deep ? DEEP_LEASE_DEPTH : SMALL_LEASE_DEPTH;
    uint64_t numbers = deep ? DEEP_LEASE_NUMBERS : SMALL_LEASE_NUMBERS;
    return held < (size_t)workers * depth && numbers_of(t, node) < (uint64_t)workers * numbers;
}

/* ---- granting ------------------------------------------------------------- */

static void unlink_lease(struct lease_table *t, struct lease *x)
{
    for (struct lease **pp = &t->leases; *pp != NULL; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            return;
        }
}

/* The oldest lease held elsewhere that has no copy yet (the tail). */
static struct lease *oldest_uncopied(struct lease_table *t, uint64_t not_node)
{
    struct lease *best = NULL;
    for (struct lease *x = t->leases; x != NULL; x = x->next)
        if (!x->copied && !x->duplicate && x->node != not_node &&
            (best == NULL || x->issued_ms < best->issued_ms))
            best = x;
    return best;
}

/* A batch left to the node default is timed by the leader's option: nodes
 * are expected to share it. Without a budget, a minute stands in. */
static uint64_t budget_of(const struct sched_job *job, uint64_t default_budget_ms)
{
    uint64_t budget = batch_budget_resolve(job->budget_ms, default_budget_ms);
    return budget ? budget : LEASE_NO_BUDGET_MS;
}

struct lease *lease_table_grant(struct lease_table *t, uint64_t node,
                                uint64_t default_budget_ms, uint64_t now_ms)
{
    struct sched_job job;
    struct lease *orig = NULL;
    if (!sched_next_job(t->sched, &job)) {
        orig = oldest_uncopied(t, node);
        if (orig == NULL)
            return NULL;
        job = orig->job;
    }
    struct lease *x = calloc(1, sizeof *x);
    if (x == NULL) {
        if (orig == NULL)
            sched_give_back(t->sched, &job, job.lo, job.crashes);
        return NULL;
    }
    x->id = t->next_id++;
    x->node = node;
    x->job = job;
    x->job.job_id = x->id;
    x->issued_ms = now_ms;
    x->budget_ms = budget_of(&job, default_budget_ms); /* the scheduler read the batch's */
    x->deadline_ms = now_ms + x->budget_ms + LEASE_GRACE_MS;
    if (orig != NULL) {
        orig->copied = true;
        x->duplicate = true;
    }
    x->next = t->leases;
    t->leases = x;
    return x;
}

void lease_table_revoke(struct lease_table *t, struct lease *x)
{
    lease_table_requeue(t, x, x->job.lo, x->job.crashes);
}

/* ---- finding -------------------------------------------------------------- */

struct lease *lease_table_find(struct lease_table *t, uint64_t id, uint64_t node)
{
    for (struct lease *x = t->leases; x != NULL; x = x->next)
        if (x->id == id && x->node == node)
            return x;
    return NULL;
}

static bool holds(const struct lease *x, uint64_t node, uint64_t batch, uint64_t index)
{
    return x->node == node && x->job.batch_id == batch && index >= x->job.lo &&
           index < x->job.hi;
}

struct lease *lease_table_covering(struct lease_table *t, struct lease *hint, uint64_t node,
                                   uint64_t batch, uint64_t index)
{
    if (hint != NULL && holds(hint, node, batch, index))
        return hint;
    for (struct lease *x = t->leases; x != NULL; x = x->next)
        if (holds(x, node, batch, index))
            return x;
    return NULL;
}

void lease_table_heard_from(struct lease_table *t, uint64_t node, uint64_t batch,
                            uint64_t now_ms)
{
    for (struct lease *x = t->leases; x != NULL; x = x->next)
        if (x->node == node && x->job.batch_id == batch)
            x->deadline_ms = now_ms + x->budget_ms + LEASE_GRACE_MS;
}

bool lease_table_unfactored_due(const struct lease *x, uint64_t index, uint64_t now_ms)
{
    enum { CLOCK_LEEWAY_MS = 50 }; /* the loop's clock is cached */
    if (index == x->job.lo && x->job.crashes + 1 >= SCHED_MAX_CRASHES)
        return true;
    uint64_t held = now_ms - x->issued_ms + CLOCK_LEEWAY_MS;
    return held >= (uint64_t)(x->unfactored + 1) * x->budget_ms;
}

/* ---- ending ----------------------------------------------------------------- */

void lease_table_requeue(struct lease_table *t, struct lease *x, uint64_t from,
                         uint32_t crashes)
{
    unlink_lease(t, x);
    if (!x->duplicate && from < x->job.hi)
        sched_give_back(t->sched, &x->job, from < x->job.lo ? x->job.lo : from, crashes);
    free(x);
}

/* A tail copy's range is its original's, which settles or is requeued
 * itself. Out of memory the range is requeued at once: redone work costs
 * less than a batch that never ends. */
void lease_table_done(struct lease_table *t, struct lease *x, uint64_t now_ms)
{
    sched_observe(t->sched, x->job.batch_id, x->job.hi - x->job.lo,
                  (double)(now_ms - x->issued_ms));
    struct settling *s = x->duplicate ? NULL : malloc(sizeof *s);
    unlink_lease(t, x);
    if (s != NULL) {
        *s = (struct settling){x->job, x->node, now_ms + SETTLE_MS, t->settling};
        t->settling = s;
    } else if (!x->duplicate) {
        sched_give_back(t->sched, &x->job, x->job.lo, 0);
    }
    free(x);
}

static unsigned drop(struct lease_table *t, uint64_t node, bool any_batch, uint64_t batch)
{
    unsigned dropped = 0;
    for (struct lease *x = t->leases; x != NULL;) {
        struct lease *next = x->next;
        if (x->node == node && (any_batch || x->job.batch_id == batch)) {
            lease_table_requeue(t, x, x->job.lo, x->job.crashes);
            dropped++;
        }
        x = next;
    }
    return dropped;
}

unsigned lease_table_drop_node(struct lease_table *t, uint64_t node)
{
    return drop(t, node, true, 0);
}

unsigned lease_table_drop_node_batch(struct lease_table *t, uint64_t node, uint64_t batch)
{
    return drop(t, node, false, batch);
}

/* ---- the tick ------------------------------------------------------------- */

void lease_table_expire(struct lease_table *t, uint64_t now_ms, lease_tell_fn *expired,
                        void *ud)
{
    for (struct lease *x = t->leases; x != NULL;) {
        struct lease *next = x->next;
        if (now_ms > x->deadline_ms) {
            if (expired != NULL)
                expired(ud, &(struct lease_told){&x->job, x->node, x->job.lo});
            lease_table_requeue(t, x, x->job.lo, x->job.crashes);
        }
        x = next;
    }
}

/* The first index of s's range not yet done (its end when nothing is left,
 * or its batch no longer runs). */
static uint64_t first_undone(const struct lease_table *t, const struct settling *s)
{
    struct batch_info info;
    if (queue_batch_get(t->queue, s->job.batch_id, &info) != 0 ||
        info.state != BATCH_RUNNING)
        return s->job.hi;
    return sched_next_free(t->sched, s->job.batch_id, s->job.lo);
}

void lease_table_settle(struct lease_table *t, uint64_t now_ms, bool idle,
                        lease_tell_fn *requeued, void *ud)
{
    for (struct settling **pp = &t->settling; *pp != NULL;) {
        struct settling *s = *pp;
        uint64_t next = first_undone(t, s);
        if (next < s->job.hi && (now_ms < s->due_ms || !idle)) {
            pp = &s->next;
            continue;
        }
        if (next < s->job.hi) {
            if (requeued != NULL)
                requeued(ud, &(struct lease_told){&s->job, s->node, next});
            sched_give_back(t->sched, &s->job, next, 0);
        }
        *pp = s->next;
        free(s);
    }
}

void lease_table_prune(struct lease_table *t)
{
    sched_prune(t->sched);
}
