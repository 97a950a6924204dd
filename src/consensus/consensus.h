/* consensus.h - the replicated log under the queue (Raft, behind this header).
 *
 * The only module that knows libraft: nothing outside src/consensus
 * includes raft.h, so the engine can be upgraded or replaced. It runs raft
 * with raft_uv storage in a directory of the data dir and raft messages
 * carried by the node's encrypted links (transport.h), applies committed
 * entries to the queue on every member, and tells the node what changed
 * from its own check handle, outside raft's callbacks.
 *
 * Raft ids are node ids (derived from each node's static key); a link's
 * authenticated id is the only id raft ever hears for that peer. */
#ifndef MESH_CONSENSUS_H
#define MESH_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "log.h"
#include "queue.h"

enum {
    CONSENSUS_DEFAULT_ELECTION_MS = 300,   /* see config.h */
    CONSENSUS_DEFAULT_HEARTBEAT_MS = 30,
    CONSENSUS_MAX_MEMBERS = 256,
    CONSENSUS_MSG_FIRST = 16,              /* link message types 16..19 */
    CONSENSUS_MSG_LAST = 19,
};

enum consensus_role {
    CONSENSUS_NONE = 0,     /* not (yet) in the configuration */
    CONSENSUS_VOTER,
    CONSENSUS_STANDBY,      /* replicates the log, does not vote */
    CONSENSUS_SPARE,        /* added, not yet assigned */
};

struct consensus_member {
    uint64_t id;
    enum consensus_role role;
};

struct consensus_status {
    bool started;
    bool is_leader;
    enum consensus_role role;   /* of this node */
    uint64_t leader_id;         /* 0: none known */
    uint64_t term, commit_index, applied_index, last_index;
    uint64_t stalls;            /* followers found stuck while leading (stall_watch.h) */
    uint64_t clamped;           /* libraft reports lowered (append_clamp.h, term_quorum.h) */
    unsigned voters;
    size_t n_members;
    struct consensus_member members[CONSENSUS_MAX_MEMBERS];
};

/* One applied entry, reported on every member in log order. */
struct consensus_applied {
    uint64_t index;
    enum qcmd_type type;        /* 0 when the entry was not a command */
    int rc;                     /* 0 applied; -1 refused: err says why */
    uint64_t batch_id;          /* SUBMIT: assigned id; COMPLETE, CANCEL: target */
    uint64_t node_id;           /* DRAIN: the node */
    const char *err;
};

struct consensus_config {
    uv_loop_t *loop;
    struct mesh_log *log;
    const char *dir;            /* raft_uv storage; created if missing */
    uint64_t self_id;
    unsigned election_ms, heartbeat_ms;  /* 0: defaults above */
    unsigned max_voters;        /* members beyond it join as standbys */
    struct queue **queue;       /* the state machine (restore swaps it) */
    void *ud;
    int (*send)(void *ud, uint64_t peer, uint8_t type, const void *data, size_t len);
    size_t (*backlog)(void *ud, uint64_t peer);
    int (*linked)(void *ud, uint64_t peer);
    void (*on_applied)(void *ud, const struct consensus_applied *a);
    void (*on_restored)(void *ud);  /* the queue was replaced by a snapshot */
    /* Leader: a membership change committed (stays false: a removal). */
    void (*on_changed)(void *ud, uint64_t id, bool stays);
    /* Leader: follower id answered but stayed at match below commit for
     * STALL_WATCH_BOUND_MS (stall_watch.h); leadership was handed to `to`
     * (0: no other voter, or a transfer already running). NULL: logged. */
    void (*on_stalled)(void *ud, uint64_t id, uint64_t match, uint64_t commit, uint64_t to);
    /* The index peer last said it applied (the node's gossip), UINT64_MAX
     * when not known lately; NULL: never known. Read by the leader's guard. */
    uint64_t (*applied_of)(void *ud, uint64_t peer);
};

struct consensus;

/* Prepares raft (nothing runs yet). 0 or -1 (logged). */
int consensus_open(struct consensus **out, const struct consensus_config *cfg);
/* True when this data dir already belongs to a cluster (or asked to join
 * one): the node starts raft at once instead of waiting to organise. */
