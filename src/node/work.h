/* work.h - the interface of src/node/work.c (see that file for why).
 *
 * work.c is this node's side of the work plane behind a narrow seam: it
 * names no `struct node`, no uv and no consensus; what it asks of the
 * process around it (the clock, the replica, the links, the worker pool)
 * is a `struct work_io`. The node wires it in work_node.c, the simulator
 * in tests/sim/work.c: the same code runs in both (doc/DESIGN.md, "The
 * runtime's floors"). */
#ifndef MESH_NODE_WORK_H
#define MESH_NODE_WORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "log.h"
#include "meshmsg.h"
#include "queue.h"
#include "worker.h"

struct work;
struct work_leases;

/* What work.c asks of its host; ud is work_config's. Every function is
 * set. */
struct work_io {
    uint64_t (*now)(void *ud);                          /* ms, monotonic */
    struct queue *(*queue)(void *ud);                   /* this replica, now */
    uint64_t (*leader)(void *ud);                       /* raft's view now, 0: none */
    uint64_t (*known_leader)(void *ud);                 /* the leader this node follows */
    uint64_t (*applied)(void *ud);                      /* this replica's applied index */
    bool (*is_member)(void *ud, uint64_t id);
    bool (*stopping)(void *ud);
    /* A link message to a peer: 0 sent (queued), else refused. */
    int (*send)(void *ud, uint64_t peer, uint8_t type, const uint8_t *data, size_t len);
    /* Results, or a lease's end, for this node's own leader half. */
    void (*own_results)(void *ud, uint64_t batch, const struct msg_result *items, size_t count);
    void (*own_lease_end)(void *ud, const struct msg_lease_end *e);
    /* The worker pool: idle workers (0 without a pool), a job for one,
     * every job of a batch stopped (each ends through work_on_job_end). */
    unsigned (*idle_workers)(void *ud);
    bool (*assign)(void *ud, const struct sched_job *job);
    void (*abort_batch)(void *ud, uint64_t batch);
    /* Numbers done and of them unfactored, for the node's figures. */
    void (*counted)(void *ud, unsigned done, unsigned unfactored);
    void (*log)(void *ud, enum log_level level, const char *text);
};

struct work_config {
    const struct work_io *io;
    void *ud;
    uint64_t self;              /* this node's id */
    /* Fault injection for tests: the next N RESULTS messages to a remote
     * leader are lost as a reset link loses them. 0 in every normal run. */
    unsigned long drop_results;
};

/* NULL when out of memory. */
struct work *work_new(const struct work_config *c);
void work_free(struct work *w);
void work_on_lease(struct work *w, uint64_t from, const struct msg_lease *l);
/* MESH_MSG_LEASE, decoded here. */
void work_on_lease_msg(struct work *w, uint64_t peer, const uint8_t *data, size_t len);
/* An entry was applied (rc 0: taken; a cancel aborts the batch's work; a
 * complete or cancel ends its leases). */
void work_on_applied_entry(struct work *w, int rc, enum qcmd_type type, uint64_t batch_id);
/* Waiting leases to idle workers. */
void work_dispatch(struct work *w);
/* What was factored goes to the leader (once per loop turn). */
void work_flush(struct work *w);
void work_on_leader_change(struct work *w);
void work_on_applied(struct work *w, uint64_t batch_id);
/* A tick: results sent and not committed for a while go again. */
void work_tick(struct work *w);
size_t work_outbox(const struct work *w);
size_t work_outbox_bytes(const struct work *w);   /* what the outbox keeps allocated */
/* No lease waiting for a worker and every result seen committed. */
bool work_settled(const struct work *w);
/* Is lease `lease` of `granter` waiting here for a worker? */
bool work_waits(const struct work *w, uint64_t granter, uint64_t lease);
/* The worker pool's callbacks (worker.h), this work as their ud. */
int work_make_number(struct work *w, uint64_t batch_id, uint64_t index, char *buf, size_t len);
void work_on_result(struct work *w, const struct worker_result *r);
void work_on_job_end(struct work *w, const struct sched_job *job, uint64_t next,
                     enum worker_end why);

#endif
