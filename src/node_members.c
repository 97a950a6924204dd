/* node_members.c - membership that runs itself, as Consul's autopilot:
 * no configured server role and no membership command in normal use.
 *
 * The leader keeps --voters voters while enough nodes exist. Every tick it
 * notes which members are healthy (linked and heard from lately); then it
 * makes at most ONE configuration change (libraft allows one at a time):
 *   1. a member unhealthy for --remove-after (10 min) leaves the configuration;
 *   2. a voter unhealthy for --voter-grace (10 s), or one voter too many,
 *      becomes a standby when a healthy node can take its place;
 *   3. while voters are short, the most caught-up healthy standby is promoted.
 * Demoting before promoting keeps every intermediate configuration's
 * majority among live voters. The leader never changes its own role: it
 * hands leadership on first (drain and leave do that).
 *
 * Health clocks are the leader's soft state: a new leader starts them at
 * its election, so a member already down then gets the full grace again.
 *
 * Every member also diffs the configuration it sees tick by tick and logs
 * joins, promotions and removals, and remembers removed nodes for the view.
 *
 * Leaving (`mesh leave`): drain, wait for started numbers to be committed,
 * hand leadership on, ask the leader to remove this node, then forget the
 * raft state and exit 0. A node that learns it is no longer in its
 * cluster's configuration (removed while away) or whose cluster is gone
 * stays idle and says so, unless --rejoin lets it discard its raft state
 * and join afresh: silently reusing that state could fork a second cluster
 * holding the same batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "consensus.h"
#include "net.h"

enum {
    HEARD_FRESH_MS = 2000,      /* gossip comes 4 times a second */
    LEAVE_RETRY_MS = 1000,
    NOTICE_EVERY_MS = 5000,
    ORPHAN_AFTER_MS = 10000,    /* no leader of our own while another cluster has one */
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

/* ---- health (leader) ------------------------------------------------------ */

static bool healthy(const struct node *n, uint64_t id)
{
    if (id == n->keys.node_id)
        return true;
    const struct net_peer *p = n->net ? net_peer_find(n->net, id) : NULL;
    const struct peer_cluster *pc = node_peer_cluster(n, id);
    return p != NULL && p->connected && pc != NULL &&
           uv_now((uv_loop_t *)&n->loop) - pc->heard_ms < HEARD_FRESH_MS;
}

static struct member_seen *seen_of(struct members *m, uint64_t id, uint64_t now)
{
    for (size_t i = 0; i < m->n_seen; i++)
        if (m->seen[i].id == id)
            return &m->seen[i];
    if (m->n_seen == CONSENSUS_MAX_MEMBERS)
        return NULL;
    m->seen[m->n_seen] = (struct member_seen){id, now};
    return &m->seen[m->n_seen++];
}

void node_members_on_leadership(struct node *n)
{
    n->members->n_seen = 0; /* the clocks start again with this leader */
    n->members->n_leaving = 0;
    n->members->n_joins = 0;
}

/* Leader: a node asks to be added (MESH_MSG_JOIN, repeated each second
 * until it is). Joins queue here and go one configuration change after
 * another as each commits, not one per retry: thirty nodes starting
 * together are all members within a second of asking. */
void node_members_on_join(struct node *n, uint64_t peer)
{
    struct members *m = n->members;
    /* A cluster moving into another takes nobody in: the joiner would be
     * left in a cluster about to dissolve. It asks again, and finds the
     * other cluster's leader. */
    if (!node_is_leader(n) || consensus_is_member(n->cons, peer) || node_merge_active(n))
        return;
    for (size_t i = 0; i < m->n_joins; i++)
        if (m->joins[i] == peer)
            return;
    if (m->n_joins < sizeof m->joins / sizeof m->joins[0])
        m->joins[m->n_joins++] = peer;
    node_members_step(n);
}

static bool add_joiner(struct node *n)
{
    struct members *m = n->members;
    while (m->n_joins > 0) {
        uint64_t id = m->joins[0];
        memmove(m->joins, m->joins + 1, --m->n_joins * sizeof m->joins[0]);
        if (consensus_is_member(n->cons, id) || !healthy(n, id))
            continue;
        if (consensus_add_member(n->cons, id) == 0)
            return true;
    }
    return false;
}

