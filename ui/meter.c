/* meter.c - drawing primitives: clipped text, title bars and htop-like
 * meters "[|||||    ] 3/4". */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "panels.h"

unsigned ui_attr(bool colors, enum ui_pair pair)
{
    if (colors)
        return (int)COLOR_PAIR(pair);
    switch (pair) {
    case UI_PAIR_BAD:    return A_BOLD;
    case UI_PAIR_WARN:   return A_UNDERLINE;
    case UI_PAIR_TITLE:  return A_REVERSE;
    case UI_PAIR_HEAD:   return A_BOLD;
    case UI_PAIR_KEY:    return A_REVERSE;
    case UI_PAIR_SELECT: return A_REVERSE;
    default:             return A_NORMAL;
    }
}

int ui_put(int y, int x, int w, unsigned attr, const char *s)
{
    if (w <= 0 || !s)
        return 0;
    wchar_t buf[512];
    int cols = 0;
    size_t n = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t len = strlen(s);
    while (len > 0 && n < sizeof buf / sizeof buf[0] - 1) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s, len, &st);
        if (k == (size_t)-1 || k == (size_t)-2) {   /* invalid byte */
            memset(&st, 0, sizeof st);
            wc = L'?';
            k = 1;
        } else if (k == 0) {
            break;
        }
        /* Names and log lines can come from other machines: never let a
         * control character reach the terminal. */
        int cw = iswcntrl((wint_t)wc) ? -1 : wcwidth(wc);
        if (cw < 0) {
            wc = L'?';
            cw = 1;
        }
        if (cols + cw > w)
            break;
        buf[n++] = wc;
        cols += cw;
        s += k;
        len -= k;
    }
    buf[n] = L'\0';
    attron(attr);
    mvaddnwstr(y, x, buf, (int)n);
    attroff(attr);
    return cols;
}

void ui_put_pad(int y, int x, int w, unsigned attr, const char *s)
{
    int c = ui_put(y, x, w, attr, s);
    if (c < w) {
        attron(attr);
        mvhline(y, x + c, ' ', w - c);
        attroff(attr);
    }
}

void ui_title(const struct rect *r, bool colors, const char *title)
{
    ui_put_pad(r->y, r->x, r->w, ui_attr(colors, UI_PAIR_TITLE) | A_BOLD, title);
}

void meter_draw(int y, int x, int w, bool colors, unsigned bar_attr,
                double used, double total, const char *text)
{
    int tl = text ? (int)strlen(text) : 0;
    int inner = w - 2 - (tl ? tl + 1 : 0);
    if (inner < 1) {                 /* no room for a bar: the text only */
        ui_put(y, x, w, A_NORMAL, text);
        return;
    }
    int on = meter_cells(inner, used, total);
    unsigned bold = ui_attr(colors, UI_PAIR_HEAD) | A_BOLD;
    ui_put(y, x, 1, bold, "[");
    if (on > 0) {
        attron(bar_attr);
        mvhline(y, x + 1, '|', on);
        attroff(bar_attr);
    }
    mvhline(y, x + 1 + on, ' ', inner - on);
    ui_put(y, x + 1 + inner, 1, bold, "]");
    if (tl) {
        mvaddch(y, x + 2 + inner, ' ');
        ui_put(y, x + 3 + inner, tl, A_NORMAL, text);
    }
}

void column_cell(int y, int x0, const struct column *c, unsigned attr, const char *text)
{
    if (!c->shown)
        return;
    if (c->right) {
        char buf[256];
        snprintf(buf, sizeof buf, "%*s", c->w, text);
        ui_put(y, x0 + c->x, c->w, attr, buf);
    } else {
        ui_put(y, x0 + c->x, c->w, attr, text);
    }
}

void columns_header(int y, int x0, const struct column *c, size_t n, bool colors)
{
    unsigned attr = ui_attr(colors, UI_PAIR_HEAD) | A_BOLD;
    for (size_t i = 0; i < n; i++)
        column_cell(y, x0, &c[i], attr, c[i].title);
}
