/* lead.h - the interface of src/node/lead.c (see that file for why).
 *
 * lead.c is the leader's half of the work plane behind a narrow seam: it
 * names no `struct node`, no uv and no consensus; what it asks of the
 * process around it (the clock, the links, consensus, the peers it could
 * lease to, the events) is a `struct lead_io`. The node wires it in
 * lead_node.c, the simulator in tests/sim/lead.c: the same code runs in
 * both (doc/DESIGN.md, "The runtime's floors"). */
#ifndef MESH_NODE_LEAD_H
#define MESH_NODE_LEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"
#include "log.h"
#include "meshmsg.h"
#include "queue.h"
#include "scheduler.h"

struct lead;
struct lease;
struct factor_verifier;

/* A node the leader could lease to, as its link and gossip show it. */
struct lead_peer {
    uint64_t id;
    bool linked;                /* its link is up */
    bool member;                /* its gossip says it is a member */
    bool draining;              /* it said it drains */
    unsigned workers;           /* what it said it runs (0: not said) */
};

/* What lead.c asks of its host; ud is lead_config's. Every function is
 * set. */
struct lead_io {
    uint64_t (*now)(void *ud);                          /* ms, monotonic */
    uint64_t (*applied)(void *ud);                      /* this replica's applied index */
    bool (*is_member)(void *ud, uint64_t id);           /* in the configuration */
    size_t (*in_flight)(void *ud);                      /* proposals not yet applied */
    /* consensus_propose's contract: 0 proposed (the host re-dispatches
     * once it is applied), else err says why. */
    int (*propose)(void *ud, const struct qcmd *cmd, char *err, size_t errlen);
    bool (*stopping)(void *ud);                         /* the node shuts down */
    unsigned (*own_workers)(void *ud);
    /* The i-th node linked or known (i from 0); false past the last. */
    bool (*peer_at)(void *ud, size_t i, struct lead_peer *p);
    /* A link message to a peer: 0 sent (queued), else refused. */
    int (*send)(void *ud, uint64_t peer, uint8_t type, const uint8_t *data, size_t len);
    /* A lease for this node's own workers (the leader leasing to itself). */
    void (*own_lease)(void *ud, const struct msg_lease *m);
    /* A result refused from `from`; wrong: `skipped` after it not read. */
    void (*refused)(void *ud, uint64_t from, uint64_t batch, uint64_t index, const char *why,
                    bool wrong, size_t skipped);
    void (*event)(void *ud, enum mesh_event_kind kind, const char *text);
    void (*log)(void *ud, enum log_level level, const char *text);
};

struct lead_config {
    const struct lead_io *io;
    void *ud;
    struct queue *queue;        /* the leader's replica: read, never written */
    uint64_t self;              /* this node's id */
    uint64_t number_budget_ms;  /* per number (--number-timeout); 0: none */
    /* Shared primes for checking results; NULL: lead.c builds its own. */
    const struct factor_verifier *verifier;
    /* Indexes the scheduler must not lease (numbers routed to a spread
     * batch of their own: spread_hold.h); NULL: none. */
    sched_held_fn *hold;
    void *hold_ud;
    /* The replica's last log index when this leadership began: the
     * predecessors' entries up to it may still commit, carrying results
     * this leader would otherwise propose again. Results are proposed
     * once it is applied (at most LEAD_SETTLE_WAIT_MS later). */
    uint64_t settled_index;
};

enum { LEAD_SETTLE_WAIT_MS = 3000 };

/* NULL when out of memory. */
struct lead *lead_new(const struct lead_config *c);
void lead_free(struct lead *l);
/* Leases for every node with room (this one, and every linked member). */
void lead_dispatch(struct lead *l);
void lead_on_results(struct lead *l, uint64_t from, uint64_t batch,
                     const struct msg_result *items, size_t count);
void lead_on_lease_end(struct lead *l, uint64_t from, const struct msg_lease_end *e);
void lead_on_peer_down(struct lead *l, uint64_t peer);
/* MESH_MSG_RESULTS and MESH_MSG_LEASE_END, decoded here. */
void lead_on_results_msg(struct lead *l, uint64_t peer, const uint8_t *data, size_t len);
void lead_on_lease_end_msg(struct lead *l, uint64_t peer, const uint8_t *data, size_t len);
/* An entry of this type was applied (a submit or drain: leases to hand out). */
void lead_on_applied(struct lead *l, enum qcmd_type type);
void lead_tick(struct lead *l);
/* Gathered results proposed, up to the in-flight cap (once per loop turn). */
void lead_flush(struct lead *l);
size_t lead_leases_of(const struct lead *l, uint64_t node_id);
/* What the results gathered for proposal keep allocated (memwatch.c). */
size_t lead_pending_bytes(const struct lead *l);
/* The leases out, in the table's order (lease_table_first), or NULL. */
const struct lease *lead_first_lease(const struct lead *l);

#endif
