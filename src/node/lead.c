/* lead.c - the leader's half of the work plane: leases and commits.
 *
 * What is leased to whom, until when, and what settles is the lease
 * table's (lease_table.h); which results are taken, what a refusal costs
 * and when leases go back are lead_rules.h's (the simulator runs the same
 * rules); this file sends the leases, gathers what the rules take and
 * proposes it.
 *
 * Results from every node (this one included) are gathered and proposed as
 * few large COMPLETE entries per loop iteration, with at most
 * MAX_IN_FLIGHT entries uncommitted: the log wants few big entries, and
 * 100k tiny ones froze raft's loop in a measurement (doc/DESIGN.md). */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "lead_rules.h"
#include "lease_table.h"
#include "node.h"
#include "lead.h"
#include "dispatch.h"
#include "event_log.h"
#include "peers.h"
#include "refusals.h"
#include "spread_hold.h"
#include "consensus.h"
#include "net.h"
#include "verify.h"

enum {
    MAX_IN_FLIGHT = 2,
    ENTRY_BUDGET = 900 * 1024,      /* result bytes per COMPLETE entry (< 1 MiB) */
    /* What the pending results keep allocated once proposed: about what
     * one entry takes. A backlog of seconds (the log slow to commit) is
     * given back once proposed (grow.h, shrink_array). */
    KEEP_PENDING = 1 << 16,
    KEEP_TEXT = 1 << 20,
    /* Results gathered and not yet proposed past which no lease is
     * granted: about two entries. Workers that answer faster than the log
     * commits (the leader's own, with no round trip for its leases) grew
     * the pending results and every outbox without bound, until the
     * leader's loop missed heartbeats and leadership moved every few
     * seconds. A commit (on_committed) or the tick leases again. */
    PENDING_HIGH = 1 << 17,
};

struct pending_result {
    uint64_t batch, index;
    size_t off, len;            /* its NUL-terminated text in lead.text */
};

struct lead {
    struct lease_table *leases;
    /* Results gathered for the next COMPLETE entries, texts packed in one
     * arena (no malloc per number on the leader's hot path). */
    struct pending_result *pending;
    size_t n_pending, cap_pending;
    char *text;
    size_t text_len, text_cap;
    /* Primes below 2^22 for checking results (NULL when out of memory:
     * the check is then slower, never weaker). */
    struct factor_verifier *verifier;
};

static uint64_t now_ms(const struct node *n)
{
    return uv_now((uv_loop_t *)&n->loop);
}

int node_lead_start(struct node *n)
{
    if (n->lead != NULL)
        return 0;
    struct lead *l = calloc(1, sizeof *l);
    if (l == NULL || (l->leases = lease_table_new(n->queue, now_ms(n))) == NULL) {
        free(l);
        return -1;
    }
    l->verifier = factor_verifier_new();
    lease_table_set_hold(l->leases, node_route_held, n);
    n->lead = l;
    return 0;
}

static void free_pending(struct lead *l)
{
    l->n_pending = 0;
    l->text_len = 0;
}

void node_lead_stop(struct node *n)
{
    struct lead *l = n->lead;
    if (l == NULL)
        return;
    lease_table_free(l->leases);
    free_pending(l);
    free(l->pending);
    free(l->text);
    factor_verifier_free(l->verifier);
    free(l);
    n->lead = NULL;
    node_route_free(n);
}

/* A snapshot replaced the replica: the scheduler must read the new one. */
void node_lead_on_queue_replaced(struct node *n)
{
    if (n->lead == NULL)
        return;
    node_lead_stop(n);
    node_lead_start(n);
}

size_t node_lead_leases_of(const struct node *n, uint64_t node_id)
{
    return n->lead ? lease_table_count_of(n->lead->leases, node_id) : 0;
}

/* ---- handing out ----------------------------------------------------------- */

static int send_lease(struct node *n, const struct lease *x)
{
    struct msg_lease m = {x->id, x->job.batch_id, x->job.lo, x->job.hi,
                          consensus_applied(n->cons), x->job.crashes};
    if (x->node == n->keys.node_id) {
        dispatch_own_lease(n, &m);
        return 0;
    }
    uint8_t *buf;
    size_t len;
    if (msg_lease_encode(&m, &buf, &len) != 0)
        return -1;
    int rc = node_send(n, x->node, MESH_MSG_LEASE, buf, len);
    free(buf);
    return rc;
}

static bool send_granted(void *ud, const struct lease *x)
{
    return send_lease(ud, x) == 0;
}

static void fill_node(struct node *n, uint64_t node, unsigned workers)
{
    lead_rules_fill(n->lead->leases, node, workers, n->number_budget_ms, now_ms(n),
                    send_granted, n);
}

static bool node_takes_work(const struct node *n, uint64_t id, bool draining)
{
    return lead_rules_takes_work(draining, queue_node_drained(n->queue, id),
                                 consensus_is_member(n->cons, id));
}

