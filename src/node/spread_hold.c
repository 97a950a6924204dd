/* spread_hold.c - see spread_hold.h. */
#include <gmp.h>
#include <stdlib.h>
#include <string.h>

#include "node.h" /* first: declares struct net for net.h */
#include "spread_hold.h"
#include "batch.h"
#include "consensus.h"
#include "event_log.h"
#include "grow.h"
#include "net.h"
#include "peers.h"
#include "queue.h"
#include "siqs_coord.h"
#include "spread_cofactor_hold.h"
#include "spread_rule.h"

/* When a routed SUBMIT has not shown up in the log after this long, the
 * number is released to one worker (the proposal was lost). */
enum { ROUTE_PROPOSAL_MS = 30000 };

static struct node_route *route_of(struct node *n)
{
    if (n->route == NULL)
        n->route = calloc(1, sizeof *n->route);
    return n->route;
}

void node_route_free(struct node *n)
{
    if (n->route == NULL)
        return;
    free(n->route->links);
    free(n->route->scanned);
    free(n->route);
    n->route = NULL;
    node_cofactor_free(n);
}

struct route_link *node_route_link(struct node *n, uint64_t parent, uint64_t index, bool add)
{
    struct node_route *r = route_of(n);
    if (r == NULL)
        return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->links[i].parent == parent && r->links[i].index == index)
            return &r->links[i];
    if (!add || !grow_array((void **)&r->links, &r->cap, r->n + 1, sizeof *r->links))
        return NULL;
    r->links[r->n] = (struct route_link){.parent = parent, .index = index,
                                         .since_ms = uv_now(&n->loop)};
    return &r->links[r->n++];
}

/* The mesh's workers that take work now: the members' (raft's own list:
 * a peer's gossip may not yet say it is one). */
static unsigned mesh_workers(const struct node *n)
{
    unsigned w = n->pool == NULL || queue_node_drained(n->queue, n->keys.node_id)
                 ? 0 : worker_pool_size(n->pool);
    for (size_t i = 0; n->net != NULL && i < net_peer_count(n->net); i++) {
        const struct net_peer *p = net_peer_at(n->net, i);
        if (p->connected && consensus_is_member(n->cons, p->id) && !p->stats.draining &&
            !queue_node_drained(n->queue, p->id))
            w += p->workers ? p->workers : 1;
    }
    return w;
}

/* Number #i of a batch when it may be hard, into buf; false otherwise. A
 * list's numbers are judged by their length before they are copied. */
static bool candidate(const struct batch_spec *spec, uint64_t i, char *buf, size_t len)
{
    if (spec->kind == BATCH_LIST) {
        uint64_t end = i + 1 < spec->count ? spec->offsets[i + 1] : spec->list_len;
        if (!spread_rule_long_enough(end - spec->offsets[i] - 1))
            return false;
    }
    return batch_number(spec, i, buf, len) == 0 && spread_rule_long_enough(strlen(buf));
}

static void proposed(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    (void)ud, (void)rc, (void)index, (void)batch_id, (void)err; /* the tick reads the log */
}

/* Proposes the spread batch of number `num`, index `index` of `parent`. */
static void propose_route(struct node *n, const struct batch_info *parent, uint64_t index,
                          const char *num)
{
    struct route_link *l = node_route_link(n, parent->id, index, true);
    if (l == NULL)
        return;
    struct qcmd cmd = {.type = QCMD_SUBMIT, .token = spread_link_token(parent->id, index),
                       .batch_id = consensus_next_batch_id(n->cons, n->queue)};
    char err[256];
    mpz_t v;
    mpz_init_set_str(v, num, 10);
    uint32_t width;
    uint64_t ranges;
    siqs_coord_plan(v, &width, &ranges);
    size_t bits = mpz_sizeinbase(v, 2);
    mpz_clear(v);
    spread_link_name(cmd.name, parent->id, index);
    int rc = batch_spread_init(&cmd.spec, num, width, ranges, err, sizeof err);
    cmd.spec.budget_ms = parent->spec->budget_ms; /* each range job's, and N's if it comes
                                                     to one worker */
    if (rc != 0 || consensus_propose(n->cons, &cmd, proposed, NULL, err, sizeof err) != 0) {
        l->released = true;
        mlog(&n->log, LOG_WARN, "batch %llu #%llu not routed: %s",
             (unsigned long long)parent->id, (unsigned long long)index, err);
    } else {
        node_event(n, MESH_EV_BATCH, "batch %llu #%llu (%zu bits) goes to the whole mesh",
                   (unsigned long long)parent->id, (unsigned long long)index,
                   bits);
    }
    qcmd_free(&cmd);
}

/* The links the log already has for batch `parent` (a new leader's). */
static void adopt_children(struct node *n, uint64_t parent)
{
    size_t count = queue_batch_count(n->queue);
    for (size_t i = 0; i < count; i++) {
        struct batch_info c;
        uint64_t p, index;
        if (queue_batch_at(n->queue, i, &c) == 0 && c.spec->kind == BATCH_SPREAD &&
            spread_link_parse(c.name, &p, &index) == 0 && p == parent) {
            struct route_link *l = node_route_link(n, p, index, true);
            if (l != NULL && (l->child == 0 || c.id < l->child))
                l->child = c.id; /* the first made is the one */
        }
    }
}

