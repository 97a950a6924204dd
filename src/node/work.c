/* work.c - this node's side of the work plane.
 *
 * The leader leases index ranges (MESH_MSG_LEASE, or a direct call when
 * the leader is this node). A lease waits here until this replica has
 * applied the entry it names (so every number can be derived from the
 * batch spec: a number that cannot be made is never factored) and a worker
 * is idle. Results go into the outbox and are sent to the leader once per
 * loop iteration; they stay in the outbox until this replica shows them
 * committed, and are sent again to a new leader after a failover, or when
 * RESEND_MS pass without their commit (a link reset loses what it had
 * queued). */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "node.h"
#include "work.h"
#include "dispatch.h"
#include "peers.h"
#include "consensus.h"
#include "numtext.h"

enum {
    OUTBOX_SEND_MAX = 4096,
    RESEND_MS = 3000,           /* sent, not committed this long: send again */
    RESEND_CHECK_MS = 1000,
};

struct taken {                  /* a lease waiting for a worker */
    uint64_t leader;            /* who granted it */
    struct msg_lease l;
    struct taken *next;
};

struct boxed {                  /* a result not yet seen committed */
    uint64_t batch, index;
    size_t off, len;            /* its text in work.text */
    uint64_t sent_ms;
    bool sent;
};

struct work {
    struct taken *waiting, **tail;
    /* The outbox: results in production order, their texts packed in one
     * arena (a malloc per number was a tenth of a busy node's time). */
    struct boxed *box;
    size_t n_box, cap_box;
    size_t unsent, first_unsent;
    char *text;
    size_t text_len, text_cap;
    uint64_t checked_ms;        /* last look for lost results */
    uint64_t applied_ms;        /* last COMPLETE or CANCEL this replica applied */
    /* Fault injection for tests (MESH_FAULT_DROP_RESULTS=N): the next N
     * RESULTS messages to a remote leader are lost as a reset link loses
     * them, so the recovery from lost results can be tested on real
     * processes. 0 in every normal run. */
    unsigned long drop_results;
};

int node_work_start(struct node *n)
{
    n->work = calloc(1, sizeof *n->work);
    if (n->work == NULL)
        return -1;
    n->work->tail = &n->work->waiting;
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
    while (w->waiting != NULL) {
        struct taken *t = w->waiting;
        w->waiting = t->next;
        free(t);
    }
    free(w->box);
    free(w->text);
    free(w);
    n->work = NULL;
}

size_t node_work_outbox(const struct node *n)
{
    return n->work ? n->work->n_box : 0;
}

bool node_work_settled(const struct node *n)
{
    return n->work == NULL || (n->work->waiting == NULL && n->work->n_box == 0);
}

static void end_lease(struct node *n, uint64_t granter, const struct msg_lease_end *e);

/* ---- results -------------------------------------------------------------- */

static void outbox_add(struct node *n, uint64_t batch, uint64_t index, const char *text)
{
    struct work *w = n->work;
    size_t len = strlen(text);
    /* Not kept when out of memory: the index stays pending and is leased again. */
    if (!grow_array((void **)&w->box, &w->cap_box, w->n_box + 1, sizeof *w->box) ||
        !grow_array((void **)&w->text, &w->text_cap, w->text_len + len, 1))
        return;
    memcpy(w->text + w->text_len, text, len);
    w->box[w->n_box++] = (struct boxed){batch, index, w->text_len, len, 0, false};
    w->text_len += len;
    w->unsent++;
}

static void advance_first_unsent(struct work *w)
{
    while (w->first_unsent < w->n_box && w->box[w->first_unsent].sent)
        w->first_unsent++;
}