void node_lead_dispatch(struct node *n)
{
    if (n->lead == NULL || n->stopping || n->lead->n_pending > PENDING_HIGH)
        return;
    if (node_takes_work(n, n->keys.node_id, false))
        fill_node(n, n->keys.node_id, worker_pool_size(n->pool));
    for (size_t i = 0; n->net != NULL && i < net_peer_count(n->net); i++) {
        const struct net_peer *p = net_peer_at(n->net, i);
        const struct peer_cluster *pc = node_peer_cluster(n, p->id);
        if (p->connected && pc != NULL && pc->member &&
            node_takes_work(n, p->id, p->stats.draining))
            fill_node(n, p->id, p->workers ? p->workers : 1);
    }
}

/* ---- coming back ------------------------------------------------------------ */

static void tell_settle_requeue(void *ud, const struct lease_told *w)
{
    node_event(ud, MESH_EV_REQUEUE, "batch %llu [%llu,%llu) from %016llx not committed "
               "%d s after its lease ended: requeued",
               (unsigned long long)w->job->batch_id, (unsigned long long)w->from,
               (unsigned long long)w->job->hi, (unsigned long long)w->node,
               SETTLE_MS / 1000);
}

void node_lead_on_lease_end(struct node *n, uint64_t from, const struct msg_lease_end *e)
{
    struct lead *l = n->lead;
    if (l == NULL || !lead_rules_on_lease_end(l->leases, from, e->lease,
                                              e->why == WORKER_JOB_DONE, e->next, e->crashes,
                                              now_ms(n)))
        return; /* an earlier leadership's lease, or requeued already */
    node_lead_dispatch(n);
}

void node_lead_on_peer_down(struct node *n, uint64_t peer)
{
    struct lead *l = n->lead;
    if (l == NULL)
        return;
    unsigned requeued = lease_table_drop_node(l->leases, peer);
    if (requeued > 0)
        node_event(n, MESH_EV_REQUEUE, "%u leases of node %016llx requeued: its link is down",
                   requeued, (unsigned long long)peer);
    node_lead_dispatch(n);
}

static bool add_pending(struct lead *l, uint64_t batch, const struct msg_result *r)
{
    if (!grow_array((void **)&l->pending, &l->cap_pending, l->n_pending + 1, sizeof *l->pending) ||
        !grow_array((void **)&l->text, &l->text_cap, l->text_len + r->len + 1, 1))
        return false;
    memcpy(l->text + l->text_len, r->text, r->len);
    l->text[l->text_len + r->len] = '\0';
    l->pending[l->n_pending++] = (struct pending_result){batch, r->index, l->text_len, r->len};
    l->text_len += r->len + 1;
    return true;
}

/* ---- what comes back --------------------------------------------------------- */

/* The node and sender of the RESULTS message being read. */
struct reading {
    struct node *n;
    uint64_t from;
};

static bool take_result(void *ud, uint64_t batch, const struct msg_result *r)
{
    return add_pending(((struct reading *)ud)->n->lead, batch, r);
}

static void refuse_result(void *ud, uint64_t batch, uint64_t index, const char *why, bool wrong,
                          size_t skipped)
{
    struct reading *rd = ud;
    node_refusals_note(rd->n, rd->from, batch, index, why, wrong);
    if (wrong)
        node_refusals_skip(rd->n, rd->from, skipped);
}

/* Results of a batch from `from` (this node's own come here too), read by
 * lead_rules_on_results: the right ones gathered for the next COMPLETE,
 * the refused ones noted per sender (refusals.h). */
void node_lead_on_results(struct node *n, uint64_t from, uint64_t batch,
                          const struct msg_result *items, size_t count)
{
    struct lead *l = n->lead;
    if (l == NULL)
        return; /* not (or no longer) leader: the sender's outbox keeps them */
    struct reading rd = {n, from};
    struct lead_results ctx = {n->queue, l->leases, l->verifier, now_ms(n), take_result,
                               refuse_result, &rd};
    bool member = from == n->keys.node_id || consensus_is_member(n->cons, from);
    lead_rules_on_results(&ctx, from, member, batch, items, count);
}

static void tell_expired(void *ud, const struct lease_told *w)
{
    node_event(ud, MESH_EV_REQUEUE, "lease of batch %llu [%llu,%llu) on %016llx expired: "
               "requeued", (unsigned long long)w->job->batch_id,
               (unsigned long long)w->job->lo, (unsigned long long)w->job->hi,
               (unsigned long long)w->node);
}

/* Lease deadlines (a node that holds a lease but says nothing: frozen,
 * SIGSTOPped, a link that looks up but is not, loses it) and settling
 * ranges, then leases for whoever has room. */
