/* stats.c - see stats.h. */
#include "stats.h"

void rate_meter_tick(struct rate_meter *m, uint64_t total, uint64_t now_ms)
{
    if (m->last_ms == 0 || now_ms <= m->last_ms) {
        m->last_ms = now_ms;
        m->last_total = total;
        return;
    }
    double secs = (double)(now_ms - m->last_ms) / 1000.0;
    double instant = (double)(total - m->last_total) / secs;
    /* Half-life of about two ticks: quick enough to show a drain within
     * seconds, smooth enough to read. */
    m->rate = m->rate == 0 ? instant : 0.65 * m->rate + 0.35 * instant;
    if (m->rate < 0.01)
        m->rate = 0;
    m->last_ms = now_ms;
    m->last_total = total;
}
