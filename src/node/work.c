/* work.c - this node's side of the work plane.
 *
 * The leader leases index ranges (MESH_MSG_LEASE, or a direct call when
 * the leader is this node). A lease waits here until this replica has
 * applied the entry it names (so every number can be derived from the
 * batch spec: a number that cannot be made is never factored) and a worker
 * is idle. Results go into the outbox (outbox.h: kept until this replica
 * shows them committed, sent again to a new leader or when they seem lost)
 * and are sent to the leader once per loop iteration. Whom a lease is
 * taken from, when it starts and what a leader change does are
 * work_rules.h's (the simulator runs the same rules). */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "node.h"
#include "work.h"
#include "dispatch.h"
#include "peers.h"
#include "consensus.h"
#include "numtext.h"
#include "outbox.h"
#include "work_rules.h"

/* A lease's end told at the end of the loop iteration, after its results. */
struct lease_ending {
    uint64_t granter;
    struct msg_lease_end e;
};

struct work {
    struct work_leases *waiting;    /* leases waiting for a worker */
    struct outbox *box;
    /* Jobs that ended in this iteration: their ends go with the results
     * (node_work_flush), so a worker answering tiny jobs costs a message
     * or two an iteration, not a flush and an end per job. */
    struct lease_ending *ends;
    size_t n_ends, cap_ends;
    /* Fault injection for tests (MESH_FAULT_DROP_RESULTS=N): the next N
     * RESULTS messages to a remote leader are lost as a reset link loses
     * them, so the recovery from lost results can be tested on real
     * processes. 0 in every normal run. */
    unsigned long drop_results;
};

int node_work_start(struct node *n)
{
    n->work = calloc(1, sizeof *n->work);
    if (n->work == NULL || (n->work->box = outbox_new()) == NULL ||
        (n->work->waiting = work_leases_new()) == NULL) {
        if (n->work != NULL)
            outbox_free(n->work->box);
        free(n->work);
        n->work = NULL;
        return -1;
    }
    const char *drop = getenv("MESH_FAULT_DROP_RESULTS");
    if (drop != NULL) {
        n->work->drop_results = strtoul(drop, NULL, 10);
        mlog(&n->log, LOG_WARN, "fault injection: the next %lu results messages are dropped",
             n->work->drop_results);
    }
    return 0;
}

void node_work_free(struct node *n)
{
    struct work *w = n->work;
    if (w == NULL)
        return;
    work_leases_free(w->waiting);
    outbox_free(w->box);
    free(w->ends);
    free(w);
    n->work = NULL;
}

size_t node_work_outbox(const struct node *n)
{
    return n->work ? outbox_count(n->work->box) : 0;
}

bool node_work_settled(const struct node *n)
{
    return n->work == NULL ||
           (work_leases_count(n->work->waiting) == 0 && outbox_count(n->work->box) == 0);
}

static void end_lease(struct node *n, uint64_t granter, const struct msg_lease_end *e);

/* ---- results -------------------------------------------------------------- */

/* Sends the next unsent results of one batch (up to OUTBOX_SEND_MAX). */
static void send_next_results(struct node *n, uint64_t leader)
{
    struct work *w = n->work;
    struct msg_result *items = malloc(OUTBOX_SEND_MAX * sizeof *items);
    size_t *which = malloc(OUTBOX_SEND_MAX * sizeof *which);
    uint64_t batch = 0;
    size_t count = items && which ? outbox_next(w->box, &batch, items, which,
                                                OUTBOX_SEND_MAX) : 0;
    int rc = 0;
    if (count > 0 && leader == n->keys.node_id) {
        dispatch_own_results(n, batch, items, count);
    } else if (count > 0) {
        struct msg_results m = {0, batch, count, items};
        uint8_t *buf;
        size_t len;
        rc = msg_results_encode(&m, &buf, &len);
        if (rc == 0 && w->drop_results > 0) {
            w->drop_results--; /* "sent", and lost on the way */
            free(buf);
        } else if (rc == 0) {
            rc = node_send(n, leader, MESH_MSG_RESULTS, buf, len);
            free(buf);
        }
    }
    if (rc == 0)
        outbox_sent(w->box, which, count, uv_now(&n->loop));
    free(items);
    free(which);
}

static void send_results(struct node *n)
{
    struct work *w = n->work;
    uint64_t leader = node_leader_id(n);
    if (leader == 0)
        return;
    while (outbox_unsent(w->box) > 0) {
        size_t before = outbox_unsent(w->box);
        send_next_results(n, leader);
        if (outbox_unsent(w->box) == before)
            return; /* the link refuses: try next iteration */
    }
}

