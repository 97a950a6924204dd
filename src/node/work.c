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
 * work_rules.h's (the simulator runs the same rules).
 *
 * It names no `struct node`: the clock, the replica, the links and the
 * worker pool are its host's (struct work_io, work.h), the node's in
 * work_node.c and the simulator's in tests/sim/work.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "work.h"
#include "numtext.h"
#include "outbox.h"
#include "work_rules.h"

/* A lease's end told at the end of the loop iteration, after its results. */
struct lease_ending {
    uint64_t granter;
    struct msg_lease_end e;
};

struct work {
    const struct work_io *io;
    void *ud;
    uint64_t self;
    struct work_leases *waiting;    /* leases waiting for a worker */
    struct outbox *box;
    /* Jobs that ended in this iteration: their ends go with the results
     * (work_flush), so a worker answering tiny jobs costs a message or two
     * an iteration, not a flush and an end per job. */
    struct lease_ending *ends;
    size_t n_ends, cap_ends;
    /* Fault injection for tests (MESH_FAULT_DROP_RESULTS=N, read by
     * work_node.c): the next N RESULTS messages to a remote leader are
     * lost as a reset link loses them, so the recovery from lost results
     * can be tested on real processes. 0 in every normal run. */
    unsigned long drop_results;
};

static uint64_t now_ms(const struct work *w)
{
    return w->io->now(w->ud);
}

