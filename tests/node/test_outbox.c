/* test_outbox.c - a node's results until committed (src/node/outbox.c)
 * on a real queue, the time made up: what is sent next, what a new leader
 * gets, what leaves, when results that seem lost are sent again, and that
 * a burst's memory is given back. */
#include <stdlib.h>
#include <string.h>

#include "../core/queue_helpers.h"
#include "check.h"
#include "node/outbox.h"

static void add(struct outbox *o, uint64_t batch, uint64_t index, const char *text)
{
    CHECK(outbox_add(o, batch, index, text, strlen(text)));
}

/* The next results to send, as "index=text index=text ..." of one batch. */
static char *next(const struct outbox *o, uint64_t *batch, size_t *which, size_t max)
{
    static char line[512];
    struct msg_result items[16];
    size_t n = outbox_next(o, batch, items, which, max);
    size_t len = 0;
    line[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%llu=%.*s", i ? " " : "",
                                (unsigned long long)items[i].index, (int)items[i].len,
                                items[i].text);
    return line;
}

static void commit(struct queue *q, uint64_t id, uint64_t index)
{
    struct qcmd c = make_complete(id, 1, index, "2 2");
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    qcmd_free(&c);
}

/* One batch at a time, in production order, at most max; sent ones not
 * again until a new leader. */
static void test_sends_in_order_by_batch(void)
{
    struct outbox *o = outbox_new();
    uint64_t batch = 0;
    size_t which[16];
    CHECK_INT_EQ(outbox_next(o, &batch, NULL, which, 16), 0);
    add(o, 7, 0, "2 2");
    add(o, 8, 5, "3");
    add(o, 7, 1, "5");
    add(o, 7, 2, "2 3");
    CHECK(outbox_count(o) == 4 && outbox_unsent(o) == 4);
    CHECK_STR_EQ(next(o, &batch, which, 2), "0=2 2 1=5");
    CHECK_INT_EQ(batch, 7);
    outbox_sent(o, which, 2, 100);
    CHECK_INT_EQ(outbox_unsent(o), 2);
    CHECK_STR_EQ(next(o, &batch, which, 16), "5=3");
    CHECK_INT_EQ(batch, 8);
    outbox_sent(o, which, 1, 100);
    CHECK_STR_EQ(next(o, &batch, which, 16), "2=2 3");
    outbox_sent(o, which, 1, 100);
    CHECK_INT_EQ(outbox_unsent(o), 0);
    CHECK_INT_EQ(outbox_next(o, &batch, NULL, which, 16), 0);
    CHECK_INT_EQ(outbox_count(o), 4);               /* kept until committed */
    outbox_unsend_all(o);                           /* a new leader: all again */
    CHECK_INT_EQ(outbox_unsent(o), 4);
    CHECK_STR_EQ(next(o, &batch, which, 16), "0=2 2 1=5 2=2 3");
    outbox_free(o);
}

/* Committed results and those of batches no longer running leave; the
 * kept texts stay whole after the arena is compacted. */
static void test_committed_leave(void)
{
    struct queue *q = queue_new();
    uint64_t a = apply_submit_chunked(q, 10, 0), b = apply_submit_chunked(q, 10, 0);
    struct outbox *o = outbox_new();
    add(o, a, 0, "2 2 2 5 5 5");
    add(o, a, 1, "7 11 13");
    add(o, b, 0, "17");
    add(o, a, 2, "19 23");
    uint64_t batch;
    size_t which[16];
    next(o, &batch, which, 1);
    outbox_sent(o, which, 1, 0);                    /* a:0 sent */
    commit(q, a, 0);
    commit(q, a, 2);
    commit(q, b, 0);
    outbox_prune(o, q, a, false);                   /* only a's looked at */
    CHECK(outbox_count(o) == 2 && outbox_unsent(o) == 2);
    CHECK_STR_EQ(next(o, &batch, which, 16), "1=7 11 13");
    outbox_prune(o, q, 0, true);
    CHECK(outbox_count(o) == 1 && outbox_unsent(o) == 1);
    struct qcmd c = make_cancel(a);
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    outbox_prune(o, q, a, false);                   /* cancelled: nothing to send */
    CHECK(outbox_count(o) == 0 && outbox_unsent(o) == 0);
    outbox_free(o);
    queue_free(q);
}

/* Texts move down a run of kept neighbours at a time: after committed
 * results leave from the front, the middle and the end, every kept text
 * is whole and in order. */
static void test_kept_runs_stay_whole(void)
{
    struct queue *q = queue_new();
    uint64_t a = apply_submit_chunked(q, 10, 0);
    struct outbox *o = outbox_new();
    const char *texts[] = {"2", "3", "2 2", "5", "2 3", "7", "2 2 2", "3 3"};
    for (uint64_t i = 0; i < 8; i++)
        add(o, a, i, texts[i]);
    commit(q, a, 0);
    commit(q, a, 3);
    commit(q, a, 4);
    commit(q, a, 7);
    outbox_prune(o, q, a, false);
    CHECK_INT_EQ(outbox_count(o), 4);
    uint64_t batch;
    size_t which[16];
    CHECK_STR_EQ(next(o, &batch, which, 16), "1=3 2=2 2 5=7 6=2 2 2");
    commit(q, a, 1);
    commit(q, a, 6);
    outbox_prune(o, q, a, false);
    CHECK_STR_EQ(next(o, &batch, which, 16), "2=2 2 5=7");
    outbox_free(o);
    queue_free(q);
}

