/* hard.c - see hard.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h" /* first: declares struct net for net.h */
#include "hard.h"
#include "net.h"
#include "peers.h"
#include "progress.h"
#include "spread_progress.h"
#include "view.h"

static void own_entries(const struct node *n, struct msg_progress *m)
{
    struct worker_progress wp[MESH_MSG_MAX_HARD];
    size_t count = worker_pool_progress(n->pool, wp, MESH_MSG_MAX_HARD);
    m->n = 0;
    for (size_t i = 0; i < count; i++) {
        const struct factor_progress_record *r = &wp[i].rec;
        m->hard[m->n++] = (struct msg_hard){
            .batch = wp[i].batch_id, .index = wp[i].index,
            .worker = wp[i].worker > 65535 ? 65535 : wp[i].worker,
            .phase = (uint8_t)r->p.phase, .bits = r->p.bits, .b1 = r->p.b1,
            .found = r->p.found, .needed = r->p.needed, .rate_milli = r->rate_milli,
            .eta_known = r->eta_known, .eta_s = r->eta_s};
    }
    m->n += spread_progress_rows(n, m->hard + m->n, MESH_MSG_MAX_HARD - m->n);
}

void node_hard_tick(struct node *n)
{
    if (n->net == NULL || n->pool == NULL)
        return;
    struct msg_progress *mine = malloc(sizeof *mine);
    if (mine == NULL)
        return;
    own_entries(n, mine);
    if (mine->n == 0 && !n->hard.told_some) {
        free(mine);
        return;
    }
    uint8_t *buf;
    size_t len;
    if (msg_progress_encode(mine, &buf, &len) == 0) {
        for (size_t i = 0; i < net_peer_count(n->net); i++) {
            const struct net_peer *p = net_peer_at(n->net, i);
            if (p->connected)
                net_send(n->net, p->id, MESH_MSG_PROGRESS, buf, len);
        }
        free(buf);
        n->hard.told_some = mine->n > 0;
    }
    free(mine);
}

void node_hard_on_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_progress *m = malloc(sizeof *m);
    if (m == NULL)
        return;
    if (msg_progress_decode(m, data, len) != 0) {
        free(m);
        return;
    }
    struct node_hard *t = &n->hard;
    size_t kept = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->peers[i].node != peer)
            t->peers[kept++] = t->peers[i];
    t->n = kept;
    uint64_t now = uv_now(&n->loop);
    for (size_t i = 0; i < m->n && t->n < NODE_MAX_HARD; i++)
        t->peers[t->n++] = (struct hard_entry){peer, now, m->hard[i]};
    free(m);
}

static void put(const struct node *n, struct mesh_view *s, uint64_t node,
                const struct msg_hard *h)
{
    char id[17];
    mesh_id_to_hex(node, id);
    if (h->worker == SPREAD_COORD_WORKER) {
        spread_progress_put(n, s, id, h);
        return;
    }
    if (s->n_hard >= VIEW_MAX_HARD)
        return;
    struct view_hard *v = &s->hard[s->n_hard++];
    memcpy(v->node, id, sizeof id);
    v->batch = h->batch;
    v->index = h->index;
    v->worker = h->worker;
    snprintf(v->phase, sizeof v->phase, "%s", factor_phase_name((enum factor_phase)h->phase));
    v->bits = h->bits;
    v->b1 = h->b1;
    v->found = h->found;
    v->needed = h->needed;
    v->rate = (double)h->rate_milli / 1000.0;
    v->eta_known = h->eta_known;
    v->eta_s = h->eta_s;
}

void node_hard_view(const struct node *n, struct mesh_view *s)
{
    struct msg_progress *mine = malloc(sizeof *mine);
    s->n_hard = 0;
    s->n_spread = 0;
    if (mine == NULL)
        return;
    own_entries(n, mine);
    for (size_t i = 0; i < mine->n; i++)
        put(n, s, n->keys.node_id, &mine->hard[i]);
    free(mine);
    uint64_t now = uv_now((uv_loop_t *)&n->loop);
    for (size_t i = 0; i < n->hard.n; i++) {
        const struct hard_entry *e = &n->hard.peers[i];
        if (now - e->heard_ms <= HARD_STALE_MS && node_linked(n, e->node))
            put(n, s, e->node, &e->h);
    }
    spread_progress_nodes(s);
}
