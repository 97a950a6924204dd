/* test_replay.c - one log replayed into separate queues gives identical
 * snapshot bytes, whether a replica applies it from the start or restores
 * a snapshot taken half way (through the fsm's own snapshot and restore,
 * as raft calls them) and applies the rest. */
#include <raft.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "entry.h"
#include "fsm.h"

enum { LOG_LEN = 400 };

struct replica {
    struct queue *q;
    struct raft_fsm fsm;
    unsigned outcomes;
};

static void on_applied(void *ud, const struct fsm_outcome *o)
{
    struct replica *r = ud;
    (void)o;
    r->outcomes++;
}

static void replica_init(struct replica *r)
{
    memset(r, 0, sizeof *r);
    r->q = queue_new();
    struct fsm_config cfg = {.queue = &r->q, .ud = r, .on_applied = on_applied};
    CHECK(r->q != NULL);
    CHECK_INT_EQ(fsm_init(&r->fsm, &cfg), 0);
}

static void replica_close(struct replica *r)
{
    fsm_close(&r->fsm);
    queue_free(r->q);
}

/* A deterministic mixed log: submits, results (some duplicates, some out
 * of range), cancels, drains, garbage. */
static struct raft_buffer make_entry(unsigned k)
{
    struct qcmd c = {0};
    char err[128];
    uint64_t batch = 1 + k % 7;
    switch (k % 6) {
    case 0:
        c.type = QCMD_SUBMIT;
        CHECK_INT_EQ(batch_range_init(&c.spec, "1000003", 2, 50 + k, err, sizeof err), 0);
        break;
    case 1:
    case 2:
        c.type = QCMD_COMPLETE;
        c.batch_id = batch;
        c.n_results = 1 + k % 13;
        c.results = calloc(c.n_results, sizeof *c.results);
        for (size_t i = 0; i < c.n_results; i++) {
            c.results[i].index = (k * 7 + i * 3) % 80;
            c.results[i].text = strdup(k % 5 ? "3 11" : "7 unfactored:143");
        }
        break;
    case 3:
        c.type = QCMD_CANCEL;
        c.batch_id = batch + 3;
        break;
    case 4:
        c.type = QCMD_DRAIN;
        c.node_id = 1 + k % 5;
        c.drained = k % 4 != 0;
        break;
    default: {
        struct raft_buffer junk = {.base = raft_malloc(16), .len = 16};
        memset(junk.base, (int)k, 16);
        return junk;
    }
    }
    struct raft_buffer buf;
    CHECK_INT_EQ(entry_encode(&c, &buf.base, &buf.len), 0);
    qcmd_free(&c);
    return buf;
}

static void apply_range(struct replica *r, const struct raft_buffer *log, unsigned from,
                        unsigned to)
{
    for (unsigned k = from; k < to; k++) {
        void *result;
        CHECK_INT_EQ(r->fsm.apply(&r->fsm, &log[k], &result), 0);
    }
}

static void check_same(struct queue *a, struct queue *b)
{
    uint8_t *sa, *sb;
    size_t la, lb;
    CHECK_INT_EQ(queue_snapshot(a, &sa, &la), 0);
    CHECK_INT_EQ(queue_snapshot(b, &sb, &lb), 0);
    CHECK(la == lb && memcmp(sa, sb, la) == 0);
    free(sa);
    free(sb);
}

/* Takes r's snapshot through the fsm and restores it into into's fsm. */
static void transfer_snapshot(struct replica *r, struct replica *into)
{
    struct raft_buffer *bufs;
    unsigned n;
    CHECK_INT_EQ(r->fsm.snapshot(&r->fsm, &bufs, &n), 0);
    CHECK_INT_EQ(n, 2);  /* the seal, then the queue's bytes (snapshot_seal.h) */
    if (r->fsm.version >= 2 && r->fsm.snapshot_async != NULL)
        CHECK_INT_EQ(r->fsm.snapshot_async(&r->fsm, &bufs, &n), 0);
    /* As raft stores it: the buffers back to back. */
    struct raft_buffer copy = {.base = raft_malloc(bufs[0].len + bufs[1].len),
                               .len = bufs[0].len + bufs[1].len};
    memcpy(copy.base, bufs[0].base, bufs[0].len);
    memcpy((uint8_t *)copy.base + bufs[0].len, bufs[1].base, bufs[1].len);
    if (r->fsm.version >= 2 && r->fsm.snapshot_finalize != NULL) {
        CHECK_INT_EQ(r->fsm.snapshot_finalize(&r->fsm, &bufs, &n), 0);
    } else {
        raft_free(bufs[0].base);
        raft_free(bufs);
    }
    CHECK_INT_EQ(into->fsm.restore(&into->fsm, &copy), 0);  /* restore frees copy */
}

int main(void)
{
    struct raft_buffer log[LOG_LEN];
    for (unsigned k = 0; k < LOG_LEN; k++)
        log[k] = make_entry(k);
    struct replica a, b, late;
    replica_init(&a);
    replica_init(&b);
    replica_init(&late);
    apply_range(&a, log, 0, LOG_LEN);
    apply_range(&b, log, 0, LOG_LEN / 2);
    transfer_snapshot(&b, &late);
    apply_range(&b, log, LOG_LEN / 2, LOG_LEN);
    apply_range(&late, log, LOG_LEN / 2, LOG_LEN);
    check_same(a.q, b.q);
    check_same(a.q, late.q);
    CHECK_INT_EQ(a.outcomes, LOG_LEN);
    CHECK(queue_batch_count(a.q) > 10);
    CHECK(queue_drained_count(a.q) > 0);
    replica_close(&a);
    replica_close(&b);
    replica_close(&late);
    for (unsigned k = 0; k < LOG_LEN; k++)
        raft_free(log[k].base);
    return 0;
}
