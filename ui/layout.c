/* layout.c - splits the screen between the panels and draws them all. */
#include <curses.h>
#include <stdio.h>

#include "panels.h"

static struct rect row(int y, int h, int cols)
{
    return (struct rect){.y = y, .x = 0, .h = h, .w = cols};
}

void layout_compute(struct layout *l, int lines, int cols, size_t n_nodes,
                    size_t n_batches, size_t n_events)
{
    *l = (struct layout){0};
    if (lines < UI_MIN_LINES || cols < UI_MIN_COLS) {
        l->too_small = true;
        return;
    }
    /* header: 2 lines, status and footer: 1 line each; the nodes and batches panels
     * have a title and a column header, the log a title; the totals line
     * sits under the nodes. What is left is shared out row by row, in
     * turn, to the panels that have more to show; spare rows go to the
     * batches panel (new batches appear there). */
    int avail = lines - 4 - 6;
    size_t want[3] = {n_nodes, n_batches, n_events};
    int got[3] = {1, 1, 1};
    avail -= 3;
    for (bool more = true; more && avail > 0;) {
        more = false;
        for (int i = 0; i < 3 && avail > 0; i++) {
            if ((size_t)got[i] < want[i]) {
                got[i]++;
                avail--;
                more = true;
            }
        }
    }
    got[1] += avail;

    int y = 0;
    l->header = row(y, 2, cols);
    y += 2;
    l->nodes = row(y, 2 + got[0], cols);
    y += l->nodes.h;
    l->totals = row(y, 1, cols);
    y += 1;
    l->batches = row(y, 2 + got[1], cols);
    y += l->batches.h;
    l->log = row(y, 1 + got[2], cols);
    y += l->log.h;
    l->status = row(y, 1, cols);
    l->footer = row(y + 1, 1, cols);
}

void ui_draw(const struct ui_view *v)
{
    int lines, cols;
    getmaxyx(stdscr, lines, cols);
    erase();
    const struct mesh_view *s = v->snap;
    struct layout l;
    /* the event log asks for a quarter of the screen at most: nodes and
     * batches come first */
    size_t events = s ? s->n_events : 0, cap = lines / 4 > 3 ? (size_t)lines / 4 : 3;
    layout_compute(&l, lines, cols, s ? s->n_nodes : 0, s ? s->n_batches : 0,
                   events < cap ? events : cap);
    if (l.too_small) {
        char msg[64];
        snprintf(msg, sizeof msg, "terminal too small (%dx%d)", cols, lines);
        ui_put(0, 0, cols, A_BOLD, msg);
        if (lines > 1)
            ui_put(1, 0, cols, A_NORMAL, "mesh: q quits");
        return;
    }
    panel_header(&l.header, v);
    panel_nodes(&l.nodes, v);
    panel_totals(&l.totals, v);
    panel_batches(&l.batches, v);
    panel_log(&l.log, v);
    panel_status(&l.status, v);
    panel_footer(&l.footer, v);
}
