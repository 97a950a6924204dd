/* spread_cofactor_hold.h - the leader's links from a spread batch to its
 * cofactor's spread batch (doc/DESIGN.md, "A composite cofactor goes to
 * the whole mesh"): the proposal, and N held from the scheduler while the
 * cofactor is sieved. spread_cofactor.h ends the link. */
#ifndef MESH_NODE_SPREAD_COFACTOR_HOLD_H
#define MESH_NODE_SPREAD_COFACTOR_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

struct node;

/* One spread batch whose cofactor is spread (or proposed to be). */
struct cofactor_link {
    uint64_t batch;         /* B */
    uint64_t child;         /* "cofactor:B" (0: proposed, not yet seen) */
    uint64_t since_ms;      /* proposed (or found) at */
    uint64_t handed_ms;     /* N's line last handed to B's results (0: never) */
    uint64_t cancel_ms;     /* the child's cancel last proposed (0: never) */
    bool released;          /* N goes to one worker */
};

struct node_cofactor {
    struct cofactor_link *links;
    size_t n, cap;
};

/* Proposes the spread batch of number / factor for spread batch `batch`
 * (whose N is number), unless the log has one; budget_ms: B's per-number
 * budget. True when one is proposed or already there: B's jobs may end
 * and N is held. */
bool spread_cofactor_propose(struct node *n, uint64_t batch, const mpz_t number,
                             const mpz_t factor, uint64_t budget_ms);

/* The link of batch, added when absent and add is set (NULL when absent,
 * or out of memory). */
struct cofactor_link *node_cofactor_link(struct node *n, uint64_t batch, bool add);

/* For node_route_held: the first index >= from of spread batch `batch`
 * held for its cofactor's spread batch (N's), or UINT64_MAX. */
uint64_t node_cofactor_held(struct node *n, uint64_t batch, uint64_t from);

/* Frees the links (no longer leader). */
void node_cofactor_free(struct node *n);

#endif
