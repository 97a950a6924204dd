/* stats.c - see stats.h. */
#include "stats.h"

void rate_meter_tick(struct rate_meter *m, uint64_t total, uint64_t now_ms)
{
    enum { SLOTS = RATE_WINDOW_S + 1 };
    if (m->count > 0 && now_ms <= m->at_ms[(m->next + SLOTS - 1) % SLOTS])
        return;                          /* no time passed: nothing to learn */
    m->total[m->next] = total;
    m->at_ms[m->next] = now_ms;
    m->next = (m->next + 1) % SLOTS;
    if (m->count < SLOTS)
        m->count++;
    /* the oldest sample kept: at most RATE_WINDOW_S ticks back */
    unsigned oldest = (m->next + SLOTS - m->count) % SLOTS;
    uint64_t span_ms = now_ms - m->at_ms[oldest];
    uint64_t numbers = total >= m->total[oldest] ? total - m->total[oldest] : 0;
    m->rate = span_ms == 0 ? 0 : (double)numbers * 1000.0 / (double)span_ms;
}
