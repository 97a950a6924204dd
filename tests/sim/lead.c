/* lead.c - the leader's half of the work plane, on src/node's own code:
 * who holds which range until when, tail copies, deadlines and settling
 * are src/node/lease_table.c, and what the leader does with RESULTS,
 * LEASE_END, its tick and a node with room for leases is
 * src/node/lead_rules.c (both linked in, called as src/node/lead.c calls
 * them). Here: leases sent over the simulator's links, a link-down
 * requeue, results proposed as sorted COMPLETE_BLOCK entries with at most
 * MAX_IN_FLIGHT uncommitted (lead.c's propose_batch, restated). Lease
 * tables name nodes by raft id (server index + 1), as the queue's drained
 * set does. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node/lead_rules.h"
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

/* The simulator and the server a callback of lead_rules acts for. */
struct at {
    struct sim *s;
    unsigned i;
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

const struct lease *sim_lead_first(const struct sim *s, unsigned i)
{
    return s->nodes[i].lead ? lease_table_first(s->nodes[i].lead->leases) : NULL;
}

/* ---- handing out ------------------------------------------------------------- */

/* lead_rules_fill's sender: to this server's own work side at once, to
 * another over the links (refused, as node_send refuses, when the link is
 * down). */
static bool send_lease(void *ud, const struct lease *x)
{
    struct sim *s = ((struct at *)ud)->s;
    unsigned i = ((struct at *)ud)->i, to = (unsigned)x->node - 1;
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
        sim_msg_free(m);
        return false;
    }
    sim_send(s, m);
    return true;
}

/* As node_lead_dispatch: every server in reach (every one is a member;
 * the operator's drain is the queue's flag) gets what it has room for. */
void sim_lead_dispatch(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l == NULL)
        return;
    struct at at = {s, i};
    for (unsigned j = 0; j < s->n; j++)
        if ((j == i || sim_reachable(s, i, j)) &&
            lead_rules_takes_work(false, queue_node_drained(queue_of(s, i), j + 1), true))
            lead_rules_fill(l->leases, j + 1, s->nodes[j].workers, 0, sim_now(s), send_lease,
                            &at);
}

/* ---- coming back -------------------------------------------------------------- */

void sim_lead_on_lease_end(struct sim *s, unsigned i, unsigned from, const struct sim_msg *m)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l != NULL && lead_rules_on_lease_end(l->leases, from + 1, m->lease, m->done, m->next,
                                             m->crashes, sim_now(s)))
        sim_lead_dispatch(s, i);
}

static bool take_result(void *ud, uint64_t batch, const struct msg_result *r)
{
    struct sim_lead *l = ((struct at *)ud)->s->nodes[((struct at *)ud)->i].lead;
    if (l->n_pending == l->cap_pending) {
        l->cap_pending = l->cap_pending ? l->cap_pending * 2 : 256;
        l->pending = realloc(l->pending, l->cap_pending * sizeof *l->pending);
        CHECK(l->pending != NULL);
    }
    char *text = strndup(r->text, r->len);
    CHECK(text != NULL);
    l->pending[l->n_pending++] = (struct pending){batch, r->index, text};
    return true;
}

static void refuse_result(void *ud, uint64_t batch, uint64_t index, const char *why, bool wrong,
                          size_t skipped)
{
    (void)batch, (void)index, (void)why, (void)skipped;
    ((struct at *)ud)->s->stats.lies_refused += wrong;
}

/* As node_lead_on_results: lead_rules_on_results reads the message
 * (every server is a member). */
void sim_lead_on_results(struct sim *s, unsigned i, unsigned from, uint64_t batch,
                         const struct sim_result *items, size_t n)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l == NULL)
        return;
    struct msg_result *msg = calloc(n ? n : 1, sizeof *msg);
    CHECK(msg != NULL);
    for (size_t k = 0; k < n; k++)
        msg[k] = (struct msg_result){items[k].index, items[k].text, strlen(items[k].text)};
    struct at at = {s, i};
    struct lead_results ctx = {queue_of(s, i), l->leases, s->verifier, sim_now(s), take_result,
                               refuse_result, &at};
    lead_rules_on_results(&ctx, from + 1, true, batch, msg, n);
    free(msg);
}

/* The leader's tick (node_lead_tick, and node_lead_on_peer_down for the
 * links that went down since the last one), then work is handed out. */
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
    bool idle = l->n_pending == 0 && s->c.m[i].in_flight == 0;
    lead_rules_tick(l->leases, now, idle, NULL, NULL, NULL);
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

