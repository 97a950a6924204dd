/* test_layout.c - the dashboard's pure helpers: screen layout, column
 * fitting, meters and number formats (no terminal needed). */
#include <math.h>

#include "check.h"
#include "dashboard.h"
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
    layout_compute(&l, 24, 80, 3, 2, 8);
    check_stacked(&l, 24, 80);
    CHECK_INT_EQ(l.nodes.h, 5);
    CHECK(l.batches.h >= 4);

    /* crowded: rows are shared out in turn */
    layout_compute(&l, 24, 80, 128, 64, 8);
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

static void test_hard_line(void)
{
    char b[160];
    struct view_hard h = {.node = "b2c3d4e5f6071829", .batch = 2, .index = 17, .phase = "sieving",
                          .bits = 206, .found = 4300, .needed = 5901, .rate = 566.2,
                          .eta_known = true, .eta_s = 125};
    fmt_hard(b, sizeof b, &h);
    CHECK_STR_EQ(b, "#17 206 bits  sieving 4300/5901 sets  566/s  ETA 2m05s");
    h = (struct view_hard){.index = 0, .phase = "ecm", .bits = 400, .b1 = 50000, .found = 3,
                           .needed = 214, .rate = 1.5};
    fmt_hard(b, sizeof b, &h);
    CHECK_STR_EQ(b, "#0 400 bits  ecm B1=50000 3/214 curves  1.5/s  ETA -");
    h = (struct view_hard){.index = 9, .phase = "matrix", .bits = 206};
    fmt_hard(b, sizeof b, &h);
    CHECK_STR_EQ(b, "#9 206 bits  matrix");
    fmt_hard(b, 8, &h); /* cut, terminated */
    CHECK_STR_EQ(b, "#9 206 ");
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
    fmt_bytes(b, sizeof b, 512);
    CHECK_STR_EQ(b, "512B");
    fmt_bytes(b, sizeof b, 1536);
    CHECK_STR_EQ(b, "1.5KiB");
    fmt_bytes(b, sizeof b, (uint64_t)512 << 20);
    CHECK_STR_EQ(b, "512MiB");

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

/* The submit form: what is accepted, what is shown as an error. */
static void test_submit_form(void)
{
    struct ui_submit r;
    char err[200];
    const char *empty[4] = {"", "", "", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_CLASSIC, empty, &r, err, sizeof err), 0);
    CHECK_STR_EQ(r.name, "classic");
    const char *range[4] = {"1000", "50", "", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_RANGE, range, &r, err, sizeof err), 0);
    CHECK_STR_EQ(r.start, "1000");
    CHECK(r.count == 50 && r.step == 1);
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_RANGE, empty, &r, err, sizeof err), 0);
    CHECK_STR_EQ(r.start, "999999999999");
    CHECK(r.count == 999);
    const char *bad_start[4] = {"12a", "5", "1", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_RANGE, bad_start, &r, err, sizeof err), -1);
    CHECK(strstr(err, "start") != NULL);
    const char *zero_count[4] = {"1", "0", "", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_RANGE, zero_count, &r, err, sizeof err), -1);
    CHECK_STR_EQ(err, "count must be a whole number from 1 to 10000000");
    const char *neg_step[4] = {"1", "5", "-1", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_RANGE, neg_step, &r, err, sizeof err), -1);
    const char *semi[4] = {"80", "10", "42", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_SEMIPRIMES, semi, &r, err, sizeof err), 0);
    CHECK(r.bits == 80 && r.count == 10 && r.seed == 42);
    const char *tiny[4] = {"8", "10", "", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_SEMIPRIMES, tiny, &r, err, sizeof err), -1);
    CHECK_STR_EQ(err, "bits must be a whole number from 16 to 1024");
    /* the limits and defaults of src/protocol/submit_rules.h, as the CLI's */
    const char *max_count[4] = {"1", "10000000", "", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_RANGE, max_count, &r, err, sizeof err), 0);
    const char *over[4] = {"1", "10000001", "", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_RANGE, over, &r, err, sizeof err), -1);
    const char *semi_over[4] = {"64", "100000000", "", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_SEMIPRIMES, semi_over, &r, err, sizeof err), -1);
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_SEMIPRIMES, empty, &r, err, sizeof err), 0);
    CHECK(r.bits == 64 && r.count == 100 && r.fresh_seed);   /* the node draws a seed */
    const char *seed0[4] = {"", "", "0", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_SEMIPRIMES, seed0, &r, err, sizeof err), 0);
    CHECK(r.seed == 0 && !r.fresh_seed);
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_FILE, empty, &r, err, sizeof err), -1);
    const char *file[4] = {"/tmp/x/nums.txt", "", "", ""};
    CHECK_INT_EQ(ui_submit_parse(UI_SUBMIT_FILE, file, &r, err, sizeof err), 0);
    CHECK_STR_EQ(r.name, "nums.txt");
}

static struct ui_history hist;   /* large: not on the stack */
static struct mesh_view snap;

static void test_history_and_sparkline(void)
{
    snprintf(snap.nodes[0].id, sizeof snap.nodes[0].id, "a1");
    snap.nodes[0].connected = true;
    snap.n_nodes = 1;
    snap.batches[0] = (struct view_batch){.id = 4, .state = "running", .total = 1000};
    snap.n_batches = 1;
    for (int i = 0; i < 70; i++) {
        snap.nodes[0].rate = i < 65 ? 0 : 100;
        snap.batches[0].done = (uint64_t)i * 10;
        hist_sample(&hist, &snap, 1.0 + i);
        hist_sample(&hist, &snap, 1.5 + i);   /* within the second: no sample */
    }
    float r[HIST_SAMPLES];
    CHECK_INT_EQ((int)hist_node_rates(&hist, "a1", r, HIST_SAMPLES), HIST_SAMPLES);
    CHECK(r[HIST_SAMPLES - 1] == 100 && r[0] == 0);
    CHECK_INT_EQ((int)hist_node_rates(&hist, "zz", r, HIST_SAMPLES), 0);
    CHECK(fabs(hist_batch_rate(&hist, 4) - 10.0) < 0.01);
    char text[256];
    float v[4] = {0, 1, 2, 4};
    spark_text(text, sizeof text, v, 4, 6, false);
    CHECK_STR_EQ(text, "   -+@");   /* right-aligned, scaled to the top */
    spark_text(text, sizeof text, v, 4, 4, true);
    CHECK_STR_EQ(text, " \u2583\u2585\u2588");
    fmt_eta(text, sizeof text, 42.2);
    CHECK_STR_EQ(text, "43s");
    fmt_eta(text, sizeof text, 3725);
    CHECK_STR_EQ(text, "1h02m");
    fmt_eta(text, sizeof text, -1);
    CHECK_STR_EQ(text, "-");
}

int main(void)
{
    test_hard_line();
    test_submit_form();
    test_history_and_sparkline();
    test_layout();
    test_columns();
    test_meter();
    test_formats();
    puts("ok");
    return 0;
}
