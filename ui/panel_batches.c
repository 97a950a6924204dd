/* panel_batches.c - one row per batch: id, state, a progress bar with the
 * percentage, done/total, rate, ETA, unfactored count and name; finished
 * batches stay. The selected row (the one `c` cancels) is marked with '>'
 * and drawn reversed while the panel has the focus. */
#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "panels.h"

enum { C_ID, C_STATE, C_PROGRESS, C_DONE, C_RATE, C_ETA, C_UNF, C_NAME, C_N };

static void fit(struct column *c, int width)
{
    const struct column init[C_N] = {
        [C_ID]       = {"ID", 12, 12, 0, 0, true, 0, false}, /* ">" + 11 digits */
        [C_STATE]    = {"STATE", 9, 9, 0, 0, false, 0, false},
        [C_PROGRESS] = {"PROGRESS", 20, 50, 0, 2, false, 0, false},
        [C_DONE]     = {"DONE/TOTAL", 11, 21, 3, 3, true, 0, false},
        [C_RATE]     = {"RATE", 8, 9, 5, 0, true, 0, false},
        [C_ETA]      = {"ETA", 6, 7, 4, 0, true, 0, false},
        [C_UNF]      = {"UNFACT", 6, 8, 2, 0, true, 0, false},
        [C_NAME]     = {"NAME", 8, 24, 1, 1, false, 0, false},
    };
    memcpy(c, init, sizeof init);
    columns_fit(c, C_N, width);
}

static unsigned state_attr(const struct ui_view *v, const char *state)
{
    if (strcmp(state, "done") == 0)
        return ui_attr(v->colors, UI_PAIR_OK);
    if (strcmp(state, "cancelled") == 0)
        return ui_attr(v->colors, UI_PAIR_WARN);
    return A_BOLD;
}

static void batch_row(int y, int x0, int w, const struct column *c,
                      const struct view_batch *b, bool selected, const struct ui_view *v)
{
    bool hl = selected && v->focus == FOCUS_BATCHES;
    unsigned base = hl ? ui_attr(v->colors, UI_PAIR_SELECT) : A_NORMAL;
    if (hl) {
        attron(base);
        mvhline(y, x0, ' ', w);
        attroff(base);
    }
    char buf[96];
    snprintf(buf, sizeof buf, "%s%" PRIu64, selected ? ">" : "", b->id);
    column_cell(y, x0, &c[C_ID], base | (selected ? A_BOLD : 0), buf);
    column_cell(y, x0, &c[C_STATE], hl ? base : state_attr(v, b->state), b->state);
    if (c[C_PROGRESS].shown) {
        int pct = fmt_percent(b->done, b->total);
        if (pct < 0)
            snprintf(buf, sizeof buf, "   -");
        else
            snprintf(buf, sizeof buf, "%3d%%", pct);
        unsigned bar = strcmp(b->state, "cancelled") == 0 ? ui_attr(v->colors, UI_PAIR_WARN)
                                                     : ui_attr(v->colors, UI_PAIR_OK) | A_BOLD;
        meter_draw(y, x0 + c[C_PROGRESS].x, c[C_PROGRESS].w, v->colors, bar,
                   (double)b->done, (double)b->total, buf);
    }
    snprintf(buf, sizeof buf, "%" PRIu64 "/%" PRIu64, b->done, b->total);
    column_cell(y, x0, &c[C_DONE], base, buf);
    bool running = strcmp(b->state, "running") == 0;
    double rate = v->hist ? hist_batch_rate(v->hist, b->id) : 0;
    fmt_rate(buf, sizeof buf, rate);
    column_cell(y, x0, &c[C_RATE], base, running ? buf : "-");
    fmt_eta(buf, sizeof buf, rate > 0 ? (double)(b->total - b->done) / rate : -1);
    column_cell(y, x0, &c[C_ETA], base, running ? buf : "-");
    snprintf(buf, sizeof buf, "%" PRIu64, b->unfactored);
    column_cell(y, x0, &c[C_UNF], b->unfactored && !hl ? ui_attr(v->colors, UI_PAIR_BAD)
                                                       : base, buf);
    column_cell(y, x0, &c[C_NAME], base, b->name);
}

void panel_batches(const struct rect *r, const struct ui_view *v)
{
    const struct mesh_view *s = v->snap;
    size_t n = s ? s->n_batches : 0;
    char title[64];
    snprintf(title, sizeof title, " Batches (%zu)%s", n,
             v->focus == FOCUS_BATCHES ? "  [selected panel]" : "");
    ui_title(r, v->colors, title);
    struct column c[C_N];
    fit(c, r->w);
    columns_header(r->y + 1, r->x, c, C_N, v->colors);
    int rows = r->h - 2;
    if (n == 0) {
        ui_put(r->y + 2, r->x, r->w, A_DIM, "(no batches: press s to submit one)");
        return;
    }
    /* scroll so that the selected row is visible */
    size_t first = 0;
    if (v->selected >= rows)
        first = (size_t)(v->selected - rows + 1);
    for (int i = 0; i < rows && first + (size_t)i < n; i++) {
        size_t k = first + (size_t)i;
        batch_row(r->y + 2 + i, r->x, r->w, c, &s->batches[k],
                  (int)k == v->selected, v);
    }
}
