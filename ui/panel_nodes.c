/* panel_nodes.c - one row per node of the mesh, sorted by name: selection
 * and leader marks, name, id, address, role, state, a busy-workers meter,
 * rate with its last minute as a sparkline, numbers done, link and last
 * heard. Columns drop out, least useful first, when the terminal is
 * narrow. Down peers are dimmed red. */
#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "panels.h"

enum { C_MARK, C_NAME, C_ID, C_ADDR, C_ROLE, C_STATE, C_WORKERS, C_RATE, C_SPARK, C_DONE,
       C_LINK, C_HEARD, C_N };

static void fit(struct column *c, int width)
{
    const struct column init[C_N] = {
        [C_MARK]    = {"", 2, 2, 0, 0, false, 0, false},
        [C_NAME]    = {"NAME", 10, 24, 0, 3, false, 0, false},
        [C_ID]      = {"ID", 8, 16, 1, 5, false, 0, false},
        [C_ADDR]    = {"ADDRESS", 15, 21, 2, 0, false, 0, false},
        [C_ROLE]    = {"ROLE", 7, 9, 9, 0, false, 0, false},
        [C_STATE]   = {"STATE", 8, 8, 0, 0, false, 0, false},
        [C_WORKERS] = {"WORKERS", 12, 30, 0, 2, false, 0, false},
        [C_RATE]    = {"RATE", 8, 9, 8, 0, true, 0, false},
        [C_SPARK]   = {"LAST 60s", 8, 30, 5, 4, false, 0, false},
        [C_DONE]    = {"DONE", 7, 10, 6, 0, true, 0, false},
        [C_LINK]    = {"LINK", 4, 4, 3, 0, false, 0, false},
        [C_HEARD]   = {"HEARD", 5, 6, 7, 0, true, 0, false},
    };
    memcpy(c, init, sizeof init);
    columns_fit(c, C_N, width);
}

static const char *link_text(const struct view_node *n)
{
    return n->self ? "self" : n->connected ? "up" : "down";
}

static void spark_cell(int y, int x0, const struct column *c, unsigned attr,
                       const struct view_node *n, const struct ui_view *v)
{
    if (!c->shown || v->hist == NULL)
        return;
    float r[HIST_SAMPLES];
    size_t k = hist_node_rates(v->hist, n->id, r, HIST_SAMPLES);
    char text[HIST_SAMPLES * 3 + 1];
    int cells = c->w < HIST_SAMPLES ? c->w : HIST_SAMPLES;
    spark_text(text, sizeof text, r, k, cells, v->utf8);
    ui_put(y, x0 + c->x, c->w, attr, text);
}

static void node_row(int y, int x0, int w, const struct column *c, const struct view_node *n,
                     bool selected, bool leader, const struct ui_view *v)
{
    bool down = !n->self && !n->connected;
    unsigned bad = ui_attr(v->colors, UI_PAIR_BAD) | A_DIM;
    bool hl = selected && v->focus == FOCUS_NODES;
    unsigned sel = ui_attr(v->colors, UI_PAIR_SELECT);
    unsigned base = hl ? sel : down ? bad : A_NORMAL;
    char buf[64];
    if (hl) {
        attron(sel);
        mvhline(y, x0, ' ', w);
        attroff(sel);
    }
    snprintf(buf, sizeof buf, "%s%s", selected ? ">" : " ", leader ? "*" : " ");
    column_cell(y, x0, &c[C_MARK], base | A_BOLD, buf);
    column_cell(y, x0, &c[C_NAME], base | (n->self ? A_BOLD : 0), n->name);
    column_cell(y, x0, &c[C_ID], base, n->id);
    column_cell(y, x0, &c[C_ADDR], base, n->addr[0] ? n->addr : "-");
    column_cell(y, x0, &c[C_ROLE], base | (leader ? A_BOLD : 0), n->role[0] ? n->role : "-");
    unsigned st = base;
    if (!down && !hl && strcmp(n->state, "active") != 0)
        st = ui_attr(v->colors, UI_PAIR_WARN) | A_BOLD;
    column_cell(y, x0, &c[C_STATE], st, n->state[0] ? n->state : "-");
    if (c[C_WORKERS].shown) {
        snprintf(buf, sizeof buf, "%u/%u", n->busy, n->workers);
        /* a down peer's numbers are its last known ones: dimmed red */
        unsigned bar = down ? bad : ui_attr(v->colors, UI_PAIR_OK) | A_BOLD;
        meter_draw(y, x0 + c[C_WORKERS].x, c[C_WORKERS].w, v->colors, bar,
                   n->busy, n->workers, buf);
    }
    fmt_rate(buf, sizeof buf, down ? 0 : n->rate);
    column_cell(y, x0, &c[C_RATE], base, down ? "-" : buf);
    spark_cell(y, x0, &c[C_SPARK], hl ? base : ui_attr(v->colors, UI_PAIR_OK), n, v);
    snprintf(buf, sizeof buf, "%" PRIu64, n->done);
    column_cell(y, x0, &c[C_DONE], base, buf);
    unsigned lk = hl ? base : down ? bad | A_BOLD
                : n->self ? A_NORMAL : ui_attr(v->colors, UI_PAIR_OK);
    column_cell(y, x0, &c[C_LINK], lk, link_text(n));
    fmt_ago(buf, sizeof buf, n->last_heard_s, n->self);
    column_cell(y, x0, &c[C_HEARD], base, buf);
}

/* The first row shown: the selected node stays in view (rows: the rows
 * for nodes, one less than the panel's when a "more" line is needed). */
static size_t first_row(size_t n, size_t rows, int selected)
{
    if (n <= rows || selected < 0 || (size_t)selected < rows)
        return 0;
    size_t first = (size_t)selected - rows + 1;
    return first + rows > n ? n - rows : first;
}

void panel_nodes(const struct rect *r, const struct ui_view *v)
{
    const struct mesh_view *s = v->snap;
    size_t n = s ? s->n_nodes : 0;
    char title[64];
    snprintf(title, sizeof title, " Nodes (%zu)%s", n,
             v->focus == FOCUS_NODES ? "  [selected panel]" : "");
    ui_title(r, v->colors, title);
    struct column c[C_N];
    fit(c, r->w);
    columns_header(r->y + 1, r->x, c, C_N, v->colors);
    size_t rows = (size_t)(r->h - 2);
    bool more = n > rows && rows > 1;
    if (more)
        rows--;               /* the last line says how many are not shown */
    if (n == 0) {
        ui_put(r->y + 2, r->x, r->w, A_DIM, s ? "(no nodes)" : "(waiting)");
        return;
    }
    size_t first = first_row(n, rows, v->sel_node);
    for (size_t i = first; i < n && i - first < rows; i++)
        node_row(r->y + 2 + (int)(i - first), r->x, r->w, c, &s->nodes[i],
                 (int)i == v->sel_node, strcmp(s->nodes[i].id, s->leader) == 0, v);
    if (more) {
        char text[64];
        snprintf(text, sizeof text, "   ... %zu more above, %zu below (Up/Down)", first,
                 n - first - rows);
        ui_put(r->y + r->h - 1, r->x, r->w, A_DIM, text);
    }
}
