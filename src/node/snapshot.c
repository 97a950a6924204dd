/* snapshot.c - builds the ONE view of the mesh (src/view.h) from the
 * node: this node, its peers with their raft roles, the consensus state and
 * the batches of this replica. The dashboard draws it; `status --json`
 * serialises it (api.c). Neither reads the node itself, so they cannot
 * disagree on a fact. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node.h" /* first: declares struct net for net.h */
#include "snapshot.h"
#include "hard.h"
#include "lead_node.h"
#include "members.h"
#include "peers.h"
#include "refusals.h"
#include "result_fetch.h"
#include "work_node.h"
#include "consensus.h"
#include "discovery.h"
#include "net.h"
#include "view.h"
#include "view_text.h"

const char *node_state_name(const struct node *n)
{
    if (node_members_estranged(n))
        return "removed";
    if (node_members_leaving(n))
        return "leaving";
    if (!n->draining)
        return "active";
    /* Drained: nothing of this node's will change the mesh any more, no
     * worker busy, no lease waiting for one, no result not yet committed. */
    return worker_pool_busy(n->pool) > 0 || !node_work_settled(n) ? "draining" : "drained";
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
                      struct view_node *u)
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
                      const struct net_peer *p, struct view_node *u)
{
    snprintf(u->id, sizeof u->id, "%s", p->id_hex);
    snprintf(u->name, sizeof u->name, "%s", p->name);
    snprintf(u->role, sizeof u->role, "%s", role_in(n, st, p->id));
    snprintf(u->state, sizeof u->state, "%s", peer_state(n, p));
    snprintf(u->addr, sizeof u->addr, "%s", p->addr);
    u->self = false;
    u->connected = p->connected;
    u->workers = p->workers;
    /* A down node is busy with nothing this node knows of and factors at
     * no rate it can see: its last meter is not shown as if current. Its
     * done count is its last known (a count, not a gauge). */
    u->busy = p->connected ? p->stats.busy : 0;
    u->rate = p->connected ? p->stats.rate : 0;
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
static void view_batches(const struct node *n, struct mesh_view *s)
{
    size_t count = queue_batch_count(n->queue);
    size_t first = count > VIEW_MAX_BATCHES ? count - VIEW_MAX_BATCHES : 0;
    s->n_batches = 0;
    s->n_batches_total = count;
    for (size_t i = first; i < count; i++) {
        struct batch_info b;
        if (queue_batch_at(n->queue, i, &b) != 0)
            continue;
        struct view_batch *u = &s->batches[s->n_batches++];
        u->id = b.id;
        snprintf(u->name, sizeof u->name, "%s", b.name);
        snprintf(u->state, sizeof u->state, "%s", batch_state_name(b.state));
        u->total = b.total;
        u->done = b.done;
        u->unfactored = b.unfactored;
        u->chunk = b.chunk;
        u->budget_ms = b.spec->budget_ms;
        u->results_elsewhere = b.results_elsewhere;
        struct results_wait w;
        if (b.results_elsewhere && node_results_waiting(n, b.id, &w)) {
            u->results_missing = w.missing;
            u->results_asked = w.asked;
            u->results_wait_since_ms = w.since_ms;
        }
    }
}

static void view_consensus(const struct node *n, struct mesh_view *s,
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

/* Pending, in flight and done numbers: what the header, `status --json`
 * numbers{} and /metrics mesh_numbers_* show. One definition each
 * (doc/DESIGN.md, "Dashboard and CLI"): done counts every batch this
 * replica holds (not only the ones listed), pending and in flight the
 * running batches' numbers not done, in flight being those on a busy
 * worker of a linked node. */
static void view_numbers(const struct node *n, struct mesh_view *s)
{
    uint64_t left = 0;
    size_t count = queue_batch_count(n->queue);
    for (size_t i = 0; i < count; i++) {
        struct batch_info b;
        if (queue_batch_at(n->queue, i, &b) != 0)
            continue;
        s->done += b.done;
        if (b.state == BATCH_RUNNING && b.total > b.done)
            left += b.total - b.done;
    }
    for (size_t i = 0; i < s->n_nodes; i++)
        if (s->nodes[i].connected)
            s->in_flight += s->nodes[i].busy;
    if (s->in_flight > left)
        s->in_flight = left;
    s->pending = left - s->in_flight;
}

static const char *name_of_id(void *ud, const char *id)
{
    const struct mesh_view *s = ud;
    for (size_t i = 0; i < s->n_nodes; i++)
        if (strcmp(s->nodes[i].id, id) == 0 && s->nodes[i].name[0] != '\0')
            return s->nodes[i].name;
    return NULL;
}

static void event_time(uint64_t ms, char out[9])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 9, "%H:%M:%S", &tm);
}