static uint64_t down_for(struct node *n, uint64_t id, uint64_t now)
{
    struct member_seen *s = seen_of(n->members, id, now);
    if (s == NULL)
        return 0;
    if (healthy(n, id))
        s->ok_ms = now;
    return now - s->ok_ms;
}

static bool is_leaving(const struct members *m, uint64_t id)
{
    for (size_t i = 0; i < m->n_leaving; i++)
        if (m->leaving[i] == id)
            return true;
    return false;
}

/* A healthy non-voter that may vote: not drained, not on its way out. */
static bool candidate(const struct node *n, const struct consensus_member *mb)
{
    return mb->role != CONSENSUS_VOTER && healthy(n, mb->id) &&
           !queue_node_drained(n->queue, mb->id) && !is_leaving(n->members, mb->id);
}

static const struct consensus_member *best_candidate(const struct node *n,
                                                     const struct consensus_status *st)
{
    const struct consensus_member *best = NULL;
    uint64_t best_applied = 0;
    for (size_t i = 0; i < st->n_members; i++) {
        const struct consensus_member *mb = &st->members[i];
        const struct peer_cluster *pc = node_peer_cluster(n, mb->id);
        uint64_t applied = pc != NULL ? pc->applied : 0;
        if (candidate(n, mb) && (best == NULL || applied > best_applied)) {
            best = mb;
            best_applied = applied;
        }
    }
    return best;
}

/* ---- autopilot (leader) ------------------------------------------------------ */

static bool remove_long_gone(struct node *n, const struct consensus_status *st, uint64_t now)
{
    for (size_t i = 0; i < st->n_members; i++) {
        uint64_t id = st->members[i].id;
        if (id == n->keys.node_id || down_for(n, id, now) < n->cfg->remove_after_ms)
            continue;
        node_event(n, MESH_EV_MEMBER, "node %016llx gone for %llu s: removing it from the "
                   "configuration", (unsigned long long)id,
                   (unsigned long long)(down_for(n, id, now) / 1000));
        return consensus_remove(n->cons, id) == 0;
    }
    return false;
}

/* The voter to step down: unhealthy past the grace, else (one too many)
 * the least healthy; never this node, which leads. */
static const struct consensus_member *voter_to_demote(struct node *n,
                                                      const struct consensus_status *st,
                                                      uint64_t now)
{
    const struct consensus_member *worst = NULL;
    uint64_t worst_down = 0;
    for (size_t i = 0; i < st->n_members; i++) {
        const struct consensus_member *mb = &st->members[i];
        if (mb->role != CONSENSUS_VOTER || mb->id == n->keys.node_id)
            continue;
        uint64_t down = down_for(n, mb->id, now);
        if (is_leaving(n->members, mb->id))
            down = UINT64_MAX / 2;
        if (worst == NULL || down > worst_down) {
            worst = mb;
            worst_down = down;
        }
    }
    bool past_grace = worst_down >= n->cfg->voter_grace_ms;
    return worst != NULL && (past_grace || st->voters > n->cfg->voters) ? worst : NULL;
}

static bool fix_voters(struct node *n, const struct consensus_status *st, uint64_t now)
{
    const struct consensus_member *cand = best_candidate(n, st);
    const struct consensus_member *out = voter_to_demote(n, st, now);
    if (out != NULL && (cand != NULL || st->voters > n->cfg->voters)) {
        node_event(n, MESH_EV_MEMBER, "voter %016llx %s: making it a standby",
                   (unsigned long long)out->id,
                   st->voters > n->cfg->voters ? "is one too many" : "is unreachable");
        return consensus_assign(n->cons, out->id, CONSENSUS_STANDBY) == 0;
    }
    if (st->voters < n->cfg->voters && cand != NULL) {
        node_event(n, MESH_EV_MEMBER, "%u of %u voters: promoting %016llx to voter",
                   st->voters, n->cfg->voters, (unsigned long long)cand->id);
        return consensus_assign(n->cons, cand->id, CONSENSUS_VOTER) == 0;
    }
    /* A node added but never given a role (its assign failed) gets the log. */
    for (size_t i = 0; i < st->n_members; i++)
        if (st->members[i].role == CONSENSUS_SPARE && healthy(n, st->members[i].id))
            return consensus_assign(n->cons, st->members[i].id, CONSENSUS_STANDBY) == 0;
    return false;
}

