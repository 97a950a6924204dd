/* worker.h - the worker pool: N child processes running the factoring kernel.
 *
 * Each worker is the mesh binary re-executed as `mesh __worker`, speaking the
 * line protocol of src/factor/child.h over pipes, so a crash or a hang in
 * the kernel on one number costs one process, never the node. The pool
 * feeds a job's numbers a few at a time (a window), which keeps the child
 * busy yet lets drain hand back what has not started; a worker whose
 * numbers come back fast holds a queue of jobs and a wider window, written
 * once a loop iteration (doc/DESIGN.md, "The result plane's CPU per
 * number"). A number that
 * outlives its budget by a margin gets its worker killed; a dead worker is
 * respawned. */
#ifndef MESH_WORKER_H
#define MESH_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "log.h"
#include "progress.h"
#include "scheduler.h"

enum worker_end {
    WORKER_JOB_DONE,      /* every number answered */
    WORKER_JOB_CRASHED,   /* the worker died on index `next` */
    WORKER_JOB_TIMEOUT,   /* index `next` outlived its budget; worker killed */
    WORKER_JOB_RETURNED,  /* drain: [next, hi) was never started */
    WORKER_JOB_ABORTED,   /* cancel: the job's batch is gone */
};

struct worker_result {
    uint64_t batch_id, index;
    const char *text;   /* canonical: "p1 p2 ..." [+ " unfactored:C"] */
    size_t len;         /* of text */
    bool unfactored;
    double ms;          /* worker time spent on this number */
};

struct worker_pool_config {
    uv_loop_t *loop;
    struct mesh_log *log;
    unsigned count;
    uint64_t budget_ms;         /* per number, for jobs whose batch leaves it
                                   to the node (BATCH_BUDGET_DEFAULT); 0 =
                                   unlimited. A job's own budget wins */
    int stderr_fd;              /* the children's stderr (the log while a
                                   dashboard owns the terminal) */
    void *ud;
    /* Writes number #index of a batch as decimal; -1 if the batch is gone. */
    int (*make_number)(void *ud, uint64_t batch_id, uint64_t index, char *buf,
                       size_t len);
    void (*on_result)(void *ud, const struct worker_result *r);
    void (*on_job_end)(void *ud, const struct sched_job *job, uint64_t next,
                       enum worker_end why);
    void (*on_idle)(void *ud);  /* a worker can take a job */
};

struct worker_pool;

int worker_pool_start(struct worker_pool **out, const struct worker_pool_config *cfg);

/* Gives the job to an idle worker, else to the queue of a fast one; false
 * when no worker can take it. */
bool worker_pool_assign(struct worker_pool *p, const struct sched_job *job);

/* A worker on a long number, as its child last told (progress.h). */
struct worker_progress {
    uint64_t batch_id, index;
    unsigned worker;            /* its slot in the pool, 0.. */
    struct factor_progress_record rec;
    uint64_t heard_ms;          /* loop time of the record */
};

/* The workers whose current number has told its progress, up to max of
 * them, in pool order; returns how many were written. */
size_t worker_pool_progress(const struct worker_pool *p, struct worker_progress *out,
                            size_t max);

/* What a busy worker is on: its job's batch and the number it works. */
struct worker_at {
    uint64_t batch_id, index;
    unsigned worker;
};
/* The busy workers, up to max, in pool order; returns how many. */
size_t worker_pool_jobs(const struct worker_pool *p, struct worker_at *out, size_t max);

/* Workers that can take a job now (idle, or fast with room in their queue). */
unsigned worker_pool_idle(const struct worker_pool *p);
unsigned worker_pool_busy(const struct worker_pool *p);
unsigned worker_pool_size(const struct worker_pool *p);

/* Drain: stop feeding numbers; each job ends RETURNED once its started
 * numbers are answered. */
void worker_pool_return_unstarted(struct worker_pool *p);

/* Cancel: kill the workers busy with this batch (respawned at once); their
 * jobs end ABORTED. */
void worker_pool_abort_batch(struct worker_pool *p, uint64_t batch_id);

/* Kills every child and closes every handle; `done` runs when all closed. */
void worker_pool_stop(struct worker_pool *p, void (*done)(void *ud), void *ud);
void worker_pool_free(struct worker_pool *p);

#endif
