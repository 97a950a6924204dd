/* test_queue.c - the replicated state machine: apply and the read side. */
#include "queue_helpers.h"

#define U(x) ((uint64_t)(x))

static void test_submit_assigns_ids(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id = 0;
    CHECK_INT_EQ(queue_batch_count(q), 0);
    CHECK_INT_EQ(queue_next_batch_id(q), 1);
    CHECK_INT_EQ(apply_free(q, make_submit("10", 5, "first"), &id, err), 0);
    CHECK_INT_EQ(id, 1);
    CHECK_INT_EQ(apply_free(q, make_submit("20", 7, ""), &id, err), 0);
    CHECK_INT_EQ(id, 2);
    CHECK_INT_EQ(queue_batch_count(q), 2);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_at(q, 0, &info), 0);
    CHECK_INT_EQ(info.id, 1);
    CHECK_STR_EQ(info.name, "first");
    CHECK_INT_EQ(info.state, BATCH_RUNNING);
    CHECK_INT_EQ(info.total, 5);
    CHECK_INT_EQ(info.done, 0);
    CHECK_STR_EQ(info.spec->start, "10");
    CHECK_INT_EQ(queue_batch_get(q, 2, &info), 0);
    CHECK_INT_EQ(info.total, 7);
    CHECK_INT_EQ(queue_batch_at(q, 2, &info), -1);
    CHECK_INT_EQ(queue_batch_get(q, 3, &info), -1);
    CHECK_INT_EQ(queue_batch_get(q, 0, &info), -1);
    queue_free(q);
}

/* A SUBMIT may ask for its id (a cluster's id range; an imported batch
 * keeps its own): taken ids move it up, the array stays sorted, and the
 * next plain SUBMIT continues above the highest id. */
static void test_submit_requested_ids(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id = 0;
    struct qcmd c = make_submit("10", 5, "");
    c.batch_id = 1000;
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    CHECK_INT_EQ(id, 1000);
    CHECK_INT_EQ(apply_free(q, make_submit("20", 7, ""), &id, err), 0);
    CHECK_INT_EQ(id, 1001);
    c = make_submit("30", 3, "");
    c.batch_id = 1000;              /* taken: the next free one above */
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    CHECK_INT_EQ(id, 1002);
    c = make_submit("40", 2, "");
    c.batch_id = 7;                 /* below the others: inserted in order */
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    CHECK_INT_EQ(id, 7);
    CHECK_INT_EQ(queue_next_batch_id(q), 1003);
    struct batch_info info;
    uint64_t want[] = {7, 1000, 1001, 1002};
    for (size_t i = 0; i < 4; i++) { /* sorted by id */
        CHECK_INT_EQ(queue_batch_at(q, i, &info), 0);
        CHECK_INT_EQ(info.id, want[i]);
    }
    CHECK_INT_EQ(queue_batch_get(q, 7, &info), 0);
    CHECK_STR_EQ(info.spec->start, "40");
    /* an import resent: the same batch, nothing new */
    c = make_submit("40", 2, "");
    c.batch_id = 7;
    c.import = true;
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    CHECK_INT_EQ(id, 7);
    CHECK_INT_EQ(queue_batch_count(q), 4);
    /* an import whose id another batch holds: the next free id */
    c = make_submit("41", 2, "");
    c.batch_id = 7;
    c.import = true;
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    CHECK_INT_EQ(id, 8);
    CHECK_INT_EQ(queue_batch_count(q), 5);
    /* an import keeps its write token: the writer's resend of the SUBMIT
     * (after a merge, to the winner) answers with the imported batch */
    c = make_submit("50", 4, "");
    c.batch_id = 500;
    c.import = true;
    c.token = 0xfeedfacecafeULL;
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    CHECK_INT_EQ(id, 500);
    CHECK_INT_EQ(queue_batch_get(q, 500, &info), 0);
    CHECK_INT_EQ(info.token, 0xfeedfacecafeULL);
    c = make_submit("50", 4, "");
    c.token = 0xfeedfacecafeULL;
    CHECK_INT_EQ(apply_free(q, c, &id, err), 0);
    CHECK_INT_EQ(id, 500);
    CHECK_INT_EQ(queue_batch_count(q), 6);
    /* and a snapshot of sparse ids restores the same */
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(queue_snapshot(q, &buf, &len), 0);
    struct queue *r = queue_new();
    CHECK_INT_EQ(queue_restore(r, buf, len), 0);
    CHECK_INT_EQ(queue_batch_get(r, 1002, &info), 0);
    CHECK_STR_EQ(info.spec->start, "30");
    CHECK_INT_EQ(queue_next_batch_id(r), 1003);
    CHECK_INT_EQ(queue_batch_get(r, 500, &info), 0);
    CHECK_INT_EQ(info.token, 0xfeedfacecafeULL);
    free(buf);
    queue_free(r);
    queue_free(q);
}

