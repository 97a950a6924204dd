/* test_taken.c - the results a leadership took and has not seen committed
 * (src/node/taken.c) on a real queue, the time made up: runs become one
 * range whatever their order, batches stay apart, committed results and
 * finished batches leave, a range that makes no progress is forgotten. */
#include <stdlib.h>

#include "../core/queue_helpers.h"
#include "check.h"
#include "node/taken.h"

static void add(struct taken *t, uint64_t batch, uint64_t index, uint64_t now)
{
    CHECK(taken_add(t, batch, index, now));
}

static void commit(struct queue *q, uint64_t id, uint64_t index)
{
    struct qcmd c = make_complete(id, 1, index, "2 2");
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    qcmd_free(&c);
}

/* A run taken in order is one range; so is one taken from both ends or
 * with its gap filled last. Only what was taken is held. */
static void test_runs_merge(void)
{
    struct taken *t = taken_new();
    CHECK(t != NULL);
    CHECK(!taken_has(t, 1, 0));
    for (uint64_t i = 10; i < 20; i++)
        add(t, 1, i, 0);
    CHECK_INT_EQ((long long)taken_ranges(t), 1);
    CHECK(taken_has(t, 1, 10) && taken_has(t, 1, 19));
    CHECK(!taken_has(t, 1, 9) && !taken_has(t, 1, 20));
    add(t, 1, 9, 0);   /* grows down */
    add(t, 1, 22, 0);  /* a range of its own */
    CHECK_INT_EQ((long long)taken_ranges(t), 2);
    CHECK(!taken_has(t, 1, 21));
    add(t, 1, 21, 0);  /* touches the one below: grows it */
    add(t, 1, 20, 0);  /* the gap: all one */
    CHECK_INT_EQ((long long)taken_ranges(t), 1);
    for (uint64_t i = 9; i < 23; i++)
        CHECK(taken_has(t, 1, i));
    add(t, 1, 15, 0);  /* held already: nothing changes */
    CHECK_INT_EQ((long long)taken_ranges(t), 1);
    taken_clear(t);
    CHECK_INT_EQ((long long)taken_ranges(t), 0);
    CHECK(!taken_has(t, 1, 15));
    taken_free(t);
}

/* The same indexes of two batches are two ranges; a lookup in one never
 * answers for the other, in any order of taking. */
static void test_batches_apart(void)
{
    struct taken *t = taken_new();
    CHECK(t != NULL);
    add(t, 2, 5, 0);
    add(t, 1, 5, 0);
    add(t, 3, 5, 0);
    add(t, 1, 6, 0);
    add(t, 2, 4, 0);
    CHECK_INT_EQ((long long)taken_ranges(t), 3);
    CHECK(taken_has(t, 1, 5) && taken_has(t, 1, 6) && !taken_has(t, 1, 4));
    CHECK(taken_has(t, 2, 4) && taken_has(t, 2, 5) && !taken_has(t, 2, 6));
    CHECK(taken_has(t, 3, 5) && !taken_has(t, 3, 4) && !taken_has(t, 3, 6));
    CHECK(!taken_has(t, 4, 5) && !taken_has(t, 0, 5));
    taken_free(t);
}

/* Many scattered ranges, taken in a shuffled order: each index held
 * exactly when it was taken (the binary search and its hint). */
static void test_scattered(void)
{
    enum { N = 4000 };
    struct taken *t = taken_new();
    CHECK(t != NULL);
    unsigned order[N];
    for (unsigned i = 0; i < N; i++)
        order[i] = i;
    unsigned long long x = 88172645463325252ull;
    for (unsigned i = N - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned j = (unsigned)(x % (i + 1)), tmp = order[i];
        order[i] = order[j], order[j] = tmp;
    }
    for (unsigned i = 0; i < N; i++)
        if (order[i] % 3 != 0)  /* every third index left out */
            add(t, 1 + order[i] % 2, order[i], 0);
    for (unsigned i = 0; i < N; i++)
        for (uint64_t b = 1; b <= 2; b++)
            CHECK(taken_has(t, b, i) == (i % 3 != 0 && b == 1 + i % 2));
    taken_free(t);
}

/* Committed results leave (the range's start moves on); a range that is
 * all committed, or whose batch is no longer running, goes; one whose
 * start made no progress for TAKEN_STALE_MS is forgotten. */
static void test_prune(void)
{
    struct queue *q = queue_new();
    CHECK(q != NULL);
    uint64_t a = apply_submit_chunked(q, 100, 10);
    uint64_t b = apply_submit_chunked(q, 100, 10);
    struct taken *t = taken_new();
    CHECK(t != NULL);
    for (uint64_t i = 0; i < 5; i++)
        add(t, a, i, 0);
    for (uint64_t i = 20; i < 30; i++)
        add(t, a, i, 0);
    for (uint64_t i = 0; i < 3; i++)
        add(t, b, i, 0);
    commit(q, a, 0);
    commit(q, a, 1);
    for (uint64_t i = 20; i < 30; i++)
        commit(q, a, i);
    char err[128];
    CHECK_INT_EQ(apply_free(q, make_cancel(b), NULL, err), 0);
    taken_prune(t, q, 1000);
    CHECK_INT_EQ((long long)taken_ranges(t), 1); /* a's [2, 5) */
    CHECK(!taken_has(t, a, 1) && taken_has(t, a, 2) && taken_has(t, a, 4));
    CHECK(!taken_has(t, b, 0));
    commit(q, a, 2);
    uint64_t moved = 1000 + TAKEN_STALE_MS - 1; /* in time: it moves on to 3 */
    taken_prune(t, q, moved);
    CHECK(taken_has(t, a, 3));
    taken_prune(t, q, moved + TAKEN_STALE_MS - 1);
    CHECK(taken_has(t, a, 3));
    taken_prune(t, q, moved + TAKEN_STALE_MS); /* no progress since */
    CHECK_INT_EQ((long long)taken_ranges(t), 0);
    CHECK(!taken_has(t, a, 3));
    taken_free(t);
    queue_free(q);
}

int main(void)
{
    test_runs_merge();
    test_batches_apart();
    test_scattered();
    test_prune();
    return 0;
}
