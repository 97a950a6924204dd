/* fsm.c - see fsm.h. The adapter between raft's callbacks and the queue.
 *
 * apply() must return 0 whatever the entry holds: raft 0.15 stops
 * advancing last_applied at the first non-zero return, for good. So
 * everything that can go wrong with an entry (bytes that do not decode, a
 * command the queue refuses) becomes an outcome handed to on_applied, and
 * the log moves on identically on every member. */
#include "fsm.h"

#include <stdlib.h>
#include <string.h>

#include "entry.h"

struct fsm_state {
    struct fsm_config cfg;
    uint64_t index;  /* last applied index when cfg.raft is NULL */
};

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

/* raft takes ownership of bufs and of every base with raft_free, so the
 * queue's malloc'd encoding is copied into raft's heap. */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct fsm_state *st = fsm->data;
    uint8_t *snap;
    size_t len;
    if (queue_snapshot(*st->cfg.queue, &snap, &len) != 0)
        return RAFT_NOMEM;
    struct raft_buffer *b = raft_malloc(sizeof *b);
    void *base = raft_malloc(len);
    if (b == NULL || base == NULL) {
        raft_free(b);
        raft_free(base);
        free(snap);
        return RAFT_NOMEM;
    }
    memcpy(base, snap, len);
    free(snap);
    b->base = base;
    b->len = len;
    *bufs = b;
    *n_bufs = 1;
    return 0;
}

/* On failure raft frees buf->base itself and keeps the old state. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct fsm_state *st = fsm->data;
    struct queue *fresh = queue_new();
    if (fresh == NULL)
        return RAFT_NOMEM;
    if (queue_restore(fresh, buf->base, buf->len) != 0) {
        queue_free(fresh);
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
    fsm->version = 1;
    fsm->data = st;
    fsm->apply = fsm_apply;
    fsm->snapshot = fsm_snapshot;
    fsm->restore = fsm_restore;
    return 0;
}

void fsm_close(struct raft_fsm *fsm)
{
    free(fsm->data);
    fsm->data = NULL;
}

void fsm_set_applied_index(struct raft_fsm *fsm, uint64_t index)
{
    struct fsm_state *st = fsm->data;
    st->index = index;
}
