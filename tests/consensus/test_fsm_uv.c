/* test_fsm_uv.c - the fsm on real raft_uv storage (one voter, libuv loop,
 * a temporary data dir): raft_init refuses the async-snapshot fsm while
 * raft_uv 0.15 reports io->version 1 and accepts it at 2; snapshots are
 * taken and stored while entries keep applying; a restart restores the
 * snapshot, replays the log tail and ends with the same queue bytes. */
#include <raft.h>
#include <raft/uv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "check.h"
#include "entry.h"
#include "fsm.h"

enum { ENTRIES = 300 };

struct node {
    uv_loop_t loop;
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft raft;
    struct raft_fsm fsm;
    struct queue *q;
    unsigned restores, outcomes;
    bool closed;
};

static void on_applied(void *ud, const struct fsm_outcome *o)
{
    struct node *n = ud;
    CHECK_INT_EQ(o->rc, 0);
    n->outcomes++;
}

static void on_restored(void *ud)
{
    struct node *n = ud;
    n->restores++;
}

static void on_close(struct raft *r)
{
    struct node *n = r->data;
    n->closed = true;
}

static void node_start(struct node *n, const char *dir, bool bootstrap)
{
    memset(n, 0, sizeof *n);
    n->q = queue_new();
    CHECK_INT_EQ(uv_loop_init(&n->loop), 0);
    CHECK_INT_EQ(raft_uv_tcp_init(&n->transport, &n->loop), 0);
    CHECK_INT_EQ(raft_uv_init(&n->io, &n->loop, dir, &n->transport), 0);
    struct fsm_config cfg = {.queue = &n->q, .raft = &n->raft, .ud = n,
                             .on_applied = on_applied, .on_restored = on_restored};
    CHECK_INT_EQ(fsm_init(&n->fsm, &cfg), 0);
    CHECK(n->io.version < 2);  /* 0.15: the reason for the override below */
    CHECK(raft_init(&n->raft, &n->io, &n->fsm, 1, "127.0.0.1:9") != 0);
    n->io.version = 2;
    CHECK_INT_EQ(raft_init(&n->raft, &n->io, &n->fsm, 1, "127.0.0.1:9"), 0);
    n->raft.data = n;
    raft_set_snapshot_threshold(&n->raft, 32);
    raft_set_snapshot_trailing(&n->raft, 8);
    if (bootstrap) {
        struct raft_configuration conf;
        raft_configuration_init(&conf);
        CHECK_INT_EQ(raft_configuration_add(&conf, 1, "127.0.0.1:9", RAFT_VOTER), 0);
        CHECK_INT_EQ(raft_bootstrap(&n->raft, &conf), 0);
        raft_configuration_close(&conf);
    }
    CHECK_INT_EQ(raft_start(&n->raft), 0);
}

static void node_stop(struct node *n)
{
    raft_close(&n->raft, on_close);
    while (!n->closed)
        uv_run(&n->loop, UV_RUN_ONCE);
    raft_uv_close(&n->io);
    raft_uv_tcp_close(&n->transport);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    CHECK_INT_EQ(uv_loop_close(&n->loop), 0);
    fsm_close(&n->fsm);
    queue_free(n->q);
}

static void run_until(struct node *n, bool (*done)(struct node *))
{
    for (int i = 0; i < 200000 && !done(n); i++)
        uv_run(&n->loop, UV_RUN_ONCE);
    CHECK(done(n));
}

static bool is_leader(struct node *n)
{
    return raft_state(&n->raft) == RAFT_LEADER;
}

static bool all_applied(struct node *n)
{
    return n->outcomes >= ENTRIES && raft_last_applied(&n->raft) == raft_last_index(&n->raft);
}

static bool has_snapshot(struct node *n)
{
    return n->raft.log.snapshot.last_index > 0;
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    (void)result;
    CHECK_INT_EQ(status, 0);
    free(req);
}

static void propose(struct node *n, unsigned k)
{
    struct qcmd c = {.type = QCMD_SUBMIT};
    char err[128];
    if (k % 3 == 0) {
        CHECK_INT_EQ(batch_range_init(&c.spec, "100", 1, 1000, err, sizeof err), 0);
    } else {
        c = (struct qcmd){.type = QCMD_COMPLETE, .batch_id = 1, .n_results = 100};
        c.results = calloc(100, sizeof *c.results);
        for (unsigned i = 0; i < 100; i++)
            c.results[i] = (struct qresult){.index = (k * 100 + i) % 1000, .text = strdup("2 2 5 5")};
    }
    struct raft_buffer buf;
    CHECK_INT_EQ(entry_encode(&c, &buf.base, &buf.len), 0);
    qcmd_free(&c);
    struct raft_apply *req = malloc(sizeof *req);
    CHECK_INT_EQ(raft_apply(&n->raft, req, &buf, 1, apply_cb), 0);
}

static uint8_t *snapshot_of(struct queue *q, size_t *len)
{
    uint8_t *buf;
    CHECK_INT_EQ(queue_snapshot(q, &buf, len), 0);
    return buf;
}

int main(void)
{
    char dir[] = "/tmp/mesh-fsm-uv-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct node n;
    node_start(&n, dir, true);
    run_until(&n, is_leader);
    for (unsigned k = 0; k < ENTRIES; k++) {
        propose(&n, k);
        uv_run(&n.loop, UV_RUN_NOWAIT);  /* entries apply while snapshots run */
    }
    run_until(&n, all_applied);
    run_until(&n, has_snapshot);  /* taken on the thread pool, then stored */
    size_t len1;
    uint8_t *before = snapshot_of(n.q, &len1);
    node_stop(&n);

    node_start(&n, dir, false);
    CHECK_INT_EQ(n.restores, 1);  /* raft_start loads the snapshot */
    run_until(&n, is_leader);
    while (raft_last_applied(&n.raft) < raft_last_index(&n.raft))
        uv_run(&n.loop, UV_RUN_ONCE);
    size_t len2;
    uint8_t *after = snapshot_of(n.q, &len2);
    CHECK(len1 == len2 && memcmp(before, after, len1) == 0);
    node_stop(&n);
    free(before);
    free(after);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT_EQ(system(cmd), 0);
    return 0;
}
