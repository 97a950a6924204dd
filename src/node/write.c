/* write.c - writes from any node: through the leader's log.
 *
 * On the leader a write is proposed directly. Elsewhere it is forwarded
 * (MESH_MSG_FORWARD) to the leader, which proposes it and replies with the
 * entry's index; the write is answered only once THIS node's replica has
 * applied that index, so `submit` then `results` on the same node works at
 * once (read-your-writes). Without a leader a write fails at once with the
 * quorum situation: a mesh that cannot commit must say so, not hang.
 *
 * A leader can change after it took a write and before it committed it:
 * the write may be in the log or not, nobody can tell yet. So the write
 * goes again to the next leader (up to WRITE_MAX_SENDS times), and every
 * write is safe to apply twice: results, cancels and drains by nature, a
 * SUBMIT by the write token it carries, a list part by its offset (the
 * queue recognises both). The user sees one batch, never an error that
 * leaves them guessing whether to submit again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "node.h"
#include "write.h"
#include "merge.h"
#include "peers.h"
#include "retain.h"
#include "work_node.h"
#include "consensus.h"
#include "errbuf.h"
#include "net.h"

/* While its leader moves the cluster into another (merge.c), the
 * replica must stop changing: writes are refused, not lost. */
#define MERGING_TEXT "this cluster is merging into another mesh cluster: retry in a few seconds"

enum {
    WRITE_TIMEOUT_MS = 10000,
    /* Forwarded, no answer from that leader this long: sent to it again. */
    WRITE_RESEND_MS = 3000,
    WRITE_MAX_SENDS = 5,        /* leader changes one write may live through */
    /* A command's bytes per log entry: under raft's 1 MiB entry cap AND,
     * forwarded, under the link's 1 MiB frame with the FORWARD header. */
    WRITE_PART_BYTES = 900 * 1024,
};

struct write_op {
    uint64_t req;
    void *tag;                  /* node_write_forget() matches it */
    bool forgotten;             /* the client left: done gets NODE_WRITE_GONE */
    uint8_t *retry;             /* sent: the command, should the leader have moved */
    size_t retry_len;
    unsigned sends;             /* times sent to a leader */
    struct local_write *local;  /* proposed here: the proposal's callback state */
    uint8_t *held;              /* encoded command held while organising */
    size_t held_len;
    uint64_t leader;            /* forwarded to; 0 while proposed locally */
    uint64_t index;             /* committed at; 0 until known */
    uint64_t batch_id;
    uint64_t deadline_ms;
    uint64_t resend_ms;         /* forwarded: no answer by then, send again */
    uint64_t kept_deadline_ms;  /* sent again to the same leader: the old deadline */
    node_write_cb done;
    void *ud;
    struct write_op *next;
};

void node_quorum_text(const struct node *n, char *buf, size_t len)
{
    struct consensus_status st;
    consensus_status(n->cons, &st);
    if (!st.started || st.n_members == 0) {
        snprintf(buf, len, "not in a cluster yet (organising: about %d s after start)", 3);
        return;
    }
    if (consensus_disk_full(n->cons, buf, len))
        return;  /* it hears no leader: it takes no part until there is room */
    unsigned reachable = node_reachable_voters(n, &st);
    if (reachable * 2 > st.voters)
        snprintf(buf, len, "no leader: an election is under way (%u of %u voters reachable); "
                 "retry in a moment", reachable, st.voters);
    else
        snprintf(buf, len, "no quorum: %u of %u voters reachable", reachable, st.voters);
}

/* Leader: a proposal of its own answers from the proposal callback. */
struct local_write {
    struct node *n;
    struct write_op *op;        /* NULL once the write finished otherwise */
};

static void detach_local(struct local_write *lw)
{
    lw->op = NULL;
}

static void finish(struct node *n, struct write_op *op, int rc, const char *err)
{
    for (struct write_op **pp = &n->writes; *pp != NULL; pp = &(*pp)->next)
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    if (op->local != NULL)
        detach_local(op->local); /* its callback may still come: it finds no op */
    if (op->done != NULL)
        op->done(op->ud, op->forgotten ? NODE_WRITE_GONE : rc, op->batch_id, err);
    free(op->held);
    free(op->retry);
    free(op);
}

