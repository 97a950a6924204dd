/* spread_cofactor_hold.c - see spread_cofactor_hold.h. */
#include <stdlib.h>
#include <string.h>

#include "node.h" /* first: declares struct net for net.h */
#include "spread_cofactor_hold.h"
#include "batch.h"
#include "cofactor_rule.h"
#include "consensus.h"
#include "grow.h"
#include "peers.h"
#include "queue.h"
#include "siqs_coord.h"

/* A proposal not seen in the log is given up after this (N is released
 * to one worker). */
enum { COFACTOR_PROPOSAL_MS = 30000 };

void node_cofactor_free(struct node *n)
{
    if (n->cofactor == NULL)
        return;
    free(n->cofactor->links);
    free(n->cofactor);
    n->cofactor = NULL;
}

struct cofactor_link *node_cofactor_link(struct node *n, uint64_t batch, bool add)
{
    if (n->cofactor == NULL && (!add || (n->cofactor = calloc(1, sizeof *n->cofactor)) == NULL))
        return NULL;
    struct node_cofactor *c = n->cofactor;
    for (size_t i = 0; i < c->n; i++)
        if (c->links[i].batch == batch)
            return &c->links[i];
    if (!add || !grow_array((void **)&c->links, &c->cap, c->n + 1, sizeof *c->links))
        return NULL;
    c->links[c->n] = (struct cofactor_link){.batch = batch, .since_ms = uv_now(&n->loop)};
    return &c->links[c->n++];
}

/* The first "cofactor:B" batch the log has (the one: a later one is
 * cancelled by the tick), or 0. */
static uint64_t child_in_log(const struct node *n, uint64_t batch)
{
    uint64_t first = 0;
    size_t count = queue_batch_count(n->queue);
    for (size_t i = 0; i < count; i++) {
        struct batch_info c;
        uint64_t b;
        if (queue_batch_at(n->queue, i, &c) == 0 && c.spec->kind == BATCH_SPREAD &&
            cofactor_link_parse(c.name, &b) == 0 && b == batch && (first == 0 || c.id < first))
            first = c.id;
    }
    return first;
}

static void proposed(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    (void)ud, (void)rc, (void)index, (void)batch_id, (void)err; /* the tick reads the log */
}

bool spread_cofactor_propose(struct node *n, uint64_t batch, const mpz_t number,
                             const mpz_t factor, uint64_t budget_ms)
{
    struct cofactor_link *l = node_cofactor_link(n, batch, true);
    if (l == NULL)
        return false;
    if (l->child != 0 || (l->child = child_in_log(n, batch)) != 0)
        return !l->released;
    mpz_t c;
    mpz_init(c);
    mpz_divexact(c, number, factor);
    char *num = mpz_get_str(NULL, 10, c);
    uint32_t width;
    uint64_t ranges;
    siqs_coord_plan(c, &width, &ranges);
    size_t bits = mpz_sizeinbase(c, 2);
    mpz_clear(c);
    struct qcmd cmd = {.type = QCMD_SUBMIT, .token = cofactor_link_token(batch, factor),
                       .batch_id = consensus_next_batch_id(n->cons, n->queue)};
    char err[256] = "out of memory";
    cofactor_link_name(cmd.name, batch);
    int rc = num == NULL ? -1 : batch_spread_init(&cmd.spec, num, width, ranges, err, sizeof err);
    cmd.spec.budget_ms = budget_ms;
    if (rc != 0 || consensus_propose(n->cons, &cmd, proposed, NULL, err, sizeof err) != 0) {
        l->released = true;
        mlog(&n->log, LOG_WARN, "spread batch %llu: its cofactor not spread: %s",
             (unsigned long long)batch, err);
    } else {
        l->since_ms = uv_now(&n->loop);
        mlog(&n->log, LOG_INFO, "spread batch %llu: its composite cofactor (%zu bits) goes to "
             "the whole mesh", (unsigned long long)batch, bits);
    }
    qcmd_free(&cmd);
    free(num);
    return !l->released;
}

uint64_t node_cofactor_held(struct node *n, uint64_t batch, uint64_t from)
{
    struct batch_info b, c;
    if (queue_batch_get(n->queue, batch, &b) != 0 || b.spec->kind != BATCH_SPREAD ||
        from > b.total - 1)
        return UINT64_MAX;
    /* No link yet (a new leader, before its tick found P again): the log
     * says whether a cofactor batch exists, and N is held from the first
     * lease this leader grants (else a worker took N and factored it
     * alone while the cofactor was still being sieved). */
    struct cofactor_link *l = node_cofactor_link(n, batch, false);
    if (l != NULL && l->released)
        return UINT64_MAX;
    uint64_t child = l != NULL ? l->child : child_in_log(n, batch);
    bool held = l != NULL && child == 0
                    ? uv_now(&n->loop) - l->since_ms < COFACTOR_PROPOSAL_MS
                    : child != 0 && queue_batch_get(n->queue, child, &c) == 0 &&
                          (c.state == BATCH_RUNNING || c.state == BATCH_DONE);
    return held ? b.total - 1 : UINT64_MAX;
}
