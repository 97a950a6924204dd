/* retain.h - the interface of src/node/retain.c (see that file for why). */
#ifndef MESH_NODE_RETAIN_H
#define MESH_NODE_RETAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue.h"

struct node;

/* What retention goes by: --keep-results, --results-budget, and the wall
 * clock (compared with the log's own times of the batches' ends). */
struct retain_rules {
    uint64_t keep_ms, budget;
    uint64_t now_ms;
};

/* The batches to forget now, at most QCMD_FORGET_MAX, into ids: the
 * finished ones past keep_ms (why = FORGET_BY_AGE), else while the results
 * retained exceed the budget the oldest finished ones (FORGET_BY_BUDGET; a
 * batch of an earlier release, its end unknown, counts as the oldest and
 * never expires by age). Running batches never. 0 when nothing is due. */
size_t retain_pick(const struct queue *q, const struct retain_rules *rules, uint64_t *ids,
                   enum forget_reason *why);

/* retain.c: the leader forgets what --keep-results and
 * --results-budget say (one FORGET at a time, once a second at most). */
void node_retain_tick(struct node *n);
/* Running batches alone fill the budget: new submits are refused (err). */
bool node_retain_full(const struct node *n, char *err, size_t errlen);

#endif
