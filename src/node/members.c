/* members.c - membership that runs itself, as Consul's autopilot:
 * no configured server role and no membership command in normal use.
 * This file: the shared state, what every member does each tick (diff the
 * configuration it sees, log joins, promotions and removals, remember
 * removed nodes for the view), and nodes that no longer belong: one
 * removed while away (the leader tells it) or one whose cluster is gone.
 * Such a node stays idle and says so, unless --rejoin lets it discard its
 * raft state and join afresh: silently reusing that state could fork a
 * second cluster holding the same batches. The leader's policy is in
 * autopilot.c, leaving and forced recovery in leave.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "members.h"
#include "damaged.h"
#include "dispatch.h"
#include "event_log.h"
#include "merge.h"
#include "peers.h"
#include "net.h"
#include "datadir.h"

int node_members_start(struct node *n)
{
    n->members = calloc(1, sizeof *n->members);
    return n->members != NULL ? 0 : -1;
}

/* Consensus restarts: what this node knew of its old configuration is void. */
void node_members_reset(struct node *n)
{
    struct members *m = n->members;
    m->n_seen = 0;
    m->have_prev = false;
    m->estranged = m->orphaned = false;
    m->orphan_since_ms = 0;
}

void node_members_free(struct node *n)
{
    free(n->members);
    n->members = NULL;
}

/* ---- configuration diff (every member) ------------------------------------------ */

static const char *role_word(enum consensus_role r)
{
    return r == CONSENSUS_VOTER ? "voter" : r == CONSENSUS_STANDBY ? "standby" : "spare";
}

static const struct consensus_member *find_member(const struct consensus_member *ms, size_t n,
                                                  uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ms[i].id == id)
            return &ms[i];
    return NULL;
}

static void note_removed(struct members *m, uint64_t id)
{
    m->removed[m->n_removed % MAX_REMOVED] = id;
    m->n_removed++;
}

static void diff_configuration(struct node *n, const struct consensus_status *st)
{
    struct members *m = n->members;
    if (st->n_members == 0)
        return;
    for (size_t i = 0; m->have_prev && i < st->n_members; i++) {
        const struct consensus_member *was = find_member(m->prev, m->n_prev, st->members[i].id);
        if (was == NULL || was->role != st->members[i].role)
            mlog(&n->log, LOG_INFO, "membership: %016llx %s %s",
                 (unsigned long long)st->members[i].id, was == NULL ? "joined as" : "is now a",
                 role_word(st->members[i].role));
    }
    for (size_t i = 0; m->have_prev && i < m->n_prev; i++)
        if (find_member(st->members, st->n_members, m->prev[i].id) == NULL) {
            mlog(&n->log, LOG_INFO, "membership: %016llx removed",
                 (unsigned long long)m->prev[i].id);
            note_removed(m, m->prev[i].id);
        }
    memcpy(m->prev, st->members, st->n_members * sizeof st->members[0]);
    m->n_prev = st->n_members;
    m->have_prev = true;
}

bool node_members_was_removed(const struct node *n, uint64_t id)
{
    const struct members *m = n->members;
    size_t count = m->n_removed < MAX_REMOVED ? m->n_removed : MAX_REMOVED;
    for (size_t i = 0; i < count; i++)
        if (m->removed[i] == id)
            return true;
    return false;
}

bool node_members_estranged(const struct node *n)
{
    return n->members != NULL && n->members->estranged;
}

bool node_members_leaving(const struct node *n)
{
    return n->members != NULL && n->members->leave_asked;
}

/* ---- removed while away, or a cluster that is gone ---------------------------- */

/* Leader: a peer that says it is a member of this cluster but is not in the
 * configuration was removed while it was away: tell it. */
void node_members_on_gossip(struct node *n, uint64_t peer, const struct msg_cluster *m)
{
    if (!m->member || !node_is_leader(n) || m->cluster_id == 0 ||
        m->cluster_id != consensus_cluster_id(n->cons) ||
        consensus_is_member(n->cons, peer) || consensus_changing(n->cons))
        return;
    members_send_verdict(n, peer, MSG_MEMBERSHIP_REMOVED);
}

/* into: 0 when this node was removed (its cluster holds its batches), else
 * the cluster its peers follow while its own is gone: its log may hold
 * batches nobody else has, so --rejoin moves them there first. Without a
 * leader nothing of that log is known committed, none of it applied: the
 * node makes itself the only voter of its cluster (as `mesh recover
 * --force`), which commits and applies its whole log, and then, a cluster
 * of one beside a bigger one, it merges into it (merge.c) and joins. */
