/* lead.c - the leader's half of the work plane, as src/node/lead.c does it
 * (its constants and rules, restated over the simulator's links until
 * lead.c itself runs behind an I/O interface): leases from the real
 * scheduler, at most workers + 1 per node (more while leases are small),
 * tail copies when the scheduler is empty, deadlines, a link-down requeue,
 * DONE leases settling for SETTLE_MS, every result checked by the real
 * verifier, results proposed as sorted COMPLETE_BLOCK entries with at most
 * MAX_IN_FLIGHT uncommitted. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim.h"

enum {
    LEASE_PREFETCH = 1,
    SMALL_LEASE_NUMBERS = 256,
    SMALL_LEASE_DEPTH = 8,
    MAX_IN_FLIGHT = 2,
    ENTRY_BUDGET = 900 * 1024,
    LEASE_GRACE_MS = 10000,
    SETTLE_MS = 10000,
    LEAD_TICK_MS = 250,
};

struct lease {
    uint64_t id;
    unsigned node;
    struct sched_job job;
    uint64_t issued_ms, deadline_ms;
    bool duplicate, copied;
    struct lease *next;
};

struct settling {
    struct sched_job job;
    uint64_t due_ms;
    struct settling *next;
};

struct pending {
    uint64_t batch, index;
    char *text;
};

struct sim_lead {
    struct sched *sched;
    struct lease *leases;
    struct settling *settling;
    uint64_t next_lease, ticked_ms;
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
    l->sched = sched_new(queue_of(s, i));
    CHECK(l->sched != NULL);
    l->next_lease = (sim_now(s) << 20) | 1;
    s->nodes[i].lead = l;
}

void sim_lead_stop(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l == NULL)
        return;
    while (l->leases != NULL) {
        struct lease *x = l->leases;
        l->leases = x->next;
        free(x);
    }
    while (l->settling != NULL) {
        struct settling *x = l->settling;
        l->settling = x->next;
        free(x);
    }
    for (size_t k = 0; k < l->n_pending; k++)
        free(l->pending[k].text);
    free(l->pending);
    sched_free(l->sched);
    free(l);
    s->nodes[i].lead = NULL;
}

size_t sim_lead_leases(const struct sim *s, unsigned i)
{
    size_t count = 0;
    for (const struct lease *x = s->nodes[i].lead ? s->nodes[i].lead->leases : NULL; x != NULL;
         x = x->next)
        count++;
    return count;
}

/* ---- handing out ------------------------------------------------------------- */

static bool send_lease(struct sim *s, unsigned i, const struct lease *x)
{
    struct sim_msg *m = sim_msg_new(SIM_LEASE, i, x->node);
    m->lease = x->id;
    m->batch = x->job.batch_id;
    m->lo = x->job.lo;
    m->hi = x->job.hi;
    m->crashes = x->job.crashes;
    m->next = raft_last_applied(raft_fixture_get(&s->c.f, i)); /* the lease needs it applied */
    if (x->node == i) {
        sim_work_on_lease(s, i, m);
        sim_msg_free(m);
        return true;
    }
    if (!sim_reachable(s, i, x->node)) {
        sim_msg_free(m); /* node_send refuses on a link that is down */
        return false;
    }
    sim_send(s, m);
    return true;
}

static void unlink_lease(struct sim_lead *l, struct lease *x)
{
    for (struct lease **pp = &l->leases; *pp != NULL; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            return;
        }
}

static struct lease *oldest_uncopied(struct sim_lead *l, unsigned not_node)
{
    struct lease *best = NULL;
    for (struct lease *x = l->leases; x != NULL; x = x->next)
        if (!x->copied && !x->duplicate && x->node != not_node &&
            (best == NULL || x->issued_ms < best->issued_ms))
            best = x;
    return best;
}

static bool grant_one(struct sim *s, unsigned i, unsigned node)
{
    struct sim_lead *l = s->nodes[i].lead;
    struct sched_job job;
    struct lease *orig = NULL;
    if (!sched_next_job(l->sched, &job)) {
        orig = oldest_uncopied(l, node);
        if (orig == NULL)
            return false;
        job = orig->job;
    }
    struct lease *x = calloc(1, sizeof *x);
    CHECK(x != NULL);
    x->id = l->next_lease++;
    x->node = node;
    x->job = job;
    x->job.job_id = x->id;
    x->issued_ms = sim_now(s);
    x->deadline_ms = x->issued_ms + SIM_BUDGET_MS + LEASE_GRACE_MS;
    x->duplicate = orig != NULL;
    if (orig != NULL)
        orig->copied = true;
    x->next = l->leases;
    l->leases = x;
    if (!send_lease(s, i, x)) {
        unlink_lease(l, x);
        if (!x->duplicate)
            sched_give_back(l->sched, &x->job, x->job.lo, x->job.crashes);
        free(x);
        return false;
    }
    return true;
}

static bool wants_more(const struct sim_lead *l, unsigned node, unsigned workers)
{
    size_t held = 0;
    uint64_t numbers = 0;
    for (const struct lease *x = l->leases; x != NULL; x = x->next)
        if (x->node == node) {
            held++;
            numbers += x->job.hi - x->job.lo;
        }
    if (held < workers + LEASE_PREFETCH)
        return true;
    return held < (size_t)workers * SMALL_LEASE_DEPTH &&
           numbers < (uint64_t)workers * SMALL_LEASE_NUMBERS;
}

void sim_lead_dispatch(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l == NULL)
        return;
    for (unsigned j = 0; j < s->n; j++)
        if ((j == i || sim_reachable(s, i, j)) && !queue_node_drained(queue_of(s, i), j + 1))
            while (wants_more(l, j, s->nodes[j].workers) && grant_one(s, i, j))
                ;
}