/* Whether a batch's numbers are worth reading one by one: a semiprimes
 * batch is judged by its size and count alone (making each number costs
 * ms), a long range or generator is not read at all (a list's lengths are
 * read without making its numbers). */
static bool worth_reading(const struct batch_spec *spec, uint64_t total, unsigned workers)
{
    switch (spec->kind) {
    case BATCH_LIST:
        return true;
    case BATCH_SEMIPRIMES:
        return spec->bits >= SPREAD_ROUTE_MIN_BITS && spec->bits <= BATCH_SPREAD_MAX_BITS &&
               total < workers;
    case BATCH_RANGE:
        return total <= SPREAD_ROUTE_SCAN_MAX;
    default:
        return false;
    }
}

/* First look at a running batch in this leadership: adopt its links, then
 * route its hard numbers that have none if the rule says so. The scan
 * stops once the hard numbers are as many as the workers (the rule's no). */
static void scan(struct node *n, const struct batch_info *info)
{
    adopt_children(n, info->id);
    unsigned workers = mesh_workers(n);
    uint64_t budget = batch_budget_resolve(info->spec->budget_ms, n->number_budget_ms);
    if (!spread_rule_budget_allows(budget) || !worth_reading(info->spec, info->total, workers))
        return;
    uint64_t *hard = NULL, n_hard = 0;
    size_t cap = 0;
    char num[MESH_MAX_DIGITS + 2];
    for (uint64_t i = 0; i < info->total && n_hard < workers; i++)
        if (candidate(info->spec, i, num, sizeof num) && !queue_is_done(n->queue, info->id, i) &&
            spread_rule_hard(num) && grow_array((void **)&hard, &cap, n_hard + 1, sizeof *hard))
            hard[n_hard++] = i;
    if (spread_rule_route(n_hard, workers))
        for (uint64_t k = 0; k < n_hard; k++)
            if (node_route_link(n, info->id, hard[k], false) == NULL &&
                batch_number(info->spec, hard[k], num, sizeof num) == 0)
                propose_route(n, info, hard[k], num);
    free(hard);
}

/* Links and scans of batches no longer running go (the tick's), but not
 * a link whose spread batch still runs: its cancel is paced by the link. */
void node_route_prune(struct node *n)
{
    struct node_route *r = n->route;
    if (r == NULL)
        return;
    struct batch_info info;
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++) {
        const struct route_link *l = &r->links[i];
        bool parent = queue_batch_get(n->queue, l->parent, &info) == 0 &&
                      info.state == BATCH_RUNNING;
        bool child = l->child != 0 && queue_batch_get(n->queue, l->child, &info) == 0 &&
                     info.state == BATCH_RUNNING; /* its cancel is still to come */
        if (parent || child)
            r->links[kept++] = r->links[i];
    }
    r->n = kept;
    kept = 0;
    for (size_t i = 0; i < r->n_scanned; i++)
        if (queue_batch_get(n->queue, r->scanned[i], &info) == 0 && info.state == BATCH_RUNNING)
            r->scanned[kept++] = r->scanned[i];
    r->n_scanned = kept;
}

static bool scanned(struct node *n, struct node_route *r, uint64_t batch)
{
    for (size_t i = 0; i < r->n_scanned; i++)
        if (r->scanned[i] == batch)
            return true;
    struct batch_info info;
    if (queue_batch_get(n->queue, batch, &info) != 0 || info.state != BATCH_RUNNING ||
        !grow_array((void **)&r->scanned, &r->cap_scanned, r->n_scanned + 1, sizeof *r->scanned))
        return false;
    r->scanned[r->n_scanned++] = batch;
    scan(n, &info);
    return true;
}

/* A link holds its number while its spread batch runs or has the factors
 * not yet handed over; a proposal, while it may still commit. A spread
 * batch forgotten meanwhile (retention) holds nothing. */
static bool holds(const struct node *n, const struct route_link *l)
{
    struct batch_info c;
    if (l->released)
        return false;
    if (l->child == 0)
        return uv_now((uv_loop_t *)&n->loop) - l->since_ms < ROUTE_PROPOSAL_MS;
    return queue_batch_get(n->queue, l->child, &c) == 0 && c.state != BATCH_CANCELLED;
}

uint64_t node_route_held(void *node, uint64_t batch, uint64_t from)
{
    struct node *n = node;
    struct node_route *r = route_of(n);
    uint64_t first = node_cofactor_held(n, batch, from); /* a spread batch's N */
    if (r == NULL || !scanned(n, r, batch))
        return first;
    for (size_t i = 0; i < n->route->n; i++) {
        const struct route_link *l = &n->route->links[i];
        if (l->parent == batch && l->index >= from && l->index < first && holds(n, l))
            first = l->index;
    }
    return first;
}
