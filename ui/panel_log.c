/* panel_log.c - the node's latest log lines and the status line (results
 * of the user's actions). */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "panels.h"

static bool looks_bad(const char *line)
{
    return strstr(line, "error") || strstr(line, "ERROR") || strstr(line, "warn") ||
           strstr(line, "WARN") || strstr(line, "fail");
}

void panel_log(const struct rect *r, const struct ui_view *v)
{
    const struct ui_snapshot *s = v->snap;
    ui_title(r, v->colors, " Log");
    int rows = r->h - 1;
    size_t n = s ? s->n_log : 0;
    if (n > UI_LOG_LINES)
        n = UI_LOG_LINES;
    /* the latest lines that fit, oldest first */
    size_t first = n > (size_t)rows ? n - (size_t)rows : 0;
    for (size_t i = first; i < n; i++) {
        const char *line = s->log[i];
        unsigned attr = looks_bad(line) ? ui_attr(v->colors, UI_PAIR_BAD) : A_NORMAL;
        ui_put(r->y + 1 + (int)(i - first), r->x, r->w, attr, line);
    }
}

void panel_status(const struct rect *r, const struct ui_view *v)
{
    if (!v->status || !v->status[0])
        return;
    unsigned attr = v->status_error ? ui_attr(v->colors, UI_PAIR_BAD) | A_BOLD
                               : ui_attr(v->colors, UI_PAIR_OK) | A_BOLD;
    ui_put(r->y, r->x, r->w, attr, v->status);
}
