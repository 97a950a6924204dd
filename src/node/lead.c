/* lead.c - the leader's half of the work plane: leases and commits.
 *
 * Leases are soft state, never in the log: a new leader starts from an
 * empty table and re-leases whatever its replica shows not done (results
 * are deterministic and COMPLETE ignores duplicates, so re-doing work is
 * only a cost). Each node holds at most workers + LEASE_PREFETCH leases, so
 * a fast node asks for more by finishing, and a lost node (link down), a
 * frozen one (deadline) or a drained one gives its ranges back to the
 * scheduler. At the tail of a batch, idle nodes duplicate the oldest
 * leases (first committed result wins).
 *
 * A lease that ends DONE is not yet committed: its results may still be on
 * the way, or lost (a link reset drops what it had queued; the holder may
 * die before resending). Its range settles for SETTLE_MS, then whatever of
 * it is still not done goes back to the scheduler: without this, numbers
 * whose results were lost were held by no lease and offered by no cursor,
 * and their batch never finished (doc/DESIGN.md, "Leases settle").
 *
 * Results from every node (this one included) are gathered and proposed as
 * few large COMPLETE entries per loop iteration, with at most
 * MAX_IN_FLIGHT entries uncommitted: the log wants few big entries, and
 * 100k tiny ones froze raft's loop in a measurement (doc/DESIGN.md). */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "node.h"
#include "lead.h"
#include "dispatch.h"
#include "event_log.h"
#include "peers.h"
#include "refusals.h"
#include "consensus.h"
#include "net.h"
#include "verify.h"

enum {
    LEASE_PREFETCH = 1,             /* leases beyond one per worker ... */
    SMALL_LEASE_NUMBERS = 256,      /* ... and, while leases are this small, */
    SMALL_LEASE_DEPTH = 8,          /* up to this many per worker */
    MAX_IN_FLIGHT = 2,
    ENTRY_BUDGET = 900 * 1024,      /* result bytes per COMPLETE entry (< 1 MiB) */
    LEASE_GRACE_MS = 10000,         /* silence past the number budget: requeue */
    SETTLE_MS = 10000,              /* a DONE lease's uncommitted rest: re-lease
                                     * (longer than the sender's resend, so a
                                     * result lost once is resent, not redone) */
};

struct lease {
    uint64_t id, node;
    struct sched_job job;
    uint64_t issued_ms, deadline_ms;
    uint64_t budget_ms;             /* per number, resolved (never 0) */
    bool duplicate;                 /* a tail copy of another lease */
    bool copied;                    /* ... has a copy already */
    uint32_t unfactored;            /* its results taken as unfactored */
    struct lease *next;
};

struct settling {                   /* a DONE lease's range, until committed */
    struct sched_job job;
    uint64_t node;                  /* who said it was done */
    uint64_t due_ms;
    struct settling *next;
};

struct pending_result {
    uint64_t batch, index;
    size_t off, len;            /* its NUL-terminated text in lead.text */
};

struct lead {
    struct sched *sched;
    struct lease *leases;
    struct settling *settling;
    uint64_t next_lease;
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
    if (l == NULL || (l->sched = sched_new(n->queue)) == NULL) {
        free(l);
        return -1;
    }
    /* Lease ids only need to be unique for this leadership; mixing in the
     * clock keeps a stale LEASE_END of an earlier term from matching. */
    l->next_lease = (now_ms(n) << 20) | 1;
    l->verifier = factor_verifier_new();
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
    while (l->leases != NULL) {
        struct lease *x = l->leases;
        l->leases = x->next;
        free(x);
    }
    while (l->settling != NULL) {
        struct settling *s = l->settling;
        l->settling = s->next;
        free(s);
    }
    free_pending(l);
    free(l->pending);
    free(l->text);
    factor_verifier_free(l->verifier);
    sched_free(l->sched);
    free(l);
    n->lead = NULL;
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
    size_t count = 0;
    for (const struct lease *x = n->lead ? n->lead->leases : NULL; x != NULL; x = x->next)
        count += x->node == node_id;
    return count;
}