/* Results sent OUTBOX_RESEND_MS ago go again only when nothing at all was
 * committed for as long, and the check runs once per OUTBOX_CHECK_MS. */
static void test_resend_when_quiet(void)
{
    struct queue *q = queue_new();
    uint64_t a = apply_submit_chunked(q, 10, 0);
    struct outbox *o = outbox_new();
    size_t again, which[16];
    uint64_t batch;
    CHECK(!outbox_check(o, q, 50000, &again));      /* empty: nothing to look at */
    add(o, a, 0, "2");
    add(o, a, 1, "3");
    next(o, &batch, which, 16);
    outbox_sent(o, which, 2, 10000);
    outbox_commit_seen(o, 11000);                   /* commits flow */
    CHECK(outbox_check(o, q, 13500, &again));
    CHECK_INT_EQ(again, 0);                         /* only 2.5 s since the commit */
    CHECK(!outbox_check(o, q, 14000, &again));      /* checked 0.5 s ago */
    CHECK(outbox_check(o, q, 14500, &again));       /* 3.5 s quiet, sent 4.5 s ago */
    CHECK_INT_EQ(again, 2);
    CHECK_INT_EQ(outbox_unsent(o), 2);
    CHECK_STR_EQ(next(o, &batch, which, 16), "0=2 1=3");
    outbox_sent(o, which, 2, 14600);
    CHECK(outbox_check(o, q, 16000, &again));
    CHECK_INT_EQ(again, 0);                         /* sent again 1.4 s ago */
    commit(q, a, 0);
    commit(q, a, 1);
    CHECK(outbox_check(o, q, 30000, &again));       /* committed: they leave */
    CHECK(again == 0 && outbox_count(o) == 0);
    outbox_free(o);
    queue_free(q);
}

/* A message that could not go leaves its results unsent; marking one sent
 * twice counts it once. */
static void test_sent_counts_once(void)
{
    struct outbox *o = outbox_new();
    add(o, 1, 0, "2");
    add(o, 1, 1, "3");
    uint64_t batch;
    size_t which[16];
    next(o, &batch, which, 16);
    outbox_sent(o, which, 1, 0);
    outbox_sent(o, which, 1, 0);
    CHECK_INT_EQ(outbox_unsent(o), 1);
    CHECK_STR_EQ(next(o, &batch, which, 16), "1=3");
    outbox_free(o);
}

/* Results of 64 KiB (a spread batch's relations) go at most
 * OUTBOX_SEND_BYTES to a message, so that one stays under the link's
 * 1 MiB; a single result is always sent, and the rest in later messages. */
static void test_bytes_bound_a_message(void)
{
    struct outbox *o = outbox_new();
    enum { BIG = 64 << 10, COUNT = 20 };
    char *text = malloc(BIG);
    CHECK(text != NULL);
    memset(text, 'a', BIG);
    for (uint64_t i = 0; i < COUNT; i++)
        CHECK(outbox_add(o, 9, i, text, BIG));
    uint64_t batch = 0;
    size_t which[64], sent = 0, messages = 0;
    struct msg_result items[64];
    while (outbox_unsent(o) > 0) {
        size_t n = outbox_next(o, &batch, items, which, 64);
        CHECK(n >= 1 && (size_t)n * BIG <= OUTBOX_SEND_BYTES);
        CHECK_INT_EQ(items[0].index, sent);
        outbox_sent(o, which, n, 100);
        sent += n;
        messages++;
    }
    CHECK_INT_EQ(sent, COUNT);
    CHECK_INT_EQ(messages, (COUNT + OUTBOX_SEND_BYTES / BIG - 1) / (OUTBOX_SEND_BYTES / BIG));
    outbox_free(o);
    free(text);
    /* One result larger than the bound alone: still sent, by itself. */
    text = malloc(OUTBOX_SEND_BYTES + 1);
    CHECK(text != NULL);
    memset(text, 'b', OUTBOX_SEND_BYTES + 1);
    o = outbox_new();
    CHECK(outbox_add(o, 9, 0, text, OUTBOX_SEND_BYTES + 1));
    CHECK(outbox_add(o, 9, 1, "2 2", 3));
    CHECK_INT_EQ(outbox_next(o, &batch, items, which, 64), 1);
    free(text);
    outbox_free(o);
}

/* A burst that left gives its memory back: a box that once held 100k
 * results (seconds of a busy node's, waiting for their commit) keeps what a
 * few hundred need, and works on. */