/* Sends the unsent results of one batch (up to OUTBOX_SEND_MAX). */
static void send_batch_results(struct node *n, uint64_t leader, uint64_t batch)
{
    struct work *w = n->work;
    struct msg_result *items = malloc(OUTBOX_SEND_MAX * sizeof *items);
    size_t *which = malloc(OUTBOX_SEND_MAX * sizeof *which);
    size_t count = 0;
    for (size_t i = w->first_unsent; items && which && i < w->n_box && count < OUTBOX_SEND_MAX;
         i++) {
        struct boxed *b = &w->box[i];
        if (b->sent || b->batch != batch)
            continue;
        items[count] = (struct msg_result){b->index, w->text + b->off, b->len};
        which[count++] = i;
    }
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
    uint64_t now = uv_now(&n->loop);
    for (size_t k = 0; rc == 0 && k < count; k++) {
        w->box[which[k]].sent = true;
        w->box[which[k]].sent_ms = now;
        w->unsent--;
    }
    advance_first_unsent(w);
    free(items);
    free(which);
}

/* Once per loop iteration: what was factored goes to the leader. Without a
 * leader it waits (and is kept) until one is elected. */
void node_work_flush(struct node *n)
{
    struct work *w = n->work;
    uint64_t leader = node_leader_id(n);
    if (w == NULL || w->unsent == 0 || leader == 0)
        return;
    while (w->unsent > 0 && w->first_unsent < w->n_box) {
        size_t before = w->unsent;
        send_batch_results(n, leader, w->box[w->first_unsent].batch);
        if (w->unsent == before)
            return; /* the link refuses: try next iteration */
    }
}

/* Leases waiting for a worker when the leader changes. A new leader's
 * leases can arrive before this node's own Raft has heard of it (it learns
 * of a leader by heartbeat, the leases come by the link at once), so a
 * lease is dropped only when a known leader is someone else than its
 * granter, and then its granter is told: a granter that still counts the
 * lease would otherwise keep it, phantom, until its deadline, and give this
 * node no other work for that long. */
static void drop_stale_leases(struct node *n, uint64_t leader)
{
    struct work *w = n->work;
    for (struct taken **pp = &w->waiting; *pp != NULL;) {
        struct taken *t = *pp;
        if (leader == 0 || t->leader == leader) {
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        struct msg_lease_end e = {t->l.lease, t->l.lo, WORKER_JOB_ABORTED, 0, 0};
        end_lease(n, t->leader, &e);
        free(t);
    }
    w->tail = &w->waiting;
    while (*w->tail != NULL)
        w->tail = &(*w->tail)->next;
}

void node_work_on_leader_change(struct node *n)
{
    struct work *w = n->work;
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n_box; i++)
        if (w->box[i].sent) {
            w->box[i].sent = false;
            w->unsent++;
        }
    w->first_unsent = 0;
    drop_stale_leases(n, node_leader_id(n));
}

/* Results of `batch_id` (of every batch when `all`) that this replica
 * shows committed, or whose batch is no longer running, leave the box.
 * Kept texts slide down the arena in order, so it never fragments. */
static void prune_box(struct node *n, uint64_t batch_id, bool all)
{
    struct work *w = n->work;
    size_t kept = 0, text_len = 0;
    uint64_t known = 0;
    bool running = false;
    for (size_t i = 0; i < w->n_box; i++) {
        struct boxed b = w->box[i];
        if (known != b.batch) {
            struct batch_info info;
            known = b.batch;
            running = queue_batch_get(n->queue, b.batch, &info) == 0 &&
                      info.state == BATCH_RUNNING;
        }
        if ((all || b.batch == batch_id) &&
            (!running || queue_is_done(n->queue, b.batch, b.index))) {
            if (!b.sent)
                w->unsent--;
            continue;
        }
        memmove(w->text + text_len, w->text + b.off, b.len);
        b.off = text_len;
        text_len += b.len;
        w->box[kept++] = b;
    }
    w->n_box = kept;
    w->text_len = text_len;
    w->first_unsent = 0;
    advance_first_unsent(w);
}

/* A COMPLETE (or CANCEL) was applied: results now committed leave the box. */
void node_work_on_applied(struct node *n, uint64_t batch_id)
{
    if (n->work == NULL)
        return;
    n->work->applied_ms = uv_now(&n->loop);
    if (n->work->n_box > 0)
        prune_box(n, batch_id, false);
}