static void test_submit_rejects_invalid(void)
{
    struct queue *q = queue_new();
    char err[128];
    struct qcmd c = make_submit("10", 5, "x");
    c.spec.step = 0;
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), -1);
    c.spec.step = 1;
    c.name[0] = '\n';
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), -1);
    memset(c.name, 'a', sizeof c.name);  /* no NUL */
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), -1);
    qcmd_free(&c);
    /* A failed SUBMIT consumes no id. */
    CHECK_INT_EQ(queue_next_batch_id(q), 1);
    CHECK_INT_EQ(queue_batch_count(q), 0);
    queue_free(q);
}

static void test_complete_until_done(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("4", 3, "b"), &id, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(id, 1, U(1), "5"), NULL, err), 0);
    CHECK(!queue_is_done(q, id, 0));
    CHECK(queue_is_done(q, id, 1));
    CHECK(queue_result(q, id, 0) == NULL);
    CHECK_STR_EQ(queue_result(q, id, 1), "5");
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    CHECK_INT_EQ(info.done, 1);
    CHECK_INT_EQ(info.state, BATCH_RUNNING);
    CHECK_INT_EQ(apply_free(q, make_complete(id, 2, U(0), "2 2", U(2), "2 3"), NULL, err), 0);
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    CHECK_INT_EQ(info.done, 3);
    CHECK_INT_EQ(info.state, BATCH_DONE);
    CHECK_STR_EQ(queue_result(q, id, 0), "2 2");
    CHECK_STR_EQ(queue_result(q, id, 2), "2 3");
    CHECK(queue_result(q, id, 3) == NULL);
    queue_free(q);
}

static void test_duplicate_complete_ignored(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("4", 3, ""), &id, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(id, 1, U(0), "2 2"), NULL, err), 0);
    /* A re-issued lease reports again: the first result stays. */
    CHECK_INT_EQ(apply_free(q, make_complete(id, 2, U(0), "7", U(0), "8"), NULL, err), 0);
    CHECK_STR_EQ(queue_result(q, id, 0), "2 2");
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    CHECK_INT_EQ(info.done, 1);
    /* Duplicates inside one command count once too. */
    CHECK_INT_EQ(apply_free(q, make_complete(id, 3, U(1), "5", U(1), "5", U(2), "2 3"),
                            NULL, err), 0);
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    CHECK_INT_EQ(info.done, 3);
    CHECK_INT_EQ(info.state, BATCH_DONE);
    /* Late results for a finished batch are ignored, not errors. */
    CHECK_INT_EQ(apply_free(q, make_complete(id, 1, U(1), "9"), NULL, err), 0);
    CHECK_STR_EQ(queue_result(q, id, 1), "5");
    queue_free(q);
}

