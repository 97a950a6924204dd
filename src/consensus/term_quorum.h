/* term_quorum.h - libraft 0.15's leader commits an entry of an earlier term
 * by counting its copies (Raft's Figure 8), fixed at the raft_io boundary
 * (doc/DESIGN.md, "A leader's count of old entries").
 *
 * libraft 0.15's replicationQuorum (replication.c) commits the leader's
 * last stored entry once a majority's match index reaches it, whatever its
 * term; Raft (§5.4.2) counts copies only of an entry of the leader's own
 * term. A new leader whose log ends in an uncommitted entry k of an old
 * term commits k as soon as a majority holds it; a server holding another
 * entry k of a later term (a leader of that term, killed or cut off before
 * it replicated it) can still be elected by that majority (its last term is
 * higher) and overwrites k: two entries committed at one index (mesh-sim
 * seed 302 --lasting-liars). Upstream fixed it in 0.17.1 (commit 524f735)
 * and added the new leader's no-op entry (29bb302).
 *
 * The hold: before a leader's raft reads a successful AppendEntries answer,
 * while its last stored entry is past its commit index and of an earlier
 * term, the answer's last_log_index is lowered below that entry, so raft's
 * count never reaches it. Once the leader stored an entry of its own term
 * the answers count again, and commit that entry and every one before it,
 * as Raft does. So that such an entry exists, the caller proposes a
 * barrier when term_quorum_wants_barrier says so (raft 0.15 appends no
 * entry of its own on election). Lowering a match is safe: raft takes a
 * match index only upward, from later answers (the next heartbeat's). */
#ifndef MESH_TERM_QUORUM_H
#define MESH_TERM_QUORUM_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

struct term_quorum {
    uint64_t held;              /* answers lowered */
    raft_term barrier_term;     /* the term a barrier was last asked for */
    bool want_barrier;          /* one is due (read by term_quorum_wants_barrier) */
};

/* The term of entry x in r's log (the snapshot's last one included), 0
 * when r no longer or not yet holds it. */
raft_term term_quorum_term_of(const struct raft *r, raft_index x);

/* Before r reads m: a successful AppendEntries answer to a leader lowered
 * below the leader's last stored entry when that entry is of an earlier
 * term and not committed. */
void term_quorum_read(struct term_quorum *q, const struct raft *r, struct raft_message *m);

/* After r read the message: true once per term when an answer was held
 * back and r's log holds no entry of its term yet; the caller then
 * proposes a barrier (raft_barrier), outside raft's recv. */
bool term_quorum_wants_barrier(struct term_quorum *q, const struct raft *r);

#endif
