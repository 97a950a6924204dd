/* test_snapshot.c - snapshot/restore and replay determinism. */
#include "queue_helpers.h"

#define U(x) ((uint64_t)(x))

/* A command sequence touching every state: running, done, cancelled,
 * duplicates, errors, list and semiprime specs, unfactored results. */
static void play(struct queue *q)
{
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("100", 2000, "range"), &id, err), 0);
    CHECK_INT_EQ(apply_free(q, make_submit("5", 2, "small"), &id, err), 0);
    struct qcmd c;
    memset(&c, 0, sizeof c);
    c.type = QCMD_SUBMIT;
    CHECK_INT_EQ(batch_semiprimes_init(&c.spec, 64, 30, 1, err, sizeof err), 0);
    c.spec.chunk = 5;
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    memset(&c, 0, sizeof c);
    c.type = QCMD_SUBMIT;
    CHECK_INT_EQ(batch_list_parse(&c.spec, "9\n10\n11\n", 8, err, sizeof err), 0);
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(1, 4, U(0), "2 2 5 5", U(1999), "3 7",
                                             U(1030), "2 unfactored:9", U(5000), "x"),
                            NULL, err), -1);
    CHECK_INT_EQ(apply_free(q, make_complete(2, 2, U(0), "5", U(1), "2 3"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(3, 1, U(4), "4294967311 4294967357"),
                            NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_cancel(3), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(4, 1, U(2), "11"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(1, 1, U(0), "1"), NULL, err), 0);
}

static void snapshot(const struct queue *q, uint8_t **buf, size_t *len)
{
    CHECK_INT_EQ(queue_snapshot(q, buf, len), 0);
}

static void test_restore_equal_state(void)
{
    struct queue *a = queue_new();
    play(a);
    uint8_t *buf;
    size_t len;
    snapshot(a, &buf, &len);
    struct queue *b = queue_new();
    CHECK_INT_EQ(queue_restore(b, buf, len), 0);
    CHECK_INT_EQ(queue_batch_count(b), 4);
    CHECK_INT_EQ(queue_next_batch_id(b), 5);
    for (size_t i = 0; i < 4; i++) {
        struct batch_info x, y;
        CHECK_INT_EQ(queue_batch_at(a, i, &x), 0);
        CHECK_INT_EQ(queue_batch_at(b, i, &y), 0);
        CHECK_INT_EQ(x.id, y.id);
        CHECK_INT_EQ(x.state, y.state);
        CHECK_INT_EQ(x.total, y.total);
        CHECK_INT_EQ(x.done, y.done);
        CHECK_INT_EQ(x.unfactored, y.unfactored);
        CHECK_INT_EQ(x.chunk, y.chunk);
        CHECK_STR_EQ(x.name, y.name);
        CHECK_INT_EQ(queue_next_pending(a, x.id, 0), queue_next_pending(b, y.id, 0));
        for (uint64_t k = 0; k < x.total; k++) {
            const char *ra = queue_result(a, x.id, k), *rb = queue_result(b, y.id, k);
            CHECK((ra == NULL) == (rb == NULL));
            if (ra != NULL)
                CHECK_STR_EQ(ra, rb);
        }
    }
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(b, 2, &info), 0);
    CHECK_INT_EQ(info.state, BATCH_DONE);
    CHECK_INT_EQ(queue_batch_get(b, 3, &info), 0);
    CHECK_INT_EQ(info.state, BATCH_CANCELLED);
    CHECK_INT_EQ(queue_batch_get(b, 1, &info), 0);
    CHECK_INT_EQ(info.unfactored, 1);
    CHECK_INT_EQ(info.done, 3);
    /* The snapshot of the restored queue is byte-identical. */
    uint8_t *buf2;
    size_t len2;
    snapshot(b, &buf2, &len2);
    CHECK_INT_EQ(len, len2);
    CHECK(memcmp(buf, buf2, len) == 0);
    /* And it keeps working: the next SUBMIT gets id 5 on both. */
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(b, make_submit("1", 1, ""), &id, err), 0);
    CHECK_INT_EQ(id, 5);
    free(buf2);
    free(buf);
    queue_free(a);
    queue_free(b);
}

static void test_replay_is_deterministic(void)
{
    struct queue *a = queue_new(), *b = queue_new();
    play(a);
    play(b);
    uint8_t *x, *y;
    size_t xl, yl;
    snapshot(a, &x, &xl);
    snapshot(b, &y, &yl);
    CHECK_INT_EQ(xl, yl);
    CHECK(memcmp(x, y, xl) == 0);
    free(x);
    free(y);
    queue_free(a);
    queue_free(b);
}

static void test_empty_queue_snapshot(void)
{
    struct queue *a = queue_new(), *b = queue_new();
    uint8_t *buf;
    size_t len;
    snapshot(a, &buf, &len);
    CHECK_INT_EQ(queue_restore(b, buf, len), 0);
    CHECK_INT_EQ(queue_batch_count(b), 0);
    CHECK_INT_EQ(queue_next_batch_id(b), 1);
    free(buf);
    queue_free(a);
    queue_free(b);
}

/* Every truncation and every single-byte corruption either restores a valid
 * queue or fails leaving the queue empty and usable. */
