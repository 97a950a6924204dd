/* retain.c - retention: which finished batches the mesh forgets.
 *
 * The leader decides and the log carries the decision: once a second it
 * looks at its replica and proposes one FORGET naming the batches that are
 * past --keep-results (by the log's own times: a batch ended at the time
 * of the command that ended it), or, while the results retained exceed
 * --results-budget, the oldest finished ones. Every replica then forgets
 * the same batches at the same index. A running batch is never forgotten
 * by age or budget; when running batches alone fill the budget, the
 * leader refuses new submits (etcd's NOSPACE alarm: refuse, never corrupt)
 * until the user cancels or forgets something or raises the budget. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "retain.h"
#include "merge.h"
#include "peers.h"
#include "consensus.h"
#include "units.h"
#include "wallclock.h"

enum {
    RETAIN_CHECK_MS = 1000,
    RETAIN_ANSWER_MS = 10000,   /* a proposal lost with its leader: try again */
};

struct candidate {
    uint64_t id, ended_ms, bytes;
};

/* Oldest first; an unknown end (a batch of an earlier release) counts as
 * the oldest of all. */
static int by_age(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->ended_ms != y->ended_ms)
        return x->ended_ms < y->ended_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The finished batches, oldest first; NULL when there are none. */
static struct candidate *finished_batches(const struct queue *q, size_t *n)
{
    size_t total = queue_batch_count(q);
    struct candidate *c = malloc((total ? total : 1) * sizeof *c);
    *n = 0;
    for (size_t i = 0; c != NULL && i < total; i++) {
        struct batch_info info;
        if (queue_batch_at(q, i, &info) == 0 && info.state != BATCH_RUNNING)
            c[(*n)++] = (struct candidate){info.id, info.ended_ms, info.bytes};
    }
    if (c != NULL)
        qsort(c, *n, sizeof *c, by_age);
    return c;
}

static void on_forgotten(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    struct node *n = ud;
    (void)index;
    (void)batch_id;
    n->retain_sent_ms = 0;
    if (rc == -1)
        mlog(&n->log, LOG_WARN, "forgetting batches: %s", err);
}

static void propose_forget(struct node *n, uint64_t *ids, size_t count, enum forget_reason why)
{
    struct qcmd cmd = {.type = QCMD_FORGET, .forget = ids,
                       .n_forget = qcmd_forget_normalize(ids, count),
                       .forget_reason = (uint8_t)why};
    char err[256];
    if (consensus_propose(n->cons, &cmd, on_forgotten, n, err, sizeof err) == 0)
        n->retain_sent_ms = uv_now(&n->loop);
    else
        mlog(&n->log, LOG_DEBUG, "forget not proposed: %s", err);
}

/* Age first (what the user asked for by time), then the budget. */
static size_t pick(const struct queue *q, const struct candidate *c, size_t count,
                   const struct retain_rules *rules, uint64_t *ids, enum forget_reason *why)
{
    uint64_t now = rules->now_ms, keep = rules->keep_ms;
    size_t k = 0;
    for (size_t i = 0; i < count && k < QCMD_FORGET_MAX; i++)
        if (c[i].ended_ms != 0 && now > c[i].ended_ms && now - c[i].ended_ms >= keep)
            ids[k++] = c[i].id;
    *why = FORGET_BY_AGE;
    if (k > 0)
        return k;
    struct retained_info r;
    queue_retained(q, &r);
    uint64_t bytes = r.bytes;
    for (size_t i = 0; i < count && k < QCMD_FORGET_MAX && bytes > rules->budget; i++) {
        ids[k++] = c[i].id;
        bytes -= c[i].bytes < bytes ? c[i].bytes : bytes;
    }
    *why = FORGET_BY_BUDGET;
    return k;
}

size_t retain_pick(const struct queue *q, const struct retain_rules *rules, uint64_t *ids,
                   enum forget_reason *why)
{
    size_t count;
    struct candidate *c = finished_batches(q, &count);
    size_t k = c != NULL ? pick(q, c, count, rules, ids, why) : 0;
    free(c);
    return k;
}

void node_retain_tick(struct node *n)
{
    uint64_t now = uv_now(&n->loop);
    bool waiting = n->retain_sent_ms != 0 && now - n->retain_sent_ms < RETAIN_ANSWER_MS;
    if (!node_is_leader(n) || waiting || now < n->retain_next_ms || node_merge_active(n))
        return;
    n->retain_next_ms = now + RETAIN_CHECK_MS;
    struct retain_rules rules = {n->cfg->keep_results_ms, n->cfg->results_budget,
                                 wallclock_ms()};
    uint64_t *ids = malloc(QCMD_FORGET_MAX * sizeof *ids);
    enum forget_reason why;
    size_t k = ids != NULL ? retain_pick(n->queue, &rules, ids, &why) : 0;
    if (k > 0)
        propose_forget(n, ids, k, why);
    free(ids);
}

bool node_retain_full(const struct node *n, char *err, size_t errlen)
{
    struct retained_info r;
    queue_retained(n->queue, &r);
    if (r.running_bytes < n->cfg->results_budget)
        return false;
    char held[32], budget[32];
    units_format_size(r.running_bytes, held, sizeof held);
    units_format_size(n->cfg->results_budget, budget, sizeof budget);
    snprintf(err, errlen, "results budget full: %zu running batches hold %s of the %s "
             "budget; cancel or forget a batch, or raise --results-budget", r.running, held,
             budget);
    return true;
}
