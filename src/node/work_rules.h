/* work_rules.h - a node's decisions on its leases, without I/O.
 *
 * The leases a node was given and that wait for a worker (in arrival
 * order), whom it takes a lease from, when a waiting lease may start, and
 * what a leader change does to the waiting leases and to the outbox
 * (outbox.h). No clock, no struct node, nothing sent: a lease handed back
 * is passed to the caller's callback, which sends its end to the granter.
 * work.c calls these in the node, tests/sim/work.c in the simulator, so
 * the simulator runs the rules the node runs (doc/DESIGN.md, "Leases
 * across a leader change": issue 18's failover bug lived here). */
#ifndef MESH_NODE_WORK_RULES_H
#define MESH_NODE_WORK_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshmsg.h"
#include "outbox.h"
#include "queue.h"

struct waiting_lease {
    uint64_t granter;               /* who granted it: its end goes there */
    struct msg_lease l;
};

struct work_leases;

struct work_leases *work_leases_new(void);
void work_leases_free(struct work_leases *w);
size_t work_leases_count(const struct work_leases *w);

/* Is a lease from `from` taken? A new leader's first leases travel by
 * link at once while this node's Raft learns of it by the next heartbeat,
 * so a lease from any member is taken (from this node, the leader it
 * knows, or a member of its cluster: is_member), not only the known
 * leader's: dropping those left the new leader counting phantom leases on
 * an idle node until their deadline. */
bool work_rules_takes_from(uint64_t from, uint64_t self, uint64_t known_leader, bool is_member);

/* Whether lease `lease` of `granter` waits here. */
bool work_leases_holds(const struct work_leases *w, uint64_t granter, uint64_t lease);

/* Queues a taken lease; false when out of memory (then hand it back). */
bool work_leases_add(struct work_leases *w, uint64_t granter, const struct msg_lease *l);

/* The first waiting lease, removed into *out, once this replica has
 * applied the entry it needs (`applied`); false when none waits or the
 * first still waits for its entry. */
bool work_leases_next(struct work_leases *w, uint64_t applied, struct waiting_lease *out);

/* Can this replica serve the lease: its batch running here and the range
 * inside it? A lease that cannot be served is handed back. */
bool work_rules_can_serve(const struct queue *q, const struct msg_lease *l);

/* The end that hands a lease back unstarted (ABORTED at its first index). */
struct msg_lease_end work_rules_hand_back(const struct msg_lease *l);

/* Told each lease handed back on a leader change. */
typedef void work_hand_back_fn(void *ud, const struct waiting_lease *t);

/* The known leader is now `leader` (0: none known). Every kept result is
 * unsent again (the old leader may have dropped what it had not
 * proposed). A waiting lease is dropped only when a known leader is
 * someone else than its granter (a new leader's leases may arrive before
 * the news does), and then it is handed back: a granter that still counts
 * it would keep it, phantom, until its deadline and give this node no
 * other work that long. Returns how many were handed back. */
size_t work_rules_on_leader_change(struct work_leases *w, struct outbox *box, uint64_t leader,
                                   work_hand_back_fn *hand_back, void *ud);

#endif
