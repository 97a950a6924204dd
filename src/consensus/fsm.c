/* fsm.c - see fsm.h. The adapter between raft's callbacks and the queue.
 *
 * apply() must return 0 whatever the entry holds: raft 0.15 stops
 * advancing last_applied at the first non-zero return, for good. So
 * everything that can go wrong with an entry (bytes that do not decode, a
 * command the queue refuses) becomes an outcome handed to on_applied, and
 * the log moves on identically on every member.
 *
 * Snapshots use fsm version 3. raft 0.15 calls snapshot() on the loop,
 * runs snapshot_async() on the libuv thread pool and snapshot_finalize()
 * back on the loop once the snapshot is stored, and it keeps applying
 * entries in between (replicationApply does not wait for a pending
 * snapshot; only a second snapshot and InstallSnapshot are refused). So
 * snapshot() freezes the queue (a copy of what apply may still change, ~1
 * ms per 10M results), snapshot_async() encodes the frozen view (~0.7 s per
 * 10M results, off the loop: heartbeats keep flowing) and finalize() frees
 * the bytes and thaws the queue.
 *
 * Every snapshot is sealed (snapshot_seal.h): two buffers, the 48-byte
 * seal and the queue's bytes, which raft stores back to back; restore
 * checks the seal before decoding anything and refuses a damaged one. */
#include "fsm.h"

#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "snapshot_seal.h"

struct fsm_state {
    struct fsm_config cfg;
    uint64_t index;               /* last applied index when cfg.raft is NULL */
    struct queue_freeze *freeze;  /* from snapshot() to snapshot_finalize() */
    uint64_t log_bytes, log_entries;  /* applied since the last snapshot */
};

void fsm_log_weight(const struct raft_fsm *fsm, uint64_t *bytes, uint64_t *entries)
{
    const struct fsm_state *st = fsm->data;
    *bytes = st->log_bytes;
    *entries = st->log_entries;
}

static void log_weight_reset(struct fsm_state *st)
{
    st->log_bytes = 0;
    st->log_entries = 0;
}

static uint64_t next_index(struct fsm_state *st)
{
    /* raft sets last_applied after each entry, barriers and configuration
     * changes included, so during apply it is exactly the previous index. */
    if (st->cfg.raft != NULL)
        st->index = raft_last_applied(st->cfg.raft) + 1;
    else
        st->index++;
    return st->index;
}

static void report(struct fsm_state *st, const struct fsm_outcome *o)
{
    if (st->cfg.on_applied != NULL)
        st->cfg.on_applied(st->cfg.ud, o);
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    struct fsm_state *st = fsm->data;
    struct fsm_outcome o = {.index = next_index(st), .err = ""};
    *result = NULL;
    st->log_bytes += buf->len;
    st->log_entries++;
    struct qcmd c;
    if (entry_decode(buf->base, buf->len, &c) != 0) {
        o.rc = -1;
        o.err = "undecodable log entry";
        report(st, &o);
        return 0;
    }
    char err[256];
    struct queue_outcome qo;
    o.rc = queue_apply(*st->cfg.queue, &c, &qo, err, sizeof err);
    o.type = c.type;
    o.batch_id = qo.batch_id;
    o.node_id = qo.node_id;
    o.recorded = qo.recorded;
    o.finished = qo.finished;
    o.cmd = &c;
    o.err = o.rc == 0 ? "" : err;
    report(st, &o);
    qcmd_free(&c);
    return 0;
}

/* Seals payload into bufs[0] (a fresh header) and bufs[1] (the payload). */
static int seal_into(struct raft_buffer bufs[2], uint8_t *payload, size_t len)
{
    uint8_t *header = malloc(SNAPSHOT_SEAL_BYTES);
    if (header == NULL) {
        free(payload);
        return RAFT_NOMEM;
    }
    snapshot_seal(payload, len, header);
    bufs[0] = (struct raft_buffer){.base = header, .len = SNAPSHOT_SEAL_BYTES};
    bufs[1] = (struct raft_buffer){.base = payload, .len = len};
    return 0;
}

/* Loop thread, sync_snapshots: the whole encoding happens here. */
static int fsm_snapshot_sync(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                             unsigned *n_bufs)
{
    struct fsm_state *st = fsm->data;
    struct raft_buffer *b = raft_calloc(2, sizeof *b);
    uint8_t *snap;
    size_t len;
    if (b == NULL || queue_snapshot(*st->cfg.queue, &snap, &len) != 0 ||
        seal_into(b, snap, len) != 0) {
        raft_free(b);
        return RAFT_NOMEM;
    }
    log_weight_reset(st);
    *bufs = b;
    *n_bufs = 2;
    return 0;
}

