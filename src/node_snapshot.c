/* node_snapshot.c - copies the node's state into the dashboard's snapshot
 * struct (ui/snapshot.h), so the dashboard never touches the node itself. */
#include <stdio.h>
#include <string.h>

#include "node.h" /* first: declares struct net for net.h */
#include "discovery.h"
#include "net.h"
#include "snapshot.h"

const char *node_state_name(const struct node *n)
{
    if (!n->draining)
        return "active";
    return worker_pool_busy(n->pool) > 0 ? "draining" : "drained";
}

static void snapshot_self(const struct node *n, struct ui_node *u)
{
    snprintf(u->id, sizeof u->id, "%s", n->keys.id_hex);
    snprintf(u->name, sizeof u->name, "%s", n->cfg->name);
    snprintf(u->role, sizeof u->role, "leader");
    snprintf(u->state, sizeof u->state, "%s", node_state_name(n));
    u->self = u->connected = true;
    u->workers = worker_pool_size(n->pool);
    u->busy = worker_pool_busy(n->pool);
    u->rate = n->stats.meter.rate;
    u->done = n->stats.done;
    u->last_heard_s = 0;
}

static void snapshot_peer(const struct node *n, const struct net_peer *p, struct ui_node *u)
{
    snprintf(u->id, sizeof u->id, "%s", p->id_hex);
    snprintf(u->name, sizeof u->name, "%s", p->name);
    snprintf(u->role, sizeof u->role, "peer");
    snprintf(u->state, sizeof u->state, "%s", p->stats.draining ? "draining" : "active");
    u->self = false;
    u->connected = p->connected;
    u->workers = p->workers;
    u->busy = p->stats.busy;
    u->rate = p->stats.rate;
    u->done = p->stats.done;
    u->last_heard_s = p->last_heard_ms == 0 ? -1.0 :
        (double)(uv_now((uv_loop_t *)&n->loop) - p->last_heard_ms) / 1000.0;
}

static const char *batch_state_name(enum batch_state s)
{
    return s == BATCH_RUNNING ? "running" : s == BATCH_DONE ? "done" : "cancelled";
}

/* The most recent batches, oldest of them first. */
static void snapshot_batches(const struct node *n, struct ui_snapshot *s)
{
    size_t count = queue_batch_count(n->queue);
    size_t first = count > UI_MAX_BATCHES ? count - UI_MAX_BATCHES : 0;
    s->n_batches = 0;
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
    }
}

void node_snapshot(const struct node *n, struct ui_snapshot *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->leader, sizeof s->leader, "%s", n->keys.id_hex);
    snapshot_self(n, &s->nodes[s->n_nodes++]);
    size_t peers = n->net != NULL ? net_peer_count(n->net) : 0;
    for (size_t i = 0; i < peers && s->n_nodes < UI_MAX_NODES; i++)
        snapshot_peer(n, net_peer_at(n->net, i), &s->nodes[s->n_nodes++]);
    snapshot_batches(n, s);
    s->mdns_enabled = n->disc != NULL;
    if (n->disc != NULL) {
        struct discovery_status ds;
        discovery_status(n->disc, &ds);
        s->mdns_running = ds.daemon_running;
        s->foreign_meshes = ds.foreign_meshes;
    }
    s->weak_key = n->cfg->authkey_weak;
    s->n_log = log_recent(&n->log, s->log, UI_LOG_LINES);
}
