/* panel_nodes.c - one row per node: name, id, role, state, link, a busy
 * workers meter, rate and last heard. Down peers are dimmed red. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "panels.h"

enum { C_NAME, C_ID, C_ROLE, C_STATE, C_LINK, C_WORKERS, C_RATE, C_HEARD, C_N };

static void fit(struct column *c, int width)
{
    const struct column init[C_N] = {
        [C_NAME]    = {"NAME", 10, 32, 0, 3, false, 0, false},
        [C_ID]      = {"ID", 8, 8, 3, 0, false, 0, false},
        [C_ROLE]    = {"ROLE", 8, 9, 2, 0, false, 0, false},
        [C_STATE]   = {"STATE", 8, 8, 0, 0, false, 0, false},
        [C_LINK]    = {"LINK", 9, 9, 4, 0, false, 0, false},
        [C_WORKERS] = {"WORKERS", 14, 30, 0, 2, false, 0, false},
        [C_RATE]    = {"RATE", 8, 9, 5, 0, true, 0, false},
        [C_HEARD]   = {"HEARD", 5, 6, 1, 0, true, 0, false},
    };
    memcpy(c, init, sizeof init);
    if (width >= 100)       /* whole ids when there is room, else 8 digits */
        c[C_ID].w = c[C_ID].max = 16;
    columns_fit(c, C_N, width);
}

static const char *link_text(const struct ui_node *n)
{
    return n->self ? "self" : n->connected ? "connected" : "down";
}

static void node_row(int y, int x0, const struct column *c, const struct ui_node *n,
                     const struct ui_view *v)
{
    bool down = !n->self && !n->connected;
    unsigned bad = ui_attr(v->colors, UI_PAIR_BAD) | A_DIM;
    unsigned base = down ? bad : A_NORMAL;
    char buf[64];

    column_cell(y, x0, &c[C_NAME], base | (n->self ? A_BOLD : 0), n->name);
    column_cell(y, x0, &c[C_ID], base, n->id);
    column_cell(y, x0, &c[C_ROLE], base, n->role[0] ? n->role : "-");
    unsigned st = base;
    if (!down && strcmp(n->state, "active") != 0)
        st = ui_attr(v->colors, UI_PAIR_WARN) | A_BOLD;
    column_cell(y, x0, &c[C_STATE], st, n->state[0] ? n->state : "-");
    unsigned lk = down ? bad | A_BOLD : n->self ? A_NORMAL : ui_attr(v->colors, UI_PAIR_OK);
    column_cell(y, x0, &c[C_LINK], lk, link_text(n));
    if (c[C_WORKERS].shown) {
        snprintf(buf, sizeof buf, "%u/%u", n->busy, n->workers);
        /* a down peer's numbers are its last known ones: dimmed red */
        unsigned bar = down ? bad : ui_attr(v->colors, UI_PAIR_OK) | A_BOLD;
        meter_draw(y, x0 + c[C_WORKERS].x, c[C_WORKERS].w, v->colors, bar,
                   n->busy, n->workers, buf);
    }
    fmt_rate(buf, sizeof buf, down ? 0 : n->rate);
    column_cell(y, x0, &c[C_RATE], base, down ? "-" : buf);
    fmt_ago(buf, sizeof buf, n->last_heard_s, n->self);
    column_cell(y, x0, &c[C_HEARD], base, buf);
}

void panel_nodes(const struct rect *r, const struct ui_view *v)
{
    const struct ui_snapshot *s = v->snap;
    size_t n = s ? s->n_nodes : 0;
    char title[64];
    snprintf(title, sizeof title, " Nodes (%zu)", n);
    ui_title(r, v->colors, title);
    struct column c[C_N];
    fit(c, r->w);
    columns_header(r->y + 1, r->x, c, C_N, v->colors);
    int rows = r->h - 2;
    if (n == 0) {
        ui_put(r->y + 2, r->x, r->w, A_DIM, s ? "(no nodes)" : "(waiting)");
        return;
    }
    size_t show = n <= (size_t)rows ? n : (size_t)(rows - 1);
    for (size_t i = 0; i < show; i++)
        node_row(r->y + 2 + (int)i, r->x, c, &s->nodes[i], v);
    if (show < n) {
        char more[64];
        snprintf(more, sizeof more, "... %zu more node%s", n - show,
                 n - show == 1 ? "" : "s");
        ui_put(r->y + 2 + (int)show, r->x, r->w, A_DIM, more);
    }
}
