/* event_log.c - the node's side of the mesh event log (events.h).
 *
 * How events become mesh-wide:
 *  - node_event() records an event of this node, logs it and tells every
 *    linked peer (MESH_MSG_EVENT). Peers record it under the sender's
 *    authenticated id and name, deduplicated by (origin, origin_seq); they
 *    never relay it, so an event costs one message per link.
 *  - Facts of the replicated state (a node drained or back, a batch
 *    submitted, finished or cancelled, a node joined or went down, a new
 *    leader) are seen by the leader in its view of the mesh
 *    (node_snapshot) and told by the leader alone, so each is told once
 *    and not once per node.
 *  - Warnings and errors of this node's log become local events (not
 *    told to peers: a flood of them must not be multiplied by the mesh). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h" /* first: declares struct net for net.h */
#include "event_log.h"
#include "api_events.h"
#include "peers.h"
#include "net.h"
#include "wallclock.h"

static void tell_peers(struct node *n, const struct mesh_event *e)
{
    if (n->net == NULL)
        return;
    struct msg_event m = {.kind = (uint8_t)e->kind, .origin_seq = e->origin_seq,
                          .time_ms = e->time_ms};
    snprintf(m.name, sizeof m.name, "%s", e->origin_name);
    snprintf(m.text, sizeof m.text, "%s", e->text);
    uint8_t *buf;
    size_t len;
    if (msg_event_encode(&m, &buf, &len) != 0)
        return;
    for (size_t i = 0; i < net_peer_count(n->net); i++) {
        const struct net_peer *p = net_peer_at(n->net, i);
        if (p->connected)
            net_send(n->net, p->id, MESH_MSG_EVENT, buf, len);
    }
    free(buf);
}

static enum log_level level_of(enum mesh_event_kind kind)
{
    return kind == MESH_EV_ERROR ? LOG_ERROR
         : kind == MESH_EV_REFUSED || kind == MESH_EV_WARNING ? LOG_WARN : LOG_INFO;
}

static const struct mesh_event *record_own(struct node *n, enum mesh_event_kind kind,
                                           const char *text)
{
    const struct mesh_event *e = events_add(&n->events, kind, n->keys.node_id, 0, wallclock_ms(),
                                            n->cfg->name, text);
    api_events_wake(n);
    return e;
}

void node_event(struct node *n, enum mesh_event_kind kind, const char *fmt, ...)
{
    char text[EVENT_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    n->in_event = true;         /* this log line is the event itself */
    mlog(&n->log, level_of(kind), "event %s: %s", events_kind_name(kind), text);
    n->in_event = false;
    const struct mesh_event *e = record_own(n, kind, text);
    if (e != NULL)
        tell_peers(n, e);
}

/* A peer this node would not link with: the link layer's lines for a
 * refused connection or an inbound handshake that failed (wrong key). */
static bool is_refusal(const char *msg)
{
    return strncmp(msg, "refused connection", 18) == 0 ||
           (strncmp(msg, "link from ", 10) == 0 && strstr(msg, "failed handshake") != NULL);
}

/* The log's hook: warnings and errors become local events. A refused peer
 * (is_refusal) is an event told to the mesh: the link layer already limits
 * those lines to a few per 10 s, so a hostile peer cannot make the mesh
 * flood itself, and the link layer needs no hook of its own. */
static void on_log_line(void *ud, enum log_level level, const char *msg)
{
    struct node *n = ud;
    if (n->in_event || level > LOG_WARN)
        return;
    n->in_event = true;
    if (is_refusal(msg)) {
        const struct mesh_event *e = record_own(n, MESH_EV_REFUSED, msg);
        if (e != NULL)
            tell_peers(n, e);
    } else {
        record_own(n, level == LOG_ERROR ? MESH_EV_ERROR : MESH_EV_WARNING, msg);
    }
    n->in_event = false;
}

void node_events_on_message(struct node *n, const struct net_peer *p, const uint8_t *data,
                            size_t len)
{
    struct msg_event m;
    if (msg_event_decode(&m, data, len) != 0) {
        mlog_limited(&n->log, &n->events_bad_rl, uv_now(&n->loop), LOG_WARN,
                     "peer %s sent a malformed event", p->id_hex);
        return;
    }
    const struct mesh_event *e = events_add(&n->events, (enum mesh_event_kind)m.kind, p->id,
                                            m.origin_seq, m.time_ms, p->name, m.text);
    if (e == NULL)
        return;
    n->in_event = true;
    mlog_limited(&n->log, &n->events_rl, uv_now(&n->loop), LOG_INFO, "event %s from %s: %s",
                 events_kind_name(e->kind), e->origin_name, e->text);
    n->in_event = false;
    api_events_wake(n);
}

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

void node_events_start(struct node *n)
{
    events_init(&n->events, wallclock_ms());
    n->log.on_line = on_log_line;
    n->log.on_line_ud = n;
}

void node_events_free(struct node *n)
{
    n->log.on_line = NULL;
    free(n->events_prev);
    n->events_prev = NULL;
}

void node_events_on_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    const struct net_peer *p = n->net != NULL ? net_peer_find(n->net, peer) : NULL;
    if (p != NULL)
        node_events_on_message(n, p, data, len);
}
