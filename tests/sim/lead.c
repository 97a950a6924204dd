/* lead.c - the leader's half of the work plane: src/node/lead.c itself
 * (linked in), wired to the simulator through its seam (struct lead_io,
 * lead.h) as src/node/lead_node.c wires it to the node: the clock is the
 * fixture's, leases go over the simulator's links (links.c) or to this
 * server's own work side, results are proposed on its raft (cluster.c),
 * peers are the other servers in reach (every one a member, the
 * operator's drain the queue's flag). Here too: the leader's 250 ms tick
 * and a link-down requeue at that tick (the node's tick and peer-down
 * rows), and the clients' and operator's writes. Nodes are named by raft
 * id (server index + 1), as the queue's drained set does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "node/lead.h"
#include "node/lease_table.h"
#include "sim.h"

enum { LEAD_TICK_MS = 250 };

struct sim_lead {
    struct lead *core;
    uint64_t ticked_ms;
};

static struct sim_node *node_of(void *ud)
{
    return ud;
}

static struct queue *queue_of(struct sim *s, unsigned i)
{
    return s->c.m[i].q;
}

/* ---- the seam (struct lead_io) ------------------------------------------------ */

static uint64_t io_now(void *ud)
{
    return sim_now(node_of(ud)->sim);
}

static uint64_t io_applied(void *ud)
{
    struct sim_node *nd = ud;
    return raft_last_applied(raft_fixture_get(&nd->sim->c.f, nd->index));
}

static bool io_is_member(void *ud, uint64_t id)
{
    (void)ud, (void)id;
    return true; /* every server is a voter */
}

static size_t io_in_flight(void *ud)
{
    struct sim_node *nd = ud;
    return nd->sim->c.m[nd->index].in_flight;
}

/* As consensus_propose: stamped with the time, refused off the leader. */
static int io_propose(void *ud, const struct qcmd *cmd, char *err, size_t errlen)
{
    struct sim_node *nd = ud;
    struct qcmd stamped = *cmd;
    stamped.time_ms = sim_now(nd->sim);
    if (cluster_try_propose(&nd->sim->c, nd->index, &stamped) == 0) {
        snprintf(err, errlen, "not the leader");
        return -1;
    }
    nd->sim->stats.entries++;
    return 0;
}

static bool io_stopping(void *ud)
{
    (void)ud;
    return false;
}

static unsigned io_own_workers(void *ud)
{
    return node_of(ud)->workers;
}

/* The other servers, in index order. */
static bool io_peer_at(void *ud, size_t k, struct lead_peer *p)
{
    struct sim_node *nd = ud;
    struct sim *s = nd->sim;
    unsigned j = (unsigned)k + (k >= nd->index);
    if (j >= s->n)
        return false;
    *p = (struct lead_peer){j + 1, sim_reachable(s, nd->index, j), true, false,
                            s->nodes[j].workers};
    return true;
}

static int io_send(void *ud, uint64_t peer, uint8_t type, const uint8_t *data, size_t len)
{
    struct sim_node *nd = ud;
    return sim_send_bytes(nd->sim, nd->index, (unsigned)peer - 1, type, data, len);
}

static void io_own_lease(void *ud, const struct msg_lease *m)
{
    struct sim_node *nd = ud;
    sim_work_on_own_lease(nd->sim, nd->index, m);
}

static void io_refused(void *ud, uint64_t from, uint64_t batch, uint64_t index, const char *why,
                       bool wrong, size_t skipped)
{
    (void)from, (void)batch, (void)index, (void)why, (void)skipped;
    node_of(ud)->sim->stats.lies_refused += wrong;
}

/* lead.c's requeue events, counted by what they say (its texts are
 * read here: a changed text fails --require-scenarios, not a run). */
static void io_event(void *ud, enum mesh_event_kind kind, const char *text)
{
    struct sim *s = node_of(ud)->sim;
    unsigned long long node = 0;
    if (kind != MESH_EV_REQUEUE)
        return;
    if (strstr(text, "not committed") != NULL)
        s->stats.settled_requeued++;
    else if (sscanf(text, "lease of batch %*u [%*u,%*u) on %llx expired", &node) == 1 &&
             node >= 1 && node <= s->n && s->nodes[node - 1].paused)
        s->stats.expired_paused++;
}

static void io_log(void *ud, enum log_level level, const char *text)
{
    (void)ud, (void)level, (void)text;
}

static const struct lead_io sim_lead_io = {
    io_now, io_applied, io_is_member, io_in_flight, io_propose, io_stopping, io_own_workers,
    io_peer_at, io_send, io_own_lease, io_refused, io_event, io_log,
};

