/* spread_hold.h - hard numbers of ordinary batches held back from one
 * worker and routed to spread jobs of their own (doc/DESIGN.md, "Hard
 * numbers of ordinary batches go to the whole mesh").
 *
 * The leader's scheduler asks node_route_held before it leases a batch's
 * indexes (sched_set_hold). The first time it asks about a running batch
 * in a leadership, the batch is scanned: the numbers spread_rule.h calls
 * hard are routed when the rule says so, each by proposing the SUBMIT of a
 * spread batch named "route:P:I" (its token derived from P and I), and
 * held from then on. What is held is derived from the log (a spread batch
 * linked to P's index I that is running, or done with the factors not yet
 * in P) plus the proposals of this leadership not yet committed, so a new
 * leader holds the same numbers after its own scan. spread_route.h ends
 * the link: the factors into P, cancels, releases. */
#ifndef MESH_NODE_SPREAD_HOLD_H
#define MESH_NODE_SPREAD_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* One routed number: index `index` of batch `parent`. */
struct route_link {
    uint64_t parent, index;
    uint64_t child;         /* its spread batch (0: proposed, not yet seen) */
    uint64_t since_ms;      /* proposed (or found) at */
    uint64_t handed_ms;     /* its factors last handed to P's results (0: never) */
    uint64_t cancel_ms;     /* its spread batch's cancel last proposed (0: never) */
    bool released;          /* held no more: the number goes to one worker */
};

struct node_route {
    struct route_link *links;
    size_t n, cap;
    uint64_t *scanned;      /* batches scanned in this leadership */
    size_t n_scanned, cap_scanned;
};

/* sched_held_fn for the leader's scheduler; node is the struct node. */
uint64_t node_route_held(void *node, uint64_t batch, uint64_t from);
/* The link of (parent, index), added when absent and add is set (NULL
 * when absent, or out of memory). */
struct route_link *node_route_link(struct node *n, uint64_t parent, uint64_t index, bool add);
/* Drops the links and scans of batches no longer running (a link whose
 * spread batch still runs stays until it is cancelled). */
void node_route_prune(struct node *n);
/* Frees the routing state (no longer leader). */
void node_route_free(struct node *n);

#endif