static void log_line(const struct work *w, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_line(const struct work *w, enum log_level level, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    w->io->log(w->ud, level, text);
}

struct work *work_new(const struct work_config *c)
{
    struct work *w = calloc(1, sizeof *w);
    if (w == NULL || (w->box = outbox_new()) == NULL ||
        (w->waiting = work_leases_new()) == NULL) {
        if (w != NULL)
            outbox_free(w->box);
        free(w);
        return NULL;
    }
    w->io = c->io;
    w->ud = c->ud;
    w->self = c->self;
    w->drop_results = c->drop_results;
    return w;
}

void work_free(struct work *w)
{
    if (w == NULL)
        return;
    work_leases_free(w->waiting);
    outbox_free(w->box);
    free(w->ends);
    free(w);
}

size_t work_outbox(const struct work *w)
{
    return outbox_count(w->box);
}

size_t work_outbox_bytes(const struct work *w)
{
    return outbox_held_bytes(w->box);
}

bool work_settled(const struct work *w)
{
    return work_leases_count(w->waiting) == 0 && outbox_count(w->box) == 0;
}

bool work_waits(const struct work *w, uint64_t granter, uint64_t lease)
{
    return work_leases_holds(w->waiting, granter, lease);
}

static void end_lease(struct work *w, uint64_t granter, const struct msg_lease_end *e);

/* ---- results -------------------------------------------------------------- */

/* Sends the next unsent results of one batch (up to OUTBOX_SEND_MAX). */
static void send_next_results(struct work *w, uint64_t leader)
{
    struct msg_result *items = malloc(OUTBOX_SEND_MAX * sizeof *items);
    size_t *which = malloc(OUTBOX_SEND_MAX * sizeof *which);
    uint64_t batch = 0;
    size_t count = items && which ? outbox_next(w->box, &batch, items, which,
                                                OUTBOX_SEND_MAX) : 0;
    int rc = 0;
    if (count > 0 && leader == w->self) {
        w->io->own_results(w->ud, batch, items, count);
    } else if (count > 0) {
        struct msg_results m = {0, batch, count, items};
        uint8_t *buf;
        size_t len;
        rc = msg_results_encode(&m, &buf, &len);
        if (rc == 0 && w->drop_results > 0) {
            w->drop_results--; /* "sent", and lost on the way */
            free(buf);
        } else if (rc == 0) {
            rc = w->io->send(w->ud, leader, MESH_MSG_RESULTS, buf, len);
            free(buf);
        }
    }
    if (rc == 0)
        outbox_sent(w->box, which, count, now_ms(w));
    free(items);
    free(which);
}

static void send_results(struct work *w)
{
    uint64_t leader = w->io->leader(w->ud);
    if (leader == 0)
        return;
    while (outbox_unsent(w->box) > 0) {
        size_t before = outbox_unsent(w->box);
        send_next_results(w, leader);
        if (outbox_unsent(w->box) == before)
            return; /* the link refuses: try next iteration */
    }
}

/* The jobs that ended, told after their results, so nothing is re-leased
 * needlessly (a lease end may lease again at once, which may end more). */
static void send_lease_ends(struct work *w)
{
    while (w->n_ends > 0) {
        struct lease_ending *ends = w->ends;
        size_t count = w->n_ends;
        w->ends = NULL;
        w->n_ends = w->cap_ends = 0;
        for (size_t i = 0; i < count; i++)
            end_lease(w, ends[i].granter, &ends[i].e);
        free(ends);
        send_results(w);
    }
}

/* Once per loop iteration: what was factored goes to the leader, then the
 * ends of the jobs that finished. Without a leader results wait (and are
 * kept) until one is elected; lease ends go to their granters. */
void work_flush(struct work *w)
{
    send_results(w);
    send_lease_ends(w);
}

static void hand_back(void *ud, const struct waiting_lease *t)
{
    struct msg_lease_end e = work_rules_hand_back(&t->l);
    end_lease(ud, t->granter, &e);
}

/* Results go to the new leader; waiting leases of another granter go
 * back to it (work_rules_on_leader_change says why). */
void work_on_leader_change(struct work *w)
{
    work_rules_on_leader_change(w->waiting, w->box, w->io->leader(w->ud), hand_back, w);
}

/* A COMPLETE (or CANCEL) was applied: results now committed leave the
 * box's front (outbox_prune_front says why only the front). */
void work_on_applied(struct work *w, uint64_t batch_id)
{
    (void)batch_id;
    outbox_commit_seen(w->box, now_ms(w));
    if (outbox_count(w->box) > 0)
        outbox_prune_front(w->box, w->io->queue(w->ud));
}

/* Once a second: results that seem lost on the way (a link reset drops
 * what it had queued, a leader not yet ready drops what it gets) go again
 * (outbox_check says when). */
void work_tick(struct work *w)
{
    size_t again;
    if (outbox_check(w->box, w->io->queue(w->ud), now_ms(w), &again) && again > 0)
        log_line(w, LOG_INFO, "%zu results not committed %d s after sending: "
                 "sending them again", again, OUTBOX_RESEND_MS / 1000);
}

/* ---- leases ----------------------------------------------------------------- */

/* A lease from a node work_rules_takes_from accepts waits for a worker;
 * one from a node that is not a member (or one this node cannot keep) is
 * handed straight back, so its granter never counts a lease nobody
 * holds. */
void work_on_lease(struct work *w, uint64_t from, const struct msg_lease *l)
{
    bool taken = work_rules_takes_from(from, w->self, w->io->known_leader(w->ud),
                                       w->io->is_member(w->ud, from)) &&
                 work_leases_add(w->waiting, from, l);
    if (!taken) {
        struct msg_lease_end e = work_rules_hand_back(l);
        end_lease(w, from, &e);
        return;
    }
    work_dispatch(w);
}

void work_on_lease_msg(struct work *w, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_lease l;
    if (msg_lease_decode(&l, data, len) == 0)
        work_on_lease(w, peer, &l);
}

/* A spread batch ends as soon as its number is split (ECM's factor or
 * SIQS's combine): the curve and range jobs still running here are of no
 * use any more, and a curve at a large bound runs for seconds. */
static bool spread_ended(struct work *w, uint64_t batch_id)
{
    struct batch_info info;
    return queue_batch_get(w->io->queue(w->ud), batch_id, &info) == 0 &&
           info.spec->kind == BATCH_SPREAD && info.state != BATCH_RUNNING;
}

void work_on_applied_entry(struct work *w, int rc, enum qcmd_type type, uint64_t batch_id)
{
    if (rc == 0 && type == QCMD_CANCEL)
        w->io->abort_batch(w->ud, batch_id);
    if (rc == 0 && (type == QCMD_COMPLETE || type == QCMD_COMPLETE_BLOCK) &&
        spread_ended(w, batch_id))
        w->io->abort_batch(w->ud, batch_id);
    if (type == QCMD_COMPLETE || type == QCMD_COMPLETE_BLOCK || type == QCMD_CANCEL)
        work_on_applied(w, batch_id);
}

/* A lease's end goes to the node that granted it, whoever leads now: only
 * it counts the lease (lease ids are per leadership), and one that is no
 * longer leader ignores it. */
static void end_lease(struct work *w, uint64_t granter, const struct msg_lease_end *e)
{
    if (granter == 0)
        return;
    if (granter == w->self) {
        w->io->own_lease_end(w->ud, e);
        return;
    }
    uint8_t *buf;
    size_t len;
    if (msg_lease_end_encode(e, &buf, &len) == 0) {
        w->io->send(w->ud, granter, MESH_MSG_LEASE_END, buf, len);
        free(buf);
    }
}

/* A lease whose batch this replica has applied, or gave up on, starts. */
static bool start_lease(struct work *w, const struct waiting_lease *t)
{
    struct queue *q = w->io->queue(w->ud);
    struct batch_info info;
    if (!work_rules_can_serve(q, &t->l) || queue_batch_get(q, t->l.batch, &info) != 0) {
        struct msg_lease_end e = work_rules_hand_back(&t->l);
        end_lease(w, t->granter, &e);
        return false;
    }
    struct sched_job job = {t->l.lease, t->l.batch, t->l.lo, t->l.hi, t->l.crashes, t->granter,
                            info.spec->budget_ms};
    return w->io->assign(w->ud, &job);
}

void work_dispatch(struct work *w)
{
    if (w->io->stopping(w->ud))
        return;
    uint64_t applied = w->io->applied(w->ud);
    struct waiting_lease t;
    while (w->io->idle_workers(w->ud) > 0 && work_leases_next(w->waiting, applied, &t))
        start_lease(w, &t); /* one that lags for its entry waits for it */
}

/* ---- worker pool callbacks --------------------------------------------------- */

int work_make_number(struct work *w, uint64_t batch_id, uint64_t index, char *buf, size_t len)
{
    struct batch_info info;
    if (queue_batch_get(w->io->queue(w->ud), batch_id, &info) != 0)
        return -1;
    return batch_number(info.spec, index, buf, len);
}

/* Not kept when out of memory: the index stays pending and is leased again. */
static void keep_result(struct work *w, uint64_t batch, uint64_t index, const char *text,
                        size_t len)
{
    outbox_add(w->box, batch, index, text, len);
}

void work_on_result(struct work *w, const struct worker_result *r)
{
    w->io->counted(w->ud, 1, r->unfactored);
    keep_result(w, r->batch_id, r->index, r->text, r->len);
}

/* The kernel could not finish `index` (it hung, or killed its worker twice):
 * report it unfactored rather than retry forever. */
static void give_up_on(struct work *w, uint64_t batch_id, uint64_t index)
{
    char num[MESH_MAX_DIGITS + 2], text[MESH_MAX_DIGITS + 16];
    if (work_make_number(w, batch_id, index, num, sizeof num) != 0)
        return;
    snprintf(text, sizeof text, "unfactored:%s", num);
    w->io->counted(w->ud, 0, 1);
    keep_result(w, batch_id, index, text, strlen(text));
}

void work_on_job_end(struct work *w, const struct sched_job *job, uint64_t next,
                     enum worker_end why)
{
    struct msg_lease_end e = {job->job_id, next, (uint8_t)why, 0, 0};
    if (why == WORKER_JOB_TIMEOUT) {
        give_up_on(w, job->batch_id, next);
        e.next = next + 1;
    } else if (why == WORKER_JOB_CRASHED) {
        uint32_t crashes = (next == job->lo ? job->crashes : 0) + 1;
        if (crashes >= SCHED_MAX_CRASHES) {
            log_line(w, LOG_WARN, "number %llu of batch %llu killed %u workers; "
                     "reporting it unfactored", (unsigned long long)next,
                     (unsigned long long)job->batch_id, crashes);
            give_up_on(w, job->batch_id, next);
            e.next = next + 1;
        } else {
            e.crashes = crashes;
        }
    }
    if (grow_array((void **)&w->ends, &w->cap_ends, w->n_ends + 1, sizeof *w->ends)) {
        w->ends[w->n_ends++] = (struct lease_ending){job->granter, e};
    } else { /* out of memory: told now, after the results */
        work_flush(w);
        end_lease(w, job->granter, &e);
    }
}
