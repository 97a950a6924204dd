/* node_cluster.c - the node's wiring of consensus, and self-organisation.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "consensus.h"
#include "net.h"

enum {
    CLUSTER_TICK_MS = 250,
    ORGANIZE_WINDOW_MS = 2000,      /* after start, more when mDNS must find peers */
    MDNS_EXTRA_MS = 1000,           /* measured discovery: 0.86-1.08 s */
    JOIN_RETRY_MS = 1000,
};

bool node_is_leader(const struct node *n)
{
    return n->cons != NULL && consensus_leader(n->cons) == n->keys.node_id;
}

/* Raft's view now (known_leader lags by up to a tick: it only marks
 * leadership changes for follow_leadership). */
uint64_t node_leader_id(const struct node *n)
{
    return n->cons != NULL ? consensus_leader(n->cons) : 0;
}

const struct peer_cluster *node_peer_cluster(const struct node *n, uint64_t id)
{
    for (size_t i = 0; i < n->n_peer_info; i++)
        if (n->peer_info[i].id == id)
            return &n->peer_info[i];
    return NULL;
}

/* Only the leader of this node's own cluster decides its membership. An id
 * of 0 names no cluster; a node that never heard its cluster's id (it
 * joined a moment before gossip told it) knows its cluster's leader as a
 * member of its configuration. */
bool node_verdict_is_ours(const struct node *n, uint64_t leader, uint64_t cluster_id)
{
    const struct peer_cluster *pc = node_peer_cluster(n, leader);
    uint64_t mine = consensus_cluster_id(n->cons);
    if (pc == NULL || pc->leader != leader || cluster_id == 0)
        return false;
    return cluster_id == mine || (mine == 0 && consensus_is_member(n->cons, leader));
}

int node_send(struct node *n, uint64_t peer, uint8_t type, const uint8_t *data, size_t len)
{
    return n->net != NULL ? net_send(n->net, peer, type, data, len) : UV_ENOTCONN;
}

bool node_linked(const struct node *n, uint64_t peer)
{
    const struct net_peer *p = n->net ? net_peer_find(n->net, peer) : NULL;
    return p != NULL && p->connected;
}

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

static void on_cluster_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
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

static void ask_to_join(struct node *n, uint64_t leader)
{
    uint64_t now = uv_now(&n->loop);
    if (now - n->last_join_ms < JOIN_RETRY_MS && n->last_join_ms != 0)
        return;
    n->last_join_ms = now;
    mlog(&n->log, LOG_INFO, "asking leader %016llx to join its cluster",
         (unsigned long long)leader);
    node_send(n, leader, MESH_MSG_JOIN, (const uint8_t *)"", 0);
}