static struct write_op *add_op(struct node *n, node_write_cb done, void *ud, void *tag)
{
    struct write_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->req = ++n->next_write_req;
    op->done = done;
    op->ud = ud;
    op->tag = tag;
    op->deadline_ms = uv_now(&n->loop) + WRITE_TIMEOUT_MS;
    op->next = n->writes;
    n->writes = op;
    return op;
}

/* A member without a leader waits (up to WRITE_TIMEOUT_MS) when one is
 * coming: right after start (restarted with state, the first election
 * running), or while a quorum of voters is reachable (an election is under
 * way). Without a reachable quorum no leader can come: fail at once. */
static bool op_may_wait(const struct node *n)
{
    struct consensus_status st;
    consensus_status(n->cons, &st);
    if (!n->seen_leader && uv_now((uv_loop_t *)&n->loop) - n->started_ms < WRITE_TIMEOUT_MS)
        return true;
    return st.voters > 0 && node_reachable_voters(n, &st) * 2 > st.voters;
}

/* The leader that took the write lost its leadership before committing it:
 * hold the write for the next leader, unless it has been sent enough. */
static bool send_again(struct node *n, struct write_op *op)
{
    if (op->retry == NULL || op->sends >= WRITE_MAX_SENDS)
        return false;
    op->held = op->retry;
    op->held_len = op->retry_len;
    op->retry = NULL;
    op->leader = 0;
    op->index = 0;
    op->deadline_ms = uv_now(&n->loop) + WRITE_TIMEOUT_MS;
    return true;
}

static void local_done(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    struct local_write *lw = ud;
    struct node *n = lw->n;
    struct write_op *op = lw->op;
    free(lw);
    (void)index;
    if (op == NULL)
        return;
    op->local = NULL;
    if (rc == -2 && send_again(n, op)) /* not committed: leadership lost */
        return;
    op->batch_id = batch_id;
    finish(n, op, rc == 0 ? 0 : -1, err);
}

/* The encoded command, kept until the write is answered, in case it must
 * go to another leader; counts the send. */
static bool keep_for_resend(struct write_op *op, const struct qcmd *cmd)
{
    op->sends++;
    return op->retry != NULL || qcmd_encode(cmd, &op->retry, &op->retry_len) == 0;
}

/* New work is refused while running batches alone fill the results
 * budget (retain.c); everything else (results, cancels, forgets)
 * still goes in, so the user can make room. */
static bool refused_for_space(const struct node *n, const struct qcmd *cmd, char *err,
                              size_t errlen)
{
    return (cmd->type == QCMD_SUBMIT || cmd->type == QCMD_LIST_PART) &&
           node_retain_full(n, err, errlen);
}

static void propose_here(struct node *n, struct write_op *op, const struct qcmd *cmd)
{
    char err[256];
    struct local_write *lw = malloc(sizeof *lw);
    if (lw == NULL) {
        finish(n, op, -1, "out of memory");
        return;
    }
    *lw = (struct local_write){n, op};
    if (node_merge_active(n)) {
        free(lw);
        finish(n, op, -1, MERGING_TEXT);
        return;
    }
    if (!keep_for_resend(op, cmd)) {
        free(lw);
        finish(n, op, -1, "out of memory");
        return;
    }
    if (refused_for_space(n, cmd, err, sizeof err)) {
        free(lw);
        finish(n, op, -1, err);
        return;
    }
    op->leader = n->keys.node_id;
    op->deadline_ms = UINT64_MAX; /* the proposal callback always comes */
    if (consensus_propose(n->cons, cmd, local_done, lw, err, sizeof err) != 0) {
        free(lw);
        finish(n, op, -1, err);
        return;
    }
    op->local = lw;
}

static void forward(struct node *n, struct write_op *op, const struct qcmd *cmd,
                    uint64_t leader)
{
    uint8_t *buf;
    size_t len;
    if (msg_forward_encode(op->req, cmd, &buf, &len) != 0 || !keep_for_resend(op, cmd)) {
        free(buf);
        finish(n, op, -1, "command too large to forward");
        return;
    }
    op->leader = leader;
    op->resend_ms = uv_now(&n->loop) + WRITE_RESEND_MS;
    int rc = node_send(n, leader, MESH_MSG_FORWARD, buf, len);
    free(buf);
    if (rc != 0) {
        char text[128];
        node_quorum_text(n, text, sizeof text);
        finish(n, op, -1, text);
    }
}

