/* lead.c - the leader's half of the work plane. Who holds which range
 * until when, tail copies, deadlines and settling are src/node/
 * lease_table.c itself (the runtime's table, linked in); around it, as
 * src/node/lead.c does it: leases sent over the simulator's links, a
 * link-down requeue, every result checked by the real verifier, results
 * proposed as sorted COMPLETE_BLOCK entries with at most MAX_IN_FLIGHT
 * uncommitted. Lease tables name nodes by raft id (server index + 1), as
 * the queue's drained set does. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node/lease_table.h"
#include "sim.h"

enum {
    MAX_IN_FLIGHT = 2,
    ENTRY_BUDGET = 900 * 1024,
    LEAD_TICK_MS = 250,
};

struct pending {
    uint64_t batch, index;
    char *text;
};

struct sim_lead {
    struct lease_table *leases;
    uint64_t ticked_ms;
    struct pending *pending;
    size_t n_pending, cap_pending;
};

static struct queue *queue_of(struct sim *s, unsigned i)
{
    return s->c.m[i].q;
}

void sim_lead_start(struct sim *s, unsigned i)
{
    struct sim_lead *l = calloc(1, sizeof *l);
    CHECK(l != NULL);
    l->leases = lease_table_new(queue_of(s, i), sim_now(s));
    CHECK(l->leases != NULL);
    s->nodes[i].lead = l;
}

void sim_lead_stop(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l == NULL)
        return;
    lease_table_free(l->leases);
    for (size_t k = 0; k < l->n_pending; k++)
        free(l->pending[k].text);
    free(l->pending);
    free(l);
    s->nodes[i].lead = NULL;
}

size_t sim_lead_leases(const struct sim *s, unsigned i)
{
    size_t count = 0;
    for (const struct lease *x = s->nodes[i].lead ? lease_table_first(s->nodes[i].lead->leases)
                                                  : NULL;
         x != NULL; x = x->next)
        count++;
    return count;
}

/* ---- handing out ------------------------------------------------------------- */

static bool send_lease(struct sim *s, unsigned i, const struct lease *x)
{
    unsigned to = (unsigned)x->node - 1;
    struct sim_msg *m = sim_msg_new(SIM_LEASE, i, to);
    m->lease = x->id;
    m->batch = x->job.batch_id;
    m->lo = x->job.lo;
    m->hi = x->job.hi;
    m->crashes = x->job.crashes;
    m->next = raft_last_applied(raft_fixture_get(&s->c.f, i)); /* the lease needs it applied */
    if (to == i) {
        sim_work_on_lease(s, i, m);
        sim_msg_free(m);
        return true;
    }
    if (!sim_reachable(s, i, to)) {
        sim_msg_free(m); /* node_send refuses on a link that is down */
        return false;
    }
    sim_send(s, m);
    return true;
}

/* As lead.c's grant_one: a lease from the table, sent, or revoked. */
static bool grant_one(struct sim *s, unsigned i, unsigned node)
{
    struct lease_table *t = s->nodes[i].lead->leases;
    struct lease *x = lease_table_grant(t, node + 1, 0, sim_now(s));
    if (x == NULL)
        return false;
    if (!send_lease(s, i, x)) {
        lease_table_revoke(t, x);
        return false;
    }
    return true;
}

void sim_lead_dispatch(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l == NULL)
        return;
    for (unsigned j = 0; j < s->n; j++)
        if ((j == i || sim_reachable(s, i, j)) && !queue_node_drained(queue_of(s, i), j + 1))
            while (lease_table_wants_more(l->leases, j + 1, s->nodes[j].workers) &&
                   grant_one(s, i, j))
                ;
}

/* ---- coming back -------------------------------------------------------------- */

void sim_lead_on_lease_end(struct sim *s, unsigned i, unsigned from, const struct sim_msg *m)
{
    struct sim_lead *l = s->nodes[i].lead;
    struct lease *x = l ? lease_table_find(l->leases, m->lease, from + 1) : NULL;
    if (x == NULL)
        return;
    if (m->done)
        lease_table_done(l->leases, x, sim_now(s));
    else
        lease_table_requeue(l->leases, x, m->next, m->crashes);
    sim_lead_dispatch(s, i);
}

/* NULL when the result is right (the real verifier's verdict). Budgets
 * never run out here, so an unfactored rest is always refused. */
static const char *check_result(struct sim *s, const struct batch_spec *spec,
                                const struct sim_result *r)
{
    char num[MESH_MAX_DIGITS + 2];
    bool unfactored;
    if (batch_number(spec, r->index, num, sizeof num) != 0)
        return "no such index in the batch";
    enum factor_verdict v = factor_verify(s->verifier, num, r->text, strlen(r->text), &unfactored);
    if (v != FACTOR_VERDICT_OK)
        return factor_verdict_message(v);
    return unfactored ? "unfactored before the number's budget ran out" : NULL;
}

/* As node_lead_on_results: results already done are skipped, each other
 * one is checked, a wrong one ends the reading of the message, gives back
 * every lease its sender holds in the batch, and renews nothing (a sender
 * whose outbox still holds a wrong result outside its leases is refused
 * at it in every message: when each refusal renewed its leases they never
 * expired, mesh-sim seed 339 --lasting-liars). --node-refusals runs the
 * earlier rule: deadlines renewed before reading, only the lease covering
 * the wrong index re-leased. */
