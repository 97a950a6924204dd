/* event_view.c - the events the leader tells from its view of the mesh
 * (event_log.c says which events come from here and why); apart from the
 * log itself because it reads the whole view (snapshot.c), and the view
 * reads the modules that record events. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "event_view.h"
#include "event_log.h"
#include "peers.h"
#include "snapshot.h"

/* ---- the leader tells what changed in its view ------------------------ */

static const struct view_node *find_node(const struct mesh_view *s, const char *id)
{
    for (size_t i = 0; i < s->n_nodes; i++)
        if (strcmp(s->nodes[i].id, id) == 0)
            return &s->nodes[i];
    return NULL;
}

static const struct view_batch *find_batch(const struct mesh_view *s, uint64_t id)
{
    for (size_t i = 0; i < s->n_batches; i++)
        if (s->batches[i].id == id)
            return &s->batches[i];
    return NULL;
}

static void node_changes(struct node *n, const struct mesh_view *was,
                         const struct mesh_view *now)
{
    for (size_t i = 0; i < now->n_nodes; i++) {
        const struct view_node *u = &now->nodes[i], *o = find_node(was, u->id);
        const char *s = u->state;
        bool was_down = o != NULL && (strcmp(o->state, "down") == 0 ||
                                      strcmp(o->state, "gone") == 0);
        bool is_down = strcmp(s, "down") == 0 || strcmp(s, "gone") == 0;
        if (o == NULL || (was_down && !is_down))
            node_event(n, MESH_EV_JOIN, "node %s (%.8s) joined at %s", u->name, u->id,
                       u->addr[0] ? u->addr : "this node");
        else if (strcmp(o->state, s) == 0)
            continue;
        else if (strcmp(s, "down") == 0)
            node_event(n, MESH_EV_LEAVE, "node %s (%.8s) is down", u->name, u->id);
        else if (strcmp(s, "gone") == 0)
            node_event(n, MESH_EV_LEAVE, "node %s (%.8s) is gone: down past the voter grace",
                       u->name, u->id);
        else if (strcmp(s, "draining") == 0 || strcmp(s, "drained") == 0)
            node_event(n, MESH_EV_DRAIN, "node %s %s", u->name, s);
        else if (strcmp(s, "active") == 0)
            node_event(n, MESH_EV_UNDRAIN, "node %s takes work again", u->name);
    }
}

/* Each tombstone recorded since the last tick is one forgotten batch: a
 * batch that lived less than a tick is never in a view to diff against,
 * so forgetting is told from the queue's own record, not from views. */
static void forgotten_batches(struct node *n, bool tell)
{
    uint64_t total = queue_forgotten_total(n->queue);
    if (n->forgets_told > total)
        n->forgets_told = total; /* a new replica (restart, snapshot) */
    for (uint64_t t = n->forgets_told; tell && t < total; t++) {
        const struct forgotten_info *f = queue_forgotten_nth(n->queue, t);
        if (f != NULL)
            node_event(n, MESH_EV_BATCH, "batch %" PRIu64 " forgotten: %s", f->id,
                       forget_reason_text(f->why));
    }
    n->forgets_told = total;
}

/* "batch 7 (classic)" or, unnamed, "batch 7". */
static void batch_label(const struct view_batch *b, char *out, size_t outlen)
{
    if (b->name[0] != '\0')
        snprintf(out, outlen, "batch %" PRIu64 " (%s)", b->id, b->name);
    else
        snprintf(out, outlen, "batch %" PRIu64, b->id);
}

/* Every batch gets its "submitted" line, also one that was already done
 * (or cancelled) when the leader first saw it (a small batch finishes
 * within the second between two views), then its end. */
static void batch_changes(struct node *n, const struct mesh_view *was,
                          const struct mesh_view *now)
{
    uint64_t newest_was = 0;     /* above it: new (not one slid into the view) */
    for (size_t i = 0; i < was->n_batches; i++)
        newest_was = was->batches[i].id > newest_was ? was->batches[i].id : newest_was;
    for (size_t i = 0; i < now->n_batches; i++) {
        const struct view_batch *b = &now->batches[i], *o = find_batch(was, b->id);
        char label[96];
        batch_label(b, label, sizeof label);
        if (o == NULL && b->id > newest_was)
            node_event(n, MESH_EV_BATCH, "%s submitted: %" PRIu64 " numbers", label, b->total);
        if ((o == NULL ? b->id > newest_was : strcmp(o->state, "running") == 0) &&
            strcmp(b->state, "running") != 0)
            node_event(n, MESH_EV_BATCH, "%s %s: %" PRIu64 "/%" PRIu64 " done, %" PRIu64
                       " unfactored", label, b->state, b->done, b->total, b->unfactored);
    }
}

/* Called once a second. Every node keeps its previous view, so that a
 * node elected a moment ago still tells what changed around its election
 * (at worst an event is told twice, by the old and the new leader, rather
 * than never). A node's very first view is only remembered. */
void node_events_tick(struct node *n)
{
    if (n->events_prev == NULL && (n->events_prev = calloc(1, sizeof *n->events_prev)) == NULL)
        return;
    bool leader = node_is_leader(n);
    node_snapshot(n, &n->snapshot);
    if (leader && !n->events_was_leader)
        node_event(n, MESH_EV_ELECTION, "%s is the leader (term %" PRIu64 ")", n->cfg->name,
                   n->snapshot.term);
    if (leader && n->events_prev_valid) {
        node_changes(n, n->events_prev, &n->snapshot);
        batch_changes(n, n->events_prev, &n->snapshot);
    }
    forgotten_batches(n, leader && n->events_prev_valid);
    n->events_was_leader = leader;
    memcpy(n->events_prev, &n->snapshot, sizeof n->snapshot);
    n->events_prev_valid = true;
}