static void autopilot(struct node *n, const struct consensus_status *st)
{
    if (!st->is_leader || consensus_changing(n->cons) || node_merge_active(n))
        return;
    uint64_t now = uv_now(&n->loop);
    for (size_t i = 0; i < st->n_members; i++)
        down_for(n, st->members[i].id, now); /* every clock ticks */
    if (!remove_long_gone(n, st, now) && !fix_voters(n, st, now))
        add_joiner(n);
}

/* Leader: the next configuration change now (a change just committed, or
 * a node asked to join), not at the next tick. */
void node_members_step(struct node *n)
{
    if (n->cons == NULL || n->members == NULL || !node_is_leader(n) ||
        consensus_changing(n->cons))
        return;
    struct consensus_status *st = malloc(sizeof *st);
    if (st == NULL)
        return;
    consensus_status(n->cons, st);
    autopilot(n, st);
    free(st);
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

static void send_verdict(struct node *n, uint64_t to, uint8_t verdict)
{
    struct msg_membership_note m = {verdict, consensus_cluster_id(n->cons)};
    uint8_t *buf;
    size_t len;
    if (msg_membership_encode(&m, &buf, &len) == 0) {
        node_send(n, to, MESH_MSG_MEMBERSHIP, buf, len);
        free(buf);
    }
}

/* Leader: a peer that says it is a member of this cluster but is not in the
 * configuration was removed while it was away: tell it. */
void node_members_on_gossip(struct node *n, uint64_t peer, const struct msg_cluster *m)
{
    if (!m->member || !node_is_leader(n) || m->cluster_id != consensus_cluster_id(n->cons) ||
        consensus_is_member(n->cons, peer) || consensus_changing(n->cons))
        return;
    send_verdict(n, peer, MSG_MEMBERSHIP_REMOVED);
}

/* into: 0 when this node was removed (its cluster holds its batches), else
 * the cluster its peers follow while its own is gone: its log may hold
 * batches nobody else has, so --rejoin moves them there first. Without a
 * leader nothing of that log is known committed, none of it applied: the
 * node makes itself the only voter of its cluster (as `mesh recover
 * --force`), which commits and applies its whole log, and then, a cluster
 * of one beside a bigger one, it merges into it (node_merge.c) and joins. */
static void estrange(struct node *n, const char *why, uint64_t into)
{
    struct members *m = n->members;
    if (n->cfg->rejoin && into != 0) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/raft", n->cfg->data_dir);
        mlog(&n->log, LOG_WARN, "%s: --rejoin: taking this node's log as its cluster's, to "
             "move its batches into cluster %016llx", why, (unsigned long long)into);
        if (consensus_request_recovery(dir, n->keys.node_id, NULL, 0) == 0)
            node_cluster_restart(n, false);
        else
            mlog(&n->log, LOG_ERROR, "cannot write the recovery request in %s", dir);
        return;
    }
    if (n->cfg->rejoin) {
        mlog(&n->log, LOG_WARN, "%s: --rejoin: discarding this node's raft state and "
             "joining afresh", why);
        node_cluster_restart(n, true);
        return;
    }
    if (!m->estranged)
        node_event(n, MESH_EV_ERROR, "%s. This node takes no work; restart it with --rejoin "
                   "to %s", why, into != 0 ? "move its batches into that cluster and join it"
                   : "discard its raft state (its cluster holds its batches) and join again");
    m->estranged = true;
}

static void finish_leave(struct node *n);

