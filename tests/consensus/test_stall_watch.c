/* test_stall_watch.c - the leader's decision that a follower is stuck
 * (src/consensus/stall_watch.h), on a clock passed in. */
#include <string.h>

#include "check.h"
#include "stall_watch.h"

enum { B = STALL_WATCH_BOUND_MS, STEP = 500 };

/* Looks every STEP ms from t to t + span with the same figures; the time
 * of the first verdict, or 0 when none. */
static uint64_t run_applied(struct stall_watch *w, uint64_t t, uint64_t span, uint64_t match,
                            uint64_t applied, uint64_t commit, bool answered)
{
    for (uint64_t now = t; now <= t + span; now += STEP)
        if (stall_watch_look(w, match, applied, commit, answered, now, B))
            return now;
    return 0;
}

static uint64_t run(struct stall_watch *w, uint64_t t, uint64_t span, uint64_t match,
                    uint64_t commit, bool answered)
{
    return run_applied(w, t, span, match, UINT64_MAX, commit, answered);
}

static void test_stuck_answering_follower(void)
{
    struct stall_watch w;
    memset(&w, 0, sizeof w);
    /* Behind from t = 1000 on, answering: stuck exactly at the bound. */
    CHECK_INT_EQ(run(&w, 1000, B - STEP, 40, 90, true), 0);
    CHECK(stall_watch_look(&w, 40, UINT64_MAX, 90, true, 1000 + B, B));
    /* Then once per bound while it lasts. */
    CHECK_INT_EQ(run(&w, 1000 + B + STEP, B - 2 * STEP, 40, 95, true), 0);
    CHECK(stall_watch_look(&w, 40, UINT64_MAX, 95, true, 1000 + 2 * B, B));
}

static void test_moving_or_caught_up_is_not_stuck(void)
{
    struct stall_watch w;
    memset(&w, 0, sizeof w);
    /* A follower catching up slowly (a big snapshot, a slow disk) moves. */
    uint64_t now = 0;
    for (uint64_t match = 10; match < 60; match++, now += 1000)
        CHECK(!stall_watch_look(&w, match, UINT64_MAX, 100, true, now, B));
    /* The clock of "behind" restarts at each move. */
    CHECK_INT_EQ(run(&w, now, B - STEP, 60, 100, true), 0);
    /* Caught up: not behind, however long. */
    memset(&w, 0, sizeof w);
    CHECK_INT_EQ(run(&w, 0, 3 * B, 100, 100, true), 0);
    CHECK_INT_EQ(run(&w, 3 * B, 3 * B, 120, 100, true), 0); /* ahead (a stale report) */
}

static void test_silent_follower_is_not_stuck(void)
{
    struct stall_watch w;
    memset(&w, 0, sizeof w);
    /* Never answered (down, cut off): never stuck. */
    CHECK_INT_EQ(run(&w, 0, 3 * B, 5, 100, false), 0);
    /* Answered once, then silent past STALL_WATCH_ANSWER_MS: not stuck. */
    CHECK(!stall_watch_look(&w, 5, UINT64_MAX, 100, true, 3 * B + STEP, B));
    CHECK_INT_EQ(run(&w, 3 * B + 2 * STEP, 3 * B, 5, 100, false), 0);
    /* Answers seen only now and then (raft marks them per election
     * timeout): still answering, still stuck at the bound. */
    memset(&w, 0, sizeof w);
    uint64_t verdict = 0;
    for (uint64_t now = 0; verdict == 0 && now <= 2 * B; now += STEP)
        if (stall_watch_look(&w, 5, UINT64_MAX, 100, now % 2000 == 0, now, B))
            verdict = now;
    CHECK_INT_EQ(verdict, B);
    /* A silence longer than STALL_WATCH_ANSWER_MS restarts the clock. */
    memset(&w, 0, sizeof w);
    CHECK(!stall_watch_look(&w, 5, UINT64_MAX, 100, true, 0, B));
    CHECK(!stall_watch_look(&w, 5, UINT64_MAX, 100, false, STALL_WATCH_ANSWER_MS + 1, B));
    uint64_t back = STALL_WATCH_ANSWER_MS + 2;
    CHECK_INT_EQ(run(&w, back, B + STEP, 5, 100, true), back + B);
}

/* Seed 115's stale match: the leader's match index equals its commit, the
 * follower's applied index (its gossip) stays below. */
static void test_applied_below_match(void)
{
    struct stall_watch w;
    memset(&w, 0, sizeof w);
    CHECK_INT_EQ(run_applied(&w, 0, 3 * B, 93, 93, 93, true), 0);   /* caught up */
    CHECK_INT_EQ(run_applied(&w, 3 * B, 3 * B, 93, 91, 93, true), 4 * B);
    /* Applying again: moving, not stuck. */
    memset(&w, 0, sizeof w);
    uint64_t now = 0;
    for (uint64_t applied = 50; applied < 93; applied++, now += 1000)
        CHECK(!stall_watch_look(&w, 93, applied, 93, true, now, B));
}

int main(void)
{
    test_applied_below_match();
    test_stuck_answering_follower();
    test_moving_or_caught_up_is_not_stuck();
    test_silent_follower_is_not_stuck();
    return 0;
}
