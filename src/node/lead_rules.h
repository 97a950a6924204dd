/* lead_rules.h - the leader's decisions on the work plane, without I/O.
 *
 * What the leader does with a RESULTS message (which results it takes,
 * which it refuses and what a refusal costs the sender's leases, when the
 * sender's deadlines move on), with a LEASE_END, on its periodic tick and
 * when a node has room for leases. No clock (the time is passed in), no
 * struct node, no sending or proposing: the caller's callbacks do that.
 * lead.c calls these in the node, tests/sim/lead.c in the simulator, so
 * the simulator runs the rules the node runs (doc/DESIGN.md, "The
 * simulator (tests/sim)"). The lease bookkeeping itself is lease_table.h. */
#ifndef MESH_NODE_LEAD_RULES_H
#define MESH_NODE_LEAD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lease_table.h"
#include "meshmsg.h"
#include "queue.h"
#include "taken.h"

struct factor_verifier;

/* What results are read against, and who is told the verdicts. */
struct lead_results {
    const struct queue *queue;              /* the leader's replica */
    struct lease_table *leases;
    const struct factor_verifier *verifier; /* NULL: slower, never weaker */
    struct taken *taken;                    /* what this leadership holds */
    uint64_t now_ms;
    /* A right result, to be proposed, with its parts as the check read
     * them when they were all words and it has no unfactored rest (else
     * words NULL): its item is made from them (block_make.h). false (out
     * of memory) stops the reading (the sender still holds the rest and
     * sends it again). */
    bool (*accept)(void *ud, uint64_t batch, const struct msg_result *r, const uint64_t *words,
                   size_t n_words);
    /* A refused result and why. wrong: a lie or a broken node, not merely
     * one the sender may not send now; then the `skipped` results after
     * it in the message are not read. */
    void (*refuse)(void *ud, uint64_t batch, uint64_t index, const char *why, bool wrong,
                   size_t skipped);
    void *ud;
};

/* The results of `batch` from `from` (member: this node, or a member of
 * the cluster). Results already done, or taken already and not yet
 * committed (ctx->taken), are skipped; a taken one is held. A member's result
 * outside its leases (computed for an earlier leader, sent again after a
 * failover) is taken when it is right: results are deterministic. A wrong
 * one is refused, its lease re-leased, the rest of the message is not
 * read, and every lease of the sender in the batch goes back; only a
 * message with no wrong result renews the sender's deadlines in the
 * batch (when each refusal renewed them, a node whose outbox held an old
 * wrong result outside its leases kept its leases forever: mesh-sim seed
 * 339 --lasting-liars). */
void lead_rules_on_results(const struct lead_results *ctx, uint64_t from, bool member,
                           uint64_t batch, const struct msg_result *items, size_t count);

/* `from` says its lease `lease` ended: done (its range settles), or not
 * (from `next` on, the range goes back, with `crashes` on index next).
 * false when no such lease is held (an earlier leadership's, or requeued
 * already): nothing changes. */
bool lead_rules_on_lease_end(struct lease_table *t, uint64_t from, uint64_t lease, bool done,
                             uint64_t next, uint32_t crashes, uint64_t now_ms);

/* Is `node` given leases? Not while it drains (its own word, or the
 * replicated DRAIN flag), and only when it is a member. */
bool lead_rules_takes_work(bool draining, bool drained, bool member);

/* Sends a granted lease; false when it could not be sent. */
typedef bool lead_send_fn(void *ud, const struct lease *x);
/* Leases for `node` (with `workers` workers) while it has room and there
 * is something to lease; a lease that cannot be sent goes back and ends
 * the filling. default_budget_ms: the node's budget per number (0: none). */
void lead_rules_fill(struct lease_table *t, uint64_t node, unsigned workers,
                     uint64_t default_budget_ms, uint64_t now_ms, lead_send_fn *send,
                     void *ud);

/* The periodic tick: leases past their deadline go back (a node that
 * holds a lease but says nothing: frozen, stopped, a link that looks up
 * but is not), then settling ranges (idle: nothing waits to be proposed
 * or committed), then the scheduler forgets batches no longer running.
 * expired() and requeued() are told each (either may be NULL). */
void lead_rules_tick(struct lease_table *t, uint64_t now_ms, bool idle,
                     lease_tell_fn *expired, lease_tell_fn *requeued, void *ud);


/* The applied index a node must reach before it starts a lease of `batch`
 * (LEASE's `needs`). Its numbers follow from the batch's SUBMIT alone (a
 * batch is created whole and its recipe never changes), so any index at
 * or after that SUBMIT will do: the leader's applied index when it first
 * leased the batch in this leadership (`applied`, the current one, is
 * remembered then). Asking the current index every time made each lease
 * on a follower wait for the entries committed since, a replication round
 * while results commit every few milliseconds: the followers' workers sat
 * idle most of a trivial batch (doc/DESIGN.md, "Leases wait for their
 * batch, not for the log"). A batch no longer remembered (LEASE_NEEDS_KEPT
 * others leased since) asks the current index again: later, never wrong. */
enum { LEASE_NEEDS_KEPT = 8 };
struct lease_needs {
    struct {
        uint64_t batch, index;      /* index 0: an empty slot */
    } kept[LEASE_NEEDS_KEPT];
    size_t next;                    /* the slot taken next */
};
uint64_t lead_rules_lease_needs(struct lease_needs *n, uint64_t batch, uint64_t applied);
#endif
