/* leave.c - a node leaves the mesh for good (`mesh leave`): drain,
 * wait for started numbers to be committed, hand leadership on, ask the
 * leader to remove this node, then forget the raft state and exit 0. And
 * forced recovery after a lost majority (`mesh recover --force`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "members.h"
#include "dispatch.h"
#include "net.h"
#include "datadir.h"
#include "event_log.h"
#include "peers.h"
#include "work_node.h"
#include "write.h"

/* ---- leaving ---------------------------------------------------------------------- */

static void on_stop_timer(uv_timer_t *t)
{
    struct node *n = t->data;
    dispatch_stop(n);
}

static void stop_soon(struct node *n)
{
    struct members *m = n->members;
    if (m->stop_timer_live)
        return;
    uv_timer_init(&n->loop, &m->stop_timer);
    m->stop_timer.data = n;
    m->stop_timer_live = true;
    /* A moment for the client's reply to leave the socket first. */
    uv_timer_start(&m->stop_timer, on_stop_timer, 200, 0);
}

void members_finish_leave(struct node *n)
{
    struct members *m = n->members;
    if (m->leave_done)
        return;
    m->leave_done = true;
    n->discard_raft_on_exit = true;
    mlog(&n->log, LOG_INFO, "left the mesh: stopping");
    if (m->leave_conn != NULL)
        control_reply(m->leave_conn, json_pack("{s:b, s:s}", "ok", 1, "state", "left"));
    m->leave_conn = NULL;
    stop_soon(n);
}

static void leave_alone(struct node *n, const char *why)
{
    struct members *m = n->members;
    m->leave_done = true;
    mlog(&n->log, LOG_WARN, "leaving: %s; its raft state is kept", why);
    if (m->leave_conn != NULL)
        control_reply(m->leave_conn, json_pack("{s:b, s:s, s:s}", "ok", 1, "state", "stopped",
                                               "note", why));
    m->leave_conn = NULL;
    stop_soon(n);
}

static bool other_voter(const struct node *n, const struct consensus_status *st)
{
    for (size_t i = 0; i < st->n_members; i++)
        if (st->members[i].role == CONSENSUS_VOTER && st->members[i].id != n->keys.node_id &&
            members_healthy(n, st->members[i].id))
            return true;
    return false;
}

/* The leader leaves last: another voter must exist to hand over to. */
static void leader_hand_over(struct node *n, const struct consensus_status *st)
{
    if (other_voter(n, st)) {
        if (consensus_transfer(n->cons, 0) == 0)
            mlog(&n->log, LOG_INFO, "leaving: handing leadership over");
        return;
    }
    const struct consensus_member *cand = members_best_candidate(n, st);
    if (cand != NULL && !consensus_changing(n->cons))
        consensus_assign(n->cons, cand->id, CONSENSUS_VOTER);
    else if (cand == NULL && st->n_members == 1)
        leave_alone(n, "this node is the cluster's only member");
}

void members_leave_step(struct node *n, const struct consensus_status *st)
{
    struct members *m = n->members;
    if (!m->leave_asked || m->leave_done)
        return;
    if (!consensus_is_member(n->cons, n->keys.node_id)) {
        members_finish_leave(n);
        return;
    }
    /* First what this node started must be committed: drained (no new
     * work), workers idle, outbox empty. */
    if (!queue_node_drained(n->queue, n->keys.node_id) || worker_pool_busy(n->pool) > 0 ||
        node_work_outbox(n) > 0)
        return;
    if (st->is_leader) {
        leader_hand_over(n, st);
        return;
    }
    uint64_t now = uv_now(&n->loop);
    if (st->leader_id != 0 && now - m->leave_sent_ms >= LEAVE_RETRY_MS) {
        m->leave_sent_ms = now;
        node_send(n, st->leader_id, MESH_MSG_LEAVE, (const uint8_t *)"", 0);
    }
}

