/* metrics_feed.h - the interface of src/node/metrics_feed.c (see that file for why). */
#ifndef MESH_NODE_METRICS_FEED_H
#define MESH_NODE_METRICS_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* metrics_feed.c: --metrics (metrics.h). Start: 0, or -1 (logged). */
int node_metrics_start(struct node *n);
unsigned node_metrics_stop(struct node *n, void (*on_closed)(void *ud));

#endif
