/* node_view.c - builds the ONE view of the mesh (ui/snapshot.h) from the
 * node: this node, its peers with their raft roles, the consensus state and
 * the batches of this replica. The dashboard draws it; `status --json`
 * serialises it (api.c). Neither reads the node itself, so they cannot
 * disagree on a fact. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node.h" /* first: declares struct net for net.h */
#include "consensus.h"
#include "discovery.h"
#include "net.h"
#include "snapshot.h"

const char *node_state_name(const struct node *n)
{
    if (node_members_estranged(n))
        return "removed";
    if (node_members_leaving(n))
        return "leaving";
    if (!n->draining)
        return "active";
    return worker_pool_busy(n->pool) > 0 ? "draining" : "drained";
}

/* leader, voter, standby, joining (added, no role yet), removed (left the
 * configuration), worker (no log). */
static const char *role_in(const struct node *n, const struct consensus_status *st,
                           uint64_t id)
{
    if (st->leader_id == id && id != 0)
        return "leader";
    for (size_t i = 0; i < st->n_members; i++)
        if (st->members[i].id == id)
            return st->members[i].role == CONSENSUS_VOTER ? "voter"
                 : st->members[i].role == CONSENSUS_STANDBY ? "standby" : "joining";
    return node_members_was_removed(n, id) ? "removed" : "worker";
}

static void view_self(const struct node *n, const struct consensus_status *st,
                      struct ui_node *u)
{
    snprintf(u->id, sizeof u->id, "%s", n->keys.id_hex);
    snprintf(u->name, sizeof u->name, "%s", n->cfg->name);
    snprintf(u->role, sizeof u->role, "%s", role_in(n, st, n->keys.node_id));
    snprintf(u->state, sizeof u->state, "%s", node_state_name(n));
    u->self = u->connected = true;
    u->workers = worker_pool_size(n->pool);
    u->busy = worker_pool_busy(n->pool);
    u->rate = n->stats.meter.rate;
    u->done = n->stats.done;
    u->unfactored = n->stats.unfactored;
    u->leases = (unsigned)node_lead_leases_of(n, n->keys.node_id);
    u->refused = node_refusals_of(n, n->keys.node_id);
    u->last_heard_s = 0;
}

/* A peer's drained flag is replicated: this replica knows it even when the
 * peer is down; its busy workers come from its own stats. */
static const char *peer_state(const struct node *n, const struct net_peer *p)
{
    uint64_t now = uv_now((uv_loop_t *)&n->loop);
    if (!p->connected)
        return p->last_heard_ms != 0 && now - p->last_heard_ms >= n->cfg->voter_grace_ms
                   ? "gone" : "down";
    if (queue_node_drained(n->queue, p->id) || p->stats.draining)
        return p->stats.busy > 0 ? "draining" : "drained";
    return "active";
}

static void view_peer(const struct node *n, const struct consensus_status *st,
                      const struct net_peer *p, struct ui_node *u)
{
    snprintf(u->id, sizeof u->id, "%s", p->id_hex);
    snprintf(u->name, sizeof u->name, "%s", p->name);
    snprintf(u->role, sizeof u->role, "%s", role_in(n, st, p->id));
    snprintf(u->state, sizeof u->state, "%s", peer_state(n, p));
    snprintf(u->addr, sizeof u->addr, "%s", p->addr);
    u->self = false;
    u->connected = p->connected;
    u->workers = p->workers;
    u->busy = p->stats.busy;
    u->rate = p->stats.rate;
    u->done = p->stats.done;
    u->leases = (unsigned)node_lead_leases_of(n, p->id);
    u->refused = node_refusals_of(n, p->id);
    u->last_heard_s = p->last_heard_ms == 0 ? -1.0 :
        (double)(uv_now((uv_loop_t *)&n->loop) - p->last_heard_ms) / 1000.0;
}

static const char *batch_state_name(enum batch_state s)
{
    return s == BATCH_RUNNING ? "running" : s == BATCH_DONE ? "done" : "cancelled";
}

