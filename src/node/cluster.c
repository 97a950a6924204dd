/* cluster.c - the node's wiring of consensus, and self-organisation.
 *
 * First version of the rule (doc/DESIGN.md): a node with cluster state starts
 * raft at once and rejoins. A node without waits ORGANIZE_WINDOW_MS for
 * discovery and links, gossiping MESH_MSG_CLUSTER four times a second.
 * Then, if a linked peer names a leader that is linked too, it starts raft
 * empty and asks that leader to add it (MESH_MSG_JOIN, repeated until it is
 * in the configuration); if no linked peer belongs to a cluster, the
 * smallest id among this node and its linked unclustered peers bootstraps
 * a one-voter cluster, and the others join it. The leader adds joiners as
 * voters up to --voters (3), then as standbys: every member keeps a full
 * replica, so any node can serve reads and derive any number it is leased.
 *
 * Leadership is polled (libraft 0.15 has no state-change callback): on
 * change the node starts or stops its leader half, and re-sends results
 * the old leader may not have committed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "cluster.h"
#include "damaged.h"
#include "dispatch.h"
#include "event_log.h"
#include "lead_node.h"
#include "spread.h"
#include "members.h"
#include "merge.h"
#include "peers.h"
#include "spill.h"
#include "work_node.h"
#include "write.h"
#include "consensus.h"
#include "datadir.h"
#include "net.h"

enum {
    CLUSTER_TICK_MS = 250,
    ORGANIZE_WINDOW_MS = 2000,      /* after start, more when mDNS must find peers */
    MDNS_EXTRA_MS = 1000,           /* measured discovery: 0.86-1.08 s */
    JOIN_RETRY_MS = 1000,
};

/* ---- gossip ------------------------------------------------------------------ */

/* The entry a full table gives up: of the peers that are neither linked
 * nor members of this node's configuration, the one heard from longest ago
 * (as the link layer's peer table does, src/net/net.c). Without it, 1024
 * identities minted by a key holder, each linking once to gossip, filled
 * the table for good and no new node could join again. NULL when every
 * entry is linked or a member. */
static struct peer_cluster *evictable_slot(struct node *n)
{
    struct peer_cluster *oldest = NULL;
    for (size_t i = 0; i < n->n_peer_info; i++) {
        struct peer_cluster *pc = &n->peer_info[i];
        /* The age first: the two lookups are scans of their own. */
        if ((oldest != NULL && pc->heard_ms >= oldest->heard_ms) ||
            node_linked(n, pc->id) || consensus_is_member(n->cons, pc->id))
            continue;
        oldest = pc;
    }
    return oldest;
}

static struct peer_cluster *peer_slot(struct node *n, uint64_t id)
{
    struct peer_cluster *pc = (struct peer_cluster *)node_peer_cluster(n, id);
    if (pc != NULL)
        return pc;
    pc = n->n_peer_info < NODE_MAX_PEER_INFO ? &n->peer_info[n->n_peer_info++]
                                              : evictable_slot(n);
    if (pc == NULL)
        return NULL;
    memset(pc, 0, sizeof *pc);
    pc->id = id;
    return pc;
}

static void send_cluster_info(struct node *n)
{
    struct consensus_status st;
    consensus_status(n->cons, &st);
    struct msg_cluster m = {.cluster_id = consensus_cluster_id(n->cons), .leader = st.leader_id,
                            .term = st.term, .applied = st.applied_index,
                            .member = consensus_is_member(n->cons, n->keys.node_id),
                            .members = st.n_members, .merging_into = node_merge_into(n)};
    uint8_t *buf;
    size_t len;
    if (msg_cluster_encode(&m, &buf, &len) != 0)
        return;
    for (size_t i = 0; n->net != NULL && i < net_peer_count(n->net); i++) {
        const struct net_peer *p = net_peer_at(n->net, i);
        if (p->connected)
            net_send(n->net, p->id, MESH_MSG_CLUSTER, buf, len);
    }
    free(buf);
}

void node_cluster_on_gossip(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_cluster m;
    struct peer_cluster *pc = peer_slot(n, peer);
    if (pc == NULL || msg_cluster_decode(&m, data, len) != 0)
        return;
    pc->cluster_id = m.cluster_id;
    pc->leader = m.leader;
    pc->term = m.term;
    pc->applied = m.applied;
    pc->member = m.member;
    pc->members = m.members;
    pc->merging_into = m.merging_into;
    pc->heard_ms = uv_now(&n->loop);
    /* A joiner learns its cluster's id from a member of its own
     * configuration: another cluster's member (two meeting) must not name it. */
    if (consensus_cluster_id(n->cons) == 0 && m.member && m.cluster_id != 0 &&
        consensus_is_member(n->cons, n->keys.node_id) && consensus_is_member(n->cons, peer))
        consensus_set_cluster_id(n->cons, m.cluster_id);
    node_members_on_gossip(n, peer, &m);
}