/* A node that is not yet in a cluster (the first seconds after start)
 * holds writes until it is, rather than refusing them: a user who starts a
 * node and submits at once expects the batch to run, not an error. */
static bool organising(const struct node *n)
{
    return !consensus_is_member(n->cons, n->keys.node_id);
}

/* A leader cut off from its voters still leads until its election timeout
 * runs out; a write proposed then would only fail later, "leadership lost".
 * Say at once what the user can act on. */
static bool quorum_out_of_reach(const struct node *n)
{
    struct consensus_status *st = malloc(sizeof *st);
    if (st == NULL)
        return false;
    consensus_status(n->cons, st);
    bool out = st->voters > 0 && node_reachable_voters(n, st) * 2 <= st->voters;
    free(st);
    return out;
}

static void send_write(struct node *n, struct write_op *op, const struct qcmd *cmd)
{
    uint64_t leader = node_leader_id(n);
    if (node_is_leader(n) && quorum_out_of_reach(n)) {
        char text[128];
        node_quorum_text(n, text, sizeof text);
        finish(n, op, -1, text);
    } else if (node_is_leader(n)) {
        propose_here(n, op, cmd);
    } else if (leader != 0) {
        forward(n, op, cmd, leader);
    } else {
        char text[128];
        node_quorum_text(n, text, sizeof text);
        finish(n, op, -1, text);
    }
}

static void hold(struct node *n, struct write_op *op, const struct qcmd *cmd)
{
    if (qcmd_encode(cmd, &op->held, &op->held_len) != 0)
        finish(n, op, -1, "out of memory");
}

/* A held write goes out once this node belongs to a cluster with a leader. */
static void release_held(struct node *n, struct write_op *op)
{
    struct qcmd cmd;
    uint8_t *held = op->held;
    op->held = NULL;
    if (qcmd_decode(held, op->held_len, &cmd) != 0) {
        free(held);
        finish(n, op, -1, "held command could not be decoded");
        return;
    }
    free(held);
    op->deadline_ms = op->kept_deadline_ms ? op->kept_deadline_ms
                                           : uv_now(&n->loop) + WRITE_TIMEOUT_MS;
    op->kept_deadline_ms = 0;
    send_write(n, op, &cmd);
    qcmd_free(&cmd);
}

/* ---- big lists: several entries, one batch ------------------------------------ */

/* A list too big for one entry goes as LIST_PART entries and a final
 * SUBMIT naming the upload; the batch exists (and gets its id) only when
 * the final one applies, so nobody ever sees half a list. Parts go one at
 * a time: the log keeps their order, and a failed part stops the rest. */
struct chain {
    struct node *n;
    struct qcmd *cmds;
    size_t count, next;
    node_write_cb done;
    void *ud, *tag;
};

static void write_one(struct node *n, const struct qcmd *cmd, node_write_cb done, void *ud,
                      void *tag);

static void chain_free(struct chain *ch)
{
    for (size_t i = 0; i < ch->count; i++)
        qcmd_free(&ch->cmds[i]);
    free(ch->cmds);
    free(ch);
}

static void chain_step(void *ud, int rc, uint64_t batch_id, const char *err)
{
    struct chain *ch = ud;
    if (rc != 0 || ch->next == ch->count) {
        ch->done(ch->ud, rc, batch_id, err);
        chain_free(ch);
        return;
    }
    size_t i = ch->next++;
    write_one(ch->n, &ch->cmds[i], chain_step, ch, ch->tag);
}

static bool needs_parts(const struct qcmd *cmd)
{
    return cmd->type == QCMD_SUBMIT && cmd->spec.kind == BATCH_LIST &&
           cmd->spec.list_len > WRITE_PART_BYTES;
}

