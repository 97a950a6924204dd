/* spread_progress.c - see spread_progress.h. */
#include <gmp.h>
#include <stdio.h>
#include <string.h>

#include "node.h" /* first: declares struct net for net.h */
#include "spread_progress.h"
#include "batch.h"
#include "progress.h"
#include "queue.h"
#include "spread.h"
#include "spread_rule.h"
#include "view.h"

enum { RATE_AFTER_MS = 1000 }; /* a rate over less time says little */

static uint32_t bits_of(const struct batch_spec *spec)
{
    mpz_t v;
    if (mpz_init_set_str(v, spec->start, 10) != 0) {
        mpz_clear(v);
        return 1;
    }
    uint32_t bits = (uint32_t)mpz_sizeinbase(v, 2);
    mpz_clear(v);
    return bits;
}

/* This node's workers on a spread batch's range jobs (N's own index, the
 * last, is a number like any: its worker tells its own progress). */
static size_t sieving(const struct node *n, struct msg_hard *out, size_t max)
{
    struct worker_at at[MESH_MSG_MAX_HARD];
    size_t busy = n->pool ? worker_pool_jobs(n->pool, at, MESH_MSG_MAX_HARD) : 0, k = 0;
    for (size_t i = 0; i < busy && k < max; i++) {
        struct batch_info b;
        if (queue_batch_get(n->queue, at[i].batch_id, &b) != 0 ||
            b.spec->kind != BATCH_SPREAD || at[i].index + 1 >= b.total)
            continue;
        out[k++] = (struct msg_hard){.batch = at[i].batch_id, .index = at[i].index,
                                     .worker = at[i].worker > 65534 ? 65534 : at[i].worker,
                                     .phase = FACTOR_PHASE_SIEVE, .bits = bits_of(b.spec)};
    }
    return k;
}

static size_t coordinating(const struct node *n, struct msg_hard *out, size_t max)
{
    struct spread_count c[VIEW_MAX_SPREAD];
    size_t count = node_spread_counts(n, c, max < VIEW_MAX_SPREAD ? max : VIEW_MAX_SPREAD);
    uint64_t now = uv_now((uv_loop_t *)&n->loop);
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        struct batch_info b;
        if (queue_batch_get(n->queue, c[i].batch, &b) != 0)
            continue;
        struct msg_hard *h = &out[k++];
        *h = (struct msg_hard){.batch = c[i].batch, .index = b.total - 1,
                               .worker = SPREAD_COORD_WORKER, .bits = bits_of(b.spec),
                               .phase = c[i].combining ? FACTOR_PHASE_MATRIX : FACTOR_PHASE_SIEVE,
                               .found = c[i].sets, .needed = c[i].want_sets};
        uint64_t ms = now - c[i].since_ms;
        size_t gained = c[i].sets - c[i].since_sets;
        if (c[i].rate_known && ms >= RATE_AFTER_MS && gained > 0 && !c[i].combining) {
            h->rate_milli = (uint64_t)gained * 1000000 / ms;
            h->eta_known = true;
            h->eta_s = c[i].sets >= c[i].want_sets ? 0
                     : (c[i].want_sets - c[i].sets) * ms / gained / 1000;
        }
    }
    return k;
}

size_t spread_progress_rows(const struct node *n, struct msg_hard *out, size_t max)
{
    size_t k = sieving(n, out, max);
    return k + coordinating(n, out + k, max - k);
}

void spread_progress_put(const struct node *n, struct mesh_view *s, const char *node,
                         const struct msg_hard *h)
{
    if (s->n_spread >= VIEW_MAX_SPREAD)
        return;
    struct view_spread *v = &s->spread[s->n_spread++];
    memset(v, 0, sizeof *v);
    v->batch = h->batch;
    v->index = h->index;
    struct batch_info b;
    uint64_t parent, index;
    if (queue_batch_get(n->queue, h->batch, &b) == 0 &&
        spread_link_parse(b.name, &parent, &index) == 0) {
        v->for_batch = parent;
        v->index = index;
    }
    snprintf(v->node, sizeof v->node, "%s", node);
    snprintf(v->phase, sizeof v->phase, "%s", factor_phase_name((enum factor_phase)h->phase));
    v->bits = h->bits;
    v->found = h->found;
    v->needed = h->needed;
    v->rate = (double)h->rate_milli / 1000.0;
    v->eta_known = h->eta_known;
    v->eta_s = h->eta_s;
}

void spread_progress_nodes(struct mesh_view *s)
{
    for (size_t i = 0; i < s->n_spread; i++) {
        struct view_spread *v = &s->spread[i];
        for (size_t k = 0; k < s->n_hard; k++) {
            const char *id = s->hard[k].node;
            bool known = s->hard[k].batch != v->batch;
            for (unsigned j = 0; j < v->n_nodes && !known; j++)
                known = strcmp(v->nodes[j], id) == 0;
            if (!known && v->n_nodes < VIEW_SPREAD_NODES)
                snprintf(v->nodes[v->n_nodes++], sizeof v->nodes[0], "%s", id);
        }
    }
}