/* ---- handing out ----------------------------------------------------------- */

/* A lease's holder must report within its number budget plus a grace:
 * the batch's own budget, else this node's --number-timeout; without a
 * budget, a minute stands in for one. A batch left to the node default
 * is timed by the leader's option: nodes are expected to share it. */
static uint64_t lease_budget_ms(const struct node *n, const struct sched_job *job)
{
    enum { NO_BUDGET_STAND_IN_MS = 60000 };
    uint64_t budget = batch_budget_resolve(job->budget_ms, n->number_budget_ms);
    return budget ? budget : NO_BUDGET_STAND_IN_MS;
}

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

static struct lease *new_lease(struct node *n, uint64_t node, const struct sched_job *job)
{
    struct lease *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    x->id = n->lead->next_lease++;
    x->node = node;
    x->job = *job;
    x->job.job_id = x->id;
    x->issued_ms = now_ms(n);
    x->budget_ms = lease_budget_ms(n, job); /* the scheduler read the batch's */
    x->deadline_ms = x->issued_ms + x->budget_ms + LEASE_GRACE_MS;
    x->next = n->lead->leases;
    n->lead->leases = x;
    return x;
}

static void unlink_lease(struct lead *l, struct lease *x)
{
    for (struct lease **pp = &l->leases; *pp != NULL; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            return;
        }
}

/* The oldest lease held elsewhere that has no copy yet (the tail). */
static struct lease *oldest_uncopied(struct lead *l, uint64_t not_node)
{
    struct lease *best = NULL;
    for (struct lease *x = l->leases; x != NULL; x = x->next)
        if (!x->copied && !x->duplicate && x->node != not_node &&
            (best == NULL || x->issued_ms < best->issued_ms))
            best = x;
    return best;
}

static bool grant_one(struct node *n, uint64_t node)
{
    struct lead *l = n->lead;
    struct sched_job job;
    struct lease *orig = NULL;
    if (!sched_next_job(l->sched, &job)) {
        orig = oldest_uncopied(l, node);
        if (orig == NULL)
            return false;
        job = orig->job;
    }
    struct lease *x = new_lease(n, node, &job);
    if (x == NULL)
        return false;
    if (orig != NULL) {
        orig->copied = true;
        x->duplicate = true;
    }
    if (send_lease(n, x) != 0) {
        unlink_lease(l, x);
        if (!x->duplicate)
            sched_give_back(l->sched, &x->job, x->job.lo, x->job.crashes);
        free(x);
        return false;
    }
    return true;
}

/* Numbers in the leases a node holds. */
static uint64_t numbers_of(const struct node *n, uint64_t node_id)
{
    uint64_t count = 0;
    for (const struct lease *x = n->lead->leases; x != NULL; x = x->next)
        if (x->node == node_id)
            count += x->job.hi - x->job.lo;
    return count;
}

/* One lease per worker plus one keeps a node busy while the next lease
 * travels. When leases are tiny (trivial numbers, or a user's small
 * --chunk) a round trip per lease would leave workers idle, so a node may
 * then hold several per worker, up to SMALL_LEASE_NUMBERS numbers each. */
static bool wants_more(const struct node *n, uint64_t node, unsigned workers)
{
    size_t held = node_lead_leases_of(n, node);
    if (held < workers + LEASE_PREFETCH)
        return true;
    return held < (size_t)workers * SMALL_LEASE_DEPTH &&
           numbers_of(n, node) < (uint64_t)workers * SMALL_LEASE_NUMBERS;
}

static void fill_node(struct node *n, uint64_t node, unsigned workers)
{
    while (wants_more(n, node, workers) && grant_one(n, node))
        ;
}

static bool node_takes_work(const struct node *n, uint64_t id, bool draining)
{
    return !draining && !queue_node_drained(n->queue, id) && consensus_is_member(n->cons, id);
}

