/* test_freeze.c - a frozen snapshot encodes the state at the freeze while
 * commands keep changing the queue (what a raft snapshot_async on a worker
 * thread relies on). Run under ASan, it also proves nothing the view reads
 * was freed or moved: texts that grow, batches appended, uploads consumed. */
#include "queue_helpers.h"

static struct qcmd complete_range(uint64_t id, uint64_t first, uint64_t n, const char *text)
{
    struct qcmd c = {.type = QCMD_COMPLETE, .batch_id = id, .n_results = n};
    c.results = calloc(n, sizeof *c.results);
    for (uint64_t i = 0; i < n; i++)
        c.results[i] = (struct qresult){.index = first + i, .text = strdup(text)};
    return c;
}

static struct qcmd part(uint64_t upload_id, const char *bytes, size_t len)
{
    struct qcmd c = {.type = QCMD_LIST_PART, .upload_id = upload_id, .part_len = len};
    c.part = malloc(len);
    memcpy(c.part, bytes, len);
    return c;
}

/* Everything apply can do to a queue, starting from the state of q (which
 * staged upload 42 before the freeze). */
static void churn(struct queue *q)
{
    char err[128];
    /* Every page of batch 1 gets texts appended: its buffers move. */
    for (uint64_t first = 1; first < 5000; first += 2)
        apply_free(q, complete_range(1, first, 1, "3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3"), NULL, err);
    for (int i = 0; i < 40; i++)  /* the batch array grows */
        CHECK_INT_EQ(apply_free(q, make_submit("77", 10, "more"), NULL, err), 0);
    struct qcmd submit = {.type = QCMD_SUBMIT, .upload_id = 42};
    submit.spec = (struct batch_spec){.kind = BATCH_LIST, .count = 2, .list_len = 6};
    CHECK_INT_EQ(queue_apply(q, &submit, NULL, err, sizeof err), 0);  /* upload consumed */
    CHECK_INT_EQ(apply_free(q, make_drain(8, false), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_drain(99, true), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_cancel(2), NULL, err), 0);
    apply_free(q, complete_range(2, 0, 100, "5"), NULL, err);
}

static void test_freeze_sees_the_past(void)
{
    struct queue *q = queue_new();
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_submit("1000", 5000, "big"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_submit("9", 300, "small"), NULL, err), 0);
    for (uint64_t first = 0; first < 5000; first += 2)
        apply_free(q, complete_range(1, first, 1, "2 2"), NULL, err);
    CHECK_INT_EQ(apply_free(q, make_drain(8, true), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, part(42, "11\0" "13\0", 6), NULL, err), 0);
    uint8_t *before, *frozen, *after, *live;
    size_t lb, lf, la, ll;
    CHECK_INT_EQ(queue_snapshot(q, &before, &lb), 0);
    struct queue_freeze *f = queue_freeze(q);
    CHECK(f != NULL);
    churn(q);
    CHECK_INT_EQ(queue_snapshot(q, &live, &ll), 0);
    CHECK_INT_EQ(queue_freeze_encode(f, &frozen, &lf), 0);
    CHECK(lf == lb && memcmp(frozen, before, lb) == 0);
    queue_thaw(q, f);
    CHECK_INT_EQ(queue_snapshot(q, &after, &la), 0);
    CHECK(la == ll && memcmp(after, live, ll) == 0);
    CHECK(la != lb);
    /* The frozen bytes are a state a replica can restore and continue. */
    struct queue *r = queue_new();
    CHECK_INT_EQ(queue_restore(r, frozen, lf), 0);
    churn(r);
    uint8_t *rs;
    size_t lr;
    CHECK_INT_EQ(queue_snapshot(r, &rs, &lr), 0);
    CHECK(lr == la && memcmp(rs, after, la) == 0);
    free(before);
    free(frozen);
    free(after);
    free(live);
    free(rs);
    queue_free(q);
    queue_free(r);
}

/* Two freezes overlap: memory retired under both lives until the last thaw. */
static void test_nested_freezes(void)
{
    struct queue *q = queue_new();
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_submit("1000", 3000, "big"), NULL, err), 0);
    apply_free(q, complete_range(1, 0, 1, "7"), NULL, err);
    uint8_t *s1, *e1;
    size_t l1, le;
    CHECK_INT_EQ(queue_snapshot(q, &s1, &l1), 0);
    struct queue_freeze *a = queue_freeze(q);
    apply_free(q, complete_range(1, 1, 1000, "1 2 3 4 5 6 7 8 9"), NULL, err);
    struct queue_freeze *b = queue_freeze(q);
    apply_free(q, complete_range(1, 1001, 1000, "1 2 3 4 5 6 7 8 9"), NULL, err);
    queue_thaw(q, b);
    apply_free(q, complete_range(1, 2001, 999, "1 2 3 4 5 6 7 8 9"), NULL, err);
    CHECK_INT_EQ(queue_freeze_encode(a, &e1, &le), 0);
    CHECK(le == l1 && memcmp(e1, s1, l1) == 0);
    queue_thaw(q, a);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, 1, &info), 0);
    CHECK_INT_EQ(info.state, BATCH_DONE);
    free(s1);
    free(e1);
    queue_free(q);
}

int main(void)
{
    test_freeze_sees_the_past();
    test_nested_freezes();
    return 0;
}
