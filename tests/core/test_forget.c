/* test_forget.c - retention in the state machine: FORGET drops finished
 * batches and keeps tombstones; the log's time ages batches; the bytes
 * retained add up; all of it survives a snapshot, an earlier snapshot
 * format still restores, and a frozen snapshot outlives a FORGET. */
#include <stdlib.h>
#include <string.h>

#include "queue_helpers.h"

/* Three batches of 3 numbers: 1 and 2 done (at times 200, 300), 3 running. */
static struct queue *three_batches(void)
{
    struct queue *q = queue_new();
    char err[128];
    for (int i = 0; i < 3; i++) {
        struct qcmd s = make_submit("10", 3, "b");
        s.time_ms = 100 + (uint64_t)i;
        CHECK_INT_EQ(apply_free(q, s, NULL, err), 0);
    }
    for (uint64_t id = 1; id <= 2; id++) {
        struct qcmd c = make_complete(id, 3, (uint64_t)0, "2 5", (uint64_t)1, "11",
                                      (uint64_t)2, "2 2 3");
        c.time_ms = 100 + 100 * id;
        CHECK_INT_EQ(apply_free(q, c, NULL, err), 0);
    }
    struct qcmd c = make_complete(3, 1, (uint64_t)0, "2 5");
    c.time_ms = 400;
    CHECK_INT_EQ(apply_free(q, c, NULL, err), 0);
    return q;
}

static void test_times_come_from_the_log(void)
{
    struct queue *q = three_batches();
    struct batch_info b;
    CHECK_INT_EQ(queue_batch_get(q, 1, &b), 0);
    CHECK_INT_EQ(b.submitted_ms, 100);
    CHECK_INT_EQ(b.ended_ms, 200);
    CHECK_INT_EQ(queue_batch_get(q, 3, &b), 0);
    CHECK_INT_EQ(b.submitted_ms, 102);
    CHECK_INT_EQ(b.ended_ms, 0);  /* running */
    char err[128];
    struct qcmd cancel = make_cancel(3);
    cancel.time_ms = 500;
    CHECK_INT_EQ(apply_free(q, cancel, NULL, err), 0);
    CHECK_INT_EQ(queue_batch_get(q, 3, &b), 0);
    CHECK_INT_EQ(b.ended_ms, 500);
    queue_free(q);
}

static void test_bytes_add_up(void)
{
    struct queue *q = three_batches();
    struct retained_info r;
    queue_retained(q, &r);
    CHECK_INT_EQ(r.batches, 3);
    CHECK_INT_EQ(r.running, 1);
    uint64_t sum = 0;
    for (uint64_t id = 1; id <= 3; id++) {
        struct batch_info b;
        CHECK_INT_EQ(queue_batch_get(q, id, &b), 0);
        CHECK(b.bytes > 0);
        sum += b.bytes;
        if (id == 3)
            CHECK_INT_EQ(r.running_bytes, b.bytes);
    }
    CHECK_INT_EQ(r.bytes, sum);
    queue_free(q);
}

static void test_forget_drops_finished_keeps_running(void)
{
    struct queue *q = three_batches();
    struct retained_info before, after;
    queue_retained(q, &before);
    struct batch_info b1;
    CHECK_INT_EQ(queue_batch_get(q, 1, &b1), 0);
    uint64_t b1_bytes = b1.bytes;
    char err[128];
    struct queue_outcome out;
    struct qcmd f = make_forget(FORGET_BY_USER, 1000, 2, (uint64_t)1, (uint64_t)3);
    /* 3 runs: refused by name, while 1 is still forgotten */
    CHECK_INT_EQ(queue_apply(q, &f, &out, err, sizeof err), -1);
    qcmd_free(&f);
    CHECK(strstr(err, "batch 3 is running") != NULL);
    CHECK_INT_EQ(out.forgotten, 1);
    struct batch_info b;
    CHECK_INT_EQ(queue_batch_get(q, 1, &b), -1);
    CHECK(queue_result(q, 1, 0) == NULL);
    CHECK_INT_EQ(queue_batch_get(q, 3, &b), 0);
    CHECK_STR_EQ(queue_result(q, 2, 2), "2 2 3");
    queue_retained(q, &after);
    CHECK_INT_EQ(after.batches, 2);
    CHECK_INT_EQ(after.bytes, before.bytes - b1_bytes);
    struct forgotten_info t;
    CHECK_INT_EQ(queue_forgotten(q, 1, &t), 0);
    CHECK_INT_EQ(t.time_ms, 1000);
    CHECK_INT_EQ(t.why, FORGET_BY_USER);
    CHECK_INT_EQ(queue_forgotten(q, 2, &t), -1);
    /* forgetting it again is a no-op; an id never seen is refused */
    f = make_forget(FORGET_BY_READER, 1100, 1, (uint64_t)1);
    CHECK_INT_EQ(queue_apply(q, &f, &out, err, sizeof err), 0);
    CHECK_INT_EQ(out.forgotten, 0);
    qcmd_free(&f);
    CHECK_INT_EQ(queue_forgotten(q, 1, &t), 0);
    CHECK_INT_EQ(t.why, FORGET_BY_USER);
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_USER, 1, 1, (uint64_t)77), NULL, err), -1);
    CHECK(strstr(err, "no batch 77") != NULL);
    /* the next batch never takes a forgotten id */
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("5", 1, ""), &id, err), 0);
    CHECK_INT_EQ(id, 4);
    queue_free(q);
}