void node_lead_tick(struct node *n)
{
    struct lead *l = n->lead;
    if (l == NULL)
        return;
    bool idle = l->n_pending == 0 && consensus_in_flight(n->cons) == 0;
    lead_rules_tick(l->leases, now_ms(n), idle, tell_expired, tell_settle_requeue, n);
    node_lead_dispatch(n);
}

/* ---- committing -------------------------------------------------------------- */

static void on_committed(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    struct node *n = ud;
    (void)index;
    (void)batch_id;
    if (rc == -1)
        mlog(&n->log, LOG_WARN, "results refused: %s", err);
    node_lead_dispatch(n);
}

static int by_index(const void *a, const void *b)
{
    const struct qresult *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    /* Texts lie in the arena in arrival order: the earlier first. */
    return x->text < y->text ? -1 : x->text > y->text;
}

/* A block's indexes ascend without repeats: the results of several nodes
 * sorted, and of an index two nodes sent (a tail copy) the first kept. */
static void order_block(struct qcmd *cmd)
{
    size_t sorted = 1;
    while (sorted < cmd->n_results &&
           cmd->results[sorted - 1].index < cmd->results[sorted].index)
        sorted++;
    if (sorted >= cmd->n_results)
        return; /* one node's results, in order: nothing to do */
    qsort(cmd->results, cmd->n_results, sizeof *cmd->results, by_index);
    size_t kept = 0;
    for (size_t i = 0; i < cmd->n_results; i++)
        if (kept == 0 || cmd->results[kept - 1].index != cmd->results[i].index)
            cmd->results[kept++] = cmd->results[i];
    cmd->n_results = kept;
}

/* One COMPLETE_BLOCK entry of batch `batch` from the pending results: the
 * leading run of that batch, up to ENTRY_BUDGET bytes of text (a block is
 * never bigger than the texts); the rest stays pending and slides down in
 * one move (it was a pass over every pending result and a move per text,
 * each entry: quadratic in a backlog of seconds). A result of another
 * batch ends the run: node_lead_flush proposes that batch next. The
 * command borrows the arena's texts: only its results array is freed
 * here, never through qcmd_free. */
static void propose_batch(struct node *n, uint64_t batch)
{
    struct lead *l = n->lead;
    size_t take = 0, bytes = 0;
    while (take < l->n_pending && l->pending[take].batch == batch &&
           bytes + l->pending[take].len + 12 <= ENTRY_BUDGET)
        bytes += l->pending[take++].len + 12;
    struct qcmd cmd = {.type = QCMD_COMPLETE_BLOCK, .batch_id = batch};
    cmd.results = malloc((take ? take : 1) * sizeof *cmd.results);
    if (cmd.results == NULL)
        return;
    for (size_t i = 0; i < take; i++)
        cmd.results[cmd.n_results++] =
            (struct qresult){l->pending[i].index, l->text + l->pending[i].off};
    char err[256];
    order_block(&cmd);
    if (consensus_propose(n->cons, &cmd, on_committed, n, err, sizeof err) != 0)
        mlog(&n->log, LOG_DEBUG, "results not proposed: %s", err); /* senders resend */
    free(cmd.results);
    size_t kept = l->n_pending - take;
    size_t shift = kept > 0 ? l->pending[take].off : l->text_len;
    memmove(l->pending, l->pending + take, kept * sizeof *l->pending);
    memmove(l->text, l->text + shift, l->text_len - shift);
    for (size_t i = 0; i < kept; i++)
        l->pending[i].off -= shift;
    l->n_pending = kept;
    l->text_len -= shift;
    shrink_array((void **)&l->pending, &l->cap_pending, kept, sizeof *l->pending, KEEP_PENDING);
    shrink_array((void **)&l->text, &l->text_cap, l->text_len, 1, KEEP_TEXT);
}

void node_lead_flush(struct node *n)
{
    struct lead *l = n->lead;
    while (l != NULL && l->n_pending > 0 && consensus_in_flight(n->cons) < MAX_IN_FLIGHT)
        propose_batch(n, l->pending[0].batch);
}

void node_lead_on_results_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_results m;
    if (msg_results_decode(&m, data, len) == 0) {
        node_lead_on_results(n, peer, m.batch, m.items, m.n);
        free(m.items);
    }
}

void node_lead_on_lease_end_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_lease_end e;
    if (msg_lease_end_decode(&e, data, len) == 0)
        node_lead_on_lease_end(n, peer, &e);
}

void node_lead_on_applied(struct node *n, const struct consensus_applied *a)
{
    if (a->type == QCMD_SUBMIT || a->type == QCMD_DRAIN)
        node_lead_dispatch(n);
}

/* The leader-change row (routes.c): a node that became the leader starts
 * leasing, any other stops. */
void node_lead_on_leader_change(struct node *n)
{
    if (n->known_leader != n->keys.node_id) {
        node_lead_stop(n);
        return;
    }
    if (node_lead_start(n) != 0)
        mlog(&n->log, LOG_ERROR, "out of memory starting the leader's scheduler");
}
