/* spread_route.c - see spread_route.h. */
#include <string.h>

#include "node.h" /* first: declares struct net for net.h */
#include "spread_route.h"
#include "batch.h"
#include "consensus.h"
#include "lead_node.h"
#include "peers.h"
#include "queue.h"
#include "spread_hold.h"
#include "spread_rule.h"

/* A hand-over or cancel not seen committed is made again after this. */
enum { ROUTE_RETRY_MS = 5000 };

static void cancelled(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    (void)ud, (void)rc, (void)index, (void)batch_id, (void)err; /* the tick reads the log */
}

static void cancel_child(struct node *n, struct route_link *l, uint64_t now)
{
    if (l->cancel_ms != 0 && now - l->cancel_ms < ROUTE_RETRY_MS)
        return;
    l->cancel_ms = now;
    struct qcmd cmd = {.type = QCMD_CANCEL, .batch_id = l->child};
    char err[256];
    if (consensus_propose(n->cons, &cmd, cancelled, NULL, err, sizeof err) != 0)
        mlog(&n->log, LOG_DEBUG, "spread batch %llu not cancelled: %s",
             (unsigned long long)l->child, err);
    else
        mlog(&n->log, LOG_INFO, "spread batch %llu cancelled: batch %llu #%llu needs it no more",
             (unsigned long long)l->child, (unsigned long long)l->parent,
             (unsigned long long)l->index);
}

/* The child is DONE: its last index, N's result, goes to P at I. */
static void hand_factors(struct node *n, struct route_link *l, const struct batch_info *child,
                         uint64_t now)
{
    struct batch_info p;
    char num[MESH_MAX_DIGITS + 2];
    if (l->released)
        return;
    if (queue_batch_get(n->queue, l->parent, &p) != 0 ||
        batch_number(p.spec, l->index, num, sizeof num) != 0 || strcmp(num, child->spec->start)) {
        l->released = true; /* named for P's number but made of another */
        return;
    }
    const char *text = queue_result(n->queue, child->id, child->total - 1);
    if (text == NULL)
        return; /* its results not loaded here yet (a restored manifest's file) */
    if (text[0] == '\0' || strstr(text, "unfactored") != NULL) {
        l->released = true; /* one worker of P's tries it with P's budget */
        mlog(&n->log, LOG_WARN, "spread batch %llu ended without N's factors: batch %llu #%llu "
             "goes to one worker", (unsigned long long)child->id,
             (unsigned long long)l->parent, (unsigned long long)l->index);
        return;
    }
    if (l->handed_ms != 0 && now - l->handed_ms < ROUTE_RETRY_MS)
        return;
    l->handed_ms = now;
    struct msg_result r = {l->index, text, strlen(text)};
    node_lead_on_results(n, n->keys.node_id, l->parent, &r, 1);
}

static void follow(struct node *n, const struct batch_info *child, uint64_t parent,
                   uint64_t index, uint64_t now)
{
    struct batch_info p;
    bool wanted = queue_batch_get(n->queue, parent, &p) == 0 && p.state == BATCH_RUNNING &&
                  !queue_is_done(n->queue, parent, index);
    /* A running one gets a link even when unwanted: its cancel is paced by it. */
    struct route_link *l = node_route_link(n, parent, index,
                                           wanted || child->state == BATCH_RUNNING);
    if (l == NULL)
        return; /* nothing to do with it (or out of memory: the next tick) */
    if (l->child == 0 || l->child > child->id || l->child == child->id)
        l->child = child->id; /* the first made is the one (the token makes one) */
    else if (child->state == BATCH_RUNNING) { /* a second link to the same number */
        struct route_link tmp = {.parent = parent, .index = index, .child = child->id};
        cancel_child(n, &tmp, now);
        return;
    }
    if (!wanted) {
        if (child->state == BATCH_RUNNING)
            cancel_child(n, l, now);
    } else if (child->state == BATCH_DONE) {
        hand_factors(n, l, child, now);
    } else if (child->state == BATCH_CANCELLED && !l->released) {
        l->released = true;
        mlog(&n->log, LOG_INFO, "spread batch %llu cancelled: batch %llu #%llu goes to one "
             "worker", (unsigned long long)child->id, (unsigned long long)parent,
             (unsigned long long)index);
    }
}

void node_route_tick(struct node *n)
{
    if (n->lead == NULL || !node_is_leader(n))
        return;
    uint64_t now = uv_now(&n->loop);
    size_t count = queue_batch_count(n->queue);
    for (size_t i = 0; i < count; i++) {
        struct batch_info c;
        uint64_t parent, index;
        if (queue_batch_at(n->queue, i, &c) == 0 && c.spec->kind == BATCH_SPREAD &&
            spread_link_parse(c.name, &parent, &index) == 0 &&
            (c.state == BATCH_RUNNING || c.state == BATCH_DONE || c.state == BATCH_CANCELLED))
            follow(n, &c, parent, index, now);
    }
    node_route_prune(n);
}
