/* panels.h - internals of the dashboard: layout, meters and panels.
 *
 * Everything here draws on ncurses' stdscr. ncurses keeps the screen state
 * in its own globals (unavoidable); the dashboard itself has no global
 * mutable state: what it needs lives in struct ui (dashboard.c) and is
 * passed down as struct ui_view.
 *
 * The pure helpers (layout_compute, meter_bar, fmt_*) use no ncurses and
 * are unit-tested (tests/ui/test_layout.c). */
#ifndef MESH_UI_PANELS_H
#define MESH_UI_PANELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h"

/* ---- colors and attributes (color pair numbers) ---------------------- */
enum ui_pair {
    UI_PAIR_OK = 1,     /* green: meter bars, done */
    UI_PAIR_BAD,        /* red: down links, errors */
    UI_PAIR_WARN,       /* yellow: draining, cancelled */
    UI_PAIR_TITLE,      /* black on cyan: panel title bars */
    UI_PAIR_HEAD,       /* cyan: column headers, header line */
    UI_PAIR_KEY,        /* black on cyan: footer descriptions */
    UI_PAIR_SELECT,     /* black on green... selected row */
};

/* Attribute for a role; falls back to plain attributes without colors. */
unsigned ui_attr(bool colors, enum ui_pair pair);

/* ---- layout ----------------------------------------------------------- */
struct rect { int y, x, h, w; };

struct layout {
    bool too_small;
    struct rect header;     /* 2 lines */
    struct rect nodes;      /* title + column header + rows */
    struct rect totals;     /* 1 line */
    struct rect batches;    /* title + column header + rows */
    struct rect log;        /* title + rows */
    struct rect status;     /* 1 line */
    struct rect footer;     /* 1 line */
};

enum { UI_MIN_LINES = 13, UI_MIN_COLS = 40 };

/* Splits a lines x cols screen between the panels for the given contents.
 * Pure. */
void layout_compute(struct layout *l, int lines, int cols, size_t n_nodes,
                    size_t n_batches, size_t n_events);

/* ---- text helpers (pure) ----------------------------------------------- */
/* "812/s", "12.3k/s", "4.56M/s" */
void fmt_rate(char *out, size_t outsz, double rate);
/* "now", "0.4s", "12s", "3m", "2h", "4d", "never" */
void fmt_ago(char *out, size_t outsz, double seconds, bool self);
/* "512B", "1.5KiB", "12MiB", "4.0GiB": sizes in binary units */
void fmt_bytes(char *out, size_t outsz, uint64_t bytes);
/* A worker on a long number, for the batch details:
 * "#12 206 bits  sieving 4300/5901 sets  566/s  ETA 3s", or for ECM
 * "#12 400 bits  ecm B1=50000 3/214 curves  1.5/s  ETA 2m20s", or with
 * no counts "#12 206 bits  matrix". */
void fmt_hard(char *out, size_t outsz, const struct view_hard *h);
/* Integer percent, floored so that 100% means complete; -1 when total 0. */
int fmt_percent(uint64_t done, uint64_t total);

/* ---- meters (pure part) ----------------------------------------------- */
/* Number of bar cells out of `cells` for used/total (rounded, at least 1
 * when used > 0, all cells only when used >= total). */
int meter_cells(int cells, double used, double total);

/* ---- table columns (pure) -------------------------------------------- */
struct column {
    const char *title;
    int w, max;         /* minimum and maximum width */
    int drop;           /* 0: always shown; else dropped lowest first when narrow */
    int grow;           /* 0: fixed; else gets spare width, lowest rank first */
    bool right;         /* right-aligned */
    int x;              /* out: position */
    bool shown;         /* out */
};
/* Fits the columns into width (one space between columns). */
void columns_fit(struct column *c, size_t n, int width);

/* ---- drawing (ncurses) ----------------------------------------------- */
/* Writes s at (y, x) clipped to w columns, sanitizing control characters;
 * returns the columns written. */
int ui_put(int y, int x, int w, unsigned attr, const char *s);
/* Like ui_put, padded with spaces to exactly w columns. */
void ui_put_pad(int y, int x, int w, unsigned attr, const char *s);
/* A full-width title bar "Title" in the title color. */
void ui_title(const struct rect *r, bool colors, const char *title);
/* Column headers of a table on line y. */
void columns_header(int y, int x0, const struct column *c, size_t n, bool colors);
/* One cell: text clipped and padded (or right-aligned) to the column. */
void column_cell(int y, int x0, const struct column *c, unsigned attr, const char *text);
/* "[|||||    ] 3/4": a meter of total width w (text included). */
void meter_draw(int y, int x, int w, bool colors, unsigned bar_attr,
                double used, double total, const char *text);

/* ---- history (pure): per node rate samples, per batch rates ---------- */
enum { HIST_SAMPLES = 60 };           /* one a second: the last minute */
struct hist_node {
    char id[17];
    float rate[HIST_SAMPLES];         /* ring, oldest first from `next` */
    unsigned next, count;
};
struct hist_batch {
    uint64_t id, done;
    double at_s, rate;                /* numbers/s, smoothed */
};
struct ui_history {
    struct hist_node nodes[VIEW_MAX_NODES];
    size_t n_nodes;
    struct hist_batch batches[VIEW_MAX_BATCHES];
    size_t n_batches;
    double last_sample_s;
};
/* Takes the rates of a snapshot at time now_s (seconds): node rates once a
 * second, batch rates from their done counts. */
void hist_sample(struct ui_history *h, const struct mesh_view *s, double now_s);
/* The node's last samples, oldest first, into out; returns how many. */
size_t hist_node_rates(const struct ui_history *h, const char *id, float *out, size_t max);
/* A batch's rate in numbers/s (0 unknown). */
double hist_batch_rate(const struct ui_history *h, uint64_t id);
/* A sparkline of the values into out (cells characters; UTF-8 blocks or
 * ASCII), scaled to the largest value. */
void spark_text(char *out, size_t outsz, const float *v, size_t n, int cells, bool utf8);
/* "12s", "4m05s", "2h10m", "-" when unknown. */
void fmt_eta(char *out, size_t outsz, double seconds);

/* What the panels draw from. */
enum ui_focus { FOCUS_NODES, FOCUS_BATCHES };
struct ui_view {
    const struct mesh_view *snap;   /* NULL before the first update */
    const struct ui_history *hist;
    bool colors;
    bool utf8;
    enum ui_focus focus;
    int sel_node;                     /* node row index, -1 none */
    int selected;                     /* batch row index, -1 none */
    const char *status;               /* action result line */
    bool status_error;
};

void panel_header(const struct rect *r, const struct ui_view *v);
void panel_nodes(const struct rect *r, const struct ui_view *v);
void panel_totals(const struct rect *r, const struct ui_view *v);
void panel_batches(const struct rect *r, const struct ui_view *v);
void panel_log(const struct rect *r, const struct ui_view *v);
void panel_status(const struct rect *r, const struct ui_view *v);
void panel_footer(const struct rect *r, const struct ui_view *v);

/* Draws the whole screen (layout.c), without refresh(). */
void ui_draw(const struct ui_view *v);

#endif
