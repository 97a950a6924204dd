/* links.c - the work plane's network: leases, lease ends, results and
 * forwarded submits between nodes, each delayed by its sender's latency
 * plus jitter (so messages reorder), lost at the configured rate, dropped
 * when the link is cut or the target dead. Raft's own messages travel in
 * the fixture, cut by the same partitions (faults.c). */
#include <stdlib.h>

#include "check.h"
#include "sim.h"

struct sim_msg *sim_msg_new(enum sim_msg_type type, unsigned from, unsigned to)
{
    struct sim_msg *m = calloc(1, sizeof *m);
    CHECK(m != NULL);
    m->type = type;
    m->from = from;
    m->to = to;
    return m;
}

void sim_msg_free(struct sim_msg *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->items[i].text);
    free(m->items);
    free(m);
}

bool sim_reachable(const struct sim *s, unsigned i, unsigned j)
{
    return s->nodes[i].alive && s->nodes[j].alive && !s->cut[i][j];
}

void sim_send(struct sim *s, struct sim_msg *m)
{
    if (!sim_reachable(s, m->from, m->to) ||
        (m->from != m->to && sim_rng_permille(&s->rng, s->loss_pct * 10))) {
        s->stats.messages_lost++;
        sim_msg_free(m);
        return;
    }
    unsigned base = s->nodes[m->from].latency_ms;
    m->due = sim_now(s) + base + sim_rng_below(&s->rng, base / 2 + 1);
    m->seq = s->msg_seq++;
    struct sim_msg **pp = &s->inflight;
    while (*pp != NULL && ((*pp)->due < m->due || ((*pp)->due == m->due && (*pp)->seq < m->seq)))
        pp = &(*pp)->link;
    m->link = *pp;
    *pp = m;
}

struct sim_msg *sim_next_delivery(struct sim *s)
{
    for (struct sim_msg **pp = &s->inflight; *pp != NULL && (*pp)->due <= sim_now(s);) {
        struct sim_msg *m = *pp;
        if (s->nodes[m->to].paused && s->nodes[m->to].alive) {
            pp = &m->link; /* a stopped process's socket buffers it */
            continue;
        }
        *pp = m->link;
        /* In flight, it outlives its sender; it needs a live target and
         * an uncut link. */
        if (s->nodes[m->to].alive && !s->cut[m->from][m->to])
            return m;
        s->stats.messages_lost++;
        sim_msg_free(m);
    }
    return NULL;
}

bool sim_in_flight(const struct sim *s, enum sim_msg_type type, unsigned from, unsigned to,
                   uint64_t lease)
{
    for (const struct sim_msg *m = s->inflight; m != NULL; m = m->link)
        if (m->type == type && m->from == from && m->to == to && m->lease == lease)
            return true;
    return false;
}

void sim_links_close(struct sim *s)
{
    while (s->inflight != NULL) {
        struct sim_msg *m = s->inflight;
        s->inflight = m->link;
        sim_msg_free(m);
    }
}
