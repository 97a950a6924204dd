/* work.c - a node's worker side, on src/node's own code: whom a lease is
 * taken from, when a waiting lease starts and what a leader change does
 * to waiting leases and results are src/node/work_rules.c, and results
 * wait in src/node/outbox.c until this replica shows them committed (both
 * linked in, called as src/node/work.c calls them). Here, in place of the
 * worker pool: each worker slot factors its lease's numbers with the real
 * kernel (in-process; each number costs a few simulated ms). Nodes are
 * named by raft id (server index + 1) in leases and ends. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node/work_rules.h"
#include "worker.h"
#include "sim.h"

struct slot {
    bool busy;
    struct waiting_lease t;
    uint64_t index, busy_until;
};

struct sim_work {
    struct work_leases *waiting;
    struct slot slots[SIM_MAX_WORKERS];
    struct outbox *box;
    struct msg_result *items;   /* outbox_next's, OUTBOX_SEND_MAX */
    size_t *which;
};

void sim_work_start(struct sim *s, unsigned i)
{
    struct sim_work *w = calloc(1, sizeof *w);
    CHECK(w != NULL);
    w->box = outbox_new();
    w->waiting = work_leases_new();
    w->items = malloc(OUTBOX_SEND_MAX * sizeof *w->items);
    w->which = malloc(OUTBOX_SEND_MAX * sizeof *w->which);
    CHECK(w->box != NULL && w->waiting != NULL && w->items != NULL && w->which != NULL);
    s->nodes[i].work = w;
}

void sim_work_stop(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    if (w == NULL)
        return;
    work_leases_free(w->waiting);
    outbox_free(w->box);
    free(w->items);
    free(w->which);
    free(w);
    s->nodes[i].work = NULL;
}

/* A lease's end to its granter (a server's own straight to its lead). */
static void end_lease(struct sim *s, unsigned i, uint64_t granter, const struct msg_lease_end *e)
{
    struct sim_msg *m = sim_msg_new(SIM_LEASE_END, i, (unsigned)granter - 1);
    m->lease = e->lease;
    m->next = e->next;
    m->crashes = e->crashes;
    m->done = e->why == WORKER_JOB_DONE;
    if (m->to == i) {
        sim_lead_on_lease_end(s, i, i, m);
        sim_msg_free(m);
    } else {
        sim_send(s, m);
    }
}

static void hand_back(struct sim *s, unsigned i, uint64_t granter, const struct msg_lease *l)
{
    struct msg_lease_end e = work_rules_hand_back(l);
    end_lease(s, i, granter, &e);
}

/* As node_work_on_lease: taken from a member (every server is one here),
 * else handed back. */
void sim_work_on_lease(struct sim *s, unsigned i, const struct sim_msg *m)
{
    struct sim_work *w = s->nodes[i].work;
    struct msg_lease l = {m->lease, m->batch, m->lo, m->hi, m->next, m->crashes};
    if (!work_rules_takes_from(m->from + 1, i + 1, s->nodes[i].known_leader, true) ||
        !work_leases_add(w->waiting, m->from + 1, &l))
        hand_back(s, i, m->from + 1, &l);
}

bool sim_work_holds(const struct sim *s, unsigned i, uint64_t granter, uint64_t lease)
{
    const struct sim_work *w = s->nodes[i].work;
    if (w == NULL)
        return false;
    for (unsigned k = 0; k < s->nodes[i].workers; k++)
        if (w->slots[k].busy && w->slots[k].t.granter == granter &&
            w->slots[k].t.l.lease == lease)
            return true;
    return work_leases_holds(w->waiting, granter, lease);
}

/* ---- the outbox ---------------------------------------------------------------- */

/* The next unsent results of one batch (outbox_next's choice) to the
 * leader; false when nothing is unsent. */
static bool send_next(struct sim *s, unsigned i, unsigned leader)
{
    struct sim_work *w = s->nodes[i].work;
    uint64_t batch = 0;
    size_t count = outbox_next(w->box, &batch, w->items, w->which, OUTBOX_SEND_MAX);
    if (count == 0)
        return false;
    struct sim_msg *m = sim_msg_new(SIM_RESULTS, i, leader);
    m->batch = batch;
    m->items = calloc(count, sizeof *m->items);
    CHECK(m->items != NULL);
    for (size_t k = 0; k < count; k++) {
        m->items[k].index = w->items[k].index;
        m->items[k].text = strndup(w->items[k].text, w->items[k].len);
        CHECK(m->items[k].text != NULL);
    }
    m->n = count;
    outbox_sent(w->box, w->which, count, sim_now(s));
    if (leader == i) {
        sim_lead_on_results(s, i, i, batch, m->items, m->n);
        sim_msg_free(m);
    } else {
        sim_send(s, m);
    }
    return true;
}

static void flush(struct sim *s, unsigned i)
{
    unsigned leader = s->nodes[i].known_leader;
    if (leader == 0)
        return; /* kept until a leader is known */
    while (s->nodes[i].work != NULL && send_next(s, i, leader - 1))
        ;
}

/* work.c's node_work_on_applied_entry: a COMPLETE or CANCEL applied here
 * is a commit seen, and what it committed leaves the box. */
