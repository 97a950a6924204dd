/* work.c - a node's worker side, as src/node/work.c does it: leases wait
 * until this replica applied what they need, each worker slot factors its
 * lease's numbers with the real kernel (in-process; each number costs a
 * few simulated ms), results go to an outbox sent to the known leader,
 * kept until this replica shows them committed, sent again after a
 * leader change or RESEND_MS without a commit; a lease's end goes to its
 * granter, and leases waiting when another leader is known are handed
 * back to theirs. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim.h"

enum { RESEND_MS = 3000, RESEND_CHECK_MS = 1000, OUTBOX_SEND_MAX = 4096 };

struct taken {
    unsigned granter;
    uint64_t lease, batch, lo, hi, needs;
    uint32_t crashes;
    struct taken *next;
};

struct slot {
    bool busy;
    struct taken t;
    uint64_t index, busy_until;
};

struct boxed {
    uint64_t batch, index;
    char *text;
    bool sent;
    uint64_t sent_ms;
};

struct sim_work {
    struct taken *waiting;
    struct slot slots[SIM_MAX_WORKERS];
    struct boxed *box;
    size_t n_box, cap_box;
    uint64_t checked_ms;
};

void sim_work_start(struct sim *s, unsigned i)
{
    s->nodes[i].work = calloc(1, sizeof *s->nodes[i].work);
    CHECK(s->nodes[i].work != NULL);
}

void sim_work_stop(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    if (w == NULL)
        return;
    while (w->waiting != NULL) {
        struct taken *t = w->waiting;
        w->waiting = t->next;
        free(t);
    }
    for (size_t k = 0; k < w->n_box; k++)
        free(w->box[k].text);
    free(w->box);
    free(w);
    s->nodes[i].work = NULL;
}

void sim_work_on_lease(struct sim *s, unsigned i, const struct sim_msg *m)
{
    struct sim_work *w = s->nodes[i].work;
    struct taken *t = calloc(1, sizeof *t);
    CHECK(t != NULL);
    *t = (struct taken){m->from, m->lease, m->batch, m->lo, m->hi, m->next, m->crashes, NULL};
    struct taken **pp = &w->waiting;
    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = t;
}

static void end_lease(struct sim *s, unsigned i, const struct taken *t, uint64_t next, bool done)
{
    struct sim_msg *m = sim_msg_new(SIM_LEASE_END, i, t->granter);
    m->lease = t->lease;
    m->next = next;
    m->done = done;
    if (t->granter == i) {
        sim_lead_on_lease_end(s, i, i, m);
        sim_msg_free(m);
    } else {
        sim_send(s, m);
    }
}

/* ---- the outbox ---------------------------------------------------------------- */

static void outbox_add(struct sim_work *w, uint64_t batch, uint64_t index, char *text)
{
    if (w->n_box == w->cap_box) {
        w->cap_box = w->cap_box ? w->cap_box * 2 : 256;
        w->box = realloc(w->box, w->cap_box * sizeof *w->box);
        CHECK(w->box != NULL);
    }
    w->box[w->n_box++] = (struct boxed){batch, index, text, false, 0};
}

/* Unsent results of one batch to the leader (the first unsent's batch). */
static void send_batch(struct sim *s, unsigned i, unsigned leader, uint64_t batch)
{
    struct sim_work *w = s->nodes[i].work;
    struct sim_msg *m = sim_msg_new(SIM_RESULTS, i, leader);
    m->batch = batch;
    m->items = calloc(OUTBOX_SEND_MAX, sizeof *m->items);
    CHECK(m->items != NULL);
    for (size_t k = 0; k < w->n_box && m->n < OUTBOX_SEND_MAX; k++) {
        struct boxed *b = &w->box[k];
        if (b->sent || b->batch != batch)
            continue;
        b->sent = true;
        b->sent_ms = sim_now(s);
        m->items[m->n].index = b->index;
        m->items[m->n].text = strdup(b->text);
        CHECK(m->items[m->n++].text != NULL);
    }
    if (leader == i) {
        sim_lead_on_results(s, i, i, batch, m->items, m->n);
        sim_msg_free(m);
    } else {
        sim_send(s, m);
    }
}

