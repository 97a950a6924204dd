/* client.c - the users: new batches now and then while the faults run
 * (ranges and semiprimes, adaptive or fixed chunks), and now and then a
 * CANCEL of one already answered; the operator: drains and undrains. A write goes to a random server, which
 * proposes it when it leads or forwards it to the leader it knows; it is
 * answered by that server once its replica applied it, and sent again to
 * another after a random timeout until then. */
#include <stdio.h>

#include "check.h"
#include "sim.h"

enum { RETRY_MIN_MS = 300, RETRY_SPREAD_MS = 1700 };

static void node_on_write(struct sim *s, unsigned i, size_t client, bool cancel)
{
    struct sim_node *nd = &s->nodes[i];
    if (nd->lead != NULL) {
        sim_lead_on_write(s, i, client, cancel);
    } else if (nd->known_leader != 0 && nd->known_leader - 1 != i) {
        struct sim_msg *m = sim_msg_new(cancel ? SIM_CANCEL : SIM_SUBMIT, i, nd->known_leader - 1);
        m->client = client;
        sim_send(s, m); /* a node forwards a write to the leader it knows */
    }
}

/* Each draw in its own statement: C leaves the order of a call's
 * arguments (and of an operator's operands) open, and two builds of the
 * same seed once made different batches. */
static void new_batch(struct sim *s)
{
    struct sim_rng *r = &s->rng;
    struct sim_batch *b = &s->batches[s->n_batches];
    char err[128];
    uint64_t kind = sim_rng_below(r, 2);
    uint64_t a = sim_rng_next(r), c = sim_rng_below(r, 56), d = sim_rng_below(r, 600);
    if (kind == 0) {
        char start[32];
        snprintf(start, sizeof start, "%llu", (unsigned long long)(a >> (4 + c)));
        CHECK(batch_range_init(&b->spec, start, 1 + d % 3, 20 + d, err, sizeof err) == 0);
    } else {
        CHECK(batch_semiprimes_init(&b->spec, 20 + (uint32_t)(c % 43), 20 + d % 400, a, err,
                                    sizeof err) == 0);
    }
    b->spec.chunk = sim_rng_below(r, 2) ? 0 : 1 + (uint32_t)sim_rng_below(r, 64);
    b->spec.budget_ms = SIM_BUDGET_MS;
    b->token = sim_rng_next(r) | 1;
    b->total = b->spec.count;
    b->next_try_ms = sim_now(s);
    s->n_batches++;
}

/* The id of the batch with this token on replica i, or 0. */
static uint64_t batch_of_token(const struct sim *s, unsigned i, uint64_t token)
{
    for (size_t k = 0; k < queue_batch_count(s->c.m[i].q); k++) {
        struct batch_info info;
        if (queue_batch_at(s->c.m[i].q, k, &info) == 0 && info.token == token)
            return info.id;
    }
    return 0;
}

/* Is the write the client sent last to b->asked answered there? */
static bool answered(struct sim *s, size_t k, struct sim_batch *b)
{
    const struct sim_node *asked = &s->nodes[b->asked];
    if (!asked->alive || asked->paused)
        return false;
    if (b->cancel) {
        struct batch_info info;
        return queue_batch_get(s->c.m[b->asked].q, b->id, &info) == 0 &&
               info.state != BATCH_RUNNING; /* cancelled, or done first */
    }
    uint64_t id = batch_of_token(s, b->asked, b->token);
    if (id != 0 && id != b->id)
        sim_fail(s, "client batch %zu was answered id %llu, first applied as %llu", k,
                 (unsigned long long)id, (unsigned long long)b->id);
    return id != 0;
}

/* The operator: now and then a server is drained or undrained (the
 * queue's replicated flag: the leader gives a drained server no lease). */
static void operator_step(struct sim *s, bool faults)
{
    struct sim_rng *r = &s->rng;
    if (faults && sim_rng_permille(r, 1)) {
        unsigned j = (unsigned)sim_rng_below(r, s->n);
        s->drains[j] = (struct sim_drain){!s->drains[j].want, false, 0, sim_now(s)};
    }
    for (unsigned j = 0; j < s->n; j++) {
        struct sim_drain *d = &s->drains[j];
        const struct sim_node *asked = &s->nodes[d->asked];
        if (!d->acked && d->next_try_ms != 0 && asked->alive && !asked->paused &&
            queue_node_drained(s->c.m[d->asked].q, j + 1) == d->want)
            d->acked = true;
        if (d->acked || d->next_try_ms == 0 || sim_now(s) < d->next_try_ms)
            continue;
        d->next_try_ms = sim_now(s) + RETRY_MIN_MS + sim_rng_below(r, RETRY_SPREAD_MS);
        d->asked = (unsigned)sim_rng_below(r, s->n);
        s->stats.drains++;
        struct sim_node *nd = &s->nodes[d->asked];
        if (!nd->alive || nd->paused)
            continue;
        if (nd->lead != NULL) {
            sim_lead_on_drain(s, d->asked, j, d->want);
        } else if (nd->known_leader != 0 && nd->known_leader - 1 != d->asked) {
            struct sim_msg *m = sim_msg_new(SIM_DRAIN, d->asked, nd->known_leader - 1);
            m->lo = j;
            m->done = d->want;
            sim_send(s, m);
        }
    }
}

void sim_clients_undrain(struct sim *s)
{
    for (unsigned j = 0; j < s->n; j++)
        if (s->drains[j].want)
            s->drains[j] = (struct sim_drain){false, false, 0, sim_now(s)};
}

void sim_clients_step(struct sim *s, bool faults)
{
    struct sim_rng *r = &s->rng;
    operator_step(s, faults);
    if (faults && s->n_batches < SIM_MAX_BATCHES &&
        (s->n_batches == 0 || sim_rng_permille(r, 4)))
        new_batch(s);
    for (size_t k = 0; k < s->n_batches; k++) {
        struct sim_batch *b = &s->batches[k];
        if (!b->acked && answered(s, k, b)) {
            b->acked = true;
        } else if (faults && b->acked && !b->cancel && sim_rng_below(r, 40000) < 3) {
            b->cancel = true; /* about one batch in five, over 3000 steps */
            b->acked = false;
            b->next_try_ms = sim_now(s);
        }
        if (b->acked || sim_now(s) < b->next_try_ms)
            continue;
        b->next_try_ms = sim_now(s) + RETRY_MIN_MS + sim_rng_below(r, RETRY_SPREAD_MS);
        b->asked = (unsigned)sim_rng_below(r, s->n);
        s->stats.submits++;
        if (s->nodes[b->asked].alive && !s->nodes[b->asked].paused)
            node_on_write(s, b->asked, k, b->cancel);
    }
}
