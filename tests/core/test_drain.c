/* test_drain.c - the replicated per-node drained flag. */
#include "queue_helpers.h"

static void test_drain_and_undrain(void)
{
    struct queue *q = queue_new();
    char err[128];
    CHECK(!queue_node_drained(q, 42));
    CHECK_INT_EQ(apply_free(q, make_drain(42, true), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_drain(7, true), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_drain(42, true), NULL, err), 0);  /* idempotent */
    CHECK(queue_node_drained(q, 42));
    CHECK(queue_node_drained(q, 7));
    CHECK(!queue_node_drained(q, 8));
    CHECK_INT_EQ(queue_drained_count(q), 2);
    CHECK_INT_EQ(queue_drained_at(q, 0), 7);  /* ascending */
    CHECK_INT_EQ(queue_drained_at(q, 1), 42);
    CHECK_INT_EQ(queue_drained_at(q, 2), 0);
    CHECK_INT_EQ(apply_free(q, make_drain(42, false), NULL, err), 0);
    CHECK_INT_EQ(apply_free(q, make_drain(99, false), NULL, err), 0);  /* never drained */
    CHECK(!queue_node_drained(q, 42));
    CHECK_INT_EQ(queue_drained_count(q), 1);
    queue_free(q);
}

static void test_drain_outcome_and_refusal(void)
{
    struct queue *q = queue_new();
    char err[128];
    struct queue_outcome out;
    struct qcmd c = make_drain(5, true);
    CHECK_INT_EQ(queue_apply(q, &c, &out, err, sizeof err), 0);
    CHECK_INT_EQ(out.node_id, 5);
    c = make_drain(0, true);
    CHECK_INT_EQ(queue_apply(q, &c, &out, err, sizeof err), -1);
    CHECK(strstr(err, "node id 0") != NULL);
    CHECK_INT_EQ(queue_drained_count(q), 1);
    queue_free(q);
}

/* The flag is replicated state: it survives snapshot and restore, and the
 * bytes do not depend on the order the nodes were drained in. */
static void test_drain_in_snapshot(void)
{
    struct queue *a = queue_new(), *b = queue_new(), *r = queue_new();
    char err[128];
    CHECK_INT_EQ(apply_free(a, make_drain(3, true), NULL, err), 0);
    CHECK_INT_EQ(apply_free(a, make_drain(1000000, true), NULL, err), 0);
    CHECK_INT_EQ(apply_free(b, make_drain(1000000, true), NULL, err), 0);
    CHECK_INT_EQ(apply_free(b, make_drain(3, true), NULL, err), 0);
    uint8_t *sa, *sb, *sr;
    size_t la, lb, lr;
    CHECK_INT_EQ(queue_snapshot(a, &sa, &la), 0);
    CHECK_INT_EQ(queue_snapshot(b, &sb, &lb), 0);
    CHECK(la == lb && memcmp(sa, sb, la) == 0);
    CHECK_INT_EQ(queue_restore(r, sa, la), 0);
    CHECK(queue_node_drained(r, 3));
    CHECK(queue_node_drained(r, 1000000));
    CHECK_INT_EQ(queue_snapshot(r, &sr, &lr), 0);
    CHECK(lr == la && memcmp(sr, sa, la) == 0);
    free(sa);
    free(sb);
    free(sr);
    queue_free(a);
    queue_free(b);
    queue_free(r);
}

static void test_drain_roundtrip_codec(void)
{
    struct qcmd c = make_drain(UINT64_MAX, true), d;
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), 0);
    CHECK_INT_EQ(qcmd_decode(buf, len, &d), 0);
    CHECK_INT_EQ(d.type, QCMD_DRAIN);
    CHECK(d.node_id == UINT64_MAX);
    CHECK(d.drained);
    buf[len - 1] = 2;  /* the flag is a strict 0 or 1 */
    CHECK_INT_EQ(qcmd_decode(buf, len, &d), -1);
    free(buf);
}

int main(void)
{
    test_drain_and_undrain();
    test_drain_outcome_and_refusal();
    test_drain_in_snapshot();
    test_drain_roundtrip_codec();
    return 0;
}
