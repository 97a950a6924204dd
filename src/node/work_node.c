/* work_node.c - work.c (this node's side of the work plane) in the node:
 * its struct work_io answered by the node's clock (uv), replica, links
 * (peers.h), consensus and worker pool, the pool's callbacks and the
 * node's rows (routes.c) handed to it. What a node does with a lease is
 * all work.c's; nothing here but the wiring. */
#include "work_node.h"

#include <stdlib.h>

#include "consensus.h"
#include "dispatch.h"
#include "node.h"
#include "peers.h"
#include "work.h"

static uint64_t io_now(void *ud)
{
    return uv_now(&((struct node *)ud)->loop);
}

static struct queue *io_queue(void *ud)
{
    return ((struct node *)ud)->queue;
}

static uint64_t io_leader(void *ud)
{
    return node_leader_id(ud);
}

static uint64_t io_known_leader(void *ud)
{
    return ((struct node *)ud)->known_leader;
}

static uint64_t io_applied(void *ud)
{
    return consensus_applied(((struct node *)ud)->cons);
}

static bool io_is_member(void *ud, uint64_t id)
{
    return consensus_is_member(((struct node *)ud)->cons, id);
}

static bool io_stopping(void *ud)
{
    return ((struct node *)ud)->stopping;
}

static int io_send(void *ud, uint64_t peer, uint8_t type, const uint8_t *data, size_t len)
{
    return node_send(ud, peer, type, data, len);
}

static void io_own_results(void *ud, uint64_t batch, const struct msg_result *items,
                           size_t count)
{
    dispatch_own_results(ud, batch, items, count);
}

static void io_own_lease_end(void *ud, const struct msg_lease_end *e)
{
    dispatch_own_lease_end(ud, e);
}

static unsigned io_idle_workers(void *ud)
{
    struct node *n = ud;
    return n->pool != NULL ? worker_pool_idle(n->pool) : 0;
}

static bool io_assign(void *ud, const struct sched_job *job)
{
    return worker_pool_assign(((struct node *)ud)->pool, job);
}

static void io_abort_batch(void *ud, uint64_t batch)
{
    worker_pool_abort_batch(((struct node *)ud)->pool, batch);
}

static void io_counted(void *ud, unsigned done, unsigned unfactored)
{
    struct node *n = ud;
    n->stats.done += done;
    n->stats.unfactored += unfactored;
}

static void io_log(void *ud, enum log_level level, const char *text)
{
    mlog(&((struct node *)ud)->log, level, "%s", text);
}

static const struct work_io node_work_io = {
    io_now, io_queue, io_leader, io_known_leader, io_applied, io_is_member, io_stopping,
    io_send, io_own_results, io_own_lease_end, io_idle_workers, io_assign, io_abort_batch,
    io_counted, io_log,
};

int node_work_start(struct node *n)
{
    struct work_config c = {&node_work_io, n, n->keys.node_id, 0};
    const char *drop = getenv("MESH_FAULT_DROP_RESULTS");
    if (drop != NULL)
        c.drop_results = strtoul(drop, NULL, 10);
    n->work = work_new(&c);
    if (n->work == NULL)
        return -1;
    if (drop != NULL)
        mlog(&n->log, LOG_WARN, "fault injection: the next %lu results messages are dropped",
             c.drop_results);
    return 0;
}

void node_work_free(struct node *n)
{
    work_free(n->work);
    n->work = NULL;
}

size_t node_work_outbox(const struct node *n)
{
    return n->work ? work_outbox(n->work) : 0;
}

bool node_work_settled(const struct node *n)
{
    return n->work == NULL || work_settled(n->work);
}

void node_work_flush(struct node *n)
{
    if (n->work != NULL)
        work_flush(n->work);
}

void node_work_on_leader_change(struct node *n)
{
    if (n->work != NULL)
        work_on_leader_change(n->work);
}

void node_work_tick(struct node *n)
{
    if (n->work != NULL)
        work_tick(n->work);
}

/* A lease with no work side (out of memory at start) is dropped: its
 * granter's deadline takes it back. */
void node_work_on_lease(struct node *n, uint64_t from, const struct msg_lease *l)
{
    if (n->work != NULL)
        work_on_lease(n->work, from, l);
}

void node_work_on_lease_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    if (n->work != NULL)
        work_on_lease_msg(n->work, peer, data, len);
}

void node_work_on_applied_entry(struct node *n, const struct consensus_applied *a)
{
    if (n->work != NULL)
        work_on_applied_entry(n->work, a->rc, a->type, a->batch_id);
}

void node_work_dispatch(struct node *n)
{
    if (n->work != NULL)
        work_dispatch(n->work);
}

/* ---- worker pool callbacks --------------------------------------------------- */

static int make_number(void *ud, uint64_t batch_id, uint64_t index, char *buf, size_t len)
{
    struct node *n = ud;
    return n->work != NULL ? work_make_number(n->work, batch_id, index, buf, len) : -1;
}

static void on_result(void *ud, const struct worker_result *r)
{
    struct node *n = ud;
    if (n->work != NULL)
        work_on_result(n->work, r);
}

static void on_job_end(void *ud, const struct sched_job *job, uint64_t next,
                       enum worker_end why)
{
    struct node *n = ud;
    if (n->work != NULL)
        work_on_job_end(n->work, job, next, why);
}

static void on_idle(void *ud)
{
    node_work_dispatch(ud);
}

void node_work_pool_config(struct node *n, struct worker_pool_config *wc)
{
    wc->ud = n;
    wc->make_number = make_number;
    wc->on_result = on_result;
    wc->on_job_end = on_job_end;
    wc->on_idle = on_idle;
}