/* The jobs that ended, told after their results, so nothing is re-leased
 * needlessly (a lease end may lease again at once, which may end more). */
static void send_lease_ends(struct node *n)
{
    struct work *w = n->work;
    while (w->n_ends > 0) {
        struct lease_ending *ends = w->ends;
        size_t count = w->n_ends;
        w->ends = NULL;
        w->n_ends = w->cap_ends = 0;
        for (size_t i = 0; i < count; i++)
            end_lease(n, ends[i].granter, &ends[i].e);
        free(ends);
        send_results(n);
    }
}

/* Once per loop iteration: what was factored goes to the leader, then the
 * ends of the jobs that finished. Without a leader results wait (and are
 * kept) until one is elected; lease ends go to their granters. */
void node_work_flush(struct node *n)
{
    if (n->work == NULL)
        return;
    send_results(n);
    send_lease_ends(n);
}

static void hand_back(void *ud, const struct waiting_lease *t)
{
    struct msg_lease_end e = work_rules_hand_back(&t->l);
    end_lease(ud, t->granter, &e);
}

/* Results go to the new leader; waiting leases of another granter go
 * back to it (work_rules_on_leader_change says why). */
void node_work_on_leader_change(struct node *n)
{
    struct work *w = n->work;
    if (w == NULL)
        return;
    work_rules_on_leader_change(w->waiting, w->box, node_leader_id(n), hand_back, n);
}

/* A COMPLETE (or CANCEL) was applied: results now committed leave the box. */
void node_work_on_applied(struct node *n, uint64_t batch_id)
{
    if (n->work == NULL)
        return;
    outbox_commit_seen(n->work->box, uv_now(&n->loop));
    if (outbox_count(n->work->box) > 0)
        outbox_prune(n->work->box, n->queue, batch_id, false);
}

/* Once a second: results that seem lost on the way (a link reset drops
 * what it had queued, a leader not yet ready drops what it gets) go again
 * (outbox_check says when). */
void node_work_tick(struct node *n)
{
    struct work *w = n->work;
    size_t again;
    if (w != NULL && outbox_check(w->box, n->queue, uv_now(&n->loop), &again) && again > 0)
        mlog(&n->log, LOG_INFO, "%zu results not committed %d s after sending: "
             "sending them again", again, OUTBOX_RESEND_MS / 1000);
}

/* ---- leases ----------------------------------------------------------------- */

/* A lease from a node work_rules_takes_from accepts waits for a worker;
 * one from a node that is not a member (or one this node cannot keep) is
 * handed straight back, so its granter never counts a lease nobody
 * holds. */
void node_work_on_lease(struct node *n, uint64_t from, const struct msg_lease *l)
{
    struct work *w = n->work;
    bool taken = w != NULL &&
                 work_rules_takes_from(from, n->keys.node_id, n->known_leader,
                                       consensus_is_member(n->cons, from)) &&
                 work_leases_add(w->waiting, from, l);
    if (!taken) {
        struct msg_lease_end e = work_rules_hand_back(l);
        end_lease(n, from, &e);
        return;
    }
    node_work_dispatch(n);
}

void node_work_on_lease_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_lease l;
    if (msg_lease_decode(&l, data, len) == 0)
        node_work_on_lease(n, peer, &l);
}

/* A spread batch ends as soon as its number is split (ECM's factor or
 * SIQS's combine): the curve and range jobs still running here are of no
 * use any more, and a curve at a large bound runs for seconds. */
static bool spread_ended(struct node *n, uint64_t batch_id)
{
    struct batch_info info;
    return queue_batch_get(n->queue, batch_id, &info) == 0 && info.spec->kind == BATCH_SPREAD &&
           info.state != BATCH_RUNNING;
}

void node_work_on_applied_entry(struct node *n, const struct consensus_applied *a)
{
    if (a->rc == 0 && a->type == QCMD_CANCEL)
        node_work_abort_batch(n, a->batch_id);
    if (a->rc == 0 && (a->type == QCMD_COMPLETE || a->type == QCMD_COMPLETE_BLOCK) &&
        spread_ended(n, a->batch_id))
        node_work_abort_batch(n, a->batch_id);
    if (a->type == QCMD_COMPLETE || a->type == QCMD_COMPLETE_BLOCK || a->type == QCMD_CANCEL)
        node_work_on_applied(n, a->batch_id);
}

/* A lease's end goes to the node that granted it, whoever leads now: only
 * it counts the lease (lease ids are per leadership), and one that is no
 * longer leader ignores it. */
