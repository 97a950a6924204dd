/* test_layout.c - the dashboard's pure helpers: screen layout, column
 * fitting, meters and number formats (no terminal needed). */
#include <math.h>

#include "check.h"
#include "panels.h"

static void check_stacked(const struct layout *l, int lines, int cols)
{
    const struct rect *order[] = {&l->header, &l->nodes, &l->totals, &l->batches,
                                  &l->log, &l->status, &l->footer};
    int y = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        CHECK_INT_EQ(order[i]->y, y);
        CHECK_INT_EQ(order[i]->x, 0);
        CHECK_INT_EQ(order[i]->w, cols);
        CHECK(order[i]->h >= 1);
        y += order[i]->h;
    }
    CHECK_INT_EQ(y, lines);          /* every line used, nothing off screen */
}

static void test_layout(void)
{
    struct layout l;
    /* 80x24, 3 nodes, 2 batches, 3 log lines: everything shows */
    layout_compute(&l, 24, 80, 3, 2, 3);
    CHECK(!l.too_small);
    check_stacked(&l, 24, 80);
    CHECK_INT_EQ(l.nodes.h, 2 + 3);
    CHECK(l.batches.h >= 2 + 2);
    CHECK_INT_EQ(l.log.h, 1 + 3);
    CHECK_INT_EQ(l.footer.y, 23);

    /* a full log still leaves the nodes and batches their rows */
    layout_compute(&l, 24, 80, 3, 2, UI_LOG_LINES);
    check_stacked(&l, 24, 80);
    CHECK_INT_EQ(l.nodes.h, 5);
    CHECK(l.batches.h >= 4);

    /* crowded: rows are shared out in turn */
    layout_compute(&l, 24, 80, 128, 64, UI_LOG_LINES);
    check_stacked(&l, 24, 80);
    CHECK(abs((l.nodes.h - 2) - (l.batches.h - 2)) <= 1);
    CHECK(l.log.h >= 2);

    /* bigger terminals give the room to whoever has more to show */
    layout_compute(&l, 60, 200, 40, 2, 3);
    check_stacked(&l, 60, 200);
    CHECK_INT_EQ(l.nodes.h, 2 + 40);

    /* the smallest usable screen, and below it */
    layout_compute(&l, UI_MIN_LINES, UI_MIN_COLS, 10, 10, 8);
    CHECK(!l.too_small);
    check_stacked(&l, UI_MIN_LINES, UI_MIN_COLS);
    layout_compute(&l, UI_MIN_LINES - 1, 80, 1, 1, 1);
    CHECK(l.too_small);
    layout_compute(&l, 24, UI_MIN_COLS - 1, 1, 1, 1);
    CHECK(l.too_small);
    /* nothing to show yet */
    layout_compute(&l, 24, 80, 0, 0, 0);
    check_stacked(&l, 24, 80);
}

static void test_columns(void)
{
    struct column c[] = {
        {"A", 10, 20, 0, 1, false, 0, false},
        {"B", 10, 10, 2, 0, false, 0, false},
        {"C", 10, 30, 1, 2, true, 0, false},
    };
    columns_fit(c, 3, 80);            /* 32 needed: A grows to 20, C to 30 */
    CHECK(c[0].shown && c[1].shown && c[2].shown);
    CHECK_INT_EQ(c[0].w, 20);
    CHECK_INT_EQ(c[2].w, 30);
    CHECK_INT_EQ(c[0].x, 0);
    CHECK_INT_EQ(c[1].x, 21);
    CHECK_INT_EQ(c[2].x, 32);

    struct column d[] = {
        {"A", 10, 20, 0, 1, false, 0, false},
        {"B", 10, 10, 2, 0, false, 0, false},
        {"C", 10, 30, 1, 2, true, 0, false},
    };
    columns_fit(d, 3, 25);            /* C (drop 1) goes first */
    CHECK(d[0].shown && d[1].shown && !d[2].shown);
    CHECK(d[1].x + d[1].w <= 25);

    struct column e[] = {
        {"A", 10, 20, 0, 1, false, 0, false},
        {"B", 10, 10, 2, 0, false, 0, false},
    };
    columns_fit(e, 2, 5);             /* only essentials left: kept, clipped */
    CHECK(e[0].shown && !e[1].shown);
}

static void test_meter(void)
{
    CHECK_INT_EQ(meter_cells(10, 0, 4), 0);
    CHECK_INT_EQ(meter_cells(10, 4, 4), 10);
    CHECK_INT_EQ(meter_cells(10, 2, 4), 5);
    CHECK_INT_EQ(meter_cells(10, 1, 1000), 1);   /* some work shows */
    CHECK_INT_EQ(meter_cells(10, 999, 1000), 9); /* not done: not full */
    CHECK_INT_EQ(meter_cells(10, 5, 0), 0);      /* no workers */
    CHECK_INT_EQ(meter_cells(10, 9, 4), 10);     /* never more than all */
    CHECK_INT_EQ(meter_cells(0, 1, 1), 0);
    CHECK_INT_EQ(meter_cells(10, NAN, 4), 0);
}

static void test_formats(void)
{
    char b[32];
    fmt_rate(b, sizeof b, 0);
    CHECK_STR_EQ(b, "0/s");
    fmt_rate(b, sizeof b, 2.5);
    CHECK_STR_EQ(b, "2.5/s");
    fmt_rate(b, sizeof b, 812);
    CHECK_STR_EQ(b, "812/s");
    fmt_rate(b, sizeof b, 12345);
    CHECK_STR_EQ(b, "12.3k/s");
    fmt_rate(b, sizeof b, 4.56e6);
    CHECK_STR_EQ(b, "4.56M/s");
    fmt_rate(b, sizeof b, NAN);
    CHECK_STR_EQ(b, "0/s");

    fmt_ago(b, sizeof b, 0, true);
    CHECK_STR_EQ(b, "-");
    fmt_ago(b, sizeof b, -1, false);
    CHECK_STR_EQ(b, "never");
    fmt_ago(b, sizeof b, 0.34, false);
    CHECK_STR_EQ(b, "0.3s");
    fmt_ago(b, sizeof b, 42, false);
    CHECK_STR_EQ(b, "42s");
    fmt_ago(b, sizeof b, 600, false);
    CHECK_STR_EQ(b, "10m");
    fmt_ago(b, sizeof b, 3 * 3600, false);
    CHECK_STR_EQ(b, "3h");
    fmt_ago(b, sizeof b, 5 * 86400, false);
    CHECK_STR_EQ(b, "5d");

    CHECK_INT_EQ(fmt_percent(0, 999), 0);
    CHECK_INT_EQ(fmt_percent(998, 999), 99);     /* floored: 100 only when done */
    CHECK_INT_EQ(fmt_percent(999, 999), 100);
    CHECK_INT_EQ(fmt_percent(5, 0), -1);
    CHECK_INT_EQ(fmt_percent(UINT64_MAX / 2, UINT64_MAX), 49);
}

int main(void)
{
    test_layout();
    test_columns();
    test_meter();
    test_formats();
    puts("ok");
    return 0;
}