/* The latest events, node ids named, a run of alike ones (view_text.h)
 * folded into its latest with a count: one expired lease set is one line,
 * not sixteen. Reads the whole ring so that folding still leaves
 * VIEW_EVENTS lines of history. Needs s->nodes filled. */
static void view_events(const struct node *n, struct mesh_view *s)
{
    static_assert(EVENTS_RING <= 1024, "the ring is copied on the stack");
    struct mesh_event ev[EVENTS_RING];
    size_t got = events_latest(&n->events, ev, EVENTS_RING);
    s->n_events = 0;
    for (size_t i = 0; i < got; i++) {
        char text[sizeof s->events[0].text];
        snprintf(text, sizeof text, "%s", ev[i].text);
        view_name_ids(text, sizeof text, name_of_id, s);
        const char *kind = events_kind_name(ev[i].kind);
        struct view_event *last = s->n_events ? &s->events[s->n_events - 1] : NULL;
        if (last != NULL && strcmp(last->node, ev[i].origin_name) == 0 &&
            view_events_alike(last->kind, last->text, kind, text)) {
            last->repeat++;
        } else {
            if (s->n_events == VIEW_EVENTS) {       /* keep the latest */
                memmove(&s->events[0], &s->events[1], sizeof s->events[0] * (VIEW_EVENTS - 1));
                s->n_events--;
            }
            last = &s->events[s->n_events++];
            memset(last, 0, sizeof *last);
            last->repeat = 1;
            event_time(ev[i].time_ms, last->first_time);
            snprintf(last->kind, sizeof last->kind, "%s", kind);
            snprintf(last->node, sizeof last->node, "%s", ev[i].origin_name);
        }
        last->seq = ev[i].seq;
        event_time(ev[i].time_ms, last->time);
        snprintf(last->text, sizeof last->text, "%s", text);
    }
}

static void view_retained(const struct node *n, struct mesh_view *s)
{
    struct retained_info r;
    queue_retained(n->queue, &r);
    s->retained.batches = r.batches;
    s->retained.bytes = r.bytes;
    s->retained.running_bytes = r.running_bytes;
    s->retained.budget = n->cfg->results_budget;
    s->retained.keep_ms = n->cfg->keep_results_ms;
    s->retained.forgotten = queue_forgotten_count(n->queue);
    s->retained.in_memory = queue_inline_bytes(n->queue);
    s->retained.full = r.running_bytes >= n->cfg->results_budget;
}

void node_snapshot(const struct node *n, struct mesh_view *s)
{
    struct consensus_status st;
    consensus_status(n->cons, &st);
    memset(s, 0, sizeof *s);
    view_consensus(n, s, &st);
    view_self(n, &st, &s->nodes[s->n_nodes++]);
    size_t peers = n->net != NULL ? net_peer_count(n->net) : 0;
    for (size_t i = 0; i < peers && s->n_nodes < VIEW_MAX_NODES; i++)
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
    view_numbers(n, s);
    view_retained(n, s);
    if (n->cons != NULL)
        consensus_disk_full(n->cons, s->disk_full, sizeof s->disk_full);
    view_events(n, s);
    node_hard_view(n, s);
}