static void test_tombstones_are_bounded(void)
{
    struct queue *q = queue_new();
    char err[128];
    for (uint64_t i = 1; i <= QUEUE_MAX_FORGOTTEN + 10; i++) {
        uint64_t id;
        CHECK_INT_EQ(apply_free(q, make_submit("7", 1, ""), &id, err), 0);
        CHECK_INT_EQ(apply_free(q, make_complete(id, 1, (uint64_t)0, "7"), NULL, err), 0);
        CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_AGE, i, 1, id), NULL, err), 0);
    }
    CHECK_INT_EQ(queue_forgotten_count(q), QUEUE_MAX_FORGOTTEN);
    struct forgotten_info t;
    CHECK_INT_EQ(queue_forgotten(q, 10, &t), -1);  /* the oldest went */
    CHECK_INT_EQ(queue_forgotten(q, 11, &t), 0);
    CHECK_INT_EQ(queue_forgotten(q, QUEUE_MAX_FORGOTTEN + 10, &t), 0);
    CHECK_INT_EQ(t.why, FORGET_BY_AGE);
    CHECK_INT_EQ(queue_batch_count(q), 0);
    queue_free(q);
}

static void test_snapshot_keeps_times_and_tombstones(void)
{
    struct queue *q = three_batches();
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_BUDGET, 900, 1, (uint64_t)2), NULL, err), 0);
    uint8_t *snap;
    size_t len;
    CHECK_INT_EQ(queue_snapshot(q, &snap, &len), 0);
    struct queue *r = queue_new();
    CHECK_INT_EQ(queue_restore(r, snap, len), 0);
    struct batch_info b;
    CHECK_INT_EQ(queue_batch_get(r, 1, &b), 0);
    CHECK_INT_EQ(b.submitted_ms, 100);
    CHECK_INT_EQ(b.ended_ms, 200);
    CHECK_INT_EQ(queue_batch_get(r, 2, &b), -1);
    struct forgotten_info t;
    CHECK_INT_EQ(queue_forgotten(r, 2, &t), 0);
    CHECK_INT_EQ(t.time_ms, 900);
    CHECK_INT_EQ(t.why, FORGET_BY_BUDGET);
    struct retained_info a, c;
    queue_retained(q, &a);
    queue_retained(r, &c);
    CHECK_INT_EQ(c.batches, a.batches);
    CHECK_INT_EQ(c.bytes, a.bytes);
    /* the same bytes again: a restored replica snapshots identically */
    uint8_t *again;
    size_t len2;
    CHECK_INT_EQ(queue_snapshot(r, &again, &len2), 0);
    CHECK(len2 == len && memcmp(again, snap, len) == 0);
    /* a tombstone naming a batch that is still there is refused */
    free(again);
    free(snap);
    queue_free(r);
    queue_free(q);
}

/* "MQS" 3 (the previous release): no times, no tombstones. */
static void test_format_3_snapshot_restores(void)
{
    /* next_id 2, applied 2, no drained, no uploads, 1 batch: id 1, DONE,
     * name "", token 0, RANGE count 1 chunk 0 "7" step 1, 1 done: gap 0 "7" */
    const uint8_t v3[] = {'M', 'Q', 'S', 3, 2, 2, 0, 0, 1, 1, BATCH_DONE, 0, 0,
                          BATCH_RANGE, 1, 0, 1, '7', 1, 1, 0, 1, '7'};
    struct queue *q = queue_new();
    CHECK_INT_EQ(queue_restore(q, v3, sizeof v3), 0);
    struct batch_info b;
    CHECK_INT_EQ(queue_batch_get(q, 1, &b), 0);
    CHECK_INT_EQ(b.state, BATCH_DONE);
    CHECK_INT_EQ(b.ended_ms, 0);
    CHECK_STR_EQ(queue_result(q, 1, 0), "7");
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_USER, 5, 1, (uint64_t)1), NULL, err), 0);
    CHECK_INT_EQ(queue_batch_count(q), 0);
    queue_free(q);
}