void sim_lead_on_results(struct sim *s, unsigned i, unsigned from, uint64_t batch,
                         const struct sim_result *items, size_t n)
{
    struct sim_lead *l = s->nodes[i].lead;
    const struct queue *q = queue_of(s, i);
    struct batch_info info;
    if (l == NULL || queue_batch_get(q, batch, &info) != 0 || info.state != BATCH_RUNNING)
        return;
    if (s->node_refusals)
        lease_table_heard_from(l->leases, from + 1, batch, sim_now(s));
    bool drained = queue_node_drained(q, from + 1);
    for (size_t k = 0; k < n; k++) {
        if (queue_is_done(q, batch, items[k].index))
            continue;
        struct lease *x = lease_table_covering(l->leases, NULL, from + 1, batch, items[k].index);
        if (drained && x == NULL)
            continue; /* a drained node may finish its leases, nothing else */
        if (check_result(s, info.spec, &items[k]) != NULL) {
            if (s->node_refusals && x != NULL)
                lease_table_requeue(l->leases, x, x->job.lo, x->job.crashes);
            else if (!s->node_refusals)
                lease_table_drop_node_batch(l->leases, from + 1, batch);
            s->stats.lies_refused++;
            return;
        }
        if (l->n_pending == l->cap_pending) {
            l->cap_pending = l->cap_pending ? l->cap_pending * 2 : 256;
            l->pending = realloc(l->pending, l->cap_pending * sizeof *l->pending);
            CHECK(l->pending != NULL);
        }
        char *text = strdup(items[k].text);
        CHECK(text != NULL);
        l->pending[l->n_pending++] = (struct pending){batch, items[k].index, text};
    }
    if (!s->node_refusals)
        lease_table_heard_from(l->leases, from + 1, batch, sim_now(s));
}

/* The leader's tick: links that went down and silent holders lose their
 * leases, settled ranges are looked at, then work is handed out. */
void sim_lead_tick(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    uint64_t now = sim_now(s);
    if (l == NULL || now - l->ticked_ms < LEAD_TICK_MS)
        return;
    l->ticked_ms = now;
    for (unsigned j = 0; j < s->n; j++)
        if (j != i && !sim_reachable(s, i, j))
            lease_table_drop_node(l->leases, j + 1);
    lease_table_expire(l->leases, now, NULL, NULL);
    bool idle = l->n_pending == 0 && s->c.m[i].in_flight == 0;
    lease_table_settle(l->leases, now, idle, NULL, NULL);
    lease_table_prune(l->leases);
    sim_lead_dispatch(s, i);
}

/* ---- committing ------------------------------------------------------------------ */

static int by_index(const void *a, const void *b)
{
    const struct qresult *x = a, *y = b;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    return x->text < y->text ? -1 : x->text > y->text;
}

/* One COMPLETE_BLOCK of `batch` from the pending results (sorted, an index
 * sent twice kept once), proposed as consensus_propose does; a refused
 * proposal is dropped (its senders resend). */
static void propose_batch(struct sim *s, unsigned i, uint64_t batch)
{
    struct sim_lead *l = s->nodes[i].lead;
    struct qcmd cmd = {.type = QCMD_COMPLETE_BLOCK, .batch_id = batch, .time_ms = sim_now(s)};
    cmd.results = malloc(l->n_pending * sizeof *cmd.results);
    bool *taken = calloc(l->n_pending, sizeof *taken);
    CHECK(cmd.results != NULL && taken != NULL);
    size_t bytes = 0;
    for (size_t k = 0; k < l->n_pending; k++) {
        size_t cost = strlen(l->pending[k].text) + 12;
        if (l->pending[k].batch == batch && bytes + cost <= ENTRY_BUDGET) {
            cmd.results[cmd.n_results++] = (struct qresult){l->pending[k].index,
                                                            l->pending[k].text};
            bytes += cost;
            taken[k] = true;
        }
    }
    qsort(cmd.results, cmd.n_results, sizeof *cmd.results, by_index);
    size_t kept = 0;
    for (size_t k = 0; k < cmd.n_results; k++)
        if (kept == 0 || cmd.results[kept - 1].index != cmd.results[k].index)
            cmd.results[kept++] = cmd.results[k];
    cmd.n_results = kept;
    if (cluster_try_propose(&s->c, i, &cmd) != 0)
        s->stats.entries++;
    free(cmd.results);
    kept = 0;
    for (size_t k = 0; k < l->n_pending; k++) {
        if (taken[k])
            free(l->pending[k].text);
        else
            l->pending[kept++] = l->pending[k];
    }
    l->n_pending = kept;
    free(taken);
}

void sim_lead_flush(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    while (l != NULL && l->n_pending > 0 && s->c.m[i].in_flight < MAX_IN_FLIGHT)
        propose_batch(s, i, l->pending[0].batch);
}

/* The operator's DRAIN of a server (its raft id). */
void sim_lead_on_drain(struct sim *s, unsigned i, unsigned node, bool drained)
{
    struct qcmd cmd = {.type = QCMD_DRAIN, .node_id = node + 1, .drained = drained,
                       .time_ms = sim_now(s)};
    if (cluster_try_propose(&s->c, i, &cmd) != 0)
        s->stats.entries++;
}

/* A client's SUBMIT, with its write token (a resend after a leader change
 * is recognised by the queue as the same batch), or its CANCEL. */
void sim_lead_on_write(struct sim *s, unsigned i, size_t client, bool cancel)
{
    struct sim_batch *b = &s->batches[client];
    struct qcmd cmd = {.type = QCMD_SUBMIT, .spec = b->spec, .token = b->token,
                       .time_ms = sim_now(s)};
    if (cancel)
        cmd = (struct qcmd){.type = QCMD_CANCEL, .batch_id = b->id, .time_ms = sim_now(s)};
    snprintf(cmd.name, sizeof cmd.name, "sim-%zu", client);
    if (cluster_try_propose(&s->c, i, &cmd) != 0)
        s->stats.entries++;
}

