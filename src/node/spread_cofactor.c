/* spread_cofactor.c - see spread_cofactor.h. */
#include <stdlib.h>
#include <string.h>

#include "node.h" /* first: declares struct net for net.h */
#include "spread_cofactor.h"
#include "batch.h"
#include "cofactor_rule.h"
#include "consensus.h"
#include "lead_node.h"
#include "peers.h"
#include "queue.h"
#include "spread_cofactor_hold.h"

/* A hand-over or cancel not seen committed is made again after this. */
enum { COFACTOR_RETRY_MS = 5000 };

static void cancelled(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    (void)ud, (void)rc, (void)index, (void)batch_id, (void)err; /* the tick reads the log */
}

static void cancel_child(struct node *n, uint64_t child, uint64_t *cancel_ms, uint64_t now)
{
    if (*cancel_ms != 0 && now - *cancel_ms < COFACTOR_RETRY_MS)
        return;
    *cancel_ms = now;
    struct qcmd cmd = {.type = QCMD_CANCEL, .batch_id = child};
    char err[256];
    if (consensus_propose(n->cons, &cmd, cancelled, NULL, err, sizeof err) != 0)
        mlog(&n->log, LOG_DEBUG, "cofactor batch %llu not cancelled: %s",
             (unsigned long long)child, err);
}

static void release(struct node *n, struct cofactor_link *l, const char *why)
{
    l->released = true;
    mlog(&n->log, LOG_WARN, "spread batch %llu: its cofactor's batch %llu %s; N goes to one "
         "worker", (unsigned long long)l->batch, (unsigned long long)l->child, why);
}

/* The child is DONE: N's line, P and the cofactor's factors, goes to B at
 * N's index through the leader's own result path (factor_verify again). */
static void hand_line(struct node *n, struct cofactor_link *l, const struct batch_info *b,
                      const struct batch_info *child, uint64_t now)
{
    if (l->handed_ms != 0 && now - l->handed_ms < COFACTOR_RETRY_MS)
        return;
    const char *text = queue_result(n->queue, child->id, child->total - 1);
    if (text == NULL)
        return; /* its results not loaded here yet (a restored manifest's file) */
    mpz_t num, c, p;
    mpz_inits(num, c, p, NULL);
    char *line = NULL;
    bool ok = mpz_set_str(num, b->spec->start, 10) == 0 &&
              mpz_set_str(c, child->spec->start, 10) == 0 && mpz_sgn(c) > 0 &&
              mpz_divisible_p(num, c);
    if (ok) {
        mpz_divexact(p, num, c);
        ok = cofactor_combine(num, p, text, &line);
    }
    if (ok) {
        l->handed_ms = now;
        struct msg_result r = {b->total - 1, line, strlen(line)};
        node_lead_on_results(n, n->keys.node_id, b->id, &r, 1);
        mlog(&n->log, LOG_INFO, "spread batch %llu: N's factors with its cofactor's from batch "
             "%llu", (unsigned long long)b->id, (unsigned long long)child->id);
    } else {
        release(n, l, "ended without its factors");
    }
    free(line);
    mpz_clears(num, c, p, NULL);
}

static void follow(struct node *n, const struct batch_info *child, uint64_t batch, uint64_t now)
{
    struct batch_info b;
    bool wanted = queue_batch_get(n->queue, batch, &b) == 0 && b.state == BATCH_RUNNING &&
                  b.spec->kind == BATCH_SPREAD && !queue_is_done(n->queue, batch, b.total - 1);
    struct cofactor_link *l = node_cofactor_link(n, batch, wanted || child->state == BATCH_RUNNING);
    if (l == NULL)
        return;
    if (l->child == 0 || child->id < l->child)
        l->child = child->id; /* the first made is the one */
    if (child->id != l->child || !wanted) {
        uint64_t cancel_ms = 0, *paced = child->id == l->child ? &l->cancel_ms : &cancel_ms;
        if (child->state == BATCH_RUNNING)
            cancel_child(n, child->id, paced, now);
        return;
    }
    if (l->released)
        return;
    if (child->state == BATCH_DONE)
        hand_line(n, l, &b, child, now);
    else if (child->state == BATCH_CANCELLED)
        release(n, l, "was cancelled");
}

/* Links of batches no longer running go, but not one whose child still
 * runs (its cancel is paced by the link). */
static void prune(struct node *n)
{
    struct node_cofactor *c = n->cofactor;
    if (c == NULL)
        return;
    size_t kept = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct batch_info info;
        const struct cofactor_link *l = &c->links[i];
        bool batch = queue_batch_get(n->queue, l->batch, &info) == 0 &&
                     info.state == BATCH_RUNNING;
        bool child = l->child != 0 && queue_batch_get(n->queue, l->child, &info) == 0 &&
                     info.state == BATCH_RUNNING;
        if (batch || child)
            c->links[kept++] = *l;
    }
    c->n = kept;
}

void node_cofactor_tick(struct node *n)
{
    if (n->lead == NULL || !node_is_leader(n)) {
        node_cofactor_free(n);
        return;
    }
    uint64_t now = uv_now(&n->loop);
    size_t count = queue_batch_count(n->queue);
    for (size_t i = 0; i < count; i++) {
        struct batch_info c;
        uint64_t batch;
        if (queue_batch_at(n->queue, i, &c) == 0 && c.spec->kind == BATCH_SPREAD &&
            cofactor_link_parse(c.name, &batch) == 0 &&
            (c.state == BATCH_RUNNING || c.state == BATCH_DONE || c.state == BATCH_CANCELLED))
            follow(n, &c, batch, now);
    }
    prune(n);
}

