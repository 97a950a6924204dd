/* test_fsm_fixture.c - the queue replicated by real raft (the in-memory
 * fixture): every member applies the same entries and ends with the same
 * snapshot bytes, through failover, log compaction and InstallSnapshot;
 * entries that do not decode or that the queue refuses never stall the log. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cluster.h"

static struct qcmd submit_range(const char *start, uint64_t count)
{
    struct qcmd c = {.type = QCMD_SUBMIT};
    char err[128];
    CHECK_INT_EQ(batch_range_init(&c.spec, start, 1, count, err, sizeof err), 0);
    snprintf(c.name, sizeof c.name, "r%s", start);
    return c;
}

/* One COMPLETE carrying results for indexes [first, first + n). */
static struct qcmd complete(uint64_t batch_id, uint64_t first, size_t n)
{
    struct qcmd c = {.type = QCMD_COMPLETE, .batch_id = batch_id, .n_results = n};
    c.results = calloc(n, sizeof *c.results);
    CHECK(c.results != NULL);
    for (size_t i = 0; i < n; i++) {
        c.results[i].index = first + i;
        c.results[i].text = strdup(i % 2 ? "3 5" : "2 2 7");
    }
    return c;
}

static raft_index propose_free(struct cluster *c, struct qcmd cmd)
{
    raft_index index = cluster_propose(c, &cmd);
    qcmd_free(&cmd);
    return index;
}

static void check_all_same(struct cluster *c)
{
    for (unsigned i = 1; i < c->n; i++)
        CHECK(cluster_same_state(c, 0, i));
}

static void test_commands_replicate(void)
{
    struct cluster c;
    cluster_init(&c, 3, false);
    raft_index first = propose_free(&c, submit_range("1000", 500));
    propose_free(&c, submit_range("7", 10));
    propose_free(&c, complete(1, 0, 300));
    propose_free(&c, complete(1, 300, 200));
    propose_free(&c, (struct qcmd){.type = QCMD_CANCEL, .batch_id = 2});
    propose_free(&c, (struct qcmd){.type = QCMD_DRAIN, .node_id = 2, .drained = true});
    raft_index last = propose_free(&c, (struct qcmd){.type = QCMD_DRAIN, .node_id = 3,
                                                     .drained = true});
    cluster_settle(&c, c.n, last);
    check_all_same(&c);
    for (unsigned i = 0; i < c.n; i++) {
        struct member *m = &c.m[i];
        struct batch_info info;
        CHECK_INT_EQ(queue_batch_get(m->q, 1, &info), 0);
        CHECK_INT_EQ(info.state, BATCH_DONE);
        CHECK_INT_EQ(info.done, 500);
        CHECK_INT_EQ(queue_batch_get(m->q, 2, &info), 0);
        CHECK_INT_EQ(info.state, BATCH_CANCELLED);
        CHECK(queue_node_drained(m->q, 2) && queue_node_drained(m->q, 3));
        CHECK_INT_EQ(m->outcomes, 7);
        CHECK_INT_EQ(m->refused, 0);
        /* The fsm's index is raft's, configuration entries included. */
        CHECK_INT_EQ(m->last_index, last);
        CHECK_INT_EQ(m->last_submit_index, first + 1);
        CHECK_INT_EQ(m->last_batch_id, 2);
    }
    CHECK_INT_EQ(c.apply_failures, 0);
    cluster_close(&c);
}

/* Garbage and refused commands are outcomes: the log keeps moving. */
static void test_refusals_do_not_stall(void)
{
    struct cluster c;
    cluster_init(&c, 3, false);
    propose_free(&c, submit_range("5", 2));
    propose_free(&c, complete(1, 0, 2));
    const char garbage[16] = "not an entry!!!";
    cluster_propose_raw(&c, garbage, sizeof garbage);
    propose_free(&c, complete(99, 0, 1));                                 /* unknown batch */
    propose_free(&c, (struct qcmd){.type = QCMD_CANCEL, .batch_id = 1});  /* already done */
    raft_index last = propose_free(&c, submit_range("9", 3));
    cluster_settle(&c, c.n, last);
    check_all_same(&c);
    for (unsigned i = 0; i < c.n; i++) {
        struct member *m = &c.m[i];
        CHECK(raft_last_applied(raft_fixture_get(&c.f, i)) >= last);
        CHECK_INT_EQ(m->outcomes, 6);
        CHECK_INT_EQ(m->refused, 3);
        CHECK_INT_EQ(m->undecodable, 1);
        CHECK_INT_EQ(m->last_batch_id, 2);
        CHECK_INT_EQ(m->last_submit_index, last);
    }
    cluster_close(&c);
}