static void test_bad_entries_fail_alone(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("4", 3, ""), &id, err), 0);
    struct qcmd c = make_complete(id, 4, U(0), "2 2", U(3), "7", U(1), "BAD", U(2), "2 3");
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), -1);
    CHECK_STR_EQ(err, "batch 1: index 3 out of range (count 3)");
    qcmd_free(&c);
    CHECK(queue_is_done(q, id, 0));
    CHECK(!queue_is_done(q, id, 1));
    CHECK(queue_is_done(q, id, 2));
    c = make_complete(id, 1, U(1), "5");
    free(c.results[0].text);
    c.results[0].text = NULL;
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), -1);
    qcmd_free(&c);
    CHECK(!queue_is_done(q, id, 1));
    queue_free(q);
}

static void test_unfactored_counted(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("0", 4, ""), &id, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(id, 3, U(0), "", U(1), "", U(3),
                                             "3 unfactored:1000000016000000063"), NULL, err), 0);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    CHECK_INT_EQ(info.unfactored, 1);
    CHECK_INT_EQ(info.done, 3);
    CHECK_STR_EQ(queue_result(q, id, 0), "");
    queue_free(q);
}

static void test_cancel(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("4", 3, ""), &id, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(id, 1, U(0), "2 2"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_cancel(id), NULL, err), 0);
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    CHECK_INT_EQ(info.state, BATCH_CANCELLED);
    /* Results so far are kept; later ones are ignored. */
    CHECK_STR_EQ(queue_result(q, id, 0), "2 2");
    CHECK_INT_EQ(apply_free(q, make_complete(id, 1, U(1), "5"), NULL, err), 0);
    CHECK(!queue_is_done(q, id, 1));
    CHECK_INT_EQ(apply_free(q, make_cancel(id), NULL, err), 0);  /* idempotent */
    /* A finished batch cannot be cancelled. */
    CHECK_INT_EQ(apply_free(q, make_submit("4", 1, ""), &id, err), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(id, 1, U(0), "2 2"), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_cancel(id), NULL, err), -1);
    CHECK_STR_EQ(err, "batch 2 is already done");
    queue_free(q);
}

static void test_unknown_batch(void)
{
    struct queue *q = queue_new();
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_complete(9, 1, U(0), "2"), NULL, err), -1);
    CHECK_STR_EQ(err, "no batch 9");
    CHECK_INT_EQ(apply_free(q, make_cancel(9), NULL, err), -1);
    CHECK_STR_EQ(err, "no batch 9");
    struct qcmd c = make_cancel(1);
    c.type = (enum qcmd_type)42;
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), -1);
    CHECK(!queue_is_done(q, 9, 0));
    CHECK(queue_result(q, 9, 0) == NULL);
    CHECK_INT_EQ(queue_done_prefix(q, 9, 0), 0);
    CHECK_INT_EQ(queue_next_pending(q, 9, 0), 0);
    queue_free(q);
}

static void test_prefix_and_pending(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("1", 10, ""), &id, err), 0);
    CHECK_INT_EQ(queue_next_pending(q, id, 0), 0);
    CHECK_INT_EQ(queue_done_prefix(q, id, 0), 0);
    CHECK_INT_EQ(apply_free(q, make_complete(id, 4, U(0), "", U(1), "2", U(2), "3",
                                             U(5), "2 3"), NULL, err), 0);
    CHECK_INT_EQ(queue_done_prefix(q, id, 0), 3);
    CHECK_INT_EQ(queue_done_prefix(q, id, 1), 2);
    CHECK_INT_EQ(queue_done_prefix(q, id, 3), 0);
    CHECK_INT_EQ(queue_done_prefix(q, id, 5), 1);
    CHECK_INT_EQ(queue_done_prefix(q, id, 10), 0);
    CHECK_INT_EQ(queue_done_prefix(q, id, 99), 0);
    CHECK_INT_EQ(queue_next_pending(q, id, 0), 3);
    CHECK_INT_EQ(queue_next_pending(q, id, 4), 4);
    CHECK_INT_EQ(queue_next_pending(q, id, 5), 6);
    CHECK_INT_EQ(queue_next_pending(q, id, 10), 10);
    CHECK_INT_EQ(queue_next_pending(q, id, 50), 10);
    /* Filling the hole moves the cursor across the block done earlier. */
    CHECK_INT_EQ(apply_free(q, make_complete(id, 2, U(4), "2 2", U(3), "2 2"), NULL, err), 0);
    CHECK_INT_EQ(queue_next_pending(q, id, 0), 6);
    CHECK_INT_EQ(queue_done_prefix(q, id, 0), 6);
    queue_free(q);
}

