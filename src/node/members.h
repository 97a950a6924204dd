/* members.h - membership (members.c, autopilot.c, leave.c): the state the
 * three share, private to them, and the functions the rest of the node calls. */
#ifndef MESH_MEMBERS_H
#define MESH_MEMBERS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "consensus.h"
#include "node.h"

enum {
    LEAVE_RETRY_MS = 1000,
    MAX_REMOVED = 64,
};

struct member_seen {
    uint64_t id;
    uint64_t ok_ms;             /* last tick it was healthy (leader's clock) */
};

struct members {
    struct member_seen seen[CONSENSUS_MAX_MEMBERS];
    size_t n_seen;
    struct consensus_member prev[CONSENSUS_MAX_MEMBERS];
    size_t n_prev;
    bool have_prev;
    uint64_t removed[MAX_REMOVED];   /* ring: nodes removed from the configuration */
    size_t n_removed;
    uint64_t leaving[8];             /* leader: nodes that asked to leave */
    size_t n_leaving;
    uint64_t joins[64];              /* leader: nodes waiting to be added */
    size_t n_joins;
    uint64_t afresh[8];              /* leader: JOIN tokens of members removed to be */
    size_t n_afresh;                 /* added afresh (a ring; node_damaged.c) */
    /* This node's own leave. */
    bool leave_asked, leave_done;
    struct control_conn *leave_conn;
    uint64_t leave_sent_ms;
    uv_timer_t stop_timer;
    bool stop_timer_live;
    /* Removed, or its cluster is gone. */
    bool estranged;
    bool orphaned;                   /* estranged because no leader of ours is in sight */
    uint64_t orphan_since_ms;
};

/* members.c: autopilot (the leader keeps --voters voters), leaving,
 * and nodes removed while away. */
int node_members_start(struct node *n);
void node_members_free(struct node *n);
void node_members_reset(struct node *n);
void node_members_close(struct node *n);
void node_members_tick(struct node *n);
void node_members_on_leadership(struct node *n);
void node_members_on_leader_change(struct node *n);
void node_members_on_gossip(struct node *n, uint64_t peer, const struct msg_cluster *m);
void node_members_on_verdict(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_members_on_leave(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_members_on_join(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
void node_members_step(struct node *n);
void node_members_on_changed(struct node *n, uint64_t id, bool stays);
void node_members_leave(struct node *n, struct control_conn *c);
void node_members_recover(struct node *n, struct control_conn *c);
void node_members_forget(struct node *n, struct control_conn *c);
bool node_members_was_removed(const struct node *n, uint64_t id);
bool node_members_estranged(const struct node *n);
bool node_members_leaving(const struct node *n);

/* autopilot.c */
bool members_healthy(const struct node *n, uint64_t id);
const struct consensus_member *members_best_candidate(const struct node *n,
                                                      const struct consensus_status *st);
void members_autopilot(struct node *n, const struct consensus_status *st);
/* autopilot.c (the leader tells members their fate) */
void members_send_verdict(struct node *n, uint64_t to, uint8_t verdict);
/* leave.c */
void members_leave_step(struct node *n, const struct consensus_status *st);
void members_finish_leave(struct node *n);
bool members_is_leaving(const struct members *m, uint64_t id);

#endif
