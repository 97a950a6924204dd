/* cluster.h - a raft_fixture cluster whose members each run the real queue
 * behind the real fsm adapter: the consensus tests drive it like the node
 * will, through encoded log entries proposed on the leader. */
#ifndef MESH_TEST_CLUSTER_H
#define MESH_TEST_CLUSTER_H

#include <raft.h>
#include <raft/fixture.h>
#include <stdbool.h>
#include <stdint.h>

#include "fsm.h"

enum { CLUSTER_STEP_MS = 20000 };

/* What one member's on_applied saw. */
struct member {
    struct queue *q;
    struct raft_fsm fsm;
    uint64_t last_index;   /* index of the last outcome */
    unsigned outcomes, refused, undecodable, restores;
    uint64_t last_batch_id;     /* of the last applied SUBMIT */
    uint64_t last_submit_index; /* its log index */
};

struct cluster {
    struct raft_fixture f;
    struct member m[RAFT_FIXTURE_MAX_SERVERS];
    unsigned n;
    unsigned apply_failures;  /* raft_apply callbacks with a non-zero status */
};

/* n voters, bootstrapped, started, with a leader; snapshots encoded by
 * snapshot_async (as with raft_uv) or inside snapshot(). */
void cluster_init(struct cluster *c, unsigned n, bool sync_snapshots);
void cluster_close(struct cluster *c);
unsigned cluster_leader(struct cluster *c);
/* Proposes cmd on the leader; returns the entry's index. */
raft_index cluster_propose(struct cluster *c, const struct qcmd *cmd);
/* Proposes raw bytes as an entry (the envelope is the caller's business). */
raft_index cluster_propose_raw(struct cluster *c, const void *bytes, size_t len);
/* Steps until member i applied index (i == c->n: every member). */
void cluster_settle(struct cluster *c, unsigned i, raft_index index);
/* True when members i and j hold byte-identical queue snapshots. */
bool cluster_same_state(struct cluster *c, unsigned i, unsigned j);
void cluster_set_snapshots(struct cluster *c, unsigned threshold, unsigned trailing);
/* Steps until member i stored a snapshot covering index (log compacted). */
void cluster_wait_snapshot(struct cluster *c, unsigned i, raft_index index);

#endif