/* Across page (1024) and word (64) boundaries on a full-size batch. */
static void test_pending_big_batch(void)
{
    struct queue *q = queue_new();
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("1", BATCH_MAX_COUNT, ""), &id, err), 0);
    enum { N = 5000 };
    struct qcmd c = make_complete(id, 0);
    free(c.results);
    c.results = calloc(N, sizeof *c.results);
    c.n_results = N;
    for (size_t i = 0; i < N; i++) {
        /* Done: 0..2999, and 3001..4999 except 4095. */
        c.results[i].index = i < 3000 ? i : i + 1;
        c.results[i].text = strdup(c.results[i].index == 4095 ? "7" : "2");
    }
    c.results[N - 1].index = 9999999;
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    qcmd_free(&c);
    CHECK_INT_EQ(queue_next_pending(q, id, 0), 3000);
    CHECK_INT_EQ(queue_done_prefix(q, id, 0), 3000);
    CHECK_INT_EQ(queue_next_pending(q, id, 3001), 5000);
    CHECK_INT_EQ(queue_done_prefix(q, id, 3001), 1999);
    CHECK_INT_EQ(queue_next_pending(q, id, 9999999), 10000000);
    CHECK_INT_EQ(queue_next_pending(q, id, 9999998), 9999998);
    CHECK_STR_EQ(queue_result(q, id, 4095), "7");
    CHECK_STR_EQ(queue_result(q, id, 9999999), "2");
    struct batch_info info;
    CHECK_INT_EQ(queue_batch_get(q, id, &info), 0);
    CHECK_INT_EQ(info.done, N);
    queue_free(q);
}

static void test_text_validation(void)
{
    CHECK(qresult_text_valid("", 0));
    CHECK(qresult_text_valid("2 3 unfactored:77", 17));
    CHECK(!qresult_text_valid("2,3", 3));
    CHECK(!qresult_text_valid("A", 1));
    CHECK(!qresult_text_valid("2\n", 2));
    char *big = malloc(QRESULT_MAX_TEXT + 1);
    memset(big, '7', QRESULT_MAX_TEXT + 1);
    CHECK(qresult_text_valid(big, QRESULT_MAX_TEXT));
    CHECK(!qresult_text_valid(big, QRESULT_MAX_TEXT + 1));
    free(big);
}

/* The outcome names what changed, for the node's effects. */
static void test_outcome(void)
{
    struct queue *q = queue_new();
    char err[128];
    struct queue_outcome out;
    struct qcmd c = make_submit("4", 3, "b");
    CHECK_INT_EQ(queue_apply(q, &c, &out, err, sizeof err), 0);
    CHECK_INT_EQ(out.batch_id, 1);
    CHECK_STR_EQ(err, "");
    qcmd_free(&c);
    c = make_complete(1, 3, U(0), "2 2", U(0), "2 2", U(1), "5");
    CHECK_INT_EQ(queue_apply(q, &c, &out, err, sizeof err), 0);
    CHECK_INT_EQ(out.batch_id, 1);
    CHECK_INT_EQ(out.recorded, 2);  /* the duplicate is not counted */
    CHECK(!out.finished);
    qcmd_free(&c);
    c = make_complete(1, 2, U(2), "2 3", U(1), "5");
    CHECK_INT_EQ(queue_apply(q, &c, &out, err, sizeof err), 0);
    CHECK_INT_EQ(out.recorded, 1);
    CHECK(out.finished);
    qcmd_free(&c);
    c = make_cancel(1);
    CHECK_INT_EQ(queue_apply(q, &c, &out, err, sizeof err), -1);
    CHECK_INT_EQ(out.batch_id, 1);
    CHECK(strstr(err, "already done") != NULL);
    qcmd_free(&c);
    queue_free(q);
}

