/* text.c - pure formatting helpers of the dashboard (no ncurses). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "panels.h"

void fmt_rate(char *out, size_t outsz, double rate)
{
    if (!(rate > 0) || !isfinite(rate))
        snprintf(out, outsz, "0/s");
    else if (rate < 1000)
        snprintf(out, outsz, rate < 10 ? "%.1f/s" : "%.0f/s", rate);
    else if (rate < 1e6)
        snprintf(out, outsz, "%.1fk/s", rate / 1e3);
    else if (rate < 1e9)
        snprintf(out, outsz, "%.2fM/s", rate / 1e6);
    else
        snprintf(out, outsz, "%.2fG/s", rate / 1e9);
}

void fmt_ago(char *out, size_t outsz, double s, bool self)
{
    if (self)
        snprintf(out, outsz, "-");
    else if (s < 0 || !isfinite(s))
        snprintf(out, outsz, "never");
    else if (s < 10)
        snprintf(out, outsz, "%.1fs", s);
    else if (s < 120)
        snprintf(out, outsz, "%.0fs", s);
    else if (s < 7200)
        snprintf(out, outsz, "%.0fm", floor(s / 60));
    else if (s < 172800)
        snprintf(out, outsz, "%.0fh", floor(s / 3600));
    else
        snprintf(out, outsz, "%.0fd", floor(s / 86400));
}

int fmt_percent(uint64_t done, uint64_t total)
{
    if (total == 0)
        return -1;
    if (done >= total)
        return 100;
    /* floor: 100% only when complete; no overflow for huge totals */
    return (int)((long double)done * 100 / (long double)total);
}

int meter_cells(int cells, double used, double total)
{
    if (cells <= 0 || !(total > 0) || !(used > 0))
        return 0;
    if (used >= total)
        return cells;
    int n = (int)lround(used / total * cells);
    if (n < 1)
        n = 1;
    if (n >= cells)     /* not complete: never show a full bar */
        n = cells > 1 ? cells - 1 : cells;
    return n;
}

static int used_width(const struct column *c, size_t n)
{
    int total = 0, shown = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].shown) {
            total += c[i].w;
            shown++;
        }
    return total + (shown > 0 ? shown - 1 : 0);
}

void columns_fit(struct column *c, size_t n, int width)
{
    for (size_t i = 0; i < n; i++)
        c[i].shown = true;
    while (used_width(c, n) > width) {
        size_t victim = n;
        for (size_t i = 0; i < n; i++)
            if (c[i].shown && c[i].drop > 0 &&
                (victim == n || c[i].drop < c[victim].drop))
                victim = i;
        if (victim == n)
            break;              /* only essential columns left: clipped */
        c[victim].shown = false;
    }
    int spare = width - used_width(c, n);
    for (int rank = 1; spare > 0 && rank < 16; rank++)
        for (size_t i = 0; i < n && spare > 0; i++)
            if (c[i].shown && c[i].grow == rank && c[i].max > c[i].w) {
                int add = c[i].max - c[i].w;
                if (add > spare)
                    add = spare;
                c[i].w += add;
                spare -= add;
            }
    int x = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].shown) {
            c[i].x = x;
            x += c[i].w + 1;
        }
}

void fmt_bytes(char *out, size_t outsz, uint64_t bytes)
{
    static const char units[] = "KMGTPE";
    if (bytes < 1024) {
        snprintf(out, outsz, "%uB", (unsigned)bytes);
        return;
    }
    double v = (double)bytes / 1024;
    int u = 0;
    for (; v >= 1024 && u < 5; u++)
        v /= 1024;
    snprintf(out, outsz, v < 10 ? "%.1f%ciB" : "%.0f%ciB", v, units[u]);
}

void fmt_hard(char *out, size_t outsz, const struct view_hard *h)
{
    int at = snprintf(out, outsz, "#%" PRIu64 " %u bits  %s", h->index, h->bits, h->phase);
    if (at < 0 || (size_t)at >= outsz)
        return;
    bool ecm = strcmp(h->phase, "ecm") == 0;
    if (ecm)
        at += snprintf(out + at, outsz - (size_t)at, " B1=%" PRIu64, h->b1);
    if (at < 0 || (size_t)at >= outsz || h->needed == 0)
        return;
    char rate[32], eta[32];
    fmt_rate(rate, sizeof rate, h->rate);
    fmt_eta(eta, sizeof eta, h->eta_known ? (double)h->eta_s : -1);
    snprintf(out + at, outsz - (size_t)at, " %" PRIu64 "/%" PRIu64 " %s  %s  ETA %s", h->found,
             h->needed, ecm ? "curves" : "sets", rate, eta);
}
