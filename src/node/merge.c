/* merge.c - two clusters of one mesh that meet become one.
 *
 * Clusters form apart when nodes cannot see each other at first (a split
 * LAN healed, two machines started at the same moment out of sight of each
 * other, a node told --peer of two separate meshes). Every leader compares
 * its cluster with every other cluster its linked peers gossip about; the
 * rule is the same everywhere: the cluster with fewer members moves into
 * the other, and between equals the larger cluster id moves. Moving costs
 * the small side: it re-proposes its state into the big side's log.
 *
 * The losing leader:
 *   1. quiesces: refuses writes and grants no leases, and waits for its own
 *      proposals to apply, so its replica is final;
 *   2. exports, through the winner's leader, one acknowledged write at a
 *      time: each batch as an import SUBMIT that keeps its id (ids are
 *      unique mesh-wide: each cluster numbers from its own range), then its
 *      results as COMPLETE commands, then CANCEL for a cancelled batch;
 *      the batch's write token goes along, so a writer's resend after the
 *      merge finds its batch in the winner;
 *      imports and results are idempotent, so a resend after a lost answer
 *      is harmless;
 *   3. dissolves: tells its members (MEMBERSHIP verdict MERGED), then
 *      discards its own raft state; every node of the old cluster joins the
 *      winner afresh and rebuilds its replica from the winner's log.
 * Nothing is discarded before the winner has acknowledged everything. Two
 * leaders that each think they lose (member counts changing during the
 * gossip) see each other's merge in the gossip; the smaller id stays.
 * A member of the old cluster that is down during the merge finds its
 * cluster gone when it comes back (members.c: --rejoin). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "node.h"
#include "merge.h"
#include "dispatch.h"
#include "event_log.h"
#include "lead_node.h"
#include "peers.h"
#include "consensus.h"
#include "net.h"

enum {
    MERGE_QUIESCE_MS = 1000,    /* gossip (250 ms) has seen our merge flag */
    MERGE_RESEND_MS = 5000,
    MERGE_PART_BYTES = 900 * 1024,
};
#define MERGE_REQ_FLAG (UINT64_C(1) << 63)   /* replies to merge writes */

enum merge_phase { MERGE_IDLE, MERGE_QUIESCE, MERGE_EXPORT, MERGE_DISSOLVE };
enum merge_step { STEP_SUBMIT, STEP_RESULTS, STEP_CANCEL, STEP_NEXT };

struct merge {
    enum merge_phase phase;
    uint64_t into, target;      /* the winning cluster and its leader */
    uint64_t since_ms;
    size_t batch_i;             /* position in our queue */
    enum merge_step step;
    uint64_t there_id;          /* the batch's id in the winner (normally ours) */
    uint64_t next_index;        /* next result to export */
    struct qcmd *parts;         /* a list too big for one entry, split */
    size_t n_parts, part_i;
    uint8_t *inflight;          /* encoded command awaiting its reply */
    size_t inflight_len;
    uint64_t req, sent_ms, seq;
    bool inflight_is_submit;
    uint64_t batches, results;  /* exported, for the log */
};

static struct merge *merge_of(struct node *n)
{
    if (n->merge == NULL)
        n->merge = calloc(1, sizeof *n->merge);
    return n->merge;
}

bool node_merge_active(const struct node *n)
{
    return n->merge != NULL && n->merge->phase != MERGE_IDLE;
}

static void free_parts(struct merge *m)
{
    for (size_t i = 0; i < m->n_parts; i++)
        qcmd_free(&m->parts[i]);
    free(m->parts);
    m->parts = NULL;
    m->n_parts = 0;
}

/* Back to idle: every buffer of the merge freed, every field zero. */
static void reset(struct merge *m)
{
    free(m->inflight);
    free_parts(m);
    memset(m, 0, sizeof *m);
}

void node_merge_free(struct node *n)
{
    if (n->merge == NULL)
        return;
    reset(n->merge);
    free(n->merge);
    n->merge = NULL;
}

/* ---- who moves ----------------------------------------------------------- */

/* True when cluster a (with a_members) moves into cluster b. */
static bool moves_into(uint64_t a, uint64_t a_members, uint64_t b, uint64_t b_members)
{
    return a_members < b_members || (a_members == b_members && a > b);
}

