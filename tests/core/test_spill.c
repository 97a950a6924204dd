/* test_spill.c - finished batches' results moved to a file: the same
 * results, the same snapshot bytes, forgettable, safe under a frozen
 * snapshot, and a job that finds its batch forgotten stops cleanly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue_helpers.h"

static char dir[] = "/tmp/mesh-spill-XXXXXX";

/* Batch 1: 3000 numbers, all done; batch 2: 2500, a third done, cancelled. */
static struct queue *two_finished(void)
{
    struct queue *q = queue_new();
    char err[128], text[32];
    CHECK_INT_EQ(apply_free(q, make_submit("1000", 3000, "a"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_submit("9000", 2500, "b"), NULL, err), 0);
    for (uint64_t i = 0; i < 3000; i++) {
        snprintf(text, sizeof text, "%llu 7", (unsigned long long)(i * 3 + 1));
        CHECK_INT_EQ(apply_free(q, make_complete(1, 1, i, text), NULL, err), 0);
    }
    for (uint64_t i = 0; i < 2500; i += 3) {
        snprintf(text, sizeof text, "%llu", (unsigned long long)(i + 5));
        CHECK_INT_EQ(apply_free(q, make_complete(2, 1, i, text), NULL, err), 0);
    }
    CHECK_INT_EQ(apply_free(q, make_cancel(2), NULL, err), 0);
    return q;
}

static void spill_all(struct queue *q)
{
    struct queue_spill *s;
    while ((s = queue_spill_start(q, dir)) != NULL) {
        int rc;
        while ((rc = queue_spill_step(s, q, 1)) == 1)
            ;
        CHECK_INT_EQ(rc, 0);
        CHECK_INT_EQ(queue_spill_finish(s, q), 0);
    }
    CHECK_INT_EQ(errno, ENOENT);
}

static void same_results(const struct queue *a, const struct queue *b)
{
    for (uint64_t id = 1; id <= 2; id++) {
        struct batch_info x, y;
        CHECK_INT_EQ(queue_batch_get(a, id, &x), 0);
        CHECK_INT_EQ(queue_batch_get(b, id, &y), 0);
        CHECK_INT_EQ(x.done, y.done);
        for (uint64_t i = 0; i < x.total; i++) {
            const char *r = queue_result(a, id, i), *s = queue_result(b, id, i);
            CHECK((r == NULL) == (s == NULL));
            if (r != NULL)
                CHECK_STR_EQ(r, s);
            CHECK(queue_is_done(a, id, i) == queue_is_done(b, id, i));
        }
        CHECK_INT_EQ(queue_next_pending(a, id, 0), queue_next_pending(b, id, 0));
        CHECK_INT_EQ(queue_next_pending(a, id, 1), queue_next_pending(b, id, 1));
        CHECK_INT_EQ(queue_done_prefix(a, id, 0), queue_done_prefix(b, id, 0));
    }
}

static void test_spilled_reads_and_snapshots_the_same(void)
{
    struct queue *mem = two_finished(), *disk = two_finished();
    spill_all(disk);
    CHECK(queue_batch_spilled(disk, 1) && queue_batch_spilled(disk, 2));
    CHECK(!queue_batch_spilled(mem, 1));
    same_results(mem, disk);
    uint8_t *a, *b;
    size_t la, lb;
    CHECK_INT_EQ(queue_snapshot(mem, &a, &la), 0);
    CHECK_INT_EQ(queue_snapshot(disk, &b, &lb), 0);
    CHECK(la == lb && memcmp(a, b, la) == 0);
    free(a);
    free(b);
    char err[128];
    CHECK_INT_EQ(apply_free(disk, make_complete(2, 1, (uint64_t)1, "2 3"), NULL, err), 0);
    CHECK(queue_result(disk, 2, 1) == NULL);  /* cancelled: late results ignored */
    queue_free(mem);
    queue_free(disk);
}

static void test_forget_a_spilled_batch_under_a_freeze(void)
{
    struct queue *q = two_finished();
    spill_all(q);
    uint8_t *before, *frozen;
    size_t lb, lf;
    CHECK_INT_EQ(queue_snapshot(q, &before, &lb), 0);
    struct queue_freeze *f = queue_freeze(q);
    CHECK(f != NULL);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_USER, 0, 2, (uint64_t)1, (uint64_t)2),
                            NULL, err), 0);
    CHECK_INT_EQ(queue_batch_count(q), 0);
    /* the mapping outlives the forget until the thaw: ASan/segv otherwise */
    CHECK_INT_EQ(queue_freeze_encode(f, &frozen, &lf), 0);
    CHECK(lf == lb && memcmp(frozen, before, lb) == 0);
    queue_thaw(q, f);
    free(frozen);
    free(before);
    queue_free(q);
}

static void test_spill_while_frozen_then_thaw(void)
{
    struct queue *q = two_finished();
    uint8_t *before, *frozen;
    size_t lb, lf;
    CHECK_INT_EQ(queue_snapshot(q, &before, &lb), 0);
    struct queue_freeze *f = queue_freeze(q);
    spill_all(q);  /* the memory pages the freeze points at are retired */
    CHECK_INT_EQ(queue_freeze_encode(f, &frozen, &lf), 0);
    CHECK(lf == lb && memcmp(frozen, before, lb) == 0);
    queue_thaw(q, f);
    free(frozen);
    free(before);
    queue_free(q);
}

static void test_job_stops_when_its_batch_is_forgotten(void)
{
    struct queue *q = two_finished();
    struct queue_spill *s = queue_spill_start(q, dir);
    CHECK(s != NULL);
    CHECK_INT_EQ(queue_spill_batch(s), 1);
    CHECK_INT_EQ(queue_spill_step(s, q, 1), 1);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_forget(FORGET_BY_AGE, 0, 1, (uint64_t)1), NULL, err), 0);
    CHECK_INT_EQ(queue_spill_step(s, q, 1), -1);
    CHECK_INT_EQ(errno, ENOENT);
    queue_spill_abort(s);
    /* a running batch is never spilled; a directory that is not there fails */
    struct queue *r = queue_new();
    CHECK_INT_EQ(apply_free(r, make_submit("5", 10, ""), NULL, err), 0);
    CHECK(queue_spill_start(r, dir) == NULL);
    CHECK_INT_EQ(errno, ENOENT);
    CHECK(queue_spill_start(q, "/nonexistent/mesh") == NULL);
    queue_free(r);
    queue_free(q);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    test_spilled_reads_and_snapshots_the_same();
    test_forget_a_spilled_batch_under_a_freeze();
    test_spill_while_frozen_then_thaw();
    test_job_stops_when_its_batch_is_forgotten();
    CHECK_INT_EQ(rmdir(dir), 0);  /* nothing left behind: the files have no name */
    return 0;
}