/* Once a second: results sent RESEND_MS ago and still not committed, while
 * nothing at all was committed for RESEND_MS, were lost on the way (a link
 * reset drops what it had queued, a leader not yet ready drops what it
 * gets) and go again. Results are deterministic and the leader skips what
 * is done, so a needless resend costs only bytes; but while commits flow,
 * results may merely wait in the leader's queue, and resending them all
 * every few seconds would feed an overloaded leader more of the same. */
void node_work_tick(struct node *n)
{
    struct work *w = n->work;
    uint64_t now = uv_now(&n->loop);
    if (w == NULL || w->n_box == 0 || now - w->checked_ms < RESEND_CHECK_MS)
        return;
    w->checked_ms = now;
    prune_box(n, 0, true);
    if (now - w->applied_ms < RESEND_MS)
        return;
    size_t again = 0;
    for (size_t i = 0; i < w->n_box; i++)
        if (w->box[i].sent && now - w->box[i].sent_ms >= RESEND_MS) {
            w->box[i].sent = false;
            w->unsent++;
            again++;
        }
    if (again > 0)
        mlog(&n->log, LOG_INFO, "%zu results not committed %d s after sending: "
             "sending them again", again, RESEND_MS / 1000);
    w->first_unsent = 0;
    advance_first_unsent(w);
}

/* ---- leases ----------------------------------------------------------------- */

/* A lease comes from the leader, but a new leader's first leases can
 * arrive before this node's Raft has heard of the new leader (they travel
 * by the link at once, the news by heartbeat): a lease from any voter or
 * standby of this cluster is taken, and one from a node that is not (or a
 * lease this node cannot keep) is handed straight back, so its granter
 * never counts a lease nobody holds. */
void node_work_on_lease(struct node *n, uint64_t from, const struct msg_lease *l)
{
    struct work *w = n->work;
    bool member = from == n->keys.node_id || from == n->known_leader ||
                  consensus_is_member(n->cons, from);
    struct taken *t = member ? malloc(sizeof *t) : NULL;
    if (w == NULL || t == NULL) {
        struct msg_lease_end e = {l->lease, l->lo, WORKER_JOB_ABORTED, 0, 0};
        end_lease(n, from, &e);
        return;
    }
    t->leader = from;
    t->l = *l;
    t->next = NULL;
    *w->tail = t;
    w->tail = &t->next;
    node_work_dispatch(n);
}

void node_work_on_lease_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_lease l;
    if (msg_lease_decode(&l, data, len) == 0)
        node_work_on_lease(n, peer, &l);
}

void node_work_on_applied_entry(struct node *n, const struct consensus_applied *a)
{
    if (a->rc == 0 && a->type == QCMD_CANCEL)
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
static bool start_lease(struct node *n, const struct taken *t)
{
    struct batch_info info;
    if (queue_batch_get(n->queue, t->l.batch, &info) != 0 || info.state != BATCH_RUNNING ||
        t->l.hi > info.total) {
        struct msg_lease_end e = {t->l.lease, t->l.lo, WORKER_JOB_ABORTED, 0, 0};
        end_lease(n, t->leader, &e);
        return false;
    }
    struct sched_job job = {t->l.lease, t->l.batch, t->l.lo, t->l.hi, t->l.crashes, t->leader,
                            info.spec->budget_ms};
    return worker_pool_assign(n->pool, &job);
}

void node_work_dispatch(struct node *n)
{
    struct work *w = n->work;
    if (w == NULL || n->pool == NULL || n->stopping)
        return;
    uint64_t applied = consensus_applied(n->cons);
    while (w->waiting != NULL && worker_pool_idle(n->pool) > 0) {
        struct taken *t = w->waiting;
        if (applied < t->l.needs)
            return; /* this replica lags: the lease waits for it */
        w->waiting = t->next;
        if (w->waiting == NULL)
            w->tail = &w->waiting;
        start_lease(n, t);
        free(t);
    }
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

static void on_result(void *ud, const struct worker_result *r)
{
    struct node *n = ud;
    n->stats.done++;
    n->stats.unfactored += r->unfactored;
    outbox_add(n, r->batch_id, r->index, r->text);
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
    outbox_add(n, batch_id, index, text);
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
    node_work_flush(n); /* results before the lease end, so nothing is re-leased needlessly */
    end_lease(n, job->granter, &e);
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