/* Both leaders started to move, each into the other: the smaller id stays.
 * merging_into 0 means "not moving", so an id of 0 (never learned) is no
 * match for it. */
static bool moves_into_us(const struct peer_cluster *lead, uint64_t mine, uint64_t theirs)
{
    return lead != NULL && mine != 0 && lead->merging_into == mine && mine < theirs;
}

/* A cluster our leader should move into: its leader is linked and fresh. */
static const struct peer_cluster *winner_in_sight(const struct node *n,
                                                  const struct consensus_status *st)
{
    uint64_t mine = consensus_cluster_id(n->cons), now = uv_now((uv_loop_t *)&n->loop);
    for (size_t i = 0; i < n->n_peer_info; i++) {
        const struct peer_cluster *pc = &n->peer_info[i];
        if (!pc->member || pc->cluster_id == 0 || pc->cluster_id == mine ||
            now - pc->heard_ms >= NODE_PEER_FRESH_MS || pc->leader == 0 ||
            !node_linked(n, pc->leader) || !node_linked(n, pc->id))
            continue;
        const struct peer_cluster *lead = node_peer_cluster(n, pc->leader);
        if (moves_into_us(lead, mine, pc->cluster_id))
            continue;
        if (moves_into(mine, st->n_members, pc->cluster_id, pc->members))
            return pc;
    }
    return NULL;
}

uint64_t node_merge_into(const struct node *n)
{
    return node_merge_active(n) ? n->merge->into : 0;
}

static void stop_merge(struct node *n, const char *why)
{
    struct merge *m = n->merge;
    mlog(&n->log, LOG_WARN, "merge into cluster %016llx abandoned: %s",
         (unsigned long long)m->into, why);
    reset(m);
    if (node_is_leader(n) && node_lead_start(n) != 0)
        mlog(&n->log, LOG_ERROR, "out of memory restarting the leader's scheduler");
}

static void start_merge(struct node *n, const struct peer_cluster *pc,
                        const struct consensus_status *st)
{
    struct merge *m = merge_of(n);
    if (m == NULL)
        return;
    reset(m);
    m->phase = MERGE_QUIESCE;
    m->into = pc->cluster_id;
    m->target = pc->leader;
    m->since_ms = uv_now(&n->loop);
    node_event(n, MESH_EV_MEMBER, "cluster %016llx (%zu members) meets cluster %016llx (%llu "
               "members): moving %zu batches into it",
               (unsigned long long)consensus_cluster_id(n->cons), st->n_members,
               (unsigned long long)pc->cluster_id, (unsigned long long)pc->members,
               queue_batch_count(n->queue));
    node_lead_stop(n); /* no leases: the replica must stop changing */
}

/* ---- sending one write at a time ---------------------------------------------- */

static void send_inflight(struct node *n)
{
    struct merge *m = n->merge;
    uint8_t *buf;
    size_t len;
    struct qcmd cmd;
    if (qcmd_decode(m->inflight, m->inflight_len, &cmd) != 0)
        return;
    int rc = msg_forward_encode(m->req, &cmd, &buf, &len);
    qcmd_free(&cmd);
    if (rc != 0)
        return;
    node_send(n, m->target, MESH_MSG_FORWARD, buf, len);
    free(buf);
    m->sent_ms = uv_now(&n->loop);
}

static int send_cmd(struct node *n, const struct qcmd *cmd)
{
    struct merge *m = n->merge;
    free(m->inflight);
    m->inflight = NULL;
    if (qcmd_encode(cmd, &m->inflight, &m->inflight_len) != 0)
        return -1;
    m->req = MERGE_REQ_FLAG | ++m->seq;
    m->inflight_is_submit = cmd->type == QCMD_SUBMIT;
    send_inflight(n);
    return 0;
}

/* ---- export ------------------------------------------------------------------------ */