static void test_burst_given_back(void)
{
    struct queue *q = queue_new();
    uint64_t a = apply_submit_chunked(q, 200000, 0), b = apply_submit_chunked(q, 10, 0);
    struct outbox *o = outbox_new();
    for (uint64_t i = 0; i < 100000; i++)
        add(o, a, i, "2 3 5 7 11");
    add(o, b, 3, "13");
    size_t burst = outbox_held_bytes(o);
    CHECK(burst > 100000 * 10);
    struct qcmd c = make_cancel(a);
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    outbox_prune(o, q, 0, true);
    CHECK_INT_EQ(outbox_count(o), 1);
    CHECK(outbox_held_bytes(o) < burst / 8);
    uint64_t batch;
    size_t which[16];
    CHECK_STR_EQ(next(o, &batch, which, 16), "3=13");
    CHECK_INT_EQ(batch, b);
    outbox_free(o);
    queue_free(q);
}

/* An empty result (a spread range given up) first in a new box, and
 * again after a burst was given back: kept and sent as an empty text. */
static void test_empty_result(void)
{
    struct queue *q = queue_new();
    uint64_t a = apply_submit_chunked(q, 10, 0);
    struct outbox *o = outbox_new();
    add(o, a, 0, "");
    add(o, a, 1, "3");
    uint64_t batch;
    size_t which[16];
    CHECK_STR_EQ(next(o, &batch, which, 16), "0= 1=3");
    CHECK_INT_EQ(outbox_count(o), 2);
    outbox_free(o);
    queue_free(q);
}

/* The front prune takes the committed results before the first one not
 * committed, and only those: one committed behind it stays until the full
 * prune. What stays is sent whole and in order, unsent counts stay right,
 * and once the dead front is as big as the rest it is given back (the
 * texts moved down) without a result lost; results added after that
 * follow. */
static void test_front_prune(void)
{
    struct queue *q = queue_new();
    uint64_t a = apply_submit_chunked(q, 20, 0), b = apply_submit_chunked(q, 10, 0);
    struct outbox *o = outbox_new();
    const char *texts[] = {"2", "3", "2 2", "5", "2 3", "7", "2 2 2", "3 3"};
    for (uint64_t i = 0; i < 8; i++)
        add(o, a, i, texts[i]);
    uint64_t batch;
    size_t which[16];
    next(o, &batch, which, 3);
    outbox_sent(o, which, 3, 0);                    /* a:0..2 sent */
    commit(q, a, 0);
    commit(q, a, 1);
    commit(q, a, 3);                                /* behind a:2, not committed */
    outbox_prune_front(o, q);
    CHECK(outbox_count(o) == 6 && outbox_unsent(o) == 5);
    CHECK_STR_EQ(next(o, &batch, which, 16), "3=5 4=2 3 5=7 6=2 2 2 7=3 3");
    commit(q, a, 2);
    commit(q, a, 4);
    outbox_prune_front(o, q);                       /* a:2..4 leave: more dead than kept */
    CHECK(outbox_count(o) == 3 && outbox_unsent(o) == 3);
    CHECK_STR_EQ(next(o, &batch, which, 16), "5=7 6=2 2 2 7=3 3");
    add(o, b, 1, "11 13");
    add(o, a, 8, "2 2 2 2");
    commit(q, a, 5);
    outbox_prune_front(o, q);
    CHECK(outbox_count(o) == 4 && outbox_unsent(o) == 4);
    CHECK_STR_EQ(next(o, &batch, which, 16), "6=2 2 2 7=3 3 8=2 2 2 2");
    outbox_sent(o, which, 3, 0);
    CHECK_STR_EQ(next(o, &batch, which, 16), "1=11 13");
    CHECK_INT_EQ(batch, b);
    outbox_unsend_all(o);                           /* a new leader: all kept again */
    CHECK_INT_EQ(outbox_unsent(o), 4);
    CHECK_STR_EQ(next(o, &batch, which, 16), "6=2 2 2 7=3 3 8=2 2 2 2");
    struct qcmd c = make_cancel(a);
    char err[128];
    CHECK_INT_EQ(queue_apply(q, &c, NULL, err, sizeof err), 0);
    outbox_prune_front(o, q);                       /* a cancelled: a:8 waits behind b:1 */
    CHECK(outbox_count(o) == 2 && outbox_unsent(o) == 2);
    CHECK_STR_EQ(next(o, &batch, which, 16), "1=11 13");
    commit(q, b, 1);
    outbox_prune_front(o, q);
    CHECK(outbox_count(o) == 0 && outbox_unsent(o) == 0);
    CHECK_INT_EQ(outbox_next(o, &batch, NULL, which, 16), 0);
    add(o, b, 2, "3 3 3");                          /* an emptied box works on */
    CHECK_STR_EQ(next(o, &batch, which, 16), "2=3 3 3");
    outbox_free(o);
    queue_free(q);
}

int main(void)
{
    test_front_prune();
    test_empty_result();
    test_burst_given_back();
    test_bytes_bound_a_message();
    test_sends_in_order_by_batch();
    test_committed_leave();
    test_kept_runs_stay_whole();
    test_resend_when_quiet();
    test_sent_counts_once();
    return 0;
}
