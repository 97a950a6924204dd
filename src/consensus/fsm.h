/* fsm.h - (consensus-internal) the queue state machine as a raft_fsm.
 *
 * Every committed entry reaches fsm apply on every member, in log order. An
 * entry is one queue command in the envelope of entry.h. Apply never returns
 * non-zero to raft (that would stop last_applied for good): a malformed
 * entry or a refused command ("unknown batch", "already done") is an
 * OUTCOME, reported to on_applied; running out of memory aborts the process
 * (a replica that skipped an entry would diverge). Snapshots are the queue's
 * own snapshot bytes under a checksum seal (snapshot_seal.h); restore checks
 * the seal, then replaces the queue wholesale.
 *
 * Only files in src/consensus include this header (it includes raft.h). */
#ifndef MESH_CONSENSUS_FSM_H
#define MESH_CONSENSUS_FSM_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

#include "queue.h"

/* What applying one entry did. Valid only during the on_applied call. */
struct fsm_outcome {
    uint64_t index;           /* raft log index of the entry (counted by the fsm) */
    int rc;                   /* 0 applied, -1 refused (err says why) */
    enum qcmd_type type;      /* 0 when the entry could not be decoded */
    uint64_t batch_id;        /* SUBMIT: the id assigned; COMPLETE/CANCEL: target */
    uint64_t node_id;         /* DRAIN: the node */
    uint64_t recorded;        /* COMPLETE: results newly recorded (not duplicates) */
    bool finished;            /* COMPLETE: this entry made the batch DONE */
    const struct qcmd *cmd;   /* the decoded command (NULL if undecodable) */
    const char *err;          /* "" when rc == 0 */
};

struct fsm_config {
    struct queue **queue;     /* the live queue; restore swaps in a new one */
    /* The raft instance this fsm is given to (may be NULL in tests). raft
     * hands apply no index and skips barrier and configuration entries, so
     * counting applies alone drifts; with raft set, apply reads the index
     * from raft_last_applied() + 1, which raft updates per entry. */
    struct raft *raft;
    void *ud;
    /* Called synchronously from inside raft's apply: must only record the
     * outcome (the consensus module defers effects to its own check handle). */
    void (*on_applied)(void *ud, const struct fsm_outcome *o);
    /* Called after a restore replaced the whole queue. May be NULL. */
    void (*on_restored)(void *ud);
    /* Called when restore refuses a snapshot (damaged, undecodable), with
     * why; raft keeps the old state. May be NULL. */
    void (*on_refused)(void *ud, const char *why);
    /* false (default): fsm version 3, the snapshot is encoded on raft's
     * thread pool while the loop keeps applying (10M results: ~4 ms on the
     * loop instead of ~700 ms). raft_init refuses that unless io->version
     * >= 2, and raft_uv 0.15 implements async_work but still reports
     * version 1 (upstream 269e541, in 0.17.1, bumps it): set io.version = 2
     * after raft_uv_init. true: encode inside snapshot() on the loop, for
     * a raft_io without async_work. */
    bool sync_snapshots;
};

/* Fills fsm (version and callbacks); fsm->data points at an internal state
 * allocated here. 0, or -1 on ENOMEM. */
int fsm_init(struct raft_fsm *fsm, const struct fsm_config *cfg);
void fsm_close(struct raft_fsm *fsm);
/* Bytes and entries applied since the last snapshot began: what raft holds
 * in memory (and in segments) that a snapshot would let it drop. */
void fsm_log_weight(const struct raft_fsm *fsm, uint64_t *bytes, uint64_t *entries);

/* The raft index the fsm believes it applied last. raft does not pass the
 * index to apply, so the fsm counts: it must be told where counting starts
 * (after a restore the snapshot index; at start the raft log's start). */
void fsm_set_applied_index(struct raft_fsm *fsm, uint64_t index);

#endif