static int send_submit(struct node *n, const struct batch_info *b)
{
    struct merge *m = n->merge;
    /* The batch's write token goes with it: a writer whose answer was lost
     * resends its SUBMIT to the winner after the merge, and must find its
     * batch there, not make a second one. */
    struct qcmd cmd = {.type = QCMD_SUBMIT, .batch_id = b->id, .import = true,
                       .token = b->token, .spec = *b->spec};
    memcpy(cmd.name, b->name, sizeof cmd.name);
    if (m->parts == NULL) {
        uint64_t upload = randombytes_random() | (uint64_t)randombytes_random() << 32 | 1;
        if (qcmd_split(&cmd, MERGE_PART_BYTES, upload, &m->parts, &m->n_parts) != 0)
            return -1;
        m->part_i = 0;
    }
    return send_cmd(n, &m->parts[m->part_i]);
}

/* The next COMPLETE of done results, up to one entry's worth; 1 when
 * there are none left. */
static int send_results(struct node *n, const struct batch_info *b)
{
    struct merge *m = n->merge;
    size_t cap = 4096, count = 0, bytes = 0;
    struct qresult *rs = malloc(cap * sizeof *rs);
    if (rs == NULL)
        return -1;
    while (m->next_index < b->total && bytes < MERGE_PART_BYTES - 4096) {
        uint64_t i = m->next_index++;
        const char *text = queue_result(n->queue, b->id, i);
        if (text == NULL)
            continue;
        if (count == cap) {
            struct qresult *more = realloc(rs, 2 * cap * sizeof *rs);
            if (more == NULL)
                break;
            rs = more;
            cap *= 2;
        }
        /* A copy: queue_result's text lasts until its next call. */
        char *copy = strdup(text);
        if (copy == NULL) {
            m->next_index--;
            break;
        }
        rs[count++] = (struct qresult){i, copy};
        bytes += strlen(text) + 12;
    }
    int rc = 1;
    if (count > 0) {
        struct qcmd cmd = {.type = QCMD_COMPLETE, .batch_id = m->there_id, .results = rs,
                           .n_results = count};
        rc = send_cmd(n, &cmd);
        m->results += count;
    }
    for (size_t k = 0; k < count; k++)
        free(rs[k].text);
    free(rs);
    return rc;
}

static void dissolve(struct node *n);

/* Sends the next write of the export, or moves on to dissolving. */
static void export_next(struct node *n)
{
    struct merge *m = n->merge;
    struct batch_info b;
    while (m->batch_i < queue_batch_count(n->queue)) {
        if (queue_batch_at(n->queue, m->batch_i, &b) != 0)
            return;
        if (m->step == STEP_SUBMIT && b.results_elsewhere) {
            /* restored from a manifest, its file still being fetched:
             * exporting now would lose its results */
            stop_merge(n, "a batch's results are still being fetched from the peers");
            return;
        }
        if (m->step == STEP_SUBMIT) {
            if (send_submit(n, &b) != 0)
                stop_merge(n, "out of memory");
            return;
        }
        if (m->step == STEP_RESULTS) {
            int rc = send_results(n, &b);
            if (rc <= 0) {
                if (rc < 0)
                    stop_merge(n, "out of memory");
                return;
            }
            m->step = STEP_CANCEL;
        }
        if (m->step == STEP_CANCEL && b.state == BATCH_CANCELLED) {
            m->step = STEP_NEXT;
            struct qcmd cmd = {.type = QCMD_CANCEL, .batch_id = m->there_id};
            send_cmd(n, &cmd);
            return;
        }
        m->batches++;
        m->batch_i++;
        m->step = STEP_SUBMIT;
        m->next_index = 0;
    }
    dissolve(n);
}

void node_merge_on_reply(struct node *n, uint64_t peer, const uint8_t *data, size_t len)
{
    struct merge *m = n->merge;
    struct msg_reply r;
    if (m == NULL || m->phase != MERGE_EXPORT || msg_reply_decode(&r, data, len) != 0 ||
        r.req != m->req || peer != m->target)
        return;
    if (r.rc == MSG_REPLY_NOT_LEADER || r.rc == MSG_REPLY_FAILED) {
        m->sent_ms = 0; /* resend (to the new leader) at the next tick */
        return;
    }
    if (r.rc == MSG_REPLY_REFUSED)
        mlog(&n->log, LOG_WARN, "merge: cluster %016llx refused a write: %s",
             (unsigned long long)m->into, r.err);
    free(m->inflight);
    m->inflight = NULL;
    if (m->inflight_is_submit && m->parts != NULL && ++m->part_i < m->n_parts) {
        send_cmd(n, &m->parts[m->part_i]);
        return;
    }
    if (m->inflight_is_submit) {
        free_parts(m);
        m->there_id = r.rc == MSG_REPLY_OK ? r.batch : 0;
        struct batch_info b;
        if (queue_batch_at(n->queue, m->batch_i, &b) == 0 && m->there_id != b.id &&
            m->there_id != 0)
            mlog(&n->log, LOG_WARN, "merge: batch %llu is batch %llu in the merged mesh (its "
                 "id was taken)", (unsigned long long)b.id, (unsigned long long)m->there_id);
        m->step = m->there_id != 0 ? STEP_RESULTS : STEP_NEXT;
    }
    export_next(n);
}