void node_members_on_verdict(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_membership_note v;
    const struct peer_cluster *pc = node_peer_cluster(n, peer);
    if (msg_membership_decode(&v, data, len) != 0 || pc == NULL || pc->leader != peer ||
        v.cluster_id != consensus_cluster_id(n->cons))
        return; /* only the leader of our own cluster decides this */
    if (v.verdict == MSG_MEMBERSHIP_MERGED) {
        node_merge_on_dissolved(n, peer, v.cluster_id);
        return;
    }
    if (n->members->leave_asked) {
        finish_leave(n);
        return;
    }
    if (v.verdict == MSG_MEMBERSHIP_REMOVED && consensus_leader(n->cons) != n->keys.node_id) {
        char why[128];
        snprintf(why, sizeof why, "this node was removed from cluster %016llx while it was "
                 "away", (unsigned long long)v.cluster_id);
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
    for (size_t i = 0; i < n->n_peer_info; i++) {
        const struct peer_cluster *pc = &n->peer_info[i];
        if (!pc->member || pc->cluster_id == 0 || now - pc->heard_ms >= HEARD_FRESH_MS)
            continue;
        if (pc->cluster_id == mine)
            kin = true;
        else if (pc->leader != 0)
            other = pc->cluster_id;
    }
    if (m->orphaned && (st->leader_id != 0 || kin)) {
        mlog(&n->log, LOG_INFO, "cluster %016llx is in sight again", (unsigned long long)mine);
        m->orphaned = m->estranged = false;
    }
    if (st->leader_id != 0 || kin || other == 0 || mine == 0 || m->estranged) {
        m->orphan_since_ms = 0;
        return;
    }
    if (m->orphan_since_ms == 0)
        m->orphan_since_ms = now;
    if (now - m->orphan_since_ms < ORPHAN_AFTER_MS)
        return;
    char why[160];
    snprintf(why, sizeof why, "cluster %016llx has no leader here, and linked nodes belong "
             "to cluster %016llx", (unsigned long long)mine, (unsigned long long)other);
    m->orphaned = !n->cfg->rejoin;
    estrange(n, why, other);
}

/* ---- leaving ---------------------------------------------------------------------- */

static void on_stop_timer(uv_timer_t *t)
{
    struct node *n = t->data;
    node_stop(n);
}

static void stop_soon(struct node *n)
{
    struct members *m = n->members;
    if (m->stop_timer_live)
        return;
    uv_timer_init(&n->loop, &m->stop_timer);
    m->stop_timer.data = n;
    m->stop_timer_live = true;
    /* A moment for the client's reply to leave the socket first. */
    uv_timer_start(&m->stop_timer, on_stop_timer, 200, 0);
}

static void finish_leave(struct node *n)
{
    struct members *m = n->members;
    if (m->leave_done)
        return;
    m->leave_done = true;
    n->discard_raft_on_exit = true;
    mlog(&n->log, LOG_INFO, "left the mesh: stopping");
    if (m->leave_conn != NULL)
        control_reply(m->leave_conn, json_pack("{s:b, s:s}", "ok", 1, "state", "left"));
    m->leave_conn = NULL;
    stop_soon(n);
}

static void leave_alone(struct node *n, const char *why)
{
    struct members *m = n->members;
    m->leave_done = true;
    mlog(&n->log, LOG_WARN, "leaving: %s; its raft state is kept", why);
    if (m->leave_conn != NULL)
        control_reply(m->leave_conn, json_pack("{s:b, s:s, s:s}", "ok", 1, "state", "stopped",
                                               "note", why));
    m->leave_conn = NULL;
    stop_soon(n);
}

static bool other_voter(const struct node *n, const struct consensus_status *st)
{
    for (size_t i = 0; i < st->n_members; i++)
        if (st->members[i].role == CONSENSUS_VOTER && st->members[i].id != n->keys.node_id &&
            healthy(n, st->members[i].id))
            return true;
    return false;
}

/* The leader leaves last: another voter must exist to hand over to. */
static void leader_hand_over(struct node *n, const struct consensus_status *st)
{
    if (other_voter(n, st)) {
        if (consensus_transfer(n->cons, 0) == 0)
            mlog(&n->log, LOG_INFO, "leaving: handing leadership over");
        return;
    }
    const struct consensus_member *cand = best_candidate(n, st);
    if (cand != NULL && !consensus_changing(n->cons))
        consensus_assign(n->cons, cand->id, CONSENSUS_VOTER);
    else if (cand == NULL && st->n_members == 1)
        leave_alone(n, "this node is the cluster's only member");
}

static void leave_step(struct node *n, const struct consensus_status *st)
{
    struct members *m = n->members;
    if (!m->leave_asked || m->leave_done)
        return;
    if (!consensus_is_member(n->cons, n->keys.node_id)) {
        finish_leave(n);
        return;
    }
    /* First what this node started must be committed: drained (no new
     * work), workers idle, outbox empty. */
    if (!queue_node_drained(n->queue, n->keys.node_id) || worker_pool_busy(n->pool) > 0 ||
        node_work_outbox(n) > 0)
        return;
    if (st->is_leader) {
        leader_hand_over(n, st);
        return;
    }
    uint64_t now = uv_now(&n->loop);
    if (st->leader_id != 0 && now - m->leave_sent_ms >= LEAVE_RETRY_MS) {
        m->leave_sent_ms = now;
        node_send(n, st->leader_id, MESH_MSG_LEAVE, (const uint8_t *)"", 0);
    }
}

static void on_leave_drained(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct node *n = ud;
    (void)batch_id;
    if (rc != 0 && rc != NODE_WRITE_GONE && n->members->leave_conn != NULL) {
        control_reply_error(n->members->leave_conn, "cannot leave: %s", err);
        n->members->leave_conn = NULL;
        n->members->leave_asked = false;
    }
}

void node_members_leave(struct node *n, struct control_conn *c)
{
    struct members *m = n->members;
    if (m->leave_asked) {
        control_reply_error(c, "already leaving");
        return;
    }
    m->leave_asked = true;
    m->leave_conn = c;
    if (n->cons == NULL || !consensus_is_member(n->cons, n->keys.node_id) || m->estranged) {
        leave_alone(n, "this node is not a member of a cluster");
        return;
    }
    node_event(n, MESH_EV_LEAVE, "%s leaves the mesh (mesh leave): draining first",
               n->cfg->name);
    struct qcmd cmd = {.type = QCMD_DRAIN, .drained = true, .node_id = n->keys.node_id};
    node_write(n, &cmd, on_leave_drained, n, NULL);
}

void node_members_forget(struct node *n, struct control_conn *c)
{
    if (n->members != NULL && n->members->leave_conn == c)
        n->members->leave_conn = NULL; /* the leave goes on; nobody to tell */
}

/* Leader: a member asks to leave. */
void node_members_on_leave(struct node *n, uint64_t peer)
{
    struct members *m = n->members;
    if (!node_is_leader(n))
        return;
    if (!consensus_is_member(n->cons, peer)) {
        send_verdict(n, peer, MSG_MEMBERSHIP_LEFT);
        return;
    }
    if (!is_leaving(m, peer) && m->n_leaving < sizeof m->leaving / sizeof m->leaving[0])
        m->leaving[m->n_leaving++] = peer;
    if (consensus_remove(n->cons, peer) == 0)
        node_event(n, MESH_EV_MEMBER, "node %016llx leaves: removing it from the "
                   "configuration", (unsigned long long)peer);
}

/* Leader: a change committed; a node that left hears so. */
void node_members_on_changed(struct node *n, uint64_t id, bool stays)
{
    if (!stays && is_leaving(n->members, id))
        send_verdict(n, id, MSG_MEMBERSHIP_LEFT);
    node_members_step(n);
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
        autopilot(n, st);
        leave_step(n, st);
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

/* ---- forced recovery ------------------------------------------------------------------ */

/* `mesh recover --force` on a survivor of a lost majority: this node
 * becomes the only voter; the other members stay as standbys (autopilot
 * promotes those that come back). Refused while a quorum exists: there a
 * forced configuration would fork the cluster. */
void node_members_recover(struct node *n, struct control_conn *c)
{
    struct consensus_status *st = malloc(sizeof *st);
    if (st == NULL) {
        control_reply_error(c, "out of memory");
        return;
    }
    consensus_status(n->cons, st);
    unsigned reachable = node_reachable_voters(n, st);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/raft", n->cfg->data_dir);
    if (!st->started || st->n_members == 0)
        control_reply_error(c, "this node is not a member of a cluster: nothing to recover");
    else if (reachable * 2 > st->voters)
        control_reply_error(c, "the cluster has a quorum (%u of %u voters reachable): "
                            "recover is only for a lost majority", reachable, st->voters);
    else if (consensus_request_recovery(dir, n->keys.node_id, st->members, st->n_members) != 0)
        control_reply_error(c, "cannot write the recovery request in %s", dir);
    else {
        node_event(n, MESH_EV_WARNING, "FORCED RECOVERY on %s: %u of %u voters reachable; "
                   "it becomes the only voter", n->cfg->name, reachable, st->voters);
        control_reply(c, json_pack("{s:b, s:s, s:I}", "ok", 1, "state", "recovering",
                                   "members", (json_int_t)st->n_members));
        node_cluster_restart(n, false);
    }
    free(st);
}