/* The eight-bytes-at-a-time check agrees with the rule byte by byte: every
 * byte value at every position of texts of every length up to 24. */
static void test_result_text_charset(void)
{
    char text[24];
    for (size_t len = 1; len <= sizeof text; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (int b = 0; b < 256; b++) {
                memset(text, '7', len);
                text[pos] = (char)b;
                bool want = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || b == ':' ||
                            b == ' ';
                CHECK(qresult_text_valid(text, len) == want);
            }
        }
    }
    CHECK(qresult_text_valid("", 0));
    CHECK(qresult_text_valid("3 5 unfactored:1234567890123", 27));
}

/* Texts of the right charset that are no factorisation are skipped, each
 * alone, by every replica alike: apply reports them (-1, the first named)
 * and applies the rest. */
static void test_malformed_text_skipped(void)
{
    static const char *bad[] = {"2  2", " 2", "2 ", "02", "12:", "unfactored:", "0",
                                "unfactored:9 3", "3 unfactored:9 unfactored:9", "2 x"};
    enum { N_BAD = sizeof bad / sizeof *bad };
    struct queue *q = queue_new();
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, make_submit("4", N_BAD + 1, ""), &id, err), 0);
    for (size_t i = 0; i < N_BAD; i++) {
        CHECK(qresult_text_valid(bad[i], strlen(bad[i])));
        CHECK(!qresult_text_well_formed(bad[i], strlen(bad[i])));
        struct qcmd c = make_complete(id, 2, U(i), bad[i], U(N_BAD), "2 7");
        CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), -1);
        CHECK(strstr(err, "malformed result text") != NULL);
        qcmd_free(&c);
        CHECK(!queue_is_done(q, id, i));
    }
    CHECK(queue_is_done(q, id, N_BAD));
    static const char *good[] = {"", "2", "2 2 3", "unfactored:91", "3 unfactored:91",
                                 "1000000007 1000000009"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(qresult_text_well_formed(good[i], strlen(good[i])));
    queue_free(q);
}

/* A cluster numbers its batches from its own base; the queue's next id
 * wins once the range is in use, and without a cluster it is the next id. */
static void test_next_batch_id_of_a_cluster(void)
{
    struct queue *q = queue_new();
    uint64_t base = queue_batch_id_base(0x1234);
    CHECK_INT_EQ(base, ((uint64_t)(0x1234 % 0xFFFF) + 1) << 20 | 1);
    CHECK_INT_EQ(queue_next_batch_id_in(q, 0), 1);
    CHECK_INT_EQ(queue_next_batch_id_in(q, 0x1234), base);
    struct qcmd s = make_submit("7", 1, "");
    s.batch_id = base;
    char err[128];
    uint64_t id;
    CHECK_INT_EQ(apply_free(q, s, &id, err), 0);
    CHECK_INT_EQ(id, base);
    CHECK_INT_EQ(queue_next_batch_id_in(q, 0x1234), base + 1);
    /* another cluster's base below this one's range is not taken back */
    CHECK_INT_EQ(queue_next_batch_id_in(q, 1), base + 1);
    queue_free(q);
}

int main(void)
{
    test_next_batch_id_of_a_cluster();
    test_result_text_charset();
    test_submit_assigns_ids();
    test_submit_requested_ids();
    test_submit_rejects_invalid();
    test_complete_until_done();
    test_duplicate_complete_ignored();
    test_bad_entries_fail_alone();
    test_unfactored_counted();
    test_malformed_text_skipped();
    test_cancel();
    test_unknown_batch();
    test_prefix_and_pending();
    test_pending_big_batch();
    test_text_validation();
    test_outcome();
    return 0;
}
