/* stats.h - per-node throughput gauges.
 *
 * A node counts the numbers its workers finish; once a second the meter
 * turns the counter into a rate: the numbers finished in the last
 * RATE_WINDOW_S seconds divided by that time. Steady enough not to flicker
 * between jobs, and exactly 0 RATE_WINDOW_S seconds after work stops (an
 * exponential average still showed 7.8/s six seconds after a batch). The
 * rate travels to peers in the link layer's stats message. */
#ifndef MESH_STATS_H
#define MESH_STATS_H

#include <stdint.h>

enum { RATE_WINDOW_S = 5 };

struct rate_meter {
    uint64_t total[RATE_WINDOW_S + 1];  /* ring of the last samples */
    uint64_t at_ms[RATE_WINDOW_S + 1];
    unsigned next, count;
    double rate;        /* numbers per second over the window */
};

struct node_stats {
    uint64_t done;      /* numbers finished by this node's workers, over its
                           whole life (node/tally.c keeps it across restarts) */
    uint64_t unfactored;
    unsigned busy;      /* workers holding a job */
    unsigned workers;
    struct rate_meter meter;
};

/* Feeds the meter the running total at time now_ms (call about once a second). */
void rate_meter_tick(struct rate_meter *m, uint64_t total, uint64_t now_ms);

#endif
