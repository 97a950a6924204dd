/* lead_node.c - lead.c (the leader's half of the work plane) in the node:
 * its struct lead_io answered by the node's clock (uv), links (peers.h),
 * consensus, worker pool, refusal counts and event log, and the node's
 * rows (routes.c) handed to it while this node leads. What the leader
 * decides is all lead.c's; nothing here but the wiring. */
#include "lead_node.h"

#include "consensus.h"
#include "dispatch.h"
#include "event_log.h"
#include "lead.h"
#include "net.h"
#include "node.h"
#include "peers.h"
#include "refusals.h"
#include "spread_hold.h"

static uint64_t io_now(void *ud)
{
    return uv_now(&((struct node *)ud)->loop);
}

static uint64_t io_applied(void *ud)
{
    return consensus_applied(((struct node *)ud)->cons);
}

static bool io_is_member(void *ud, uint64_t id)
{
    return consensus_is_member(((struct node *)ud)->cons, id);
}

static size_t io_in_flight(void *ud)
{
    return consensus_in_flight(((struct node *)ud)->cons);
}

/* An applied (or refused) COMPLETE frees room in flight: lease again. */
static void on_committed(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    struct node *n = ud;
    (void)index;
    (void)batch_id;
    if (rc == -1)
        mlog(&n->log, LOG_WARN, "results refused: %s", err);
    node_lead_dispatch(n);
}

static int io_propose(void *ud, const struct qcmd *cmd, char *err, size_t errlen)
{
    struct node *n = ud;
    return consensus_propose(n->cons, cmd, on_committed, n, err, errlen);
}

static bool io_stopping(void *ud)
{
    return ((struct node *)ud)->stopping;
}

static unsigned io_own_workers(void *ud)
{
    return worker_pool_size(((struct node *)ud)->pool);
}

static bool io_peer_at(void *ud, size_t i, struct lead_peer *out)
{
    struct node *n = ud;
    if (n->net == NULL || i >= net_peer_count(n->net))
        return false;
    const struct net_peer *p = net_peer_at(n->net, i);
    const struct peer_cluster *pc = node_peer_cluster(n, p->id);
    *out = (struct lead_peer){p->id, p->connected, pc != NULL && pc->member, p->stats.draining,
                              p->workers};
    return true;
}

static int io_send(void *ud, uint64_t peer, uint8_t type, const uint8_t *data, size_t len)
{
    return node_send(ud, peer, type, data, len);
}

static void io_own_lease(void *ud, const struct msg_lease *m)
{
    dispatch_own_lease(ud, m);
}

static void io_refused(void *ud, uint64_t from, uint64_t batch, uint64_t index, const char *why,
                       bool wrong, size_t skipped)
{
    node_refusals_note(ud, from, batch, index, why, wrong);
    if (wrong)
        node_refusals_skip(ud, from, skipped);
}

static void io_event(void *ud, enum mesh_event_kind kind, const char *text)
{
    node_event(ud, kind, "%s", text);
}

static void io_log(void *ud, enum log_level level, const char *text)
{
    mlog(&((struct node *)ud)->log, level, "%s", text);
}

static const struct lead_io node_lead_io = {
    io_now, io_applied, io_is_member, io_in_flight, io_propose, io_stopping, io_own_workers,
    io_peer_at, io_send, io_own_lease, io_refused, io_event, io_log,
};

int node_lead_start(struct node *n)
{
    if (n->lead != NULL)
        return 0;
    struct consensus_status st;
    consensus_status(n->cons, &st);
    struct lead_config c = {&node_lead_io, n, n->queue, n->keys.node_id, n->number_budget_ms,
                            NULL, node_route_held, n, st.last_index};
    n->lead = lead_new(&c);
    return n->lead != NULL ? 0 : -1;
}

void node_lead_stop(struct node *n)
{
    lead_free(n->lead);
    n->lead = NULL;
    node_route_free(n);
}

/* A snapshot replaced the replica: the scheduler must read the new one. */
void node_lead_on_queue_replaced(struct node *n)
{
    if (n->lead == NULL)
        return;
    node_lead_stop(n);
    node_lead_start(n);
}

size_t node_lead_leases_of(const struct node *n, uint64_t node_id)
{
    return n->lead ? lead_leases_of(n->lead, node_id) : 0;
}

void node_lead_dispatch(struct node *n)
{
    if (n->lead != NULL)
        lead_dispatch(n->lead);
}

/* Not (or no longer) leader: the sender's outbox keeps them. */
void node_lead_on_results(struct node *n, uint64_t from, uint64_t batch,
                          const struct msg_result *items, size_t count)
{
    if (n->lead != NULL)
        lead_on_results(n->lead, from, batch, items, count);
}

void node_lead_on_lease_end(struct node *n, uint64_t from, const struct msg_lease_end *e)
{
    if (n->lead != NULL)
        lead_on_lease_end(n->lead, from, e);
}

void node_lead_on_peer_down(struct node *n, uint64_t peer)
{
    if (n->lead != NULL)
        lead_on_peer_down(n->lead, peer);
}

void node_lead_on_results_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    if (n->lead != NULL)
        lead_on_results_msg(n->lead, peer, data, len);
}

void node_lead_on_lease_end_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    if (n->lead != NULL)
        lead_on_lease_end_msg(n->lead, peer, data, len);
}

void node_lead_on_applied(struct node *n, const struct consensus_applied *a)
{
    if (n->lead != NULL)
        lead_on_applied(n->lead, a->type);
}

void node_lead_tick(struct node *n)
{
    if (n->lead != NULL)
        lead_tick(n->lead);
}

void node_lead_flush(struct node *n)
{
    if (n->lead != NULL)
        lead_flush(n->lead);
}

/* The leader-change row (routes.c): a node that became the leader starts
 * leasing, any other stops. */
void node_lead_on_leader_change(struct node *n)
{
    if (n->known_leader != n->keys.node_id) {
        node_lead_stop(n);
        return;
    }
    if (node_lead_start(n) != 0)
        mlog(&n->log, LOG_ERROR, "out of memory starting the leader's scheduler");
}
