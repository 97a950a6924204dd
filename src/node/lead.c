/* lead.c - the leader's half of the work plane: leases and commits.
 *
 * What is leased to whom, until when, and what settles is the lease
 * table's (lease_table.h); which results are taken, what a refusal costs
 * and when leases go back are lead_rules.h's (the simulator runs the same
 * rules); this file sends the leases, gathers what the rules take and
 * proposes it.
 *
 * It names no `struct node`: the clock, the links, consensus and the
 * events are its host's (struct lead_io, lead.h), the node's in
 * lead_node.c and the simulator's in tests/sim/lead.c.
 *
 * Results from every node (this one included) are gathered and proposed as
 * few large COMPLETE entries per loop iteration, with at most
 * MAX_IN_FLIGHT entries uncommitted: the log wants few big entries, and
 * 100k tiny ones froze raft's loop in a measurement (doc/DESIGN.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block_make.h"
#include "grow.h"
#include "lead_rules.h"
#include "lease_table.h"
#include "lead.h"
#include "taken.h"
#include "verify.h"
#include "worker.h"

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
    size_t off, len;            /* its compact item in lead.text */
};

struct lead {
    const struct lead_io *io;
    void *ud;
    struct queue *queue;
    uint64_t self, number_budget_ms;
    uint64_t settled_index, started_ms; /* lead_config's; when it began */
    struct lease_table *leases;
    /* Results taken in this leadership and not yet seen committed: a copy
     * sent again is not proposed again (taken.h). */
    struct taken *taken;
    /* Results gathered for the next COMPLETE entries, their items
     * (block_make.h) packed in one arena (no malloc per number on the
     * leader's hot path). */
    struct pending_result *pending;
    size_t n_pending, cap_pending;
    char *text;
    size_t text_len, text_cap;
    /* Primes below 2^22 for checking results (NULL when out of memory:
     * the check is then slower, never weaker); own_verifier: built here. */
    const struct factor_verifier *verifier;
    struct factor_verifier *own_verifier;
    struct lease_needs needs;       /* what leases of recent batches ask */
};

static uint64_t now_ms(const struct lead *l)
{
    return l->io->now(l->ud);
}