/* ---- organising ----------------------------------------------------------------- */

/* A JOIN is empty, or carries the 8-byte token of a node that lost its
 * raft state (damaged.c), which the leader removes before adding. */
static void ask_to_join(struct node *n, uint64_t leader)
{
    uint64_t now = uv_now(&n->loop);
    if (now - n->last_join_ms < JOIN_RETRY_MS && n->last_join_ms != 0)
        return;
    n->last_join_ms = now;
    uint64_t token = node_damaged_token(n);
    mlog(&n->log, LOG_INFO, "asking leader %016llx to join its cluster%s",
         (unsigned long long)leader, token != 0 ? " afresh" : "");
    node_send(n, leader, MESH_MSG_JOIN, (const uint8_t *)&token, token != 0 ? sizeof token : 0);
}

/* A linked peer's cluster (`cluster` only, when not 0) with a linked
 * leader, or 0. */
static uint64_t reachable_leader(const struct node *n, uint64_t cluster)
{
    for (size_t i = 0; i < n->n_peer_info; i++) {
        const struct peer_cluster *pc = &n->peer_info[i];
        if (pc->member && pc->leader != 0 && node_linked(n, pc->id) &&
            (pc->leader == pc->id || node_linked(n, pc->leader)) &&
            (cluster == 0 || pc->cluster_id == cluster))
            return pc->leader;
    }
    return 0;
}

/* True when this node should found the cluster: no linked peer belongs to
 * one (even one whose leader is not elected yet: a second bootstrap there
 * would split the mesh) and no linked unclustered peer has a smaller id. */
static bool should_bootstrap(const struct node *n)
{
    unsigned linked_nodes = 1; /* this one */
    for (size_t i = 0; n->net != NULL && i < net_peer_count(n->net); i++) {
        const struct net_peer *p = net_peer_at(n->net, i);
        const struct peer_cluster *pc = node_peer_cluster(n, p->id);
        if (!p->connected)
            continue;
        if (pc == NULL || pc->heard_ms == 0)
            return false; /* not heard yet: wait a tick */
        if (pc->member || pc->cluster_id != 0 || p->id < n->keys.node_id)
            return false;
        linked_nodes++;
    }
    /* --expect N (Consul's bootstrap_expect): the first cluster is founded
     * only once N nodes are linked, so they all start from one. */
    return linked_nodes >= n->cfg->expect;
}

static void organize(struct node *n)
{
    struct consensus_status st;
    consensus_status(n->cons, &st);
    if (consensus_is_member(n->cons, n->keys.node_id))
        return;
    /* A cluster in sight is joined at once; the window is only for
     * deciding who founds one. */
    uint64_t leader = reachable_leader(n, node_damaged_cluster(n));
    if (leader == 0 && uv_now(&n->loop) < n->organize_at_ms)
        return;
    if (leader != 0) {
        if (!st.started && consensus_start(n->cons) != 0)
            return;
        ask_to_join(n, leader);
        return;
    }
    if (st.started)
        return; /* waiting to be added by a leader we lost sight of */
    if (node_damaged_cluster(n) != 0)
        return; /* never founds: its cluster holds its log */
    if (!should_bootstrap(n))
        return;
    mlog(&n->log, LOG_INFO, "no cluster among linked peers: bootstrapping one");
    consensus_set_cluster_id(n->cons, n->keys.node_id);
    if (consensus_bootstrap(n->cons) != 0)
        mlog(&n->log, LOG_ERROR, "bootstrap failed");
}

/* ---- leadership ------------------------------------------------------------------- */

/* Runs every loop iteration (node_cluster_poll): a new leader starts
 * leasing, and nodes re-send their uncommitted results to it, at once. */
static void follow_leadership(struct node *n)
{
    if (consensus_leader(n->cons) == n->known_leader)
        return;
    struct consensus_status st;
    consensus_status(n->cons, &st);
    mlog(&n->log, LOG_INFO, st.leader_id == 0 ? "no leader" : "leader is %016llx (term %llu)",
         (unsigned long long)st.leader_id, (unsigned long long)st.term);
    n->known_leader = st.leader_id;
    n->seen_leader |= st.leader_id != 0;
    dispatch_leader(n->routes, n);
}

