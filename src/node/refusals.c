/* refusals.c - results the leader refused, per sending node.
 *
 * The leader checks every result before it proposes it (lead.c,
 * src/factor/verify.h). A refusal is counted against its sender, logged
 * (rate-limited: a liar sends thousands a second) and shown per node in
 * `status --json` and /metrics. A member of the cluster that keeps sending
 * wrong results is drained, with an event: a healthy node never sends one
 * (its kernel checks its own answers), so a run of them means a broken
 * machine or a key holder lying. A node that is not a member holds no
 * lease, gets no work and is never drained (drains are replicated state, a
 * key holder minting identities must not fill them): its results are only
 * refused.
 *
 * The counts are this node's view as leader; they outlive its leadership
 * (they are what it saw) and are bounded: past NODE_MAX_REFUSED_NODES
 * senders the one heard from longest ago is forgotten. */
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "refusals.h"
#include "event_log.h"
#include "consensus.h"

enum {
    NODE_MAX_REFUSED_NODES = 256,
    DRAIN_AFTER_REFUSALS = 8,   /* messages with a wrong result */
};

struct refused_node {
    uint64_t id;
    uint64_t total;             /* refused since this node started */
    uint64_t strikes;           /* messages with a wrong result since its last drain */
    uint64_t last_ms;
};

struct refusals {
    struct refused_node nodes[NODE_MAX_REFUSED_NODES];
    size_t count;
    struct log_ratelimit rl;
};

void node_refusals_free(struct node *n)
{
    free(n->refusals);
    n->refusals = NULL;
}

static struct refused_node *find(const struct refusals *r, uint64_t id)
{
    for (size_t i = 0; r != NULL && i < r->count; i++)
        if (r->nodes[i].id == id)
            return (struct refused_node *)&r->nodes[i];
    return NULL;
}

/* The node's entry, made on first use; the one heard from longest ago
 * makes room. NULL only when out of memory. */
static struct refused_node *slot(struct node *n, uint64_t id, uint64_t now)
{
    if (n->refusals == NULL && (n->refusals = calloc(1, sizeof *n->refusals)) == NULL)
        return NULL;
    struct refusals *r = n->refusals;
    struct refused_node *e = find(r, id);
    if (e != NULL)
        return e;
    if (r->count < NODE_MAX_REFUSED_NODES) {
        e = &r->nodes[r->count++];
    } else {
        e = &r->nodes[0];
        for (size_t i = 1; i < r->count; i++)
            if (r->nodes[i].last_ms < e->last_ms)
                e = &r->nodes[i];
    }
    *e = (struct refused_node){.id = id, .last_ms = now};
    return e;
}

uint64_t node_refusals_of(const struct node *n, uint64_t id)
{
    const struct refused_node *e = find(n->refusals, id);
    return e ? e->total : 0;
}

static void on_drain_committed(void *ud, int rc, uint64_t index, uint64_t batch_id,
                               const char *err)
{
    struct node *n = ud;
    (void)index;
    (void)batch_id;
    if (rc != 0)
        mlog(&n->log, LOG_WARN, "could not drain a node sending wrong results: %s", err);
}

static void drain(struct node *n, struct refused_node *e)
{
    struct qcmd cmd = {.type = QCMD_DRAIN, .node_id = e->id, .drained = true};
    char err[256];
    if (queue_node_drained(n->queue, e->id) ||
        consensus_propose(n->cons, &cmd, on_drain_committed, n, err, sizeof err) != 0)
        return; /* drained already, or not now: the next wrong result tries again */
    node_event(n, MESH_EV_REFUSED, "node %016llx sent wrong results %llu times: draining it",
               (unsigned long long)e->id, (unsigned long long)e->strikes);
    e->strikes = 0;
}

void node_refusals_skip(struct node *n, uint64_t from, size_t count)
{
    struct refused_node *e = slot(n, from, uv_now(&n->loop));
    if (e != NULL)
        e->total += count;
}

void node_refusals_note(struct node *n, uint64_t from, uint64_t batch, uint64_t index,
                        const char *why, bool wrong)
{
    uint64_t now = uv_now(&n->loop);
    struct refused_node *e = slot(n, from, now);
    if (e == NULL)
        return;
    e->total++;
    e->last_ms = now;
    mlog_limited(&n->log, &n->refusals->rl, now, LOG_WARN,
                 "refused a result of batch %llu index %llu from node %016llx: %s "
                 "(%llu refused from it)", (unsigned long long)batch,
                 (unsigned long long)index, (unsigned long long)from, why,
                 (unsigned long long)e->total);
    if (!wrong || !consensus_is_member(n->cons, from))
        return;
    if (++e->strikes >= DRAIN_AFTER_REFUSALS)
        drain(n, e);
}
