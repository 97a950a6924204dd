/* test_view.c - how the view counts and words things: the node rate's
 * window (stats.c), events folded and node ids named (view_text.c). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "stats.h"
#include "view_text.h"

/* Work for 10 s at 100 numbers/s, then none: the rate is the window's
 * average while working and exactly 0 five seconds after the work stops
 * (the smoothed average it replaces still read 7.8/s after six). */
static void test_rate_window(void)
{
    struct rate_meter m = {0};
    uint64_t total = 0, t = 1000;
    rate_meter_tick(&m, total, t);
    CHECK(m.rate == 0);
    for (int s = 0; s < 10; s++) {
        total += 100;
        t += 1000;
        rate_meter_tick(&m, total, t);
        CHECK(m.rate > 99.9 && m.rate < 100.1);
    }
    double was = m.rate;
    for (int s = 1; s <= RATE_WINDOW_S; s++) {
        t += 1000;
        rate_meter_tick(&m, total, t);
        CHECK(m.rate < was);            /* falls every second */
        was = m.rate;
    }
    CHECK(m.rate == 0);                 /* exactly 0 after the window */
    rate_meter_tick(&m, total, t);      /* no time passed: unchanged */
    CHECK(m.rate == 0);
    /* uneven ticks: numbers over the time they took */
    t += 2500;
    rate_meter_tick(&m, total + 50, t);
    CHECK(m.rate > 0 && m.rate < 50.0 / 2.5 + 0.01);
}

static void test_events_alike(void)
{
    CHECK(view_events_alike("requeue", "lease of batch 5 [645,688) on beta expired: requeued",
                            "requeue", "lease of batch 5 [688,731) on beta expired: requeued"));
    CHECK(!view_events_alike("requeue", "lease of batch 5 [645,688) on beta expired",
                             "requeue", "lease of batch 5 [645,688) on gamma expired"));
    CHECK(!view_events_alike("requeue", "x 1", "warning", "x 1"));
    /* batch events are not folded unless identical: each batch counts */
    CHECK(!view_events_alike("batch", "batch 5 submitted: 10 numbers", "batch",
                             "batch 6 submitted: 10 numbers"));
    CHECK(view_events_alike("join", "node b joined", "join", "node b joined"));
}

static const char *names(void *ud, const char *id)
{
    (void)ud;
    return strcmp(id, "0123456789abcdef") == 0 ? "beta" : NULL;
}

static void test_name_ids(void)
{
    char t[160] = "lease of batch 5 [0,43) on 0123456789abcdef expired: requeued";
    view_name_ids(t, sizeof t, names, NULL);
    CHECK_STR_EQ(t, "lease of batch 5 [0,43) on beta expired: requeued");
    char u[160] = "16 leases of node 0123456789abcdef requeued; fedcba9876543210 unknown";
    view_name_ids(u, sizeof u, names, NULL);
    CHECK_STR_EQ(u, "16 leases of node beta requeued; fedcba9876543210 unknown");
    char w[160] = "x0123456789abcdef 0123456789abcdef0";   /* not whole words */
    view_name_ids(w, sizeof w, names, NULL);
    CHECK_STR_EQ(w, "x0123456789abcdef 0123456789abcdef0");
    char tiny[20] = "on 0123456789abcdef";                 /* a full buffer */
    view_name_ids(tiny, 20, names, NULL);
    CHECK_STR_EQ(tiny, "on beta");
}

int main(void)
{
    test_rate_window();
    test_events_alike();
    test_name_ids();
    puts("ok");
    return 0;
}
