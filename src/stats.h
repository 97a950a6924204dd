/* stats.h - per-node throughput gauges.
 *
 * A node counts the numbers its workers finish; once a second the meter
 * turns the counter into a rate (numbers/s), smoothed so the dashboard and
 * `mesh status` do not flicker between jobs. The same struct travels to
 * peers in the link layer's stats message. */
#ifndef MESH_STATS_H
#define MESH_STATS_H

#include <stdint.h>

struct rate_meter {
    uint64_t last_total;
    uint64_t last_ms;
    double rate;        /* numbers per second, smoothed */
};

struct node_stats {
    uint64_t done;      /* numbers finished by this node's workers */
    uint64_t unfactored;
    unsigned busy;      /* workers holding a job */
    unsigned workers;
    struct rate_meter meter;
};

/* Feeds the meter the running total at time now_ms (call about once a second). */
void rate_meter_tick(struct rate_meter *m, uint64_t total, uint64_t now_ms);

#endif
