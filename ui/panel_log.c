/* panel_log.c - the mesh's event log (joins, leaves, elections, drains,
 * batches, refused peers, errors: src/events.h), newest at the bottom,
 * and the status line (results of the user's actions). Texts were
 * sanitised by the node and are clipped by ui_put again; a line cut at
 * the edge ends in '~' and reads in full in the events box (key e). */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "panels.h"

static unsigned kind_attr(const struct ui_view *v, const char *kind)
{
    if (strcmp(kind, "error") == 0 || strcmp(kind, "refused") == 0 ||
        strcmp(kind, "leave") == 0)
        return ui_attr(v->colors, UI_PAIR_BAD) | A_BOLD;
    if (strcmp(kind, "drain") == 0 || strcmp(kind, "requeue") == 0 ||
        strcmp(kind, "warning") == 0 ||
        strcmp(kind, "election") == 0)
        return ui_attr(v->colors, UI_PAIR_WARN);
    return ui_attr(v->colors, UI_PAIR_OK);
}

void panel_log(const struct rect *r, const struct ui_view *v)
{
    const struct mesh_view *s = v->snap;
    ui_title(r, v->colors, " Events (e: in full)");
    int rows = r->h - 1;
    size_t n = s ? s->n_events : 0;
    /* the latest events that fit, oldest first */
    size_t first = n > (size_t)rows ? n - (size_t)rows : 0;
    for (size_t i = first; i < n; i++) {
        const struct view_event *e = &s->events[i];
        int y = r->y + 1 + (int)(i - first), x = r->x, end = r->x + r->w;
        char head[96];
        snprintf(head, sizeof head, "%s ", e->time);
        x += ui_put(y, x, end - x, A_DIM, head);
        snprintf(head, sizeof head, "%-8s ", e->kind);
        x += ui_put(y, x, end - x, kind_attr(v, e->kind), head);
        snprintf(head, sizeof head, "%s: ", e->node);
        x += ui_put(y, x, end - x, A_BOLD, head);
        if (e->repeat > 1) {     /* folded repeats: the count before the text */
            snprintf(head, sizeof head, "(x%u) ", e->repeat);
            x += ui_put(y, x, end - x, A_BOLD, head);
        }
        char text[sizeof e->text];
        size_t len = strlen(e->text);
        /* cut at the edge: say so, the whole line is one key away (e) */
        if ((int)len > end - x && end - x > 1) {
            snprintf(text, sizeof text, "%.*s~", end - x - 1, e->text);
            ui_put(y, x, end - x, A_NORMAL, text);
        } else {
            ui_put(y, x, end - x, A_NORMAL, e->text);
        }
    }
    if (n == 0)
        ui_put(r->y + 1, r->x, r->w, A_DIM, "(no events yet)");
}

void panel_status(const struct rect *r, const struct ui_view *v)
{
    if (!v->status || !v->status[0])
        return;
    unsigned attr = v->status_error ? ui_attr(v->colors, UI_PAIR_BAD) | A_BOLD
                               : ui_attr(v->colors, UI_PAIR_OK) | A_BOLD;
    ui_put(r->y, r->x, r->w, attr, v->status);
}