/* The cluster's row of the tick (routes.c has the others, after it). */
void node_cluster_tick(struct node *n)
{
    organize(n);
    follow_leadership(n);
    send_cluster_info(n);
}

static void on_cluster_tick(uv_timer_t *t)
{
    struct node *n = t->data;
    dispatch_tick(n->routes, n);
}

void node_cluster_poll(struct node *n)
{
    if (n->cons != NULL && !n->stopping)
        follow_leadership(n);
}

/* ---- consensus callbacks ------------------------------------------------------------ */

static int cons_send(void *ud, uint64_t peer, uint8_t type, const void *data, size_t len)
{
    struct node *n = ud;
    return node_send(n, peer, type, data, len);
}

static size_t cons_backlog(void *ud, uint64_t peer)
{
    struct node *n = ud;
    return n->net ? net_backlog(n->net, peer) : 0;
}

static int cons_linked(void *ud, uint64_t peer)
{
    return node_linked(ud, peer);
}

/* The applied index a peer's fresh gossip says (the leader's guard, stall_watch.h). */
static uint64_t cons_applied_of(void *ud, uint64_t peer)
{
    struct node *n = ud;
    const struct peer_cluster *pc = node_peer_cluster(n, peer);
    if (pc == NULL || pc->heard_ms == 0 || uv_now(&n->loop) - pc->heard_ms > NODE_PEER_FRESH_MS)
        return UINT64_MAX;
    return pc->applied;
}

/* The cluster's row of the on-applied fan-out: what the log tells, and a
 * drain of this node (routes.c has the rows that follow). */
void node_cluster_on_applied(struct node *n, const struct consensus_applied *a)
{
    if (a->rc == 0 && a->type == QCMD_SUBMIT)
        mlog(&n->log, LOG_INFO, "batch %llu submitted", (unsigned long long)a->batch_id);
    if (a->rc == 0 && a->type == QCMD_CANCEL)
        mlog(&n->log, LOG_INFO, "batch %llu cancelled", (unsigned long long)a->batch_id);
    if (a->rc == 0 && a->type == QCMD_DRAIN) {
        bool drained = queue_node_drained(n->queue, a->node_id);
        mlog(&n->log, LOG_INFO, "node %016llx %s", (unsigned long long)a->node_id,
             drained ? "drained" : "undrained");
        if (a->node_id == n->keys.node_id)
            node_set_drain(n, drained);
        /* A drained leader hands leadership on: the node is on its way out
         * (maintenance, shutdown), and leading is work too. */
        if (a->node_id == n->keys.node_id && drained && node_is_leader(n) &&
            consensus_transfer(n->cons, 0) == 0)
            mlog(&n->log, LOG_INFO, "drained: transferring leadership");
    }
}

static void on_applied(void *ud, const struct consensus_applied *a)
{
    struct node *n = ud;
    dispatch_applied(n->routes, n, a);
}

static void on_changed(void *ud, uint64_t id, bool stays)
{
    node_members_on_changed(ud, id, stays);
}

/* The leader's guard (src/consensus/stall_watch.h): told once per 45 s
 * while a follower stays stuck; the warning is counted in the metrics'
 * mesh_events_total{kind="warning"} and mesh_raft_follower_stalls_total. */
static void on_stalled(void *ud, uint64_t id, uint64_t match, uint64_t commit, uint64_t to)
{
    struct node *n = ud;
    if (to != 0)
        node_event(n, MESH_EV_WARNING, "raft: follower %016" PRIx64 " answers but stays at "
                   "entry %" PRIu64 " below commit %" PRIu64 ": leadership handed to %016" PRIx64,
                   id, match, commit, to);
    else
        node_event(n, MESH_EV_WARNING, "raft: follower %016" PRIx64 " answers but stays at "
                   "entry %" PRIu64 " below commit %" PRIu64 ": not handed over (no other voter, "
                   "or a handover running)", id, match, commit);
}

static void on_restored(void *ud)
{
    struct node *n = ud;
    dispatch_restored(n->routes, n);
}

/* ---- routing and life cycle ------------------------------------------------------------ */

void node_cluster_on_raft_msg(struct node *n, uint64_t peer, uint8_t type, const uint8_t *data,
                              size_t len)
{
    consensus_on_message(n->cons, peer, type, data, len);
}

/* Rows of the peer tables (routes.c): a new link hears this node's
 * cluster at once; a lost one is down for raft, and not a member in the
 * gossip table until it says otherwise again. */