static void test_leader_failover(void)
{
    struct cluster c;
    cluster_init(&c, 3, false);
    propose_free(&c, submit_range("100", 1000));
    raft_index index = propose_free(&c, complete(1, 0, 400));
    cluster_settle(&c, c.n, index);
    unsigned old = cluster_leader(&c);
    raft_fixture_kill(&c.f, old);
    CHECK(raft_fixture_step_until_has_no_leader(&c.f, CLUSTER_STEP_MS));
    CHECK(raft_fixture_step_until_has_leader(&c.f, CLUSTER_STEP_MS));
    unsigned leader = cluster_leader(&c);
    CHECK(leader != old);
    propose_free(&c, complete(1, 400, 400));
    index = propose_free(&c, complete(1, 800, 200));
    cluster_settle(&c, leader, index);
    for (unsigned i = 0; i < c.n; i++)
        if (i != old)
            cluster_settle(&c, i, index);
    raft_fixture_revive(&c.f, old);
    index = propose_free(&c, submit_range("3", 4));
    cluster_settle(&c, c.n, index);
    check_all_same(&c);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(c.m[old].q, 1, &info), 0);
    CHECK_INT_EQ(info.state, BATCH_DONE);
    CHECK_INT_EQ(c.m[old].last_batch_id, 2);
    cluster_close(&c);
}

/* A member cut off while the others compact their log gets the state by
 * InstallSnapshot, ends byte-identical, and keeps counting indexes right. */
static void test_snapshot_catch_up(bool sync_snapshots)
{
    struct cluster c;
    cluster_init(&c, 3, sync_snapshots);
    cluster_set_snapshots(&c, 4, 2);
    unsigned leader = cluster_leader(&c);
    unsigned lag = (leader + 1) % c.n;
    for (unsigned i = 0; i < c.n; i++) {
        if (i != lag) {
            raft_fixture_disconnect(&c.f, lag, i);
            raft_fixture_disconnect(&c.f, i, lag);
        }
    }
    propose_free(&c, submit_range("11", 2000));
    raft_index index = 0;
    for (uint64_t k = 0; k < 20; k++)
        index = propose_free(&c, complete(1, k * 100, 100));
    propose_free(&c, (struct qcmd){.type = QCMD_DRAIN, .node_id = 9, .drained = true});
    index = propose_free(&c, submit_range("42", 5));
    cluster_settle(&c, leader, index);
    CHECK(raft_last_applied(raft_fixture_get(&c.f, lag)) < index);
    /* An async snapshot completes a few fixture steps after it starts. */
    cluster_wait_snapshot(&c, leader, 5);
    for (unsigned i = 0; i < c.n; i++) {
        if (i != lag) {
            raft_fixture_reconnect(&c.f, lag, i);
            raft_fixture_reconnect(&c.f, i, lag);
        }
    }
    cluster_settle(&c, c.n, index);
    CHECK(c.m[lag].restores >= 1);
    check_all_same(&c);
    CHECK(queue_node_drained(c.m[lag].q, 9));
    index = propose_free(&c, submit_range("43", 5));
    cluster_settle(&c, c.n, index);
    check_all_same(&c);
    CHECK_INT_EQ(c.m[lag].last_submit_index, index);
    CHECK_INT_EQ(c.m[lag].last_batch_id, 3);
    cluster_close(&c);
}

/* A list too big for one entry goes in parts and appears whole. */
static void test_list_upload(void)
{
    struct cluster c;
    cluster_init(&c, 3, false);
    char *text = malloc(20000 * 12);
    size_t len = 0;
    for (int i = 0; i < 20000; i++)
        len += (size_t)sprintf(text + len, "%d\n", 1000000007 + 2 * i);
    struct qcmd list = {.type = QCMD_SUBMIT}, *cmds;
    char err[128];
    CHECK_INT_EQ(batch_list_parse(&list.spec, text, len, err, sizeof err), 0);
    free(text);
    size_t n;
    CHECK_INT_EQ(qcmd_split(&list, 8192, 0x1234abcd, &cmds, &n), 0);
    CHECK(n > 10);
    raft_index index = 0;
    for (size_t i = 0; i < n; i++)
        index = propose_free(&c, cmds[i]);
    free(cmds);
    cluster_settle(&c, c.n, index);
    check_all_same(&c);
    for (unsigned i = 0; i < c.n; i++) {
        struct batch_info info;
        CHECK_INT_EQ(c.m[i].refused, 0);
        CHECK_INT_EQ(c.m[i].last_submit_index, index);
        CHECK_INT_EQ(queue_batch_count(c.m[i].q), 1);
        CHECK_INT_EQ(queue_batch_get(c.m[i].q, 1, &info), 0);
        CHECK_INT_EQ(info.total, 20000);
        CHECK(info.spec->list_len == list.spec.list_len &&
              memcmp(info.spec->list, list.spec.list, list.spec.list_len) == 0);
    }
    qcmd_free(&list);
    cluster_close(&c);
}

int main(void)
{
    test_commands_replicate();
    test_refusals_do_not_stall();
    test_leader_failover();
    test_snapshot_catch_up(false);
    test_snapshot_catch_up(true);
    test_list_upload();
    return 0;
}