static void test_restore_rejects_damage(void)
{
    struct queue *a = queue_new();
    play(a);
    uint8_t *buf;
    size_t len;
    snapshot(a, &buf, &len);
    for (size_t cut = 0; cut < len; cut++) {
        struct queue *b = queue_new();
        CHECK_INT_EQ(queue_restore(b, buf, cut), -1);
        CHECK_INT_EQ(queue_batch_count(b), 0);
        CHECK_INT_EQ(queue_next_batch_id(b), 1);
        queue_free(b);
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t saved = buf[i];
        buf[i] ^= 0x41;
        struct queue *b = queue_new();
        if (queue_restore(b, buf, len) != 0) {
            CHECK_INT_EQ(queue_batch_count(b), 0);
            CHECK_INT_EQ(queue_next_batch_id(b), 1);
        }
        queue_free(b);
        buf[i] = saved;
    }
    /* Restoring into a non-empty queue is refused and changes nothing. */
    CHECK_INT_EQ(queue_restore(a, buf, len), -1);
    CHECK_INT_EQ(queue_batch_count(a), 4);
    free(buf);
    queue_free(a);
}

/* Hand-made snapshots: states apply could never produce are refused. */
static void test_restore_rejects_impossible_states(void)
{
    /* HEAD: magic, next_id 2, applied 0, no drained node, no upload,
     * 1 batch; then id 1, state,
     * name "", RANGE count 1 chunk 0 start "7" step 1, then the done list. */
#define HEAD 'M', 'Q', 'S', 2, 2, 0, 0, 0, 1
    const uint8_t running_done[] = {HEAD, 1, BATCH_RUNNING, 0,
                                    BATCH_RANGE, 1, 0, 1, '7', 1, 1, 0, 1, '7'};
    const uint8_t done_done[] = {HEAD, 1, BATCH_DONE, 0,
                                 BATCH_RANGE, 1, 0, 1, '7', 1, 1, 0, 1, '7'};
    const uint8_t done_empty[] = {HEAD, 1, BATCH_DONE, 0,
                                  BATCH_RANGE, 1, 0, 1, '7', 1, 0};
    const uint8_t id_too_big[] = {HEAD, 2, BATCH_RUNNING, 0,
                                  BATCH_RANGE, 1, 0, 1, '7', 1, 0};
    struct queue *q = queue_new();
    CHECK_INT_EQ(queue_restore(q, running_done, sizeof running_done), -1);
    CHECK_INT_EQ(queue_restore(q, done_empty, sizeof done_empty), -1);
    CHECK_INT_EQ(queue_restore(q, id_too_big, sizeof id_too_big), -1);
    CHECK_INT_EQ(queue_restore(q, done_done, sizeof done_done), 0);
    CHECK_STR_EQ(queue_result(q, 1, 0), "7");
    queue_free(q);
#undef HEAD
}

/* A batch's budget survives a snapshot; a snapshot of format 4 (before
 * budgets) restores its batches with the node's default. */
static void test_budget_in_snapshot(void)
{
    char err[128];
    struct queue *a = queue_new();
    struct qcmd c = make_submit("7", 3, "timed");
    c.spec.budget_ms = 300;
    CHECK_INT_EQ(apply_free(a, c, NULL, err), 0);
    uint8_t *buf;
    size_t len;
    snapshot(a, &buf, &len);
    struct queue *b = queue_new();
    CHECK_INT_EQ(queue_restore(b, buf, len), 0);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(b, 1, &info), 0);
    CHECK(info.spec->budget_ms == 300);
    queue_free(b);
    /* One batch, no results, no tombstones: the snapshot ends with the
     * budget (301, two bytes), where (0: inline), the done count 0 and the
     * tombstone count 0. */
    CHECK_INT_EQ(buf[3], QUEUE_SNAPSHOT_FORMAT);
    CHECK(buf[len - 5] == ((301 & 0x7f) | 0x80) && buf[len - 4] == 301 >> 7);
    CHECK(buf[len - 3] == 0 && buf[len - 2] == 0 && buf[len - 1] == 0);
    /* Format 5 (before manifests): the same without the where byte. */
    uint8_t *five = malloc(len);
    memcpy(five, buf, len);
    five[3] = QUEUE_SNAPSHOT_FORMAT_INLINE;
    memmove(five + len - 3, five + len - 2, 2);
    b = queue_new();
    CHECK_INT_EQ(queue_restore(b, five, len - 1), 0);
    CHECK_INT_EQ(queue_batch_get(b, 1, &info), 0);
    CHECK(info.spec->budget_ms == 300);
    queue_free(b);
    free(five);
    buf[3] = QUEUE_SNAPSHOT_FORMAT_NO_BUDGET;
    memmove(buf + len - 5, buf + len - 2, 2);
    b = queue_new();
    CHECK_INT_EQ(queue_restore(b, buf, len - 3), 0);
    CHECK_INT_EQ(queue_batch_get(b, 1, &info), 0);
    CHECK(info.spec->budget_ms == BATCH_BUDGET_DEFAULT);
    CHECK_INT_EQ(info.total, 3);
    CHECK_STR_EQ(info.name, "timed");
    queue_free(b);
    free(buf);
    queue_free(a);
}

int main(void)
{
    test_budget_in_snapshot();
    test_restore_equal_state();
    test_replay_is_deterministic();
    test_empty_queue_snapshot();
    test_restore_rejects_damage();
    test_restore_rejects_impossible_states();
    return 0;
}