void sim_work_on_applied(struct sim *s, unsigned i, enum qcmd_type type, uint64_t batch)
{
    struct sim_work *w = s->nodes[i].work;
    if (w == NULL ||
        (type != QCMD_COMPLETE && type != QCMD_COMPLETE_BLOCK && type != QCMD_CANCEL))
        return;
    outbox_commit_seen(w->box, sim_now(s));
    if (outbox_count(w->box) > 0)
        outbox_prune(w->box, s->c.m[i].q, batch, false);
}

/* Once a second (outbox_check says when): committed results leave, lost
 * ones go again. */
static void tick(struct sim *s, unsigned i)
{
    size_t again;
    outbox_check(s->nodes[i].work->box, s->c.m[i].q, sim_now(s), &again);
}

struct at {
    struct sim *s;
    unsigned i;
};

static void hand_back_waiting(void *ud, const struct waiting_lease *t)
{
    hand_back(((struct at *)ud)->s, ((struct at *)ud)->i, t->granter, &t->l);
}

/* As node_work_on_leader_change. */
void sim_work_on_leader_change(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    struct at at = {s, i};
    work_rules_on_leader_change(w->waiting, w->box, s->nodes[i].known_leader, hand_back_waiting,
                                &at);
}

/* ---- factoring -------------------------------------------------------------------- */

/* The canonical result text of one number, by the real kernel; a liar
 * claims a wrong factorisation instead. */
static char *factor_text(struct sim *s, unsigned i, const struct batch_spec *spec, uint64_t index)
{
    char num[MESH_MAX_DIGITS + 2];
    CHECK(batch_number(spec, index, num, sizeof num) == 0);
    if (sim_now(s) < s->nodes[i].liar_until)
        return strdup(strcmp(num, "2") == 0 ? "3" : "2");
    struct factor_result res;
    if (factor_decimal(s->fctx, num, 0, &res) != FACTOR_DONE) {
        sim_fail(s, "the kernel failed on %s: %s", num, res.error);
        factor_result_free(&res);
        return strdup("");
    }
    size_t len = 1;
    for (size_t k = 0; k < res.count; k++)
        len += strlen(res.factors[k]) + 1;
    char *text = malloc(len), *p = text;
    CHECK(text != NULL);
    *p = '\0';
    for (size_t k = 0; k < res.count; k++)
        p += sprintf(p, "%s%s", k ? " " : "", res.factors[k]);
    factor_result_free(&res);
    return text;
}

/* A free slot takes the first waiting lease this replica can serve (one
 * whose batch it does not run is handed back): node_work_dispatch. */
static bool start_slot(struct sim *s, unsigned i, struct slot *sl)
{
    struct sim_work *w = s->nodes[i].work;
    raft_index applied = raft_last_applied(raft_fixture_get(&s->c.f, i));
    struct waiting_lease t;
    while (work_leases_next(w->waiting, applied, &t)) {
        if (!work_rules_can_serve(s->c.m[i].q, &t.l)) {
            hand_back(s, i, t.granter, &t.l);
            continue;
        }
        *sl = (struct slot){true, t, t.l.lo, sim_now(s) + 1 + sim_rng_below(&s->rng, 4)};
        return true;
    }
    return false;
}

/* One number of a slot done: its result to the outbox; at the lease's end
 * the results go first, then the end (work.c's order). */
static void finish_number(struct sim *s, unsigned i, struct slot *sl)
{
    struct sim_work *w = s->nodes[i].work;
    struct batch_info info;
    if (queue_batch_get(s->c.m[i].q, sl->t.l.batch, &info) == 0) {
        char *text = factor_text(s, i, info.spec, sl->index);
        CHECK(outbox_add(w->box, sl->t.l.batch, sl->index, text, strlen(text)));
        free(text);
        s->stats.numbers++;
    }
    sl->index++;
    sl->busy_until += 1 + sim_rng_below(&s->rng, 4);
    if (sl->index < sl->t.l.hi)
        return;
    sl->busy = false;
    flush(s, i);
    end_lease(s, i, sl->t.granter,
              &(struct msg_lease_end){sl->t.l.lease, sl->t.l.hi, WORKER_JOB_DONE, 0, 0});
}

/* A CANCEL applied here aborts the workers on its batch
 * (node_work_abort_batch): their leases end where they stopped. */
static void abort_cancelled(struct sim *s, unsigned i, struct slot *sl)
{
    struct batch_info info;
    if (!sl->busy || (queue_batch_get(s->c.m[i].q, sl->t.l.batch, &info) == 0 &&
                      info.state != BATCH_CANCELLED))
        return;
    sl->busy = false;
    end_lease(s, i, sl->t.granter,
              &(struct msg_lease_end){sl->t.l.lease, sl->index, WORKER_JOB_ABORTED, 0, 0});
}

void sim_work_run(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    for (unsigned k = 0; k < s->nodes[i].workers && s->failure[0] == '\0'; k++) {
        struct slot *sl = &w->slots[k];
        abort_cancelled(s, i, sl);
        while (s->failure[0] == '\0' && (sl->busy || start_slot(s, i, sl)) &&
               sl->busy_until <= sim_now(s))
            finish_number(s, i, sl);
    }
    flush(s, i);
    tick(s, i);
}