static void write_in_parts(struct node *n, const struct qcmd *cmd, node_write_cb done,
                           void *ud, void *tag)
{
    struct chain *ch = calloc(1, sizeof *ch);
    uint64_t upload_id = 0;
    while (upload_id == 0)
        randombytes_buf(&upload_id, sizeof upload_id);
    if (ch == NULL || qcmd_split(cmd, WRITE_PART_BYTES, upload_id, &ch->cmds, &ch->count) != 0) {
        free(ch);
        done(ud, -1, 0, "cannot split the list into log entries (out of memory?)");
        return;
    }
    *ch = (struct chain){n, ch->cmds, ch->count, 0, done, ud, tag};
    chain_step(ch, 0, 0, "");
}

void node_write(struct node *n, const struct qcmd *cmd, node_write_cb done, void *ud,
                void *tag)
{
    struct qcmd tokened = *cmd; /* shares cmd's buffers: never freed */
    if (cmd->type == QCMD_SUBMIT && !cmd->import && cmd->token == 0)
        while (tokened.token == 0)
            randombytes_buf(&tokened.token, sizeof tokened.token);
    if (needs_parts(&tokened))
        write_in_parts(n, &tokened, done, ud, tag);
    else
        write_one(n, &tokened, done, ud, tag);
}

static void write_one(struct node *n, const struct qcmd *cmd, node_write_cb done, void *ud,
                      void *tag)
{
    struct write_op *op = add_op(n, done, ud, tag);
    if (op == NULL) {
        done(ud, -1, 0, "out of memory");
        return;
    }
    if (organising(n) || (node_leader_id(n) == 0 && op_may_wait(n)))
        hold(n, op, cmd);
    else
        send_write(n, op, cmd);
}

/* Detaches every waiting write that answers to ud (a client went away). */
void node_write_forget(struct node *n, void *tag)
{
    for (struct write_op *op = n->writes; op != NULL; op = op->next)
        if (op->tag == tag)
            op->forgotten = true;
}

/* ---- the leader's side of a forwarded write --------------------------------------- */

struct remote_write {
    struct node *n;
    uint64_t peer, req;
};

static void reply(struct node *n, uint64_t peer, const struct msg_reply *m)
{
    uint8_t *buf;
    size_t len;
    if (n->drop_replies > 0) {
        n->drop_replies--;
        mlog(&n->log, LOG_WARN, "fault injection: the reply to write %llu dropped",
             (unsigned long long)m->req);
        return;
    }
    if (msg_reply_encode(m, &buf, &len) == 0) {
        node_send(n, peer, MESH_MSG_REPLY, buf, len);
        free(buf);
    }
}

static void remote_done(void *ud, int rc, uint64_t index, uint64_t batch_id, const char *err)
{
    struct remote_write *rw = ud;
    struct msg_reply m = {rw->req, (uint8_t)(rc == 0 ? MSG_REPLY_OK : rc == -1 ? MSG_REPLY_REFUSED
                                                                  : MSG_REPLY_FAILED),
                          index, batch_id, ""};
    snprintf(m.err, sizeof m.err, "%s", err ? err : "");
    reply(rw->n, rw->peer, &m);
    free(rw);
}

void node_write_on_forward(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    uint64_t req;
    struct qcmd cmd;
    if (msg_forward_decode(&req, &cmd, data, len) != 0)
        return; /* malformed: the sender times out */
    struct msg_reply m = {req, MSG_REPLY_NOT_LEADER, 0, 0, "not the leader"};
    struct remote_write *rw = malloc(sizeof *rw);
    if (!node_is_leader(n) || rw == NULL) {
        if (rw == NULL)
            snprintf(m.err, sizeof m.err, "out of memory (on the leader)");
        reply(n, peer, &m);
        free(rw);
        qcmd_free(&cmd);
        return;
    }
    *rw = (struct remote_write){n, peer, req};
    if (node_merge_active(n)) {
        m.rc = MSG_REPLY_REFUSED;
        snprintf(m.err, sizeof m.err, "%s", MERGING_TEXT);
        reply(n, peer, &m);
        free(rw);
        qcmd_free(&cmd);
        return;
    }
    if (refused_for_space(n, &cmd, m.err, sizeof m.err)) {
        m.rc = MSG_REPLY_REFUSED;
        reply(n, peer, &m);
        free(rw);
    } else if (consensus_propose(n->cons, &cmd, remote_done, rw, m.err, sizeof m.err) != 0) {
        m.rc = MSG_REPLY_FAILED;
        reply(n, peer, &m);
        free(rw);
    }
    qcmd_free(&cmd);
}