/* The most recent batches, oldest of them first. */
static void view_batches(const struct node *n, struct ui_snapshot *s)
{
    size_t count = queue_batch_count(n->queue);
    size_t first = count > UI_MAX_BATCHES ? count - UI_MAX_BATCHES : 0;
    s->n_batches = 0;
    s->n_batches_total = count;
    for (size_t i = first; i < count; i++) {
        struct batch_info b;
        if (queue_batch_at(n->queue, i, &b) != 0)
            continue;
        struct ui_batch *u = &s->batches[s->n_batches++];
        u->id = b.id;
        snprintf(u->name, sizeof u->name, "%s", b.name);
        snprintf(u->state, sizeof u->state, "%s", batch_state_name(b.state));
        u->total = b.total;
        u->done = b.done;
        u->unfactored = b.unfactored;
        u->chunk = b.chunk;
    }
}

/* Voters this node can reach (itself included): what a quorum needs. */
unsigned node_reachable_voters(const struct node *n, const struct consensus_status *st)
{
    unsigned reachable = 0;
    for (size_t i = 0; i < st->n_members; i++) {
        const struct consensus_member *m = &st->members[i];
        if (m->role == CONSENSUS_VOTER && (m->id == n->keys.node_id || node_linked(n, m->id)))
            reachable++;
    }
    return reachable;
}

static void view_consensus(const struct node *n, struct ui_snapshot *s,
                           const struct consensus_status *st)
{
    if (st->leader_id != 0)
        mesh_id_to_hex(st->leader_id, s->leader);
    if (consensus_cluster_id(n->cons) != 0)
        mesh_id_to_hex(consensus_cluster_id(n->cons), s->cluster_id);
    s->term = st->term;
    s->commit_index = st->commit_index;
    s->applied_index = st->applied_index;
    s->voters = st->voters;
    s->reachable = node_reachable_voters(n, st);
    s->quorum_ok = st->voters > 0 && s->reachable * 2 > st->voters && st->leader_id != 0;
}

/* Pending, in flight and done numbers: what the header and metrics show. */
static void view_numbers(struct ui_snapshot *s)
{
    uint64_t left = 0;
    for (size_t i = 0; i < s->n_batches; i++) {
        const struct ui_batch *b = &s->batches[i];
        s->done += b->done;
        if (strcmp(b->state, "running") == 0 && b->total > b->done)
            left += b->total - b->done;
    }
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].connected)
            s->in_flight += s->nodes[i].busy;
    if (s->in_flight > left)
        s->in_flight = left;
    s->pending = left - s->in_flight;
}

static void view_events(const struct node *n, struct ui_snapshot *s)
{
    struct mesh_event ev[UI_EVENTS];
    s->n_events = events_latest(&n->events, ev, UI_EVENTS);
    for (size_t i = 0; i < s->n_events; i++) {
        struct ui_event *u = &s->events[i];
        time_t t = (time_t)(ev[i].time_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        u->seq = ev[i].seq;
        strftime(u->time, sizeof u->time, "%H:%M:%S", &tm);
        snprintf(u->kind, sizeof u->kind, "%s", events_kind_name(ev[i].kind));
        snprintf(u->node, sizeof u->node, "%s", ev[i].origin_name);
        snprintf(u->text, sizeof u->text, "%s", ev[i].text);
    }
}

void node_snapshot(const struct node *n, struct ui_snapshot *s)
{
    struct consensus_status st;
    consensus_status(n->cons, &st);
    memset(s, 0, sizeof *s);
    view_consensus(n, s, &st);
    view_self(n, &st, &s->nodes[s->n_nodes++]);
    size_t peers = n->net != NULL ? net_peer_count(n->net) : 0;
    for (size_t i = 0; i < peers && s->n_nodes < UI_MAX_NODES; i++)
        view_peer(n, &st, net_peer_at(n->net, i), &s->nodes[s->n_nodes++]);
    view_batches(n, s);
    s->mdns_enabled = n->disc != NULL;
    if (n->disc != NULL) {
        struct discovery_status ds;
        discovery_status(n->disc, &ds);
        s->mdns_running = ds.daemon_running;
        s->foreign_meshes = ds.foreign_meshes;
    }
    s->weak_key = n->cfg->authkey_weak;
    view_numbers(s);
    view_events(n, s);
}