/* ---- the node's rows ------------------------------------------------------------ */

void sim_lead_start(struct sim *s, unsigned i)
{
    struct sim_lead *l = calloc(1, sizeof *l);
    CHECK(l != NULL);
    struct lead_config c = {&sim_lead_io, &s->nodes[i], queue_of(s, i), i + 1, 0, s->verifier,
                            NULL, NULL, /* no routing to spread batches */
                            raft_last_index(raft_fixture_get(&s->c.f, i))};
    l->core = lead_new(&c);
    CHECK(l->core != NULL);
    s->nodes[i].lead = l;
}

void sim_lead_stop(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l == NULL)
        return;
    lead_free(l->core);
    free(l);
    s->nodes[i].lead = NULL;
}

size_t sim_lead_leases(const struct sim *s, unsigned i)
{
    size_t count = 0;
    for (const struct lease *x = sim_lead_first(s, i); x != NULL; x = x->next)
        count++;
    return count;
}

const struct lease *sim_lead_first(const struct sim *s, unsigned i)
{
    return s->nodes[i].lead ? lead_first_lease(s->nodes[i].lead->core) : NULL;
}

void sim_lead_on_msg(struct sim *s, unsigned i, const struct sim_msg *m)
{
    struct sim_lead *l = s->nodes[i].lead;
    if (l == NULL)
        return; /* not (or no longer) leader: the sender's outbox keeps them */
    if (m->type == SIM_RESULTS)
        lead_on_results_msg(l->core, m->from + 1, m->data, m->len);
    else if (m->type == SIM_LEASE_END)
        lead_on_lease_end_msg(l->core, m->from + 1, m->data, m->len);
}

void sim_lead_on_own_results(struct sim *s, unsigned i, uint64_t batch,
                             const struct msg_result *items, size_t count)
{
    if (s->nodes[i].lead != NULL)
        lead_on_results(s->nodes[i].lead->core, i + 1, batch, items, count);
}

void sim_lead_on_own_lease_end(struct sim *s, unsigned i, const struct msg_lease_end *e)
{
    if (s->nodes[i].lead != NULL)
        lead_on_lease_end(s->nodes[i].lead->core, i + 1, e);
}

void sim_lead_on_applied(struct sim *s, unsigned i, enum qcmd_type type)
{
    if (s->nodes[i].lead != NULL)
        lead_on_applied(s->nodes[i].lead->core, type);
}

/* The node's 250 ms tick: first the peer-down row for each server whose
 * link went down while it holds leases here (the node hears of a link
 * going down at once; the simulator looks at its tick), then lead_tick. */
void sim_lead_tick(struct sim *s, unsigned i)
{
    struct sim_lead *l = s->nodes[i].lead;
    uint64_t now = sim_now(s);
    if (l == NULL || now - l->ticked_ms < LEAD_TICK_MS)
        return;
    l->ticked_ms = now;
    for (unsigned j = 0; j < s->n; j++) {
        if (j == i || sim_reachable(s, i, j) || lead_leases_of(l->core, j + 1) == 0)
            continue;
        s->stats.requeued_dead += !s->nodes[j].alive;
        lead_on_peer_down(l->core, j + 1);
    }
    lead_tick(l->core);
}

/* Once per step, as the node's loop does once per turn. */
void sim_lead_flush(struct sim *s, unsigned i)
{
    if (s->nodes[i].lead != NULL)
        lead_flush(s->nodes[i].lead->core);
}

/* ---- the clients' writes ------------------------------------------------------------ */

/* The operator's DRAIN of a server (its raft id). */
void sim_lead_on_drain(struct sim *s, unsigned i, unsigned node, bool drained)
{
    struct qcmd cmd = {.type = QCMD_DRAIN, .node_id = node + 1, .drained = drained,
                       .time_ms = sim_now(s)};
    if (cluster_try_propose(&s->c, i, &cmd) != 0)
        s->stats.entries++;
}

/* A client's SUBMIT, with its write token (a resend after a leader change
 * is recognised by the queue as the same batch), or its CANCEL. */
void sim_lead_on_write(struct sim *s, unsigned i, size_t client, bool cancel)
{
    struct sim_batch *b = &s->batches[client];
    struct qcmd cmd = {.type = QCMD_SUBMIT, .spec = b->spec, .token = b->token,
                       .time_ms = sim_now(s)};
    if (cancel)
        cmd = (struct qcmd){.type = QCMD_CANCEL, .batch_id = b->id, .time_ms = sim_now(s)};
    snprintf(cmd.name, sizeof cmd.name, "sim-%zu", client);
    if (cluster_try_propose(&s->c, i, &cmd) != 0)
        s->stats.entries++;
}