/* A FORGET while a snapshot is frozen: the encoder still reads the batch
 * (ASan sees a use after free if its memory went at once). */
static void test_forget_while_frozen(void)
{
    struct queue *q = three_batches();
    uint8_t *before;
    size_t before_len;
    CHECK_INT_EQ(queue_snapshot(q, &before, &before_len), 0);
    struct queue_freeze *f = queue_freeze(q);
    CHECK(f != NULL);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_AGE, 7, 2, (uint64_t)1, (uint64_t)2),
                            NULL, err), 0);
    uint8_t *frozen;
    size_t frozen_len;
    CHECK_INT_EQ(queue_freeze_encode(f, &frozen, &frozen_len), 0);
    CHECK(frozen_len == before_len && memcmp(frozen, before, before_len) == 0);
    queue_thaw(q, f);
    CHECK_INT_EQ(queue_batch_count(q), 1);
    free(frozen);
    free(before);
    queue_free(q);
}

static void test_codec(void)
{
    struct qcmd f = make_forget(FORGET_BY_READER, 123456789, 3, (uint64_t)1, (uint64_t)5,
                                (uint64_t)1u << 40);
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(&f, &buf, &len), 0);
    struct qcmd d;
    CHECK_INT_EQ(qcmd_decode(buf, len, &d), 0);
    CHECK_INT_EQ(d.type, QCMD_FORGET);
    CHECK_INT_EQ(d.time_ms, 123456789);
    CHECK_INT_EQ(d.forget_reason, FORGET_BY_READER);
    CHECK_INT_EQ(d.n_forget, 3);
    CHECK_INT_EQ(d.forget[2], (uint64_t)1u << 40);
    qcmd_free(&d);
    free(buf);
    /* not ascending, no ids, a reason that does not exist: refused both ways */
    f.forget[1] = 1;
    CHECK_INT_EQ(qcmd_encode(&f, &buf, &len), -1);
    f.forget[1] = 5;
    f.forget_reason = 9;
    CHECK_INT_EQ(qcmd_encode(&f, &buf, &len), -1);
    f.forget_reason = FORGET_BY_USER;
    f.n_forget = 0;
    CHECK_INT_EQ(qcmd_encode(&f, &buf, &len), -1);
    qcmd_free(&f);
    /* the one canonical form: ascending, no repeats */
    uint64_t ids[] = {5, 1, 5, 3, 1};
    CHECK_INT_EQ(qcmd_forget_normalize(ids, 5), 3);
    CHECK(ids[0] == 1 && ids[1] == 3 && ids[2] == 5);
    /* version 4, FORGET, time 0, reason 1, n 2, ids 3 3 */
    const uint8_t repeated[] = {4, QCMD_FORGET, 0, 1, 2, 3, 3};
    CHECK_INT_EQ(qcmd_decode(repeated, sizeof repeated, &d), -1);
    const uint8_t ok[] = {4, QCMD_FORGET, 0, 1, 2, 3, 4};
    CHECK_INT_EQ(qcmd_decode(ok, sizeof ok, &d), 0);
    qcmd_free(&d);
    /* FORGET did not exist in format 3 */
    const uint8_t old[] = {3, QCMD_FORGET, 1, 1, 3};
    CHECK_INT_EQ(qcmd_decode(old, sizeof old, &d), -1);
    /* a format 3 CANCEL decodes with time 0 */
    const uint8_t cancel3[] = {3, QCMD_CANCEL, 5};
    CHECK_INT_EQ(qcmd_decode(cancel3, sizeof cancel3, &d), 0);
    CHECK_INT_EQ(d.time_ms, 0);
    CHECK_INT_EQ(d.batch_id, 5);
    qcmd_free(&d);
}

int main(void)
{
    test_times_come_from_the_log();
    test_bytes_add_up();
    test_forget_drops_finished_keeps_running();
    test_tombstones_are_bounded();
    test_snapshot_keeps_times_and_tombstones();
    test_format_3_snapshot_restores();
    test_forget_while_frozen();
    test_codec();
    return 0;
}