void node_cluster_on_peer_up(struct node *n, uint64_t peer)
{
    (void)peer;
    send_cluster_info(n);
}

void node_cluster_on_raft_peer_down(struct node *n, uint64_t peer)
{
    consensus_on_peer_down(n->cons, peer);
}

void node_cluster_on_peer_down(struct node *n, uint64_t peer)
{
    struct peer_cluster *pc = (struct peer_cluster *)node_peer_cluster(n, peer);
    if (pc != NULL)
        pc->member = false; /* until it says otherwise again */
}

int node_cluster_start(struct node *n)
{
    char dir[DATADIR_PATH_MAX];
    datadir_raft_path(n->cfg->data_dir, dir, sizeof dir);
    if (n->peer_info == NULL)
        n->peer_info = calloc(NODE_MAX_PEER_INFO, sizeof *n->peer_info);
    struct consensus_config cc = {
        .loop = &n->loop, .log = &n->log, .dir = dir, .self_id = n->keys.node_id,
        .election_ms = n->cfg->election_ms, .heartbeat_ms = n->cfg->heartbeat_ms,
        .max_voters = n->cfg->voters, .queue = &n->queue, .ud = n,
        .send = cons_send, .backlog = cons_backlog, .linked = cons_linked,
        .on_applied = on_applied, .on_restored = on_restored, .on_changed = on_changed,
        .on_stalled = on_stalled, .applied_of = cons_applied_of,
    };
    if (n->peer_info == NULL || consensus_open(&n->cons, &cc) != 0)
        return -1;
    /* Initialised before anything can fail: node_cluster_stop closes it. */
    uv_timer_init(&n->loop, &n->cluster_timer);
    n->cluster_timer.data = n;
    if (consensus_has_state(n->cons)) {
        mlog(&n->log, LOG_INFO, "rejoining the cluster recorded in %s", dir);
        if (consensus_start(n->cons) != 0)
            return consensus_damage(n->cons) != NULL ? node_damaged_begin(n) : -1;
    } else {
        /* The loop's clock is as old as the loop: deriving the key (Argon2id,
         * ~0.5 s or much more on a loaded machine) came since. */
        uv_update_time(&n->loop);
        n->organize_at_ms = uv_now(&n->loop) + ORGANIZE_WINDOW_MS +
                            (n->cfg->no_mdns ? 0 : MDNS_EXTRA_MS);
    }
    uv_timer_start(&n->cluster_timer, on_cluster_tick, CLUSTER_TICK_MS, CLUSTER_TICK_MS);
    return 0;
}

unsigned node_cluster_stop(struct node *n, void (*on_closed)(void *ud))
{
    if (n->cons == NULL)
        return 0;
    uv_close((uv_handle_t *)&n->cluster_timer, NULL);
    node_lead_stop(n);
    node_spread_stop(n);
    consensus_close(n->cons, on_closed);
    n->cons = NULL;
    return 1;
}

/* ---- restart ------------------------------------------------------------------------------ */

static void on_closed_for_restart(void *ud)
{
    struct node *n = ud;
    char dir[DATADIR_PATH_MAX];
    n->cluster_restarting = false;
    if (n->stopping)
        return;
    datadir_raft_path(n->cfg->data_dir, dir, sizeof dir);
    if (n->restart_discard && consensus_discard_state(dir) != 0)
        mlog(&n->log, LOG_ERROR, "cannot discard the raft state in %s", dir);
    if (node_damaged_set_aside(n) != 0) {
        n->exit_code = 1;
        dispatch_stop(n);
        return;
    }
    /* The replica is rebuilt from the (recovered or empty) log. */
    node_spill_stop(n);
    queue_free(n->queue);
    n->queue = queue_new();
    n->known_leader = 0;
    if (n->queue == NULL || node_cluster_start(n) != 0) {
        mlog(&n->log, LOG_ERROR, "cannot start consensus again: stopping");
        dispatch_stop(n);
        return;
    }
    node_work_on_leader_change(n);
    mlog(&n->log, LOG_INFO, "consensus started again%s",
         n->restart_discard ? " with no raft state" : "");
}

void node_cluster_restart(struct node *n, bool discard)
{
    if (n->cons == NULL || n->cluster_restarting || n->stopping)
        return;
    n->cluster_restarting = true;
    n->restart_discard = discard;
    node_write_fail_all(n, "consensus restarting; retry in a moment");
    node_cluster_stop(n, on_closed_for_restart);
    node_members_reset(n);
}