static void end_lease(struct node *n, uint64_t granter, const struct msg_lease_end *e)
{
    if (granter == 0)
        return;
    if (granter == n->keys.node_id) {
        dispatch_own_lease_end(n, e);
        return;
    }
    uint8_t *buf;
    size_t len;
    if (msg_lease_end_encode(e, &buf, &len) == 0) {
        node_send(n, granter, MESH_MSG_LEASE_END, buf, len);
        free(buf);
    }
}

/* A lease whose batch this replica has applied, or gave up on, starts. */
static bool start_lease(struct node *n, const struct waiting_lease *t)
{
    struct batch_info info;
    if (!work_rules_can_serve(n->queue, &t->l) ||
        queue_batch_get(n->queue, t->l.batch, &info) != 0) {
        struct msg_lease_end e = work_rules_hand_back(&t->l);
        end_lease(n, t->granter, &e);
        return false;
    }
    struct sched_job job = {t->l.lease, t->l.batch, t->l.lo, t->l.hi, t->l.crashes, t->granter,
                            info.spec->budget_ms};
    return worker_pool_assign(n->pool, &job);
}

void node_work_dispatch(struct node *n)
{
    struct work *w = n->work;
    if (w == NULL || n->pool == NULL || n->stopping)
        return;
    uint64_t applied = consensus_applied(n->cons);
    struct waiting_lease t;
    while (worker_pool_idle(n->pool) > 0 && work_leases_next(w->waiting, applied, &t))
        start_lease(n, &t); /* one that lags for its entry waits for it */
}

void node_work_abort_batch(struct node *n, uint64_t batch_id)
{
    worker_pool_abort_batch(n->pool, batch_id);
}

/* ---- worker pool callbacks --------------------------------------------------- */

static int make_number(void *ud, uint64_t batch_id, uint64_t index, char *buf, size_t len)
{
    struct node *n = ud;
    struct batch_info info;
    if (queue_batch_get(n->queue, batch_id, &info) != 0)
        return -1;
    return batch_number(info.spec, index, buf, len);
}

/* Not kept when out of memory: the index stays pending and is leased again. */
static void keep_result(struct node *n, uint64_t batch, uint64_t index, const char *text)
{
    outbox_add(n->work->box, batch, index, text, strlen(text));
}

static void on_result(void *ud, const struct worker_result *r)
{
    struct node *n = ud;
    n->stats.done++;
    n->stats.unfactored += r->unfactored;
    keep_result(n, r->batch_id, r->index, r->text);
}

/* The kernel could not finish `index` (it hung, or killed its worker twice):
 * report it unfactored rather than retry forever. */
static void give_up_on(struct node *n, uint64_t batch_id, uint64_t index)
{
    char num[MESH_MAX_DIGITS + 2], text[MESH_MAX_DIGITS + 16];
    if (make_number(n, batch_id, index, num, sizeof num) != 0)
        return;
    snprintf(text, sizeof text, "unfactored:%s", num);
    n->stats.unfactored++;
    keep_result(n, batch_id, index, text);
}

static void on_job_end(void *ud, const struct sched_job *job, uint64_t next,
                       enum worker_end why)
{
    struct node *n = ud;
    struct msg_lease_end e = {job->job_id, next, (uint8_t)why, 0, 0};
    if (why == WORKER_JOB_TIMEOUT) {
        give_up_on(n, job->batch_id, next);
        e.next = next + 1;
    } else if (why == WORKER_JOB_CRASHED) {
        uint32_t crashes = (next == job->lo ? job->crashes : 0) + 1;
        if (crashes >= SCHED_MAX_CRASHES) {
            mlog(&n->log, LOG_WARN, "number %llu of batch %llu killed %u workers; "
                 "reporting it unfactored", (unsigned long long)next,
                 (unsigned long long)job->batch_id, crashes);
            give_up_on(n, job->batch_id, next);
            e.next = next + 1;
        } else {
            e.crashes = crashes;
        }
    }
    struct work *w = n->work;
    if (w != NULL && grow_array((void **)&w->ends, &w->cap_ends, w->n_ends + 1, sizeof *w->ends))
        w->ends[w->n_ends++] = (struct lease_ending){job->granter, e};
    else { /* out of memory: told now */
        node_work_flush(n);
        end_lease(n, job->granter, &e);
    }
}

static void on_idle(void *ud)
{
    node_work_dispatch(ud);
}

void node_work_pool_config(struct node *n, struct worker_pool_config *wc)
{
    wc->ud = n;
    wc->make_number = make_number;
    wc->on_result = on_result;
    wc->on_job_end = on_job_end;
    wc->on_idle = on_idle;
}