/* ---- dissolving ------------------------------------------------------------------- */

static void tell_members(struct node *n)
{
    struct consensus_status *st = malloc(sizeof *st);
    struct msg_membership_note note = {MSG_MEMBERSHIP_MERGED, consensus_cluster_id(n->cons)};
    uint8_t *buf;
    size_t len;
    if (st == NULL || msg_membership_encode(&note, &buf, &len) != 0) {
        free(st);
        return;
    }
    consensus_status(n->cons, st);
    for (size_t i = 0; i < st->n_members; i++)
        if (st->members[i].id != n->keys.node_id)
            node_send(n, st->members[i].id, MESH_MSG_MEMBERSHIP, buf, len);
    free(buf);
    free(st);
}

static void dissolve(struct node *n)
{
    struct merge *m = n->merge;
    m->phase = MERGE_DISSOLVE;
    node_event(n, MESH_EV_MEMBER, "merge: %llu batches and %llu results are in cluster "
               "%016llx; this cluster dissolves and its nodes join that one",
               (unsigned long long)m->batches, (unsigned long long)m->results,
               (unsigned long long)m->into);
    tell_members(n);
    reset(m);
    dispatch_restart(n, true);
}

/* A member hears that its cluster moved into another. */
void node_merge_on_dissolved(struct node *n, uint64_t peer, uint64_t cluster_id)
{
    if (!node_verdict_is_ours(n, peer, cluster_id) || node_is_leader(n))
        return;
    mlog(&n->log, LOG_WARN, "cluster %016llx merged into another: joining it afresh",
         (unsigned long long)cluster_id);
    dispatch_restart(n, true);
}

/* ---- the tick ------------------------------------------------------------------------ */

static bool quiet(const struct node *n)
{
    return consensus_in_flight(n->cons) == 0;
}

static void retarget(struct node *n)
{
    struct merge *m = n->merge;
    for (size_t i = 0; i < n->n_peer_info; i++) {
        const struct peer_cluster *pc = &n->peer_info[i];
        if (pc->member && pc->cluster_id == m->into && pc->leader != 0 && node_linked(n, pc->leader)) {
            m->target = pc->leader;
            return;
        }
    }
}

void node_merge_tick(struct node *n)
{
    if (n->cons == NULL)
        return;
    struct merge *m = n->merge;
    struct consensus_status *st = malloc(sizeof *st);
    if (st == NULL)
        return;
    consensus_status(n->cons, st);
    uint64_t now = uv_now(&n->loop);
    if (!node_merge_active(n)) {
        const struct peer_cluster *pc = st->is_leader ? winner_in_sight(n, st) : NULL;
        if (pc != NULL)
            start_merge(n, pc, st);
    } else if (!st->is_leader) {
        stop_merge(n, "this node no longer leads its cluster");
    } else if (m->phase == MERGE_QUIESCE) {
        const struct peer_cluster *lead = node_peer_cluster(n, m->target);
        if (moves_into_us(lead, consensus_cluster_id(n->cons), m->into))
            stop_merge(n, "that cluster moves into this one");
        else if (now - m->since_ms >= MERGE_QUIESCE_MS && quiet(n)) {
            m->phase = MERGE_EXPORT;
            export_next(n);
        }
    } else if (m->phase == MERGE_EXPORT && m->inflight != NULL &&
               (m->sent_ms == 0 || now - m->sent_ms >= MERGE_RESEND_MS)) {
        retarget(n);
        send_inflight(n);
    }
    free(st);
}
