/* cluster.h - a raft_fixture cluster whose members each run the real queue
 * behind the real fsm adapter: the consensus tests drive it like the node
 * will, through encoded log entries proposed on the leader. */
#ifndef MESH_TEST_CLUSTER_H
#define MESH_TEST_CLUSTER_H

#include <raft.h>
#include <raft/fixture.h>
#include <stdbool.h>
#include <stdint.h>

#include "append_clamp.h"
#include "commit_push.h"
#include "fsm.h"
#include "term_quorum.h"

enum { CLUSTER_STEP_MS = 20000 };

/* What one member's on_applied saw. */
struct cluster;
struct member {
    struct cluster *c;
    unsigned i;             /* its server index in the fixture */
    struct queue *q;
    struct raft_fsm fsm;
    uint64_t last_index;   /* index of the last outcome */
    unsigned outcomes, refused, undecodable, restores;
    uint64_t last_batch_id;     /* of the last applied SUBMIT */
    uint64_t last_submit_index; /* its log index */
    unsigned in_flight;         /* cluster_try_propose entries not yet done */
    /* The fixture io's truncate fix (cluster.c, guarded_truncate): the
     * index before its first entry, its entries, and its own methods. */
    raft_index io_offset, io_pending_offset;
    uint64_t io_held;
    int (*io_truncate)(struct raft_io *io, raft_index index);
    int (*io_append)(struct raft_io *io, struct raft_io_append *req,
                     const struct raft_entry entries[], unsigned n, raft_io_append_cb cb);
    int (*io_snapshot_put)(struct raft_io *io, unsigned trailing,
                           struct raft_io_snapshot_put *req,
                           const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb);
    /* libraft 0.15's follower reports and commits past what a message
     * carried: clamped as the node clamps it (append_clamp.h). */
    struct append_clamp clamp;
    /* libraft 0.15's leader counts copies of an old term's entry: held
     * back as the node holds it (term_quorum.h). */
    struct term_quorum quorum;
    /* ... and tells a commit index at once as the node does (commit_push.h). */
    struct commit_push push;
};

struct cluster {
    struct raft_fixture f;
    struct member m[RAFT_FIXTURE_MAX_SERVERS];
    unsigned n;
    unsigned apply_failures;  /* raft_apply callbacks with a non-zero status */
    /* Optional observers (the simulator's invariants): called after the
     * member's own bookkeeping, from inside raft's apply or restore. */
    void (*on_applied)(void *ud, unsigned i, const struct fsm_outcome *o);
    void (*on_restored)(void *ud, unsigned i);
    void *observer_ud;
};

/* n voters, bootstrapped, started, with a leader; snapshots encoded by
 * snapshot_async (as with raft_uv) or inside snapshot(). */
void cluster_init(struct cluster *c, unsigned n, bool sync_snapshots);
void cluster_close(struct cluster *c);
unsigned cluster_leader(struct cluster *c);
/* Proposes cmd on the leader; returns the entry's index. */
raft_index cluster_propose(struct cluster *c, const struct qcmd *cmd);
/* Proposes cmd on member i as a node does (consensus_propose): 0 when raft
 * refuses it (i is not the leader), else the entry's index. A failed apply
 * (leadership lost) is counted in apply_failures, not fatal. */
raft_index cluster_try_propose(struct cluster *c, unsigned i, const struct qcmd *cmd);
/* Proposes raw bytes as an entry (the envelope is the caller's business). */
raft_index cluster_propose_raw(struct cluster *c, const void *bytes, size_t len);
/* Steps until member i applied index (i == c->n: every member). */
void cluster_settle(struct cluster *c, unsigned i, raft_index index);
/* What the node's loop does after each turn (consensus.c, on_check): a
 * leader with a commit index to tell heartbeats now (commit_push.h). */
void cluster_push_commits(struct cluster *c);
/* True when members i and j hold byte-identical queue snapshots. */
bool cluster_same_state(struct cluster *c, unsigned i, unsigned j);
void cluster_set_snapshots(struct cluster *c, unsigned threshold, unsigned trailing);
/* Steps until member i stored a snapshot covering index (log compacted). */
void cluster_wait_snapshot(struct cluster *c, unsigned i, raft_index index);
/* Cuts (on) or restores both directions between servers i and j. */
void cluster_cut(struct cluster *c, unsigned i, unsigned j, bool on);
/* Server i proposes a DRAIN of `node` (a small entry of its own term);
 * checks it was accepted and returns its index. */
raft_index cluster_propose_drain(struct cluster *c, unsigned i, uint64_t node);
/* The term of entry x in server i's in-memory log, 0 if not there. */
raft_term cluster_term_at(struct cluster *c, unsigned i, raft_index x);

/* Predicates for raft_fixture_step_until, about server i (and an index). */
struct cluster_wait {
    unsigned i;
    raft_index index;
};
bool cluster_other_leads(struct raft_fixture *f, void *wait); /* not i */
bool cluster_leads(struct raft_fixture *f, void *wait);
bool cluster_follows(struct raft_fixture *f, void *wait);
bool cluster_commits(struct raft_fixture *f, void *wait); /* index */

#endif
