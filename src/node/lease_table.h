/* lease_table.h - the leader's leases, as a small self-contained table.
 *
 * Who holds which range of which batch, until when, and the ranges of
 * leases that ended DONE, settling until their results are committed. It
 * sits on the scheduler (which ranges are left) and reads the queue (what
 * is done); it has no clock (every call is told the time), sends nothing
 * and proposes nothing: lead.c does that and asks this table what to do.
 * So the lease rules run in a C test with a made-up clock
 * (tests/node/test_lease_table.c), and in the simulator when it runs the
 * leader. doc/DESIGN.md, "Leases across a leader change", "Leases settle". */
#ifndef MESH_NODE_LEASE_TABLE_H
#define MESH_NODE_LEASE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler.h"

enum {
    LEASE_PREFETCH = 1,             /* leases beyond one per worker ... */
    SMALL_LEASE_NUMBERS = 256,      /* ... and, while leases are this small, */
    SMALL_LEASE_DEPTH = 8,          /* up to this many per worker */
    /* While the running batches have DEEP_LEASE_LEFT numbers or more left
     * to hand out, a node holds small leases up to these (a fast worker's
     * queue in the pool, worker.c's JOBS_MAX and FAST_WINDOW): */
    DEEP_LEASE_NUMBERS = 1024,
    DEEP_LEASE_DEPTH = 16,
    DEEP_LEASE_LEFT = 8192,
    LEASE_GRACE_MS = 10000,         /* silence past the number budget: requeue */
    SETTLE_MS = 10000,              /* a DONE lease's uncommitted rest: re-lease
                                     * (longer than the sender's resend, so a
                                     * result lost once is resent, not redone) */
    LEASE_NO_BUDGET_MS = 60000,     /* stands in for a budget when there is none */
};

struct lease {
    uint64_t id, node;
    struct sched_job job;
    uint64_t issued_ms, deadline_ms;
    uint64_t budget_ms;             /* per number, resolved (never 0) */
    bool duplicate;                 /* a tail copy of another lease */
    bool copied;                    /* ... has a copy already */
    uint32_t unfactored;            /* its results taken as unfactored */
    struct lease *next;
};

struct lease_table;

/* Lease ids are unique within one table; `now_ms` is mixed into the first
 * so a stale LEASE_END of an earlier leadership does not match. NULL when
 * out of memory. */
struct lease_table *lease_table_new(const struct queue *q, uint64_t now_ms);
void lease_table_free(struct lease_table *t);
/* Indexes never to lease (sched_set_hold): a routed hard number's. */
void lease_table_set_hold(struct lease_table *t, sched_held_fn *held, void *ud);

/* The leases held, newest first (read-only walk). */
const struct lease *lease_table_first(const struct lease_table *t);
size_t lease_table_count_of(const struct lease_table *t, uint64_t node);

/* Whether `node`, with `workers` workers, should be given another lease:
 * one per worker plus LEASE_PREFETCH, or while its leases are small, up to
 * SMALL_LEASE_DEPTH per worker (a round trip per tiny lease would leave
 * workers idle), and DEEP_LEASE_DEPTH while much is left to hand out: a
 * node's loop busy for a few milliseconds (applying a large entry,
 * checking a large message) left its fast worker idle once it had
 * answered 256 numbers. A batch's tail, and a small batch whole, go in
 * small leases, so no node late to run holds a large share of it. */
bool lease_table_wants_more(const struct lease_table *t, uint64_t node, unsigned workers);

/* A new lease for `node`: a range the scheduler has, else (a batch's tail)
 * a copy of the oldest lease held elsewhere that has none yet; NULL when
 * there is nothing to lease. Its deadline is its budget per number (the
 * batch's, else `default_budget_ms`, the node's option; 0 = none) plus
 * LEASE_GRACE_MS. */
struct lease *lease_table_grant(struct lease_table *t, uint64_t node,
                                uint64_t default_budget_ms, uint64_t now_ms);
/* A granted lease that could not be sent: its range goes back, it goes. */
void lease_table_revoke(struct lease_table *t, struct lease *x);

struct lease *lease_table_find(struct lease_table *t, uint64_t id, uint64_t node);
/* The live lease of `node` holding `index` of `batch` (hint, the one found
 * last, is tried first: one message carries one lease's results). */
struct lease *lease_table_covering(struct lease_table *t, struct lease *hint, uint64_t node,
                                   uint64_t batch, uint64_t index);

/* `node` sent results of `batch`: its leases of it get a new deadline. */
void lease_table_heard_from(struct lease_table *t, uint64_t node, uint64_t batch,
                            uint64_t now_ms);
/* May `index` of x be reported unfactored now? When its budget ran out
 * (each such number held the lease's worker a whole budget), or when it
 * killed its worker SCHED_MAX_CRASHES times. */
bool lease_table_unfactored_due(const struct lease *x, uint64_t index, uint64_t now_ms);

/* The holder says x ended DONE: its range settles for SETTLE_MS (its
 * results may still be on the way, or lost) and the scheduler learns the
 * cost per number. */
void lease_table_done(struct lease_table *t, struct lease *x, uint64_t now_ms);
/* x ended early or was refused: [from, hi) goes back to the scheduler
 * (a tail copy gives nothing back: its original holds the range). */
void lease_table_requeue(struct lease_table *t, struct lease *x, uint64_t from,
                         uint32_t crashes);
/* Every lease of `node` requeued (its link went down); how many. */
unsigned lease_table_drop_node(struct lease_table *t, uint64_t node);
/* Every lease of `node` in `batch` requeued (it sent a wrong result). */
unsigned lease_table_drop_node_batch(struct lease_table *t, uint64_t node, uint64_t batch);

/* What the periodic tick gave back, for the caller's event. */
struct lease_told {
    const struct sched_job *job;
    uint64_t node;
    uint64_t from;                  /* the first index given back */
};
typedef void lease_tell_fn(void *ud, const struct lease_told *what);

/* Leases past their deadline are requeued (expired() is told each first). */
void lease_table_expire(struct lease_table *t, uint64_t now_ms, lease_tell_fn *expired,
                        void *ud);
/* Settling ranges: committed ones (or of batches no longer running) leave;
 * those past due give back what is still not done, but only when `idle`
 * (nothing waiting to be proposed or committed: with a backlog a range may
 * just be queued, and would be computed again); requeued() is told each. */
void lease_table_settle(struct lease_table *t, uint64_t now_ms, bool idle,
                        lease_tell_fn *requeued, void *ud);
/* Leasing state of batches no longer running is dropped (the scheduler's). */
void lease_table_prune(struct lease_table *t);

#endif
