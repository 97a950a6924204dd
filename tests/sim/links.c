/* links.c - the work plane's network: leases, lease ends, results and
 * forwarded submits between nodes, each delayed by its sender's latency
 * plus jitter (so messages reorder), lost at the configured rate, dropped
 * when the link is cut or the target dead. Raft's own messages travel in
 * the fixture, cut by the same partitions (faults.c). */
#include <stdlib.h>
#include <string.h>

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
    free(m->data);
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

/* lead.c's and work.c's messages, as encoded for a link; check.c reads
 * the lease a LEASE or LEASE_END names. */
int sim_send_bytes(struct sim *s, unsigned from, unsigned to, uint8_t type, const uint8_t *data,
                   size_t len)
{
    if (!sim_reachable(s, from, to))
        return -1;
    enum sim_msg_type t = type == MESH_MSG_LEASE       ? SIM_LEASE
                          : type == MESH_MSG_LEASE_END ? SIM_LEASE_END
                                                       : SIM_RESULTS;
    CHECK(type == MESH_MSG_LEASE || type == MESH_MSG_LEASE_END || type == MESH_MSG_RESULTS);
    struct sim_msg *m = sim_msg_new(t, from, to);
    m->data = malloc(len ? len : 1);
    CHECK(m->data != NULL);
    memcpy(m->data, data, len);
    m->len = len;
    struct msg_lease l;
    struct msg_lease_end e;
    if (t == SIM_LEASE && msg_lease_decode(&l, data, len) == 0)
        m->lease = l.lease;
    else if (t == SIM_LEASE_END && msg_lease_end_decode(&e, data, len) == 0)
        m->lease = e.lease;
    sim_send(s, m);
    return 0;
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