/* ---- coming back -------------------------------------------------------------- */

static void requeue(struct sim_lead *l, struct lease *x, uint64_t from, uint32_t crashes)
{
    unlink_lease(l, x);
    if (!x->duplicate && from < x->job.hi)
        sched_give_back(l->sched, &x->job, from, crashes);
    free(x);
}

static void settle(struct sim_lead *l, struct lease *x, uint64_t now)
{
    unlink_lease(l, x);
    if (!x->duplicate) {
        struct settling *st = malloc(sizeof *st);
        CHECK(st != NULL);
        *st = (struct settling){x->job, now + SETTLE_MS, l->settling};
        l->settling = st;
    }
    free(x);
}

static void settle_tick(struct sim *s, unsigned i, uint64_t now)
{
    struct sim_lead *l = s->nodes[i].lead;
    const struct queue *q = queue_of(s, i);
    bool idle = l->n_pending == 0 && s->c.m[i].in_flight == 0;
    for (struct settling **pp = &l->settling; *pp != NULL;) {
        struct settling *st = *pp;
        struct batch_info info;
        uint64_t next = st->job.hi;
        if (queue_batch_get(q, st->job.batch_id, &info) == 0 && info.state == BATCH_RUNNING)
            next = queue_next_pending(q, st->job.batch_id, st->job.lo);
        if (next < st->job.hi && (now < st->due_ms || !idle)) {
            pp = &st->next;
            continue;
        }
        if (next < st->job.hi)
            sched_give_back(l->sched, &st->job, next, 0);
        *pp = st->next;
        free(st);
    }
}

static struct lease *find_lease(struct sim_lead *l, uint64_t id, unsigned node)
{
    for (struct lease *x = l->leases; x != NULL; x = x->next)
        if (x->id == id && x->node == node)
            return x;
    return NULL;
}

void sim_lead_on_lease_end(struct sim *s, unsigned i, unsigned from, const struct sim_msg *m)
{
    struct sim_lead *l = s->nodes[i].lead;
    struct lease *x = l ? find_lease(l, m->lease, from) : NULL;
    if (x == NULL)
        return;
    if (m->done) {
        sched_observe(l->sched, x->job.batch_id, x->job.hi - x->job.lo,
                      (double)(sim_now(s) - x->issued_ms));
        settle(l, x, sim_now(s));
    } else {
        requeue(l, x, m->next < x->job.lo ? x->job.lo : m->next, m->crashes);
    }
    sim_lead_dispatch(s, i);
}

static struct lease *covering_lease(struct sim_lead *l, unsigned from, uint64_t batch,
                                    uint64_t index)
{
    for (struct lease *x = l->leases; x != NULL; x = x->next)
        if (x->node == from && x->job.batch_id == batch && index >= x->job.lo &&
            index < x->job.hi)
            return x;
    return NULL;
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

/* The sender's leases of a batch: their deadlines move on (a sign of
 * life), or they all go back (it sent a wrong result). */
static void refresh_leases(struct sim *s, struct sim_lead *l, unsigned from, uint64_t batch)
{
    for (struct lease *x = l->leases; x != NULL; x = x->next)
        if (x->node == from && x->job.batch_id == batch)
            x->deadline_ms = sim_now(s) + SIM_BUDGET_MS + LEASE_GRACE_MS;
}

static void requeue_sender(struct sim_lead *l, unsigned from, uint64_t batch)
{
    for (struct lease *x = l->leases, *next; x != NULL; x = next) {
        next = x->next;
        if (x->node == from && x->job.batch_id == batch)
            requeue(l, x, x->job.lo, x->job.crashes);
    }
}

/* As node_lead_on_results: results already done are skipped, each other
 * one is checked, a wrong one ends the reading of the message. Where
 * src/node/lead.c refreshes the sender's deadlines before reading and
 * re-leases only the lease covering the wrong index, a sender whose
 * outbox still holds a wrong result outside its leases (sent to an
 * earlier leader, or before it was re-leased) has every message refused
 * at that result while each refusal renews its leases: they never expire
 * and their batch never ends (mesh-sim seed 242; --node-refusals runs that
 * rule). Here a message with a wrong result renews nothing and gives back
 * every lease its sender holds in the batch. */
void sim_lead_on_results(struct sim *s, unsigned i, unsigned from, uint64_t batch,
                         const struct sim_result *items, size_t n)
{
    struct sim_lead *l = s->nodes[i].lead;
    const struct queue *q = queue_of(s, i);
    struct batch_info info;
    if (l == NULL || queue_batch_get(q, batch, &info) != 0 || info.state != BATCH_RUNNING)
        return;
    if (s->node_refusals)
        refresh_leases(s, l, from, batch);
    bool drained = queue_node_drained(q, from + 1);
    for (size_t k = 0; k < n; k++) {
        if (queue_is_done(q, batch, items[k].index))
            continue;
        if (drained && covering_lease(l, from, batch, items[k].index) == NULL)
            continue; /* a drained node may finish its leases, nothing else */
        if (check_result(s, info.spec, &items[k]) != NULL) {
            struct lease *x = covering_lease(l, from, batch, items[k].index);
            if (s->node_refusals && x != NULL)
                requeue(l, x, x->job.lo, x->job.crashes);
            else if (!s->node_refusals)
                requeue_sender(l, from, batch);
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
        refresh_leases(s, l, from, batch);
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
    for (struct lease *x = l->leases; x != NULL;) {
        struct lease *next = x->next;
        if ((x->node != i && !sim_reachable(s, i, x->node)) || now > x->deadline_ms)
            requeue(l, x, x->job.lo, x->job.crashes);
        x = next;
    }
    settle_tick(s, i, now);
    sched_prune(l->sched);
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

