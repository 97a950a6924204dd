/* scheduler.h - hands out jobs (index ranges of a batch) to workers.
 *
 * The scheduler owns no results: the queue says what is done. It owns the
 * leasing state that is NOT replicated: a cursor per batch (the first index
 * never handed out), ranges handed back (a worker died, a node drained, a
 * lease expired) and an estimate of the cost per number, which sets the job
 * size when the batch asked for adaptive chunking. Losing this state (a new
 * leader) only means re-leasing: COMPLETE ignores duplicates. */
#ifndef MESH_SCHEDULER_H
#define MESH_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "queue.h"

enum {
    SCHED_TARGET_JOB_MS = 100,  /* adaptive chunks aim at this much work */
    SCHED_MIN_CHUNK = 1,
    SCHED_MAX_CHUNK = 4096,
    SCHED_FIRST_CHUNK = 8,      /* before anything was measured */
    SCHED_MAX_CRASHES = 2,      /* worker deaths on one number before giving up */
};

struct sched_job {
    uint64_t job_id;
    uint64_t batch_id;
    uint64_t lo, hi;    /* indexes [lo, hi) */
    uint32_t crashes;   /* worker deaths so far while factoring index lo */
    uint64_t granter;   /* the leader that leased it: its lease end goes there */
    uint64_t budget_ms; /* its batch's budget per number (batch.h:
                           BATCH_BUDGET_DEFAULT, BATCH_BUDGET_NONE or ms) */
};

struct sched;

struct sched *sched_new(const struct queue *q);
void sched_free(struct sched *s);

/* Indexes held back from leasing (a hard number routed to a spread job of
 * its own, src/node/spread_hold.h): the first held index >= from of the
 * batch, or UINT64_MAX when none is. NULL (the default): none is held. */
typedef uint64_t sched_held_fn(void *ud, uint64_t batch_id, uint64_t from);
void sched_set_hold(struct sched *s, sched_held_fn *held, void *ud);
/* The first index >= from of the batch neither done nor held. */
uint64_t sched_next_free(const struct sched *s, uint64_t batch_id, uint64_t from);

/* The next job, oldest batch first, handed-back ranges before new ones.
 * Already-done indexes are skipped. False when there is nothing to hand out. */
bool sched_next_job(struct sched *s, struct sched_job *out);

/* A job ended before its end: [from, job->hi) goes back to the pool.
 * crashes counts worker deaths on index `from` (0 for a clean hand-back). */
void sched_give_back(struct sched *s, const struct sched_job *job, uint64_t from,
                     uint32_t crashes);

/* Whether the running batches have at least `enough` numbers never handed
 * out and not done (what is handed back again is not counted). */
bool sched_left_at_least(const struct sched *s, uint64_t enough);

/* Measured cost: `numbers` numbers of a batch took `ms` of worker time. */
void sched_observe(struct sched *s, uint64_t batch_id, uint64_t numbers, double ms);

/* Forgets the cursors, so undone indexes that no job holds are found again.
 * The node calls it when no job is out but a running batch is unfinished
 * (a give-back lost to ENOMEM, a lease whose holder vanished). */
void sched_rescan(struct sched *s);

/* Drops leasing state of batches that are no longer running. */
void sched_prune(struct sched *s);

#endif