void node_lead_dispatch(struct node *n)
{
    if (n->lead == NULL || n->stopping)
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

static struct lease *find_lease(struct lead *l, uint64_t id, uint64_t node)
{
    for (struct lease *x = l->leases; x != NULL; x = x->next)
        if (x->id == id && x->node == node)
            return x;
    return NULL;
}

/* Gives a lease's unfinished part back (already done indexes are skipped
 * by the scheduler) and forgets it. */
static void requeue(struct lead *l, struct lease *x, uint64_t from, uint32_t crashes)
{
    unlink_lease(l, x);
    if (!x->duplicate && from < x->job.hi)
        sched_give_back(l->sched, &x->job, from, crashes);
    free(x);
}

/* A DONE lease's range waits to be seen committed (a tail copy's range is
 * its original's, which settles or is requeued itself). Out of memory it is
 * requeued at once: redone work costs less than a batch that never ends. */
static void settle(struct lead *l, struct lease *x, uint64_t now)
{
    struct settling *s = x->duplicate ? NULL : malloc(sizeof *s);
    unlink_lease(l, x);
    if (s != NULL) {
        *s = (struct settling){x->job, x->node, now + SETTLE_MS, l->settling};
        l->settling = s;
    } else if (!x->duplicate) {
        sched_give_back(l->sched, &x->job, x->job.lo, 0);
    }
    free(x);
}

/* Settled ranges leave the list; those past due give back what is still
 * not done (the scheduler skips done indexes), but only while the commit
 * pipeline is empty: with results still waiting to be proposed or
 * committed, a range may just be queued (an overloaded leader would
 * otherwise have its backlog computed again). */
static void settle_tick(struct node *n, uint64_t now)
{
    struct lead *l = n->lead;
    bool idle = l->n_pending == 0 && consensus_in_flight(n->cons) == 0;
    for (struct settling **pp = &l->settling; *pp != NULL;) {
        struct settling *s = *pp;
        struct batch_info info;
        uint64_t next = s->job.hi; /* a batch no longer running settles at once */
        if (queue_batch_get(n->queue, s->job.batch_id, &info) == 0 &&
            info.state == BATCH_RUNNING)
            next = queue_next_pending(n->queue, s->job.batch_id, s->job.lo);
        if (next < s->job.hi && (now < s->due_ms || !idle)) {
            pp = &s->next;
            continue;
        }
        if (next < s->job.hi) {
            node_event(n, MESH_EV_REQUEUE, "batch %llu [%llu,%llu) from %016llx not committed "
                       "%d s after its lease ended: requeued",
                       (unsigned long long)s->job.batch_id, (unsigned long long)next,
                       (unsigned long long)s->job.hi, (unsigned long long)s->node,
                       SETTLE_MS / 1000);
            sched_give_back(l->sched, &s->job, next, 0);
        }
        *pp = s->next;
        free(s);
    }
}

void node_lead_on_lease_end(struct node *n, uint64_t from, const struct msg_lease_end *e)
{
    struct lead *l = n->lead;
    struct lease *x = l ? find_lease(l, e->lease, from) : NULL;
    if (x == NULL)
        return; /* an earlier leadership's lease, or requeued already */
    if (e->why == WORKER_JOB_DONE) {
        sched_observe(l->sched, x->job.batch_id, x->job.hi - x->job.lo,
                      (double)(now_ms(n) - x->issued_ms));
        settle(l, x, now_ms(n));
    } else {
        requeue(l, x, e->next < x->job.lo ? x->job.lo : e->next, e->crashes);
    }
    node_lead_dispatch(n);
}

void node_lead_on_peer_down(struct node *n, uint64_t peer)
{
    struct lead *l = n->lead;
    if (l == NULL)
        return;
    unsigned requeued = 0;
    for (struct lease *x = l->leases; x != NULL;) {
        struct lease *next = x->next;
        if (x->node == peer) {
            requeue(l, x, x->job.lo, x->job.crashes);
            requeued++;
        }
        x = next;
    }
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

/* ---- checking what comes back ------------------------------------------------
 * Every result is checked before it is proposed (doc/DESIGN.md, "Results
 * are checked"): anyone holding the key can send RESULTS, and replicas
 * check only the form of what they apply. */

/* The sender's live lease holding `index`, if any (the one found last is
 * tried first: a message carries one lease's results, in order). */
static struct lease *covering_lease(struct lead *l, struct lease *hint, uint64_t from,
                                    uint64_t batch, uint64_t index)
{
    if (hint != NULL && hint->node == from && hint->job.batch_id == batch &&
        index >= hint->job.lo && index < hint->job.hi)
        return hint;
    for (struct lease *x = l->leases; x != NULL; x = x->next)
        if (x->node == from && x->job.batch_id == batch && index >= x->job.lo &&
            index < x->job.hi)
            return x;
    return NULL;
}

/* A number is reported unfactored when its budget ran out (each such
 * number held the lease's one worker for a whole budget), or when it
 * killed its worker SCHED_MAX_CRASHES times (the lease says how many times
 * index lo did). Leeway for the loop's cached clock. */
static bool unfactored_due(const struct node *n, const struct lease *x, uint64_t index)
{
    enum { CLOCK_LEEWAY_MS = 50 };
    if (index == x->job.lo && x->job.crashes + 1 >= SCHED_MAX_CRASHES)
        return true;
    uint64_t held = now_ms(n) - x->issued_ms + CLOCK_LEEWAY_MS;
    return held >= (uint64_t)(x->unfactored + 1) * x->budget_ms;
}

/* NULL when the result is right, else why it is refused. *wrong: it is a
 * lie (or a broken node), not merely one the sender may not send now. The
 * cheap refusals come before the arithmetic: a sender must not make the
 * leader test big numbers for results it would refuse anyway. */
static const char *check_result(const struct node *n, const struct batch_spec *spec,
                                struct lease *x, const struct msg_result *r, bool *wrong)
{
    static const char tag[] = "unfactored:";
    char num[MESH_MAX_DIGITS + 2];
    bool unfactored;
    *wrong = x != NULL;
    if (memmem(r->text, r->len, tag, sizeof tag - 1) != NULL) {
        if (x == NULL)
            return "unfactored, outside a lease"; /* e.g. resent to a new leader */
        if (!unfactored_due(n, x, r->index))
            return "unfactored before the number's budget ran out";
    }
    *wrong = true;
    if (batch_number(spec, r->index, num, sizeof num) != 0)
        return "no such index in the batch";
    enum factor_verdict v = factor_verify(n->lead->verifier, num, r->text, r->len, &unfactored);
    if (v != FACTOR_VERDICT_OK)
        return factor_verdict_message(v);
    if (unfactored)
        x->unfactored++; /* x is set: checked above */
    return NULL;
}

/* Why a sender's results are not read at all, or NULL. A node that is not
 * a member holds no lease; a drained one is given none (it may finish
 * those it holds). */
static const char *unread_because(const struct node *n, uint64_t from, bool drained,
                                  const struct lease *x)
{
    if (from != n->keys.node_id && !consensus_is_member(n->cons, from))
        return "no lease: not a member";
    if (drained && x == NULL)
        return "no lease: drained";
    return NULL;
}

/* Results of a batch from `from` (this node's own come here too). A
 * member's result outside its leases (one it computed for an earlier
 * leader and sends again after a failover) is taken when it is right:
 * results are deterministic. A wrong result is refused and its lease
 * re-leased, and the rest of that message is not read: a healthy node
 * never sends one, and each costs the leader a check. */
void node_lead_on_results(struct node *n, uint64_t from, uint64_t batch,
                          const struct msg_result *items, size_t count)
{
    struct lead *l = n->lead;
    struct batch_info info;
    if (l == NULL)
        return; /* not (or no longer) leader: the sender's outbox keeps them */
    if (queue_batch_get(n->queue, batch, &info) != 0 || info.state != BATCH_RUNNING)
        return; /* unknown here, or nothing more to commit */
    bool drained = queue_node_drained(n->queue, from);
    for (struct lease *x = l->leases; x != NULL; x = x->next)
        if (x->node == from && x->job.batch_id == batch)
            x->deadline_ms = now_ms(n) + x->budget_ms + LEASE_GRACE_MS;
    struct lease *x = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct msg_result *r = &items[i];
        if (queue_is_done(n->queue, batch, r->index))
            continue;
        x = covering_lease(l, x, from, batch, r->index);
        bool wrong = false;
        const char *why = unread_because(n, from, drained, x);
        if (why == NULL)
            why = check_result(n, info.spec, x, r, &wrong);
        if (why != NULL) {
            node_refusals_note(n, from, batch, r->index, why, wrong);
            if (x != NULL)
                requeue(l, x, x->job.lo, x->job.crashes);
            x = NULL;
            if (wrong) {
                node_refusals_skip(n, from, count - i - 1);
                return;
            }
            continue;
        }
        if (!add_pending(l, batch, r))
            return; /* out of memory: the sender still holds them */
    }
}

/* Lease deadlines: a node that holds a lease but says nothing (frozen,
 * SIGSTOPped, a link that looks up but is not) loses it. */
void node_lead_tick(struct node *n)
{
    struct lead *l = n->lead;
    if (l == NULL)
        return;
    uint64_t now = now_ms(n);
    for (struct lease *x = l->leases; x != NULL;) {
        struct lease *next = x->next;
        if (now > x->deadline_ms) {
            node_event(n, MESH_EV_REQUEUE, "lease of batch %llu [%llu,%llu) on %016llx "
                       "expired: requeued", (unsigned long long)x->job.batch_id,
                       (unsigned long long)x->job.lo, (unsigned long long)x->job.hi,
                       (unsigned long long)x->node);
            requeue(l, x, x->job.lo, x->job.crashes);
        }
        x = next;
    }
    settle_tick(n, now);
    sched_prune(l->sched);
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

/* One COMPLETE_BLOCK entry of batch `batch` from the pending results, up
 * to ENTRY_BUDGET bytes of text (a block is never bigger than the texts);
 * the rest stays pending (its texts slide down the arena, in order). The
 * command borrows the arena's texts: only its results array is freed
 * here, never through qcmd_free. */
static void propose_batch(struct node *n, uint64_t batch)
{
    struct lead *l = n->lead;
    struct qcmd cmd = {.type = QCMD_COMPLETE_BLOCK, .batch_id = batch};
    cmd.results = malloc(l->n_pending * sizeof *cmd.results);
    if (cmd.results == NULL)
        return;
    size_t bytes = 0;
    bool *taken = calloc(l->n_pending, sizeof *taken);
    for (size_t i = 0; taken != NULL && i < l->n_pending; i++) {
        struct pending_result *p = &l->pending[i];
        size_t cost = p->len + 12;
        if (p->batch == batch && bytes + cost <= ENTRY_BUDGET) {
            cmd.results[cmd.n_results++] = (struct qresult){p->index, l->text + p->off};
            bytes += cost;
            taken[i] = true;
        }
    }
    char err[256];
    order_block(&cmd);
    if (taken != NULL &&
        consensus_propose(n->cons, &cmd, on_committed, n, err, sizeof err) != 0)
        mlog(&n->log, LOG_DEBUG, "results not proposed: %s", err); /* senders resend */
    free(cmd.results);
    size_t kept = 0, text_len = 0;
    for (size_t i = 0; taken != NULL && i < l->n_pending; i++) {
        struct pending_result p = l->pending[i];
        if (taken[i])
            continue;
        memmove(l->text + text_len, l->text + p.off, p.len + 1);
        p.off = text_len;
        text_len += p.len + 1;
        l->pending[kept++] = p;
    }
    if (taken != NULL) {
        l->n_pending = kept;
        l->text_len = text_len;
    }
    free(taken);
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