static void on_leave_drained(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct node *n = ud;
    (void)batch_id;
    if (rc != 0 && rc != NODE_WRITE_GONE && n->members->leave_conn != NULL) {
        control_reply_error(n->members->leave_conn, "cannot leave: %s", err);
        n->members->leave_conn = NULL;
        n->members->leave_asked = false;
    }
}

void node_members_leave(struct node *n, struct control_conn *c)
{
    struct members *m = n->members;
    if (m->leave_asked) {
        control_reply_error(c, "already leaving");
        return;
    }
    m->leave_asked = true;
    m->leave_conn = c;
    if (n->cons == NULL || !consensus_is_member(n->cons, n->keys.node_id) || m->estranged) {
        leave_alone(n, "this node is not a member of a cluster");
        return;
    }
    node_event(n, MESH_EV_LEAVE, "%s leaves the mesh (mesh leave): draining first",
               n->cfg->name);
    struct qcmd cmd = {.type = QCMD_DRAIN, .drained = true, .node_id = n->keys.node_id};
    node_write(n, &cmd, on_leave_drained, n, NULL);
}

void node_members_forget(struct node *n, struct control_conn *c)
{
    if (n->members != NULL && n->members->leave_conn == c)
        n->members->leave_conn = NULL; /* the leave goes on; nobody to tell */
}

/* Leader: a member asks to leave. */
void node_members_on_leave(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    (void)data, (void)len; /* the message is empty */
    struct members *m = n->members;
    if (!node_is_leader(n))
        return;
    if (!consensus_is_member(n->cons, peer)) {
        members_send_verdict(n, peer, MSG_MEMBERSHIP_LEFT);
        return;
    }
    if (!members_is_leaving(m, peer) && m->n_leaving < sizeof m->leaving / sizeof m->leaving[0])
        m->leaving[m->n_leaving++] = peer;
    if (consensus_remove(n->cons, peer) == 0)
        node_event(n, MESH_EV_MEMBER, "node %016llx leaves: removing it from the "
                   "configuration", (unsigned long long)peer);
}

/* Leader: a change committed; a node that left hears so. */
void node_members_on_changed(struct node *n, uint64_t id, bool stays)
{
    if (!stays && members_is_leaving(n->members, id))
        members_send_verdict(n, id, MSG_MEMBERSHIP_LEFT);
    node_members_step(n);
}

/* ---- forced recovery ------------------------------------------------------------------ */

/* `mesh recover --force` on a survivor of a lost majority: this node
 * becomes the only voter; the other members stay as standbys (autopilot
 * promotes those that come back). Refused while a quorum exists: there a
 * forced configuration would fork the cluster. */
void node_members_recover(struct node *n, struct control_conn *c)
{
    struct consensus_status *st = malloc(sizeof *st);
    if (st == NULL) {
        control_reply_error(c, "out of memory");
        return;
    }
    consensus_status(n->cons, st);
    unsigned reachable = node_reachable_voters(n, st);
    char dir[DATADIR_PATH_MAX];
    datadir_raft_path(n->cfg->data_dir, dir, sizeof dir);
    if (!st->started || st->n_members == 0)
        control_reply_error(c, "this node is not a member of a cluster: nothing to recover");
    else if (reachable * 2 > st->voters)
        control_reply_error(c, "the cluster has a quorum (%u of %u voters reachable): "
                            "recover is only for a lost majority", reachable, st->voters);
    else if (consensus_request_recovery(dir, n->keys.node_id, st->members, st->n_members) != 0)
        control_reply_error(c, "cannot write the recovery request in %s", dir);
    else {
        node_event(n, MESH_EV_WARNING, "FORCED RECOVERY on %s: %u of %u voters reachable; "
                   "it becomes the only voter", n->cfg->name, reachable, st->voters);
        control_reply(c, json_pack("{s:b, s:s, s:I}", "ok", 1, "state", "recovering",
                                   "members", (json_int_t)st->n_members));
        dispatch_restart(n, false);
    }
    free(st);
}