bool consensus_has_state(const struct consensus *c);
/* Why the last consensus_start refused this node's stored state as
 * damaged (a corrupt-* segment, a log ending below the committed mark, a
 * snapshot that fails its seal), or NULL when it did not. */
const char *consensus_damage(const struct consensus *c);
bool consensus_started(const struct consensus *c);
/* The cluster this node belongs to: the id of the node that founded it
 * (0 until known). Kept in the data dir with the membership marker. */
uint64_t consensus_cluster_id(const struct consensus *c);
void consensus_set_cluster_id(struct consensus *c, uint64_t id);
/* Starts as the single voter of a new cluster. */
int consensus_bootstrap(struct consensus *c);
/* Starts with the state on disk (possibly none: then waits to be added). */
int consensus_start(struct consensus *c);

/* Proposes a command (leader only). done runs later, from the loop, after
 * the entry was applied here (rc 0 or the apply's refusal -1 with err) or
 * could not be (rc -2: not leader, leadership lost, shutting down). */
typedef void (*consensus_done_cb)(void *ud, int rc, uint64_t index, uint64_t batch_id,
                                  const char *err);
int consensus_propose(struct consensus *c, const struct qcmd *cmd, consensus_done_cb done,
                      void *ud, char *err, size_t errlen);
/* The id the next SUBMIT applied to q will be given: q's next one, or the
 * cluster's base while its range is unused (c may be NULL: no cluster). */
uint64_t consensus_next_batch_id(const struct consensus *c, const struct queue *q);
/* True while this node's disk is too full for raft to write (why: "disk
 * full: N MiB free in DIR (writes resume at M MiB)"). Proposals are refused
 * then, and raft hears nothing from its peers: a follower lags instead of
 * failing writes, a leader steps down (doc/DESIGN.md, "Damaged or full
 * storage"). */
bool consensus_disk_full(struct consensus *c, char *why, size_t len);
/* Proposals not yet applied (the caller caps them). */
size_t consensus_in_flight(const struct consensus *c);
/* What raft holds of its log in memory: entries, their bytes, and of
 * those the bytes applied since the last snapshot (what makes one due). */
struct consensus_log_memory {
    uint64_t entries, bytes, since_snapshot;
};
void consensus_log_memory(const struct consensus *c, struct consensus_log_memory *out);

/* Leader: adds a node (voter while fewer than max_voters, else standby).
 * One change at a time: -1 when busy or not leader (retry later). */
int consensus_add_member(struct consensus *c, uint64_t id);
/* Leader: gives a member another role, or removes it from the
 * configuration (never itself: transfer leadership first). One change at a
 * time: -1 when busy, not leader, or nothing to change. */
int consensus_assign(struct consensus *c, uint64_t id, enum consensus_role role);
int consensus_remove(struct consensus *c, uint64_t id);
bool consensus_changing(const struct consensus *c);

/* Forced recovery after a lost majority (etcd's force-new-cluster): the
 * next consensus_start in dir makes this node the only voter, with the
 * members listed as standbys, by appending that configuration to its log.
 * Writes the request into dir; the node restarts to carry it out. */
int consensus_request_recovery(const char *dir, uint64_t self,
                               const struct consensus_member *members, size_t n);
/* Deletes this node's raft state in dir (after leaving, or on --rejoin):
 * the next start organises afresh. 0 or -1 (errno). */
int consensus_discard_state(const char *dir);

/* Leader: hands leadership to another voter (the most caught-up if 0). */
int consensus_transfer(struct consensus *c, uint64_t to);

void consensus_status(const struct consensus *c, struct consensus_status *out);
/* The cheap part of the status, for every loop iteration: 0 when none. */
uint64_t consensus_leader(const struct consensus *c);
uint64_t consensus_applied(const struct consensus *c);
bool consensus_is_member(const struct consensus *c, uint64_t id);

/* Link events, routed here by the node. */
void consensus_on_message(struct consensus *c, uint64_t peer, uint8_t type,
                          const uint8_t *data, size_t len);
void consensus_on_peer_down(struct consensus *c, uint64_t peer);

/* Stops raft; done(ud) once every handle is closed and c is freed. */
void consensus_close(struct consensus *c, void (*done)(void *ud));

#endif