static void flush(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    unsigned leader = s->nodes[i].known_leader;
    if (leader == 0)
        return; /* kept until a leader is known */
    for (size_t k = 0; k < w->n_box; k++)
        if (!w->box[k].sent)
            send_batch(s, i, leader - 1, w->box[k].batch);
}

/* Once a second: what this replica shows committed (or whose batch ended)
 * leaves the box; what was sent RESEND_MS ago without any commit since
 * goes again. */
static void tick(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    const struct queue *q = s->c.m[i].q;
    uint64_t now = sim_now(s);
    if (now - w->checked_ms < RESEND_CHECK_MS)
        return;
    w->checked_ms = now;
    size_t kept = 0;
    for (size_t k = 0; k < w->n_box; k++) {
        struct boxed b = w->box[k];
        struct batch_info info;
        if (queue_batch_get(q, b.batch, &info) != 0 || info.state != BATCH_RUNNING ||
            queue_is_done(q, b.batch, b.index)) {
            /* A batch this replica does not know yet cannot have been
             * factored here: lease numbers come from the local replica. */
            free(b.text);
            continue;
        }
        if (b.sent && now - s->applied_ms[i] >= RESEND_MS && now - b.sent_ms >= RESEND_MS)
            b.sent = false;
        w->box[kept++] = b;
    }
    w->n_box = kept;
}

void sim_work_on_leader_change(struct sim *s, unsigned i)
{
    struct sim_work *w = s->nodes[i].work;
    for (size_t k = 0; k < w->n_box; k++)
        w->box[k].sent = false;
    unsigned leader = s->nodes[i].known_leader;
    for (struct taken **pp = &w->waiting; *pp != NULL;) {
        struct taken *t = *pp;
        if (leader == 0 || t->granter == leader - 1) {
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        end_lease(s, i, t, t->lo, false);
        free(t);
    }
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
 * whose batch it does not run is handed back). */
static bool start_slot(struct sim *s, unsigned i, struct slot *sl)
{
    struct sim_work *w = s->nodes[i].work;
    raft_index applied = raft_last_applied(raft_fixture_get(&s->c.f, i));
    while (w->waiting != NULL && applied >= w->waiting->needs) {
        struct taken *t = w->waiting;
        w->waiting = t->next;
        struct batch_info info;
        if (queue_batch_get(s->c.m[i].q, t->batch, &info) != 0 ||
            info.state != BATCH_RUNNING || t->hi > info.total) {
            end_lease(s, i, t, t->lo, false);
            free(t);
            continue;
        }
        *sl = (struct slot){true, *t, t->lo, sim_now(s) + 1 + sim_rng_below(&s->rng, 4)};
        free(t);
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
    if (queue_batch_get(s->c.m[i].q, sl->t.batch, &info) == 0) {
        outbox_add(w, sl->t.batch, sl->index, factor_text(s, i, info.spec, sl->index));
        s->stats.numbers++;
    }
    sl->index++;
    sl->busy_until += 1 + sim_rng_below(&s->rng, 4);
    if (sl->index < sl->t.hi)
        return;
    sl->busy = false;
    flush(s, i);
    end_lease(s, i, &sl->t, sl->t.hi, true);
}

/* A CANCEL applied here aborts the workers on its batch
 * (node_work_abort_batch): their leases end where they stopped. */
static void abort_cancelled(struct sim *s, unsigned i, struct slot *sl)
{
    struct batch_info info;
    if (!sl->busy || (queue_batch_get(s->c.m[i].q, sl->t.batch, &info) == 0 &&
                      info.state != BATCH_CANCELLED))
        return;
    sl->busy = false;
    end_lease(s, i, &sl->t, sl->index, false);
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