/* Loop thread. The buffer array is allocated here, not on the worker
 * thread, in case the application gives raft a heap that is not
 * thread-safe; its base is filled by snapshot_async. */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct fsm_state *st = fsm->data;
    if (st->freeze != NULL)
        return RAFT_BUSY;
    struct raft_buffer *b = raft_calloc(2, sizeof *b);
    if (b == NULL)
        return RAFT_NOMEM;
    st->freeze = queue_freeze(*st->cfg.queue);
    if (st->freeze == NULL) {
        raft_free(b);
        return RAFT_NOMEM;
    }
    log_weight_reset(st);
    *bufs = b;
    *n_bufs = 2;
    return 0;
}

/* Worker thread: reads nothing but the frozen view. */
static int fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                              unsigned *n_bufs)
{
    struct fsm_state *st = fsm->data;
    uint8_t *snap;
    size_t len;
    if (*n_bufs != 2 || queue_freeze_encode(st->freeze, &snap, &len) != 0)
        return RAFT_NOMEM;
    return seal_into(*bufs, snap, len);
}

/* Loop thread, after the snapshot is stored or failed. With a finalize
 * hook raft leaves the buffers to us, so the encoding is never copied. */
static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                                 unsigned *n_bufs)
{
    struct fsm_state *st = fsm->data;
    if (*bufs != NULL) {
        for (unsigned i = 0; i < *n_bufs; i++)
            free((*bufs)[i].base);
        raft_free(*bufs);
    }
    *bufs = NULL;
    *n_bufs = 0;
    queue_thaw(*st->cfg.queue, st->freeze);
    st->freeze = NULL;
    return 0;
}

static void refuse(struct fsm_state *st, const char *why)
{
    if (st->cfg.on_refused != NULL)
        st->cfg.on_refused(st->cfg.ud, why);
}

/* On failure raft frees buf->base itself and keeps the old state (at start,
 * raft_start fails: the node refuses to run on a damaged snapshot). */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct fsm_state *st = fsm->data;
    if (st->freeze != NULL)
        return RAFT_BUSY;  /* raft refuses installs while snapshotting anyway */
    char err[256];
    const uint8_t *payload;
    size_t len;
    if (snapshot_seal_open(buf->base, buf->len, &payload, &len, err, sizeof err) ==
        SNAPSHOT_DAMAGED) {
        refuse(st, err);
        return RAFT_CORRUPT;
    }
    struct queue *fresh = queue_new();
    if (fresh == NULL)
        return RAFT_NOMEM;
    if (queue_restore(fresh, payload, len) != 0) {
        queue_free(fresh);
        refuse(st, "snapshot cannot be decoded (damaged, or written by a newer release)");
        return RAFT_MALFORMED;
    }
    queue_free(*st->cfg.queue);
    *st->cfg.queue = fresh;
    raft_free(buf->base);
    if (st->cfg.on_restored != NULL)
        st->cfg.on_restored(st->cfg.ud);
    return 0;
}

int fsm_init(struct raft_fsm *fsm, const struct fsm_config *cfg)
{
    struct fsm_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return -1;
    st->cfg = *cfg;
    memset(fsm, 0, sizeof *fsm);
    fsm->version = 3;
    fsm->data = st;
    fsm->apply = fsm_apply;
    fsm->restore = fsm_restore;
    fsm->snapshot_finalize = fsm_snapshot_finalize;
    if (cfg->sync_snapshots) {
        fsm->snapshot = fsm_snapshot_sync;
    } else {
        fsm->snapshot = fsm_snapshot;
        fsm->snapshot_async = fsm_snapshot_async;
    }
    return 0;
}

void fsm_close(struct raft_fsm *fsm)
{
    struct fsm_state *st = fsm->data;
    if (st != NULL && st->freeze != NULL)
        queue_thaw(*st->cfg.queue, st->freeze);
    free(fsm->data);
    fsm->data = NULL;
}

void fsm_set_applied_index(struct raft_fsm *fsm, uint64_t index)
{
    struct fsm_state *st = fsm->data;
    st->index = index;
}