/* A linked peer's cluster with a linked leader, or 0. */
static uint64_t reachable_leader(const struct node *n)
{
    for (size_t i = 0; i < n->n_peer_info; i++) {
        const struct peer_cluster *pc = &n->peer_info[i];
        if (pc->member && pc->leader != 0 && node_linked(n, pc->id) &&
            (pc->leader == pc->id || node_linked(n, pc->leader)))
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
    uint64_t leader = reachable_leader(n);
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
    if (st.leader_id == n->keys.node_id) {
        node_members_on_leadership(n);
        if (node_lead_start(n) != 0)
            mlog(&n->log, LOG_ERROR, "out of memory starting the leader's scheduler");
    } else {
        node_lead_stop(n);
    }
    node_work_on_leader_change(n);
    node_write_progress(n);
    node_lead_dispatch(n);
}

static void on_cluster_tick(uv_timer_t *t)
{
    struct node *n = t->data;
    organize(n);
    follow_leadership(n);
    send_cluster_info(n);
    node_lead_tick(n);
    node_retain_tick(n);
    node_spill_tick(n);
    node_write_progress(n);
    node_work_dispatch(n);
    api_wake_waiters(n); /* results waiters for a batch that never came */
    node_pex_tick(n);
    node_merge_tick(n);   /* these two may restart consensus */
    node_members_tick(n);
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

static void on_applied(void *ud, const struct consensus_applied *a)
{
    struct node *n = ud;
    if (a->rc == 0 && a->type == QCMD_SUBMIT)
        mlog(&n->log, LOG_INFO, "batch %llu submitted", (unsigned long long)a->batch_id);
    if (a->rc == 0 && a->type == QCMD_CANCEL) {
        mlog(&n->log, LOG_INFO, "batch %llu cancelled", (unsigned long long)a->batch_id);
        node_work_abort_batch(n, a->batch_id);
    }
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
    if (a->type == QCMD_COMPLETE || a->type == QCMD_COMPLETE_BLOCK || a->type == QCMD_CANCEL)
        node_work_on_applied(n, a->batch_id);
    api_wake_waiters(n);
    node_write_progress(n);
    node_work_dispatch(n);
    if (a->type == QCMD_SUBMIT || a->type == QCMD_DRAIN)
        node_lead_dispatch(n);
}

static void on_changed(void *ud, uint64_t id, bool stays)
{
    node_members_on_changed(ud, id, stays);
}

static void on_restored(void *ud)
{
    struct node *n = ud;
    node_spill_stop(n); /* its batch is read from the restored replica anew */
    node_lead_on_queue_replaced(n);
    api_wake_waiters(n);
}

/* ---- routing and life cycle ------------------------------------------------------------ */

void node_cluster_on_message(struct node *n, uint64_t peer, uint8_t type,
                             const uint8_t *data, size_t len)
{
    if (n->cons == NULL)
        return;
    if (type >= CONSENSUS_MSG_FIRST && type <= CONSENSUS_MSG_LAST) {
        consensus_on_message(n->cons, peer, type, data, len);
        return;
    }
    switch (type) {
    case MESH_MSG_CLUSTER:
        on_cluster_msg(n, peer, data, len);
        break;
    case MESH_MSG_JOIN:
        node_members_on_join(n, peer);
        break;
    case MESH_MSG_PEERS:
        node_pex_on_message(n, data, len);
        break;
    case MESH_MSG_LEAVE:
        node_members_on_leave(n, peer);
        break;
    case MESH_MSG_MEMBERSHIP:
        node_members_on_verdict(n, peer, data, len);
        break;
    case MESH_MSG_FORWARD:
        node_write_on_forward(n, peer, data, len);
        break;
    case MESH_MSG_REPLY:
        node_write_on_reply(n, peer, data, len);
        node_merge_on_reply(n, peer, data, len);
        break;
    case MESH_MSG_LEASE: {
        struct msg_lease l;
        if (msg_lease_decode(&l, data, len) == 0)
            node_work_on_lease(n, peer, &l);
        break;
    }
    case MESH_MSG_RESULTS: {
        struct msg_results m;
        if (msg_results_decode(&m, data, len) == 0) {
            node_lead_on_results(n, peer, m.batch, m.items, m.n);
            free(m.items);
        }
        break;
    }
    case MESH_MSG_LEASE_END: {
        struct msg_lease_end e;
        if (msg_lease_end_decode(&e, data, len) == 0)
            node_lead_on_lease_end(n, peer, &e);
        break;
    }
    default:
        break;
    }
}

void node_cluster_on_peer(struct node *n, uint64_t peer, bool up)
{
    if (n->cons == NULL)
        return;
    if (up) {
        send_cluster_info(n);
        node_pex_send(n, peer);
        return;
    }
    consensus_on_peer_down(n->cons, peer);
    node_lead_on_peer_down(n, peer);
    struct peer_cluster *pc = (struct peer_cluster *)node_peer_cluster(n, peer);
    if (pc != NULL)
        pc->member = false; /* until it says otherwise again */
}

int node_cluster_start(struct node *n)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/raft", n->cfg->data_dir);
    if (n->peer_info == NULL)
        n->peer_info = calloc(NODE_MAX_PEER_INFO, sizeof *n->peer_info);
    struct consensus_config cc = {
        .loop = &n->loop, .log = &n->log, .dir = dir, .self_id = n->keys.node_id,
        .election_ms = n->cfg->election_ms, .heartbeat_ms = n->cfg->heartbeat_ms,
        .max_voters = n->cfg->voters, .queue = &n->queue, .ud = n,
        .send = cons_send, .backlog = cons_backlog, .linked = cons_linked,
        .on_applied = on_applied, .on_restored = on_restored, .on_changed = on_changed,
    };
    if (n->peer_info == NULL || consensus_open(&n->cons, &cc) != 0)
        return -1;
    /* Initialised before anything can fail: node_cluster_stop closes it. */
    uv_timer_init(&n->loop, &n->cluster_timer);
    n->cluster_timer.data = n;
    if (consensus_has_state(n->cons)) {
        mlog(&n->log, LOG_INFO, "rejoining the cluster recorded in %s", dir);
        if (consensus_start(n->cons) != 0)
            return -1;
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
    consensus_close(n->cons, on_closed);
    n->cons = NULL;
    return 1;
}

/* ---- restart ------------------------------------------------------------------------------ */

static void on_closed_for_restart(void *ud)
{
    struct node *n = ud;
    char dir[4200];
    n->cluster_restarting = false;
    if (n->stopping)
        return;
    snprintf(dir, sizeof dir, "%s/raft", n->cfg->data_dir);
    if (n->restart_discard && consensus_discard_state(dir) != 0)
        mlog(&n->log, LOG_ERROR, "cannot discard the raft state in %s", dir);
    /* The replica is rebuilt from the (recovered or empty) log. */
    node_spill_stop(n);
    queue_free(n->queue);
    n->queue = queue_new();
    n->known_leader = 0;
    if (n->queue == NULL || node_cluster_start(n) != 0) {
        mlog(&n->log, LOG_ERROR, "cannot start consensus again: stopping");
        node_stop(n);
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
