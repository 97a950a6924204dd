/* node_events.c - the node's side of the mesh event log (events.h).
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