void node_write_on_reply(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct msg_reply m;
    if (msg_reply_decode(&m, data, len) != 0)
        return;
    for (struct write_op *op = n->writes; op != NULL; op = op->next) {
        if (op->req != m.req || op->leader != peer)
            continue;
        if (m.rc == MSG_REPLY_NOT_LEADER && op->retry != NULL) {
            /* Nothing was proposed: hold it until the new leader is known. */
            op->sends--;
            send_again(n, op);
        } else if (m.rc == MSG_REPLY_FAILED && send_again(n, op)) {
            /* proposed, then leadership lost: maybe in the log, maybe not */
        } else if (m.rc != 0) {
            finish(n, op, -1, m.err);
        } else {
            op->index = m.index;
            op->batch_id = m.batch;
            node_write_progress(n);
        }
        return;
    }
}

void node_write_start(struct node *n)
{
    const char *drop = getenv("MESH_FAULT_DROP_REPLIES");
    if (drop == NULL)
        return;
    n->drop_replies = strtoul(drop, NULL, 10);
    mlog(&n->log, LOG_WARN, "fault injection: the next %lu write replies are dropped",
         n->drop_replies);
}

/* Forwarded, and no answer from that same leader for WRITE_RESEND_MS: the
 * FORWARD or its REPLY was lost with a link (a link that one side had
 * already closed as a duplicate while the other still sent on it: the
 * write committed and its submitter was told "no answer"). It goes to the
 * same leader again, within its first deadline: every write is safe to
 * apply twice (the top of this file). */
static bool resend_unanswered(struct node *n, struct write_op *op, uint64_t now)
{
    if (op->index != 0 || now < op->resend_ms)
        return false;
    uint64_t deadline = op->deadline_ms;
    if (!send_again(n, op))
        return false;
    op->kept_deadline_ms = deadline;
    mlog(&n->log, LOG_INFO, "write %llu: no answer from the leader in %d s, sent again",
         (unsigned long long)op->req, WRITE_RESEND_MS / 1000);
    return true;
}

/* Answers forwarded writes this replica has caught up with; fails those
 * whose leader went away or that waited too long. */
void node_write_progress(struct node *n)
{
    /* Runs on every applied entry: nothing to do (the common case) costs nothing. */
    if (n->cons == NULL || n->writes == NULL)
        return;
    uint64_t leader = consensus_leader(n->cons), applied = consensus_applied(n->cons);
    uint64_t now = uv_now(&n->loop);
    for (struct write_op *op = n->writes; op != NULL;) {
        struct write_op *next = op->next;
        if (op->held != NULL) {
            if (!organising(n) && leader != 0)
                release_held(n, op);
            else if (now > op->deadline_ms) {
                char text[128];
                node_quorum_text(n, text, sizeof text);
                finish(n, op, -1, text);
            }
        } else if (op->leader != n->keys.node_id) {
            if (op->index != 0 && applied >= op->index)
                finish(n, op, 0, "");
            else if (op->index == 0 && op->leader != leader && !send_again(n, op))
                finish(n, op, -1, "the leader changed before the write was committed, "
                                  "again and again; check `mesh status` and retry");
            else if (op->leader == leader && resend_unanswered(n, op, now))
                ; /* held: released to the leader below, on the next pass */
            else if (now > op->deadline_ms)
                finish(n, op, -1, "no answer from the leader in time");
        }
        op = next;
    }
}

void node_write_fail_all(struct node *n, const char *why)
{
    while (n->writes != NULL)
        finish(n, n->writes, -1, why);
}

/* ---- drain --------------------------------------------------------------------------- */

/* The replicated drained flag reached this node: stop taking work (hand
 * back what has not started) or take it again. */
void node_set_drain(struct node *n, bool drain)
{
    if (n->draining == drain)
        return;
    n->draining = drain;
    mlog(&n->log, LOG_INFO, drain ? "draining: finishing started numbers, taking no new work"
                                  : "undrained: taking work again");
    if (drain)
        worker_pool_return_unstarted(n->pool);
    else
        node_work_dispatch(n);
}