static void estrange(struct node *n, const char *why, uint64_t into)
{
    struct members *m = n->members;
    if (n->cfg->rejoin && into != 0) {
        char dir[DATADIR_PATH_MAX];
        datadir_raft_path(n->cfg->data_dir, dir, sizeof dir);
        mlog(&n->log, LOG_WARN, "%s: --rejoin: taking this node's log as its cluster's, to "
             "move its batches into cluster %016llx", why, (unsigned long long)into);
        if (consensus_request_recovery(dir, n->keys.node_id, NULL, 0) == 0)
            dispatch_restart(n, false);
        else
            mlog(&n->log, LOG_ERROR, "cannot write the recovery request in %s", dir);
        return;
    }
    if (n->cfg->rejoin) {
        mlog(&n->log, LOG_WARN, "%s: --rejoin: discarding this node's raft state and "
             "joining afresh", why);
        dispatch_restart(n, true);
        return;
    }
    if (!m->estranged)
        /* Short: an event's text is at most EVENT_TEXT_MAX bytes. */
        node_event(n, MESH_EV_ERROR, "%s: idle; restart with --rejoin to %s", why,
                   into != 0 ? "move its batches there and join" : "join afresh");
    m->estranged = true;
}

void members_finish_leave(struct node *n);

void node_members_on_verdict(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_membership_note v;
    if (msg_membership_decode(&v, data, len) != 0 || !node_verdict_is_ours(n, peer, v.cluster_id))
        return;
    if (v.verdict == MSG_MEMBERSHIP_MERGED) {
        node_merge_on_dissolved(n, peer, v.cluster_id);
        return;
    }
    if (n->members->leave_asked) {
        members_finish_leave(n);
        return;
    }
    if (v.verdict == MSG_MEMBERSHIP_REMOVED && node_damaged_on_removed(n))
        return;
    if (v.verdict == MSG_MEMBERSHIP_REMOVED && consensus_leader(n->cons) != n->keys.node_id) {
        char why[128];
        snprintf(why, sizeof why, "removed from cluster %016llx while away",
                 (unsigned long long)v.cluster_id);
        estrange(n, why, 0);
    }
}

/* A node with raft state whose cluster has no leader and no other member
 * in sight while linked peers follow another cluster's leader: its cluster
 * is gone (merged away while this node was down, or re-founded). A cluster
 * merely without a quorum still has members in sight: not gone. */
static void check_orphaned(struct node *n, const struct consensus_status *st)
{
    struct members *m = n->members;
    uint64_t now = uv_now(&n->loop), mine = consensus_cluster_id(n->cons), other = 0;
    bool kin = false;
    /* Kin and strangers by the configuration, not by cluster id: a node
     * stopped a moment after joining may never have learned the id. */
    for (size_t i = 0; i < n->n_peer_info; i++) {
        const struct peer_cluster *pc = &n->peer_info[i];
        if (!pc->member || now - pc->heard_ms >= NODE_PEER_FRESH_MS)
            continue;
        if (consensus_is_member(n->cons, pc->id))
            kin = true;
        else if (pc->leader != 0 && pc->cluster_id != 0 && pc->cluster_id != mine &&
                 !consensus_is_member(n->cons, pc->leader))
            other = pc->cluster_id;
    }
    if (m->orphaned && (st->leader_id != 0 || kin)) {
        mlog(&n->log, LOG_INFO, "cluster %016llx is in sight again", (unsigned long long)mine);
        m->orphaned = m->estranged = false;
    }
    if (st->leader_id != 0 || kin || other == 0 || m->estranged) {
        m->orphan_since_ms = 0;
        return;
    }
    if (m->orphan_since_ms == 0)
        m->orphan_since_ms = now;
    /* The patience --voter-grace gives an unreachable voter: a cluster
     * out of sight that long is given up the same way. */
    if (now - m->orphan_since_ms < n->cfg->voter_grace_ms)
        return;
    char why[160];
    snprintf(why, sizeof why, "its cluster is gone (no leader, no member in sight); peers "
             "follow cluster %016llx", (unsigned long long)other);
    m->orphaned = !n->cfg->rejoin;
    estrange(n, why, other);
}

/* ---- the tick ------------------------------------------------------------------------ */

void node_members_tick(struct node *n)
{
    if (n->cons == NULL || n->members == NULL)
        return;
    struct consensus_status *st = malloc(sizeof *st);
    if (st == NULL)
        return;
    consensus_status(n->cons, st);
    if (st->started) {
        diff_configuration(n, st);
        members_autopilot(n, st);
        members_leave_step(n, st);
        if (consensus_is_member(n->cons, n->keys.node_id))
            check_orphaned(n, st);
    }
    free(st);
}

void node_members_close(struct node *n)
{
    struct members *m = n->members;
    if (m != NULL && m->stop_timer_live) {
        uv_close((uv_handle_t *)&m->stop_timer, NULL);
        m->stop_timer_live = false;
    }
}