/* An event or a log line for the host, formatted here. */
static void tell(const struct lead *l, enum mesh_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tell(const struct lead *l, enum mesh_event_kind kind, const char *fmt, ...)
{
    char text[2 * EVENT_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    l->io->event(l->ud, kind, text);
}

static void log_line(const struct lead *l, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_line(const struct lead *l, enum log_level level, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    l->io->log(l->ud, level, text);
}

struct lead *lead_new(const struct lead_config *c)
{
    struct lead *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    *l = (struct lead){.io = c->io, .ud = c->ud, .queue = c->queue, .self = c->self,
                       .number_budget_ms = c->number_budget_ms,
                       .settled_index = c->settled_index};
    l->started_ms = now_ms(l);
    if ((l->leases = lease_table_new(c->queue, now_ms(l))) == NULL ||
        (l->taken = taken_new()) == NULL) {
        lease_table_free(l->leases);
        free(l);
        return NULL;
    }
    l->verifier = c->verifier;
    if (l->verifier == NULL)
        l->verifier = l->own_verifier = factor_verifier_new();
    if (c->hold != NULL)
        lease_table_set_hold(l->leases, c->hold, c->hold_ud);
    return l;
}

static void free_pending(struct lead *l)
{
    l->n_pending = 0;
    l->text_len = 0;
}

void lead_free(struct lead *l)
{
    if (l == NULL)
        return;
    lease_table_free(l->leases);
    taken_free(l->taken);
    free_pending(l);
    free(l->pending);
    free(l->text);
    factor_verifier_free(l->own_verifier);
    free(l);
}

size_t lead_pending_bytes(const struct lead *l)
{
    return l->cap_pending * sizeof *l->pending + l->text_cap;
}

size_t lead_leases_of(const struct lead *l, uint64_t node_id)
{
    return lease_table_count_of(l->leases, node_id);
}

const struct lease *lead_first_lease(const struct lead *l)
{
    return lease_table_first(l->leases);
}

/* ---- handing out ----------------------------------------------------------- */

static int send_lease(struct lead *l, const struct lease *x)
{
    uint64_t needs = lead_rules_lease_needs(&l->needs, x->job.batch_id, l->io->applied(l->ud));
    struct msg_lease m = {x->id, x->job.batch_id, x->job.lo, x->job.hi, needs, x->job.crashes};
    if (x->node == l->self) {
        l->io->own_lease(l->ud, &m);
        return 0;
    }
    uint8_t *buf;
    size_t len;
    if (msg_lease_encode(&m, &buf, &len) != 0)
        return -1;
    int rc = l->io->send(l->ud, x->node, MESH_MSG_LEASE, buf, len);
    free(buf);
    return rc;
}

static bool send_granted(void *ud, const struct lease *x)
{
    return send_lease(ud, x) == 0;
}

static void fill_node(struct lead *l, uint64_t node, unsigned workers)
{
    lead_rules_fill(l->leases, node, workers, l->number_budget_ms, now_ms(l),
                    send_granted, l);
}

static bool node_takes_work(const struct lead *l, uint64_t id, bool draining)
{
    return lead_rules_takes_work(draining, queue_node_drained(l->queue, id),
                                 l->io->is_member(l->ud, id));
}

void lead_dispatch(struct lead *l)
{
    if (l->io->stopping(l->ud) || l->n_pending > PENDING_HIGH)
        return;
    if (node_takes_work(l, l->self, false))
        fill_node(l, l->self, l->io->own_workers(l->ud));
    struct lead_peer p;
    for (size_t i = 0; l->io->peer_at(l->ud, i, &p); i++)
        if (p.linked && p.member && node_takes_work(l, p.id, p.draining))
            fill_node(l, p.id, p.workers ? p.workers : 1);
}

/* ---- coming back ------------------------------------------------------------ */

static void tell_settle_requeue(void *ud, const struct lease_told *w)
{
    tell(ud, MESH_EV_REQUEUE, "batch %llu [%llu,%llu) from %016llx not committed "
               "%d s after its lease ended: requeued",
               (unsigned long long)w->job->batch_id, (unsigned long long)w->from,
               (unsigned long long)w->job->hi, (unsigned long long)w->node,
               SETTLE_MS / 1000);
}

void lead_on_lease_end(struct lead *l, uint64_t from, const struct msg_lease_end *e)
{
    if (!lead_rules_on_lease_end(l->leases, from, e->lease, e->why == WORKER_JOB_DONE, e->next,
                                 e->crashes, now_ms(l)))
        return; /* an earlier leadership's lease, or requeued already */
    lead_dispatch(l);
}

void lead_on_peer_down(struct lead *l, uint64_t peer)
{
    unsigned requeued = lease_table_drop_node(l->leases, peer);
    if (requeued > 0)
        tell(l, MESH_EV_REQUEUE, "%u leases of node %016llx requeued: its link is down",
             requeued, (unsigned long long)peer);
    lead_dispatch(l);
}

/* A taken result's item, made now from the words its check read (else
 * from its text): false when out of memory or (never after the check)
 * not a text the replicas would take. */
static bool add_pending(struct lead *l, uint64_t batch, const struct msg_result *r,
                        const uint64_t *words, size_t n_words)
{
    if (!grow_array((void **)&l->pending, &l->cap_pending, l->n_pending + 1, sizeof *l->pending) ||
        !grow_array((void **)&l->text, &l->text_cap,
                    l->text_len + block_item_room(r->len, n_words), 1))
        return false;
    size_t len = block_item(r->text, r->len, words, n_words, (uint8_t *)l->text + l->text_len);
    if (len == 0)
        return false;
    l->pending[l->n_pending++] = (struct pending_result){batch, r->index, l->text_len, len};
    l->text_len += len;
    return true;
}

/* ---- what comes back --------------------------------------------------------- */

/* The leader and sender of the RESULTS message being read. */
struct reading {
    struct lead *l;
    uint64_t from;
};

static bool take_result(void *ud, uint64_t batch, const struct msg_result *r,
                        const uint64_t *words, size_t n_words)
{
    return add_pending(((struct reading *)ud)->l, batch, r, words, n_words);
}

static void refuse_result(void *ud, uint64_t batch, uint64_t index, const char *why, bool wrong,
                          size_t skipped)
{
    struct reading *rd = ud;
    rd->l->io->refused(rd->l->ud, rd->from, batch, index, why, wrong, skipped);
}

/* Results of a batch from `from` (this node's own come here too), read by
 * lead_rules_on_results: the right ones gathered for the next COMPLETE,
 * the refused ones noted per sender (refusals.h). */
void lead_on_results(struct lead *l, uint64_t from, uint64_t batch,
                     const struct msg_result *items, size_t count)
{
    struct reading rd = {l, from};
    struct lead_results ctx = {l->queue, l->leases, l->verifier, l->taken, now_ms(l), take_result,
                               refuse_result, &rd};
    bool member = from == l->self || l->io->is_member(l->ud, from);
    lead_rules_on_results(&ctx, from, member, batch, items, count);
}

static void tell_expired(void *ud, const struct lease_told *w)
{
    tell(ud, MESH_EV_REQUEUE, "lease of batch %llu [%llu,%llu) on %016llx expired: "
               "requeued", (unsigned long long)w->job->batch_id,
               (unsigned long long)w->job->lo, (unsigned long long)w->job->hi,
               (unsigned long long)w->node);
}

/* Lease deadlines (a node that holds a lease but says nothing: frozen,
 * SIGSTOPped, a link that looks up but is not, loses it) and settling
 * ranges, then leases for whoever has room. */
void lead_tick(struct lead *l)
{
    bool idle = l->n_pending == 0 && l->io->in_flight(l->ud) == 0;
    if (idle)
        taken_clear(l->taken); /* whatever was taken is committed or lost */
    else
        taken_prune(l->taken, l->queue, now_ms(l));
    lead_rules_tick(l->leases, now_ms(l), idle, tell_expired, tell_settle_requeue, l);
    lead_dispatch(l);
}

/* ---- committing -------------------------------------------------------------- */

/* The end of the ascending run that starts at `from`. */
static size_t run_end(const struct block_entry *r, size_t from, size_t n)
{
    while (from + 1 < n && r[from].index <= r[from + 1].index)
        from++;
    return from + 1;
}

/* a and b (ascending) into out; of equal indexes a's first: stable. */
static void merge_two(const struct block_entry *a, size_t na, const struct block_entry *b,
                      size_t nb, struct block_entry *out)
{
    while (na > 0 && nb > 0) {
        bool take_b = b->index < a->index;
        *out++ = take_b ? *b++ : *a++;
        na -= !take_b;
        nb -= take_b;
    }
    memcpy(out, na > 0 ? a : b, (na > 0 ? na : nb) * sizeof *out);
}

/* Sorts r by index, stably, by merging neighbouring runs until one is
 * left: a block is the pending results in arrival order, each sender's
 * message ascending, so it is a few runs, and merging them costs a pass
 * per halving of their count (qsort compared through a pointer ~17 times
 * a result: 4% of a leader's CPU on trivial numbers). False when out of
 * memory, r unchanged. */
static bool merge_runs(struct block_entry *r, size_t n)
{
    struct block_entry *tmp = malloc(n * sizeof *tmp);
    if (tmp == NULL)
        return false;
    struct block_entry *src = r, *dst = tmp;
    for (size_t runs = 2; runs > 1;) {
        runs = 0;
        for (size_t i = 0; i < n; runs++) {
            size_t mid = run_end(src, i, n), end = mid < n ? run_end(src, mid, n) : n;
            merge_two(src + i, mid - i, src + mid, end - mid, dst + i);
            i = end;
        }
        struct block_entry *t = src;
        src = dst;
        dst = t;
    }
    if (src != r)
        memcpy(r, src, n * sizeof *r);
    free(tmp);
    return true;
}

/* A block's indexes ascend without repeats: the results of several nodes
 * merged, and of an index two nodes sent (a tail copy) the first kept
 * (merge_runs is stable: the array is in arrival order). The count kept;
 * 0 when out of memory. */
static size_t order_block(struct block_entry *e, size_t n)
{
    size_t sorted = 1;
    while (sorted < n && e[sorted - 1].index < e[sorted].index)
        sorted++;
    if (sorted >= n)
        return n; /* one node's results, in order: nothing to do */
    if (!merge_runs(e, n))
        return 0;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || e[kept - 1].index != e[i].index)
            e[kept++] = e[i];
    return kept;
}

/* Pending results are proposed once the predecessors' entries are applied
 * (lead_config's settled_index): a result they carry is then done and
 * left out, where proposing at once put it in the log twice (mesh-sim
 * seed 255353186140753: one result in four terms' blocks). The wait is
 * bounded: raft commits those entries with the first of this term, which
 * may be long in coming (consensus.c proposes a barrier for them). */
static bool predecessors_settled(const struct lead *l)
{
    return l->io->applied(l->ud) >= l->settled_index ||
           now_ms(l) - l->started_ms >= LEAD_SETTLE_WAIT_MS;
}

/* One COMPLETE_BLOCK entry of batch `batch` from the pending results: the
 * leading run of that batch, up to ENTRY_BUDGET bytes of items and gaps;
 * the rest stays pending and slides down in one move (it was a pass over
 * every pending result and a move per text, each entry: quadratic in a
 * backlog of seconds). A result of another batch ends the run: lead_flush
 * proposes that batch next. The block is made of the arena's items
 * (block_make), its bytes freed here. */
static void propose_batch(struct lead *l, uint64_t batch)
{
    size_t take = 0, bytes = 0;
    while (take < l->n_pending && l->pending[take].batch == batch &&
           bytes + l->pending[take].len + 12 <= ENTRY_BUDGET)
        bytes += l->pending[take++].len + 12;
    struct block_entry *e = malloc((take ? take : 1) * sizeof *e);
    if (e == NULL)
        return;
    size_t n = 0;
    for (size_t i = 0; i < take; i++)
        if (!queue_is_done(l->queue, batch, l->pending[i].index)) /* committed meanwhile */
            e[n++] = (struct block_entry){l->pending[i].index,
                                          (const uint8_t *)l->text + l->pending[i].off,
                                          l->pending[i].len};
    struct qcmd cmd = {.type = QCMD_COMPLETE_BLOCK};
    char err[256] = "out of memory";
    if (n > 0 && ((n = order_block(e, n)) == 0 || block_make(&cmd, batch, e, n) != 0 ||
                  l->io->propose(l->ud, &cmd, err, sizeof err) != 0)) {
        log_line(l, LOG_DEBUG, "results not proposed: %s", err);
        taken_clear(l->taken); /* senders resend: take them again then */
    }
    free(cmd.block);
    free(e);
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

void lead_flush(struct lead *l)
{
    if (l->n_pending > 0 && !predecessors_settled(l))
        return;
    while (l->n_pending > 0 && l->io->in_flight(l->ud) < MAX_IN_FLIGHT)
        propose_batch(l, l->pending[0].batch);
}

void lead_on_results_msg(struct lead *l, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_results m;
    if (msg_results_decode(&m, data, len) == 0) {
        lead_on_results(l, peer, m.batch, m.items, m.n);
        free(m.items);
    }
}

void lead_on_lease_end_msg(struct lead *l, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_lease_end e;
    if (msg_lease_end_decode(&e, data, len) == 0)
        lead_on_lease_end(l, peer, &e);
}

void lead_on_applied(struct lead *l, enum qcmd_type type)
{
    if (type == QCMD_SUBMIT || type == QCMD_DRAIN)
        lead_dispatch(l);
}
